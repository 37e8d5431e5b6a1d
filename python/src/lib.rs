//! `evident._evident`: the Python binding of the evident library (Viechtbauer 2010, *J Stat
//! Softw* 36(3), metafor's methods). Conversions only: Python columns become the library's
//! [`evident::data::Grid`] of cells, options its option types, results its metafor-named JSON
//! and text; every number is the library's.

#![forbid(unsafe_code)]

mod errors;
mod fit;
mod frame;
mod options;

use errors::{run, ConvergenceError, EvidentError, InputError};
use evident::app::batch::{self as streaming, BatchOptions};
use evident::data::Studies;
use evident::glmm::GlmmOptions;
use evident::render::text::omitted_warnings;
use evident::{EffectSet, Measure};
use fit::{Fit, Model};
use frame::{Columns, Frame};
use options::{EscalcArgs, RmaArgs};
use pyo3::prelude::*;

/// yi and vi per input row (None where metafor gives NA), the measure computed and the scale
/// yi are on (for `rma` of the yi and vi later).
type EscalcOut = (
    Vec<Option<f64>>,
    Vec<Option<f64>>,
    &'static str,
    Option<&'static str>,
);

/// metafor's `escalc`: effect sizes and sampling variances of every row.
#[pyfunction]
#[pyo3(signature = (columns, measure, escalc))]
fn escalc(
    py: Python<'_>,
    columns: Columns<'_>,
    measure: Option<&str>,
    escalc: EscalcArgs,
) -> PyResult<EscalcOut> {
    let frame = Frame::new(columns)?;
    run(py, || {
        let wanted = options::measure(measure)?;
        let studies = frame.studies(wanted)?;
        let m = wanted.unwrap_or_else(|| studies.data.default_measure());
        let es = evident::escalc(&studies, m, &escalc.options(m)?)?;
        let scale = RmaArgs::scale_name(es.scale);
        Ok((es.yi, es.vi, m.name(), scale))
    })
}

/// The studies and effect set of `columns` for a model, with the warnings of reading them.
fn effects(
    frame: &Frame,
    measure: Option<&str>,
    escalc: &EscalcArgs,
    rma: &RmaArgs,
) -> evident::Result<(Studies, EffectSet, Vec<String>)> {
    let wanted = options::measure(measure)?;
    let studies = frame.studies(wanted)?;
    let m = wanted.unwrap_or_else(|| studies.data.default_measure());
    let mut set = EffectSet::from_studies(&studies, m, &escalc.options(m)?)?;
    // Only a scale given overrides escalc's (which knows PFT's harmonic-mean n).
    if let Some(given) = rma.scale()? {
        set.scale = studies.data.kind().scale(m, Some(given));
    }
    let mut warnings = studies.warnings.clone();
    // Rows are named by their labels: a frame has no file lines.
    warnings.extend(omitted_warnings(&set.omitted, &[]));
    Ok((studies, set, warnings))
}

/// metafor's `rma`: the intercept-only model, or a meta-regression on `mods` (the right-hand
/// side of an R formula over the columns).
#[pyfunction]
#[pyo3(signature = (columns, measure, escalc, rma, mods=None))]
fn rma(
    py: Python<'_>,
    columns: Columns<'_>,
    measure: Option<&str>,
    escalc: EscalcArgs,
    rma: RmaArgs,
    mods: Option<&str>,
) -> PyResult<Fit> {
    let frame = Frame::new(columns)?;
    run(py, || {
        let (studies, set, mut warnings) = effects(&frame, measure, &escalc, &rma)?;
        let o = rma.options()?;
        let model = match mods {
            Some(f) => {
                let fit = evident::moderators::metareg(&set, f, &o)?;
                warnings.extend(omitted_warnings(&fit.omitted, &[]));
                Model::Metareg(Box::new(fit))
            }
            None => Model::Rma(Box::new(evident::rma(&set, &o)?)),
        };
        Ok(Fit::new(model, studies, warnings))
    })
}

/// metafor's `rma.mh` (`peto` false) or `rma.peto` on 2×2 tables (or incidence for rma.mh).
#[pyfunction]
#[pyo3(signature = (columns, measure, escalc, level, correct, peto))]
fn rma_tables(
    py: Python<'_>,
    columns: Columns<'_>,
    measure: Option<&str>,
    escalc: EscalcArgs,
    level: f64,
    correct: bool,
    peto: bool,
) -> PyResult<Fit> {
    let frame = Frame::new(columns)?;
    run(py, || {
        let wanted = options::measure(measure)?;
        let studies = frame.studies(wanted.or(peto.then_some(Measure::PETO)))?;
        let m = wanted.unwrap_or_else(|| studies.data.default_measure());
        let o = escalc.mh_options(level, correct)?;
        let fit = if peto {
            evident::rma_peto(&studies, &o)?
        } else {
            evident::rma_mh(&studies, m, &o)?
        };
        let warnings = studies.warnings.clone();
        Ok(Fit::new(Model::Tables(Box::new(fit)), studies, warnings))
    })
}

/// metafor's `rma.glmm`: the GLMM of `measure` (OR, IRR, PLO, IRLN) from the counts, by ML.
#[pyfunction]
#[pyo3(signature = (columns, measure, model, test, level, mods=None))]
fn rma_glmm(
    py: Python<'_>,
    columns: Columns<'_>,
    measure: &str,
    model: &str,
    test: &str,
    level: f64,
    mods: Option<String>,
) -> PyResult<Fit> {
    let frame = Frame::new(columns)?;
    run(py, || {
        let m: Measure = measure.parse()?;
        let studies = frame.studies(Some(m))?;
        let o = GlmmOptions {
            model: model.parse()?,
            test: test.parse()?,
            mods,
            level: evident::model::Level::new(level)?.percent(),
        };
        let fit = evident::glmm::rma_glmm(&studies, m, &o)?;
        let mut warnings = studies.warnings.clone();
        warnings.extend(omitted_warnings(&fit.omitted, &[]));
        Ok(Fit::new(Model::Glmm(Box::new(fit)), studies, warnings))
    })
}

/// The columns of a batch: the header, the analyses' names, k, the numbers of each row (in
/// the header's order after `k`) and each analysis's error.
type BatchOut = (
    Vec<&'static str>,
    Vec<String>,
    Vec<Option<usize>>,
    Vec<Vec<f64>>,
    Vec<Option<String>>,
);

/// The library's streaming batch over the analyses of `columns` (rows of an analysis together).
#[pyfunction]
#[pyo3(signature = (columns, analysis, measure, escalc, rma))]
fn batch(
    py: Python<'_>,
    columns: Columns<'_>,
    analysis: String,
    measure: Option<&str>,
    escalc: EscalcArgs,
    rma: RmaArgs,
) -> PyResult<BatchOut> {
    let csv = Frame::new(columns)?.to_csv();
    run(py, || {
        let measure = options::measure(measure)?;
        let opts = BatchOptions {
            analysis_column: analysis,
            measure,
            escalc: escalc.options(measure.unwrap_or(Measure::GEN))?,
            rma: rma.options()?,
            scale: rma.scale()?,
            ..BatchOptions::default()
        };
        let source = std::path::Path::new(frame::SOURCE);
        let b = streaming::Batch::open(source, csv.as_bytes(), &opts)?;
        let log = b.scale() == evident::Scale::Log;
        let mut out: BatchOut = (streaming::header(log), vec![], vec![], vec![], vec![]);
        b.run_map(
            |r| r,
            |r| {
                out.1.push(r.analysis);
                match r.fit {
                    Ok(f) => {
                        out.2.push(Some(f.k));
                        out.3.push(streaming::row_values(&f, log));
                        out.4.push(None);
                    }
                    Err(e) => {
                        out.2.push(None);
                        out.3.push(Vec::new());
                        out.4.push(Some(e.to_string()));
                    }
                }
                Ok(())
            },
        )?;
        Ok(out)
    })
}

/// The module `evident._evident`.
#[pymodule]
fn _evident(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("EvidentError", py.get_type::<EvidentError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("ConvergenceError", py.get_type::<ConvergenceError>())?;
    m.add_class::<Fit>()?;
    m.add_function(wrap_pyfunction!(escalc, m)?)?;
    m.add_function(wrap_pyfunction!(rma, m)?)?;
    m.add_function(wrap_pyfunction!(rma_tables, m)?)?;
    m.add_function(wrap_pyfunction!(rma_glmm, m)?)?;
    m.add_function(wrap_pyfunction!(batch, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
