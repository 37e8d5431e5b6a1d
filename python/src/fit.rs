//! A fitted model held for Python: its metafor-named JSON (the keys `evident pool --json`
//! prints), its text summary (what `evident pool` prints), and the analyses of a fit.

use crate::errors::run;
use evident::bias::{Estimator, Predictor, RegModel, Side};
use evident::glmm::GlmmFit;
use evident::moderators::MetaregFit;
use evident::pool::sof;
use evident::render::{json, text};
use evident::{Error, MhFit, Result, RmaFit, Studies};
use pyo3::prelude::*;

/// The model of a fit (boxed: the fits differ in size by hundreds of bytes).
pub enum Model {
    /// `rma` without moderators.
    Rma(Box<RmaFit>),
    /// `rma` with moderators.
    Metareg(Box<MetaregFit>),
    /// `rma.mh` or `rma.peto`.
    Tables(Box<MhFit>),
    /// `rma.glmm`.
    Glmm(Box<GlmmFit>),
}

/// A fitted model with the studies it came from (for the summary-of-findings row).
#[pyclass(frozen, module = "evident._evident")]
pub struct Fit {
    model: Model,
    studies: Studies,
    warnings: Vec<String>,
}

/// A result as (metafor-named JSON, the text `evident` prints for it).
type Rendered = (String, String);

impl Fit {
    /// A fit and the warnings of reading and fitting its studies.
    pub fn new(model: Model, studies: Studies, warnings: Vec<String>) -> Fit {
        Fit {
            model,
            studies,
            warnings,
        }
    }

    /// The intercept-only model the bias and sensitivity analyses take.
    fn rma(&self, what: &str) -> Result<&RmaFit> {
        match &self.model {
            Model::Rma(f) => Ok(f),
            _ => Err(Error::invalid(format!(
                "{what} takes an inverse-variance model without moderators (rma without mods)"
            ))),
        }
    }

    /// The summary-of-findings row `evident pool` adds for OR, RR and RD on 2×2 data.
    fn sof(&self) -> Result<Option<sof::Sof>> {
        match &self.model {
            Model::Rma(f) => sof::for_rma(f, &self.studies, None, false),
            Model::Tables(f) => sof::for_mh(f, &self.studies, f.level.percent(), None, false),
            Model::Metareg(_) | Model::Glmm(_) => Ok(None),
        }
    }

    fn render(&self) -> Result<Rendered> {
        let sof = self.sof()?;
        let (mut v, mut t) = match &self.model {
            Model::Rma(f) => (json::rma_json(f), text::rma_summary(f)),
            Model::Metareg(f) => (json::metareg_json(f), text::metareg_summary(f)),
            Model::Tables(f) => (json::mh_json(f), text::mh_summary(f)),
            Model::Glmm(f) => (json::glmm_json(f), text::glmm_summary(f)),
        };
        if let (Some(s), Some(obj)) = (&sof, v.as_object_mut()) {
            obj.insert("sof".into(), json::sof_json(s));
            t.push_str(&text::sof_summary(s));
        }
        Ok((v.to_string(), t))
    }
}

#[pymethods]
impl Fit {
    /// The fit as (JSON with metafor's names, the text of `evident pool`).
    fn rendered(&self, py: Python<'_>) -> PyResult<Rendered> {
        run(py, || self.render())
    }

    /// What reading and fitting the studies left out or changed, one sentence each.
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// metafor's `leave1out`.
    fn leave1out(&self, py: Python<'_>) -> PyResult<Rendered> {
        run(py, || {
            let f = self.rma("leave1out")?;
            let s = evident::leave1out(&f.effects, &f.options)?;
            Ok((
                json::leave1out_json(&s).to_string(),
                text::leave1out_table(&s),
            ))
        })
    }

    /// metafor's `cumul`, in the order of the rows, or of column `order`.
    #[pyo3(signature = (order=None, decreasing=false))]
    fn cumul(&self, py: Python<'_>, order: Option<&str>, decreasing: bool) -> PyResult<Rendered> {
        run(py, || {
            let f = self.rma("cumul")?;
            let (idx, desc) =
                match order {
                    Some(col) => {
                        (
                            evident::sensitivity::cumul_order(&f.effects, col, decreasing)?,
                            format!(
                        "by column {col}, {} (entry i = model fitted to the first i studies)",
                        if decreasing { "decreasing" } else { "increasing" }
                    ),
                        )
                    }
                    None => (
                        (0..f.k).collect(),
                        "data rows, as given (entry i = model fitted to rows 1..i)".to_owned(),
                    ),
                };
            let s = evident::cumul(&f.effects, &f.options, &idx)?;
            Ok((
                json::cumul_json(&s, &desc).to_string(),
                text::cumul_table(&s, &desc),
            ))
        })
    }

    /// metafor's `influence`.
    fn influence(&self, py: Python<'_>) -> PyResult<Rendered> {
        run(py, || {
            let f = self.rma("influence")?;
            let s = evident::influence(&f.effects, &f.options)?;
            Ok((
                json::influence_json(&s).to_string(),
                text::influence_table(&s),
            ))
        })
    }

    /// metafor's `regtest` (Egger's test).
    #[pyo3(signature = (model="rma", predictor="sei"))]
    fn regtest(&self, py: Python<'_>, model: &str, predictor: &str) -> PyResult<Rendered> {
        run(py, || {
            let f = self.rma("regtest")?;
            let (m, p) = (model.parse::<RegModel>()?, predictor.parse::<Predictor>()?);
            let r = evident::regtest(&f.effects, &f.options, m, p, None)?;
            Ok((
                json::regtest_json(&r).to_string(),
                text::regtest_summary(&r),
            ))
        })
    }

    /// metafor's `ranktest` (Begg and Mazumdar).
    fn ranktest(&self, py: Python<'_>) -> PyResult<Rendered> {
        run(py, || {
            let r = evident::ranktest(&self.rma("ranktest")?.effects)?;
            Ok((
                json::ranktest_json(&r).to_string(),
                text::ranktest_summary(&r),
            ))
        })
    }

    /// metafor's `trimfill`; `side` None lets the estimator choose.
    #[pyo3(signature = (estimator="L0", side=None))]
    fn trimfill(&self, py: Python<'_>, estimator: &str, side: Option<&str>) -> PyResult<Rendered> {
        run(py, || {
            let f = self.rma("trimfill")?;
            let e = estimator.parse::<Estimator>()?;
            let side = side.map(str::parse::<Side>).transpose()?;
            let t = evident::trimfill(&f.effects, &f.options, e, side)?;
            Ok((
                json::trimfill_json(&t).to_string(),
                text::trimfill_summary(&t),
            ))
        })
    }

    /// A forest plot, written as SVG, PNG or PDF by the file's extension.
    #[pyo3(signature = (path, title=None, xlim=None, dpi=300.0))]
    fn forest(
        &self,
        py: Python<'_>,
        path: std::path::PathBuf,
        title: Option<String>,
        xlim: Option<(f64, f64)>,
        dpi: f64,
    ) -> PyResult<()> {
        run(py, || {
            let f = self.rma("forest")?;
            let base = evident::render::plot::forest::ForestOptions {
                title,
                xlim,
                ..Default::default()
            };
            // The data columns and "Not estimable" rows as `evident forest` draws them.
            let choices = evident::app::forest::ForestChoices::default();
            let opts =
                evident::app::forest::forest_options(&self.studies, f, None, &choices, base)?;
            let fig = evident::render::plot::forest::forest(f, &opts)?;
            evident::app::save_figure(&fig, &path, dpi)
        })
    }

    /// A funnel plot, written as SVG, PNG or PDF by the file's extension.
    #[pyo3(signature = (path, title=None, xlim=None, contours=false, dpi=300.0))]
    fn funnel(
        &self,
        py: Python<'_>,
        path: std::path::PathBuf,
        title: Option<String>,
        xlim: Option<(f64, f64)>,
        contours: bool,
        dpi: f64,
    ) -> PyResult<()> {
        run(py, || {
            let opts = evident::render::plot::funnel::FunnelOptions {
                title,
                xlim,
                contours,
                ..Default::default()
            };
            let fig = evident::render::plot::funnel::funnel(self.rma("funnel")?, &opts)?;
            evident::app::save_figure(&fig, &path, dpi)
        })
    }
}
