//! A forest plot at the size asked: the panel stretches or shrinks to the width, the text
//! keeps its size (9 pt, or the font size asked) unless the table does not fit, and then
//! shrinks, never below [`MIN_PT`] for the smallest text.

use super::Layout;
use crate::error::Result;
use crate::render::plot::figure::Figure;
use crate::render::plot::size::{scale, too_small, BODY_PT, MIN_PT, SMALL_RATIO};

/// The narrowest panel of a sized forest plot (pixels at 9 pt), before the ticks' and the
/// favours labels' own needs.
pub(super) const LEAST_PANEL: f64 = 150.0;

/// Draws `l` to the options' size.
pub(super) fn draw_sized(l: &mut Layout) -> Result<Figure> {
    let size = l.opts.size;
    let natural_panel = l.panel_w;
    // The width the table needs besides the panel, and the figure at its narrowest panel
    // (titles and notes do not depend on the panel).
    let fixed = l.x.end + crate::render::plot::style::MARGIN - natural_panel;
    l.set_panel(l.panel_min);
    let narrowest = l.draw();
    let (w_min, h) = (narrowest.width, narrowest.height);
    let mut s = size.font_pt.map_or(1.0, |pt| pt / BODY_PT);
    let explicit = size.font_pt.is_some();
    let least = MIN_PT / (BODY_PT * SMALL_RATIO);
    for (target, need) in [(size.width, w_min), (size.height, h)] {
        if let Some(t) = target {
            let fit_s = t / need;
            if fit_s < s - 1e-9 {
                if explicit || fit_s < least - 1e-9 {
                    let at = if explicit { s } else { least };
                    return Err(too_small("forest plot", w_min * at, h * at));
                }
                s = fit_s;
            }
        }
    }
    let panel = match size.width {
        // The panel takes what the table leaves of the width; the notes may be wider than
        // the table, then the panel takes what they leave.
        Some(w) => (w / s - fixed).max(l.panel_min),
        None => natural_panel,
    };
    l.set_panel(panel);
    let mut fig = l.draw();
    scale(&mut fig, s);
    if let Some(w) = size.width {
        fig.width = w;
    }
    if let Some(h) = size.height {
        fig.height = h;
    }
    Ok(fig)
}
