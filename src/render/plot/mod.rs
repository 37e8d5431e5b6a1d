//! Forest and funnel plots: laid out with the bundled font, drawn to SVG by plotters, rendered to
//! PNG by resvg and to PDF by krilla, with no system fonts and no external programs.
//!
//! ```no_run
//! # use evident::{effect::EffectSet, model::{rma, RmaOptions}, Measure, Scale};
//! # let set = EffectSet::from_yi_vi(vec![-0.9, -1.6], vec![0.36, 0.21], Measure::GEN, Scale::Log);
//! let fit = rma(&set, &RmaOptions::default()).unwrap();
//! let fig = evident::render::plot::forest::forest(&fit, &Default::default()).unwrap();
//! evident::app::save_figure(&fig, std::path::Path::new("forest.png"), 300.0).unwrap();
//! ```

pub mod axis;
pub mod bubble;
pub mod figure;
pub mod font_subset;
pub mod fonts;
pub mod forest;
pub mod format;
pub mod funnel;
mod parts;
pub mod refits;
pub mod render;
pub mod rob;
pub mod robfig;
pub mod scatter;
pub mod selfun;
pub mod size;
pub mod style;

pub use figure::Figure;
pub use render::Format;
