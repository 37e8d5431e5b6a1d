//! Physical size of a figure: lengths in mm, cm, in, pt or px, the body font size in points,
//! and uniform scaling of a laid-out figure (plots are laid out at a 9 pt body font).

use super::figure::{Figure, Shape};
use crate::error::{Error, Result};

/// Pixels (CSS, 96 per inch) per inch.
pub const PX_PER_IN: f64 = 96.0;
/// The body font size the plots are laid out at, in points.
pub const BODY_PT: f64 = 9.0;
/// The least size of the smallest text (tick labels, notes) a sized figure may have, in points.
pub const MIN_PT: f64 = 6.0;
/// The smallest text of a plot relative to its body text (11 px against 12 px).
pub const SMALL_RATIO: f64 = super::style::SMALL / super::style::FONT;

/// The size asked for a figure; `None` leaves the natural size.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PlotSize {
    /// Width in pixels (96 per inch).
    pub width: Option<f64>,
    /// Height in pixels (96 per inch).
    pub height: Option<f64>,
    /// Body font size in points.
    pub font_pt: Option<f64>,
}

impl PlotSize {
    /// Whether nothing is asked.
    pub fn is_natural(&self) -> bool {
        self.width.is_none() && self.height.is_none() && self.font_pt.is_none()
    }
}

/// A length such as "170mm", "17cm", "6.5in", "480pt" or "640px" (a bare number is pixels),
/// in pixels at 96 per inch.
pub fn parse_length(s: &str) -> Result<f64> {
    let t = s.trim().to_ascii_lowercase();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.trim().parse().map_err(|_| {
        Error::invalid(format!(
            "'{s}' is not a length: give a number and a unit (mm, cm, in, pt, px), e.g. 170mm"
        ))
    })?;
    let per = match unit.trim() {
        "mm" => PX_PER_IN / 25.4,
        "cm" => PX_PER_IN / 2.54,
        "in" => PX_PER_IN,
        "pt" => PX_PER_IN / 72.0,
        "px" | "" => 1.0,
        u => {
            return Err(Error::invalid(format!(
                "'{s}': unknown unit '{u}' (use mm, cm, in, pt or px)"
            )))
        }
    };
    let px = v * per;
    if !(px.is_finite() && (20.0..=20_000.0).contains(&px)) {
        return Err(Error::invalid(format!(
            "'{s}' is out of range: a figure's side is between 5.3 mm and 5.3 m"
        )));
    }
    Ok(px)
}

/// Checks a body font size in points.
pub fn check_font_pt(pt: f64) -> Result<f64> {
    let least = MIN_PT / SMALL_RATIO;
    if !(pt.is_finite() && (least..=72.0).contains(&pt)) {
        return Err(Error::invalid(format!(
            "a font size of {pt} pt is out of range: between {least:.1} pt (so that tick labels \
             and notes keep {MIN_PT} pt) and 72 pt"
        )));
    }
    Ok(pt)
}

/// `px` pixels in millimetres, for messages.
pub fn mm(px: f64) -> f64 {
    px * 25.4 / PX_PER_IN
}

/// Scales every coordinate, size and stroke of `fig` by `s`.
pub fn scale(fig: &mut Figure, s: f64) {
    fig.width *= s;
    fig.height *= s;
    for shape in &mut fig.shapes {
        match shape {
            Shape::Rect { x0, y0, x1, y1, .. } => {
                for v in [x0, y0, x1, y1] {
                    *v *= s;
                }
            }
            Shape::Polygon { points, .. } => scale_points(points, s),
            Shape::Line {
                points,
                width,
                dash,
                ..
            } => {
                scale_points(points, s);
                *width *= s;
                if let Some((on, off)) = dash {
                    *on *= s;
                    *off *= s;
                }
            }
            Shape::Circle { x, y, r, .. } => {
                *x *= s;
                *y *= s;
                *r *= s;
            }
            Shape::Text(l) => {
                l.x *= s;
                l.y *= s;
                l.size *= s;
            }
        }
    }
}

fn scale_points(points: &mut [(f64, f64)], s: f64) {
    for p in points {
        p.0 *= s;
        p.1 *= s;
    }
}

/// The error when a figure cannot be drawn at the size asked with legible text.
pub fn too_small(what: &str, need_w: f64, need_h: f64) -> Error {
    Error::invalid(format!(
        "the {what} does not fit the size asked with legible text (tick labels and notes at \
         least {MIN_PT} pt): it needs at least {:.0} mm × {:.0} mm; give a larger size or fewer \
         columns",
        mm(need_w).ceil(),
        mm(need_h).ceil()
    ))
}

/// Scales a figure laid out at [`BODY_PT`] as a whole to the size asked: to the font size, or
/// to fit the width and height (the canvas then has exactly the size asked, the figure at its
/// top left). For plots whose layout does not stretch; forest plots stretch their panel instead.
pub fn fit(mut fig: Figure, size: &PlotSize, what: &str) -> Result<Figure> {
    if size.is_natural() {
        return Ok(fig);
    }
    let mut s = size.font_pt.map_or(1.0, |pt| pt / BODY_PT);
    let (w, h) = (fig.width, fig.height);
    if size.width.is_some() || size.height.is_some() {
        if size.font_pt.is_some() {
            return Err(Error::invalid(format!(
                "the {what} scales as a whole: give its width and height or its font size, not both"
            )));
        }
        s = f64::INFINITY;
        if let Some(tw) = size.width {
            s = s.min(tw / w);
        }
        if let Some(th) = size.height {
            s = s.min(th / h);
        }
    }
    let least = MIN_PT / (BODY_PT * SMALL_RATIO);
    if s < least - 1e-9 {
        return Err(too_small(what, w * least, h * least));
    }
    scale(&mut fig, s);
    if let Some(tw) = size.width {
        fig.width = tw;
    }
    if let Some(th) = size.height {
        fig.height = th;
    }
    Ok(fig)
}

/// A number or a text, as a manifest gives a length or a font size.
enum NumberOrText {
    Number(f64),
    Text(String),
}

impl<'de> serde::Deserialize<'de> for NumberOrText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = NumberOrText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a text such as \"170mm\"")
            }
            fn visit_f64<E>(self, x: f64) -> std::result::Result<NumberOrText, E> {
                Ok(NumberOrText::Number(x))
            }
            fn visit_i64<E>(self, x: i64) -> std::result::Result<NumberOrText, E> {
                Ok(NumberOrText::Number(x as f64))
            }
            fn visit_u64<E>(self, x: u64) -> std::result::Result<NumberOrText, E> {
                Ok(NumberOrText::Number(x as f64))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<NumberOrText, E> {
                Ok(NumberOrText::Text(s.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A manifest's `width` or `height` (named `key` in the message): a length with its unit, e.g.
/// "170mm", or a number of pixels, read as [`parse_length`] reads the command line's.
fn manifest_length<'de, D: serde::Deserializer<'de>>(
    d: D,
    key: &str,
) -> std::result::Result<Option<f64>, D::Error> {
    let text = match <NumberOrText as serde::Deserialize>::deserialize(d)? {
        NumberOrText::Number(x) => format!("{x}"),
        NumberOrText::Text(s) => s,
    };
    parse_length(&text)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("{key}: {e}")))
}

/// [`manifest_length`] of the key `width`.
pub fn manifest_width<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    manifest_length(d, "width")
}

/// [`manifest_length`] of the key `height`.
pub fn manifest_height<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    manifest_length(d, "height")
}

/// A body font size in points, e.g. 8 or "8pt", checked by [`check_font_pt`].
pub fn parse_font_pt(s: &str) -> Result<f64> {
    let pt: f64 = s
        .trim()
        .trim_end_matches("pt")
        .trim()
        .parse()
        .map_err(|_| Error::invalid(format!("'{s}' is not a font size in points, e.g. 8")))?;
    check_font_pt(pt)
}

/// A manifest's `font_size`: points, as a number or as [`parse_font_pt`] reads a text.
pub fn manifest_font_size<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    match <NumberOrText as serde::Deserialize>::deserialize(d)? {
        NumberOrText::Number(x) => check_font_pt(x),
        NumberOrText::Text(s) => parse_font_pt(&s),
    }
    .map(Some)
    .map_err(|e| serde::de::Error::custom(format!("font_size: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_in_units() {
        assert!((parse_length("170mm").unwrap() - 642.519_685).abs() < 1e-5);
        assert!((parse_length("17 cm").unwrap() - 642.519_685).abs() < 1e-5);
        assert_eq!(parse_length("2in").unwrap(), 192.0);
        assert_eq!(parse_length("72pt").unwrap(), 96.0);
        assert_eq!(parse_length("640px").unwrap(), 640.0);
        assert_eq!(parse_length("640").unwrap(), 640.0);
        assert!(parse_length("170furlong").is_err());
        assert!(parse_length("mm").is_err());
        assert!(parse_length("-3mm").is_err());
        assert!(parse_length("1mm").is_err());
        assert!(check_font_pt(8.0).is_ok() && check_font_pt(5.0).is_err());
    }

    #[test]
    fn fit_scales_to_the_width_and_refuses_illegible_text() {
        let mut f = Figure {
            width: 400.0,
            height: 200.0,
            ..Default::default()
        };
        f.line((0.0, 0.0), (400.0, 200.0), super::super::figure::INK, 1.0);
        let size = PlotSize {
            width: Some(300.0),
            ..Default::default()
        };
        let g = fit(f.clone(), &size, "plot").unwrap();
        assert_eq!((g.width, g.height), (300.0, 150.0));
        match &g.shapes[0] {
            Shape::Line { points, width, .. } => {
                assert_eq!(points[1], (300.0, 150.0));
                assert_eq!(*width, 0.75);
            }
            _ => unreachable!(),
        }
        let tiny = PlotSize {
            width: Some(100.0),
            ..Default::default()
        };
        assert!(fit(f.clone(), &tiny, "plot").is_err());
        let both = PlotSize {
            width: Some(300.0),
            font_pt: Some(8.0),
            ..Default::default()
        };
        assert!(fit(f, &both, "plot").is_err());
    }
}
