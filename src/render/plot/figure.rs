//! A laid-out figure: shapes and text in pixel coordinates (96 per inch), drawn to SVG by plotters.
//!
//! Plots are first laid out into a [`Figure`] so that the geometry (text boxes measured with the
//! bundled font) can be checked before anything is drawn, and the SVG, PNG and PDF share one layout.

use super::font_subset::{self, FaceChars};
use super::fonts;
use crate::error::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::Color as _;

/// Plotters draws on an integer grid; drawing at `GRID` units per pixel (and declaring the SVG's
/// size in pixels with a matching `viewBox`) keeps quarter-pixel precision.
const GRID: f64 = 4.0;

/// Baseline position below the top of the line box under plotters' `VPos::Top` (`dy="0.76em"`).
const TOP_TO_BASELINE: f64 = 0.76;

/// Ink of text and axes in every plot.
pub const INK: Color = Color(0x1A, 0x1A, 0x1A);
/// Font size of a plot's title.
pub const TITLE_SIZE: f64 = 15.0;

/// How an SVG carries its fonts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SvgFonts {
    /// Subsets of the bundled fonts as `@font-face` data (the default): the SVG renders with the
    /// measured glyphs in any viewer that reads CSS in SVG (browsers, Inkscape).
    #[default]
    Embed,
    /// The fonts only named: smaller, but a viewer without DejaVu Sans substitutes its own font.
    Name,
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    /// Pure black (`#000000`).
    pub const BLACK: Color = Color(0, 0, 0);
    /// Pure white (`#FFFFFF`).
    pub const WHITE: Color = Color(255, 255, 255);

    fn rgb(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }

    /// `#rrggbb`, as plotters writes it into the SVG.
    pub fn hex(self) -> String {
        format!("#{:02X}{:02X}{:02X}", self.0, self.1, self.2)
    }
}

/// Horizontal alignment of a text item at its x position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// Text starts at x.
    Start,
    /// Text is centred on x.
    Middle,
    /// Text ends at x.
    End,
}

/// One line of text; `y` is the vertical centre of its capital letters.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Anchor position in pixels from the left edge.
    pub x: f64,
    /// Vertical centre of the capitals, in pixels from the top edge.
    pub y: f64,
    /// The text, one line.
    pub text: String,
    /// Font size (em) in pixels.
    pub size: f64,
    /// Bold weight of the bundled font.
    pub bold: bool,
    /// How the text aligns at `x`.
    pub anchor: Anchor,
    /// Text colour.
    pub color: Color,
}

/// A drawing primitive.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Filled axis-aligned rectangle.
    Rect {
        /// Left edge in pixels.
        x0: f64,
        /// Top edge in pixels.
        y0: f64,
        /// Right edge in pixels.
        x1: f64,
        /// Bottom edge in pixels.
        y1: f64,
        /// Fill colour.
        fill: Color,
    },
    /// Filled polygon, optionally outlined.
    Polygon {
        /// Vertices in pixels.
        points: Vec<(f64, f64)>,
        /// Fill colour, or `None` for an outline only.
        fill: Option<Color>,
        /// Outline colour, or `None` for no outline.
        stroke: Option<Color>,
    },
    /// Open polyline of the given width in pixels.
    Line {
        /// Vertices in pixels.
        points: Vec<(f64, f64)>,
        /// Stroke colour.
        color: Color,
        /// Stroke width in pixels.
        width: f64,
        /// Dash pattern as (dash, gap) lengths in pixels, or `None` for a solid line.
        dash: Option<(f64, f64)>,
    },
    /// Circle, filled or hollow.
    Circle {
        /// Centre x in pixels.
        x: f64,
        /// Centre y in pixels.
        y: f64,
        /// Radius in pixels.
        r: f64,
        /// Fill colour, or outline colour if hollow.
        color: Color,
        /// Filled disc rather than outline.
        filled: bool,
    },
    /// A line of text.
    Text(Label),
}

/// An axis-aligned box in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxPx {
    /// Left edge in pixels.
    pub x0: f64,
    /// Top edge in pixels.
    pub y0: f64,
    /// Right edge in pixels.
    pub x1: f64,
    /// Bottom edge in pixels.
    pub y1: f64,
}

impl BoxPx {
    /// Whether the interiors of two boxes intersect.
    pub fn overlaps(&self, o: &BoxPx) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

/// A figure of `width` × `height` pixels.
#[derive(Debug, Clone, Default)]
pub struct Figure {
    /// Width in pixels.
    pub width: f64,
    /// Height in pixels.
    pub height: f64,
    /// Shapes in drawing order (later ones on top).
    pub shapes: Vec<Shape>,
}

fn grid(v: f64) -> i32 {
    (v * GRID).round() as i32
}

impl Label {
    /// Top of the line box that plotters positions (`VPos::Top`), on the drawing grid.
    fn top(&self) -> f64 {
        // Capitals of DejaVu Sans span 0.03–0.76 em below the top: centre them on `y`.
        (self.y - 0.395 * self.size) * GRID
    }

    /// The inked extent of the text: advance width by ascent + descent of the bundled font.
    pub fn bbox(&self) -> BoxPx {
        let w = fonts::text_width(&self.text, self.size, self.bold);
        let x0 = match self.anchor {
            Anchor::Start => self.x,
            Anchor::Middle => self.x - w / 2.0,
            Anchor::End => self.x - w,
        };
        let baseline = self.top().round() / GRID + TOP_TO_BASELINE * self.size;
        let (asc, desc) = fonts::vertical_metrics(self.size, self.bold);
        BoxPx {
            x0,
            y0: baseline - asc,
            x1: x0 + w,
            y1: baseline + desc,
        }
    }
}

impl Figure {
    /// Draws a plot's title (if any) at `x` on the line starting at `*y`, moves `*y` below it,
    /// and returns where the title ends on the right (`x` without a title).
    pub fn title(&mut self, x: f64, y: &mut f64, title: Option<&str>) -> f64 {
        let Some(t) = title else { return x };
        self.text(
            x,
            *y + TITLE_SIZE / 2.0,
            t,
            TITLE_SIZE,
            true,
            Anchor::Start,
            INK,
        );
        *y += TITLE_SIZE + 12.0;
        x + fonts::text_width(t, TITLE_SIZE, true)
    }

    /// Adds a text item.
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        x: f64,
        y: f64,
        text: impl Into<String>,
        size: f64,
        bold: bool,
        anchor: Anchor,
        color: Color,
    ) {
        let mut text = text.into();
        // Draw what the layout measured: text_width measures the clipped text.
        if let std::borrow::Cow::Owned(c) = fonts::clip(&text, size, bold) {
            text = c;
        }
        if !text.is_empty() {
            self.shapes.push(Shape::Text(Label {
                x,
                y,
                text,
                size,
                bold,
                anchor,
                color,
            }));
        }
    }

    /// Adds a solid line segment.
    pub fn line(&mut self, a: (f64, f64), b: (f64, f64), color: Color, width: f64) {
        self.shapes.push(Shape::Line {
            points: vec![a, b],
            color,
            width,
            dash: None,
        });
    }

    /// All text items.
    pub fn labels(&self) -> impl Iterator<Item = &Label> {
        self.shapes.iter().filter_map(|s| match s {
            Shape::Text(l) => Some(l),
            _ => None,
        })
    }

    /// The boxes of all text items, with their text, for overlap and clipping checks.
    pub fn text_boxes(&self) -> Vec<(String, BoxPx)> {
        self.labels().map(|l| (l.text.clone(), l.bbox())).collect()
    }

    /// Draws the figure as SVG with plotters; text stays text (XML-escaped by plotters), and the
    /// SVG carries subsets of the bundled fonts ([`SvgFonts::Embed`]).
    pub fn to_svg(&self) -> Result<String> {
        self.to_svg_with(SvgFonts::Embed)
    }

    /// Draws the figure as SVG, embedding the fonts or only naming them.
    pub fn to_svg_with(&self, fonts: SvgFonts) -> Result<String> {
        fonts::register_with_plotters();
        let (gw, gh) = (
            grid(self.width).max(1) as u32,
            grid(self.height).max(1) as u32,
        );
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(&mut buf, (gw, gh)).into_drawing_area();
            let fail = |e: DrawingAreaErrorKind<_>| Error::invalid(format!("drawing failed: {e}"));
            root.fill(&WHITE).map_err(fail)?;
            for s in &self.shapes {
                self.draw_shape(&root, s).map_err(fail)?;
            }
            root.present().map_err(fail)?;
        }
        // Declare the size in pixels; the viewBox keeps the finer drawing grid.
        let header = format!("width=\"{gw}\" height=\"{gh}\"");
        let size = format!(
            "width=\"{}\" height=\"{}\"",
            fmt_num(self.width),
            fmt_num(self.height)
        );
        let svg = round_font_sizes(&buf.replacen(&header, &size, 1));
        match fonts {
            SvgFonts::Embed => self.embed_fonts(svg),
            SvgFonts::Name => Ok(svg),
        }
    }

    /// Puts `@font-face` rules with subsets of the bundled fonts (the glyphs of this figure's
    /// text) at the top of `svg` and names their families first in every text's `font-family`.
    fn embed_fonts(&self, svg: String) -> Result<String> {
        let texts: Vec<_> = self
            .labels()
            .map(|l| (crate::xml::xml_safe(&l.text), l.bold))
            .collect();
        let chars = FaceChars::of(texts.iter().map(|(t, b)| (t.as_ref(), *b)));
        let embedded = font_subset::embed(&chars)?;
        if embedded.style.is_empty() {
            return Ok(svg);
        }
        let named = |family: &str| format!("font-family=\"{family}\"");
        // Text content cannot hold the attribute: plotters escapes its quotes.
        let svg = svg.replace(&named(fonts::SVG_FAMILY), &named(&embedded.family));
        let at = svg.find(">\n").map_or(svg.len(), |i| i + 2);
        Ok(format!("{}{}{}", &svg[..at], embedded.style, &svg[at..]))
    }

    fn draw_shape<DB: DrawingBackend>(&self, root: &Area<DB>, s: &Shape) -> Drawn<DB> {
        match s {
            Shape::Rect {
                x0,
                y0,
                x1,
                y1,
                fill,
            } => root.draw(&Rectangle::new(
                [(grid(*x0), grid(*y0)), (grid(*x1), grid(*y1))],
                fill.rgb().filled(),
            )),
            Shape::Polygon {
                points,
                fill,
                stroke,
            } => draw_polygon(root, points, *fill, *stroke),
            Shape::Line {
                points,
                color,
                width,
                dash,
            } => draw_line(root, points, *color, *width, *dash),
            Shape::Circle {
                x,
                y,
                r,
                color,
                filled,
            } => {
                let style = if *filled {
                    color.rgb().filled()
                } else {
                    color.rgb().stroke_width(GRID as u32)
                };
                root.draw(&plotters::element::Circle::new(
                    (grid(*x), grid(*y)),
                    (r * GRID).round() as i32,
                    style,
                ))
            }
            Shape::Text(l) => draw_text(root, l),
        }
    }
}

/// Where plotters draws a figure.
type Area<DB> = DrawingArea<DB, plotters::coord::Shift>;
type Drawn<DB> = std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn pt(&(x, y): &(f64, f64)) -> (i32, i32) {
    (grid(x), grid(y))
}

fn draw_polygon<DB: DrawingBackend>(
    root: &Area<DB>,
    points: &[(f64, f64)],
    fill: Option<Color>,
    stroke: Option<Color>,
) -> Drawn<DB> {
    let pts: Vec<_> = points.iter().map(pt).collect();
    if let Some(f) = fill {
        root.draw(&Polygon::new(pts.clone(), f.rgb().filled()))?;
    }
    if let Some(c) = stroke {
        let mut closed = pts;
        closed.push(closed[0]);
        root.draw(&PathElement::new(closed, c.rgb().stroke_width(GRID as u32)))?;
    }
    Ok(())
}

fn draw_line<DB: DrawingBackend>(
    root: &Area<DB>,
    points: &[(f64, f64)],
    color: Color,
    width: f64,
    dash: Option<(f64, f64)>,
) -> Drawn<DB> {
    let style = color
        .rgb()
        .stroke_width(((width * GRID).round() as u32).max(1));
    match dash {
        None => root.draw(&PathElement::new(
            points.iter().map(pt).collect::<Vec<_>>(),
            style,
        )),
        Some((on, off)) => {
            for seg in dashes(points, on, off) {
                root.draw(&PathElement::new(
                    seg.iter().map(pt).collect::<Vec<_>>(),
                    style,
                ))?;
            }
            Ok(())
        }
    }
}

fn draw_text<DB: DrawingBackend>(root: &Area<DB>, l: &Label) -> Drawn<DB> {
    let family = FontFamily::Name(fonts::SVG_FAMILY);
    let style = if l.bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    // plotters writes font-size = size / 1.24 into the SVG.
    let font = FontDesc::new(family, l.size * GRID * 1.24, style);
    let h = match l.anchor {
        Anchor::Start => HPos::Left,
        Anchor::Middle => HPos::Center,
        Anchor::End => HPos::Right,
    };
    let rgb = l.color.rgb();
    let ts = TextStyle::from(font)
        .color(&rgb)
        .pos(Pos::new(h, VPos::Top));
    // Labels are cleaned on reading; a caller's own text is cleaned here, so no SVG is malformed.
    root.draw(&Text::new(
        crate::xml::xml_safe(&l.text).into_owned(),
        (grid(l.x), l.top().round() as i32),
        ts,
    ))
}

/// Splits a polyline into dash segments of `on` pixels separated by `off` pixels.
fn dashes(points: &[(f64, f64)], on: f64, off: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        let len = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
        if len == 0.0 {
            continue;
        }
        let mut t = 0.0;
        while t < len {
            let t1 = (t + on).min(len);
            let p = |s: f64| (x0 + (x1 - x0) * s / len, y0 + (y1 - y0) * s / len);
            out.push(vec![p(t), p(t1)]);
            t += on + off;
        }
    }
    out
}

/// plotters divides font sizes by 1.24 on the way out; round away the binary noise that leaves
/// (`font-size="60.00000000000001"`).
fn round_font_sizes(svg: &str) -> String {
    const KEY: &str = "font-size=\"";
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(i) = rest.find(KEY) {
        let (head, tail) = rest.split_at(i + KEY.len());
        out.push_str(head);
        let end = tail.find('"').unwrap_or(tail.len());
        match tail[..end].parse::<f64>() {
            Ok(v) => out.push_str(&fmt_num(v)),
            Err(_) => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn fmt_num(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_follow_the_anchor_and_detect_overlap() {
        let mut f = Figure {
            width: 200.0,
            height: 100.0,
            ..Default::default()
        };
        f.text(100.0, 50.0, "Study", 12.0, false, Anchor::End, Color::BLACK);
        f.text(
            100.0,
            50.0,
            "Study",
            12.0,
            false,
            Anchor::Start,
            Color::BLACK,
        );
        f.text(
            100.0,
            55.0,
            "Study",
            12.0,
            false,
            Anchor::Middle,
            Color::BLACK,
        );
        f.text(0.0, 0.0, "", 12.0, false, Anchor::Start, Color::BLACK);
        let b = f.text_boxes();
        assert_eq!(b.len(), 3, "empty text is not drawn");
        let w = fonts::text_width("Study", 12.0, false);
        assert!((b[0].1.x1 - 100.0).abs() < 1e-9 && (b[0].1.x1 - b[0].1.x0 - w).abs() < 1e-9);
        assert!((b[1].1.x0 - 100.0).abs() < 1e-9);
        // Touching boxes do not overlap; the centred one overlaps both.
        assert!(!b[0].1.overlaps(&b[1].1));
        assert!(b[2].1.overlaps(&b[0].1) && b[2].1.overlaps(&b[1].1));
        // Capitals are centred on y: the box spans it.
        assert!(b[0].1.y0 < 50.0 && b[0].1.y1 > 50.0);
    }

    #[test]
    fn svg_is_sized_in_pixels_with_a_finer_view_box() {
        let mut f = Figure {
            width: 120.5,
            height: 80.0,
            ..Default::default()
        };
        f.line((0.0, 0.0), (10.0, 10.0), Color::BLACK, 1.0);
        f.shapes.push(Shape::Line {
            points: vec![(0.0, 5.0), (20.0, 5.0)],
            color: Color::BLACK,
            width: 1.0,
            dash: Some((3.0, 2.0)),
        });
        let svg = f.to_svg().unwrap();
        assert!(
            svg.starts_with("<svg width=\"120.5\" height=\"80\" viewBox=\"0 0 482 320\""),
            "{}",
            &svg[..80]
        );
        // 20 px of 3-on 2-off dashes: 4 dashes, plus the solid line.
        assert_eq!(svg.matches("<polyline").count(), 5);
        assert_eq!(
            round_font_sizes(
                r#"<text font-size="60.00000000000001">a</text><text font-size="44">"#
            ),
            r#"<text font-size="60">a</text><text font-size="44">"#
        );
    }
}
