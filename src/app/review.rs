//! A Cochrane review's analyses as RevMan computes them (Deeks & Higgins 2010, *Statistical
//! algorithms in Review Manager 5*): each outcome of a `.rm5` file or RevMan Web export pooled
//! with the review's measure, method and model, unless the caller chooses otherwise.
//!
//! RevMan's rules: Mantel–Haenszel fixed effect; its random-effects model is DerSimonian–Laird
//! with τ² from the Mantel–Haenszel Q ([`revman5_random`]); inverse-variance models are FE or
//! DL with z tests; studies with no events (or only events) in both arms are not estimable; 0.5
//! is added to every cell of a table with a zero; the SMD is RevMan's Hedges' g
//! ([`smd_revman5`]); O−E data give Peto's log ratio (O−E)/V with variance 1/V.

use crate::app::presets::{mh_measure, PoolMethod};
use crate::data::revman::{DataType, Outcome, RevmanMethod};
use crate::data::{Data, Studies};
use crate::effect::{smd_revman5, AddTo, EffectSet, EscalcOptions};
use crate::error::{Error, Result};
use crate::measure::{Measure, Scale};
use crate::model::{rma, Level, Method, RmaFit, RmaOptions, Test};
use crate::pool::view::{fit_with_view, revman5_random};
use crate::pool::{MhFit, MhOptions, TablePooling};

/// What the caller chose instead of the review's settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Choice {
    /// The effect measure.
    pub measure: Option<Measure>,
    /// The pooling method (an `rma` estimator, MH or Peto).
    pub method: Option<PoolMethod>,
    /// The confidence level of the pooled interval.
    pub level: Option<Level>,
}

/// How an outcome is pooled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReviewPooling {
    /// Mantel–Haenszel or Peto pooling of the tables (fixed effect).
    Tables(TablePooling),
    /// RevMan's random-effects model for Mantel–Haenszel data.
    MhRandom(Measure),
    /// An inverse-variance model of the studies' effects; `revman_smd` for RevMan's SMD.
    Rma {
        /// The measure of the effects.
        measure: Measure,
        /// FE or a τ² estimator.
        method: Method,
        /// Whether the effects are RevMan's SMD rather than metafor's.
        revman_smd: bool,
    },
}

/// An outcome's fit.
#[derive(Debug, Clone)]
pub struct ReviewFit {
    /// How it was pooled.
    pub pooling: ReviewPooling,
    /// The fit as drawn and reported (the view of a table pooling).
    pub fit: RmaFit,
    /// The Mantel–Haenszel fit of a table pooling or of RevMan's random-effects model.
    pub tables: Option<MhFit>,
}

impl ReviewFit {
    /// The Mantel–Haenszel or Peto fit when it is the result (not RevMan's random effects).
    pub fn table_fit(&self) -> Option<&MhFit> {
        match self.pooling {
            ReviewPooling::Tables(_) => self.tables.as_ref(),
            _ => None,
        }
    }
}

/// The review's measure as evident's: RevMan's OR, RR, RD, PETO_OR, MD, SMD; generic and O−E
/// outcomes are generic effects.
pub fn review_measure(o: &Outcome) -> Result<Measure> {
    let m = o.measure.trim().to_ascii_uppercase();
    Ok(match (o.data_type, m.as_str()) {
        (DataType::Dichotomous, _) if o.method == RevmanMethod::Peto => Measure::PETO,
        (DataType::Dichotomous, "OR") => Measure::OR,
        (DataType::Dichotomous, "RR") => Measure::RR,
        (DataType::Dichotomous, "RD") => Measure::RD,
        (DataType::Dichotomous, "PETO_OR") => Measure::PETO,
        (DataType::Continuous, "MD") => Measure::MD,
        (DataType::Continuous, "SMD") => Measure::SMD,
        (DataType::GenericIv | DataType::OeVariance, _) => Measure::GEN,
        (dt, _) => {
            return Err(Error::invalid(format!(
                "outcome {}: effect measure '{}' is not one evident pools for {} data",
                o.id,
                o.measure,
                dt.name()
            )))
        }
    })
}

/// The scale of an outcome's effects: log for ratios (generic outcomes with log data, O−E).
pub fn review_scale(o: &Outcome, measure: Measure) -> Scale {
    match o.data_type {
        DataType::GenericIv if o.log_data => Scale::Log,
        DataType::GenericIv => Scale::Identity,
        DataType::OeVariance => Scale::Log,
        _ => o.studies.data.kind().scale(measure, None),
    }
}

/// The pooling of an outcome: the review's, with the caller's measure and method.
pub fn review_pooling(o: &Outcome, choice: &Choice) -> Result<ReviewPooling> {
    let measure = match choice.measure {
        Some(m) => m,
        None => review_measure(o)?,
    };
    let tables = o.data_type == DataType::Dichotomous;
    let fe_or = |random: bool| if random { Method::DL } else { Method::FE };
    let revman_smd = measure == Measure::SMD && choice.measure.is_none();
    let rma_with = |method| ReviewPooling::Rma {
        measure,
        method,
        revman_smd,
    };
    Ok(match choice.method {
        None if measure == Measure::PETO && tables => ReviewPooling::Tables(TablePooling::Peto),
        None if tables && o.method == RevmanMethod::MantelHaenszel && mh_measure(measure) => {
            if o.random {
                ReviewPooling::MhRandom(measure)
            } else {
                ReviewPooling::Tables(TablePooling::MantelHaenszel(measure))
            }
        }
        None => rma_with(fe_or(o.random)),
        Some(PoolMethod::MantelHaenszel) if tables && mh_measure(measure) => {
            ReviewPooling::Tables(TablePooling::MantelHaenszel(measure))
        }
        Some(PoolMethod::Peto) if tables => ReviewPooling::Tables(TablePooling::Peto),
        Some(PoolMethod::MantelHaenszel | PoolMethod::Peto) => {
            return Err(Error::invalid(format!(
                "outcome {}: Mantel–Haenszel and Peto pooling need the 2x2 tables of dichotomous \
                 data (OR, RR, RD for Mantel–Haenszel); this outcome is {} data pooled as {}",
                o.id,
                o.data_type.name(),
                measure.name()
            )))
        }
        Some(PoolMethod::Rma(Method::DL) | PoolMethod::MhRandom)
            if tables && o.method == RevmanMethod::MantelHaenszel && mh_measure(measure) =>
        {
            ReviewPooling::MhRandom(measure)
        }
        Some(PoolMethod::MhRandom) => rma_with(Method::DL),
        Some(PoolMethod::Rma(m)) => rma_with(m),
    })
}

/// RevMan's zero-cell handling: 0.5 added to every cell of a table with a zero; tables without
/// events (or with only events) in both arms dropped.
fn revman_escalc() -> EscalcOptions {
    EscalcOptions {
        add: 0.5,
        to: AddTo::Only0,
        drop00: true,
        ..EscalcOptions::default()
    }
}

/// Fits an outcome as RevMan does (see the module documentation), or as `choice` says.
pub fn fit_outcome(o: &Outcome, choice: &Choice) -> Result<ReviewFit> {
    let pooling = review_pooling(o, choice)?;
    let level = match choice.level {
        Some(l) => l,
        None => Level::new(o.ci_total)?,
    };
    let mh = MhOptions {
        level,
        ..MhOptions::for_study_effects(0.5, AddTo::Only0, true)
    };
    let rma_opts = |method| RmaOptions {
        method,
        test: Test::Z,
        level,
        ..RmaOptions::default()
    };
    let wrap = |e: Error| crate::data::revman::outcome_error(&o.id, e);
    let (fit, tables) = match pooling {
        ReviewPooling::Tables(by) => {
            let (t, view) = fit_with_view(&o.studies, by, &mh).map_err(wrap)?;
            (view, Some(t))
        }
        ReviewPooling::MhRandom(m) => {
            let (t, fit) =
                revman5_random(&o.studies, m, &mh, &rma_opts(Method::DL)).map_err(wrap)?;
            (fit, Some(t))
        }
        ReviewPooling::Rma {
            measure,
            method,
            revman_smd,
        } => {
            let set = outcome_effects(o, measure, revman_smd).map_err(wrap)?;
            (rma(&set, &rma_opts(method)).map_err(wrap)?, None)
        }
    };
    Ok(ReviewFit {
        pooling,
        fit,
        tables,
    })
}

/// The effects of an outcome for an inverse-variance model.
pub fn outcome_effects(o: &Outcome, measure: Measure, revman_smd: bool) -> Result<EffectSet> {
    let mut set = if revman_smd {
        smd_revman5(&o.studies)?
    } else {
        EffectSet::from_studies(&o.studies, measure, &revman_escalc())?
    };
    set.scale = review_scale(o, measure);
    Ok(set)
}

/// The studies of an outcome as the report reads them: RevMan's SMD as pre-computed effects
/// (so that the page shows RevMan's numbers), other data as they are.
pub fn report_studies(o: &Outcome) -> Result<Studies> {
    if o.data_type != DataType::Continuous || review_measure(o)? != Measure::SMD {
        return Ok(o.studies.clone());
    }
    let set = smd_revman5(&o.studies)?;
    let k = o.studies.labels.len();
    let (mut yi, mut vi) = (vec![None; k], vec![None; k]);
    for (j, &r) in set.rows.iter().enumerate() {
        yi[r] = Some(set.yi[j]);
        vi[r] = Some(set.vi[j]);
    }
    Ok(Studies {
        data: Data::Precomputed { yi, vi },
        ..o.studies.clone()
    })
}

/// The report's settings of an outcome: measure, method and preset that make the report pool
/// it as RevMan does, the level, subgroups, labels and the title "1.1 Comparison: Outcome".
pub fn report_config(o: &Outcome) -> Result<crate::app::manifest::AnalysisConfig> {
    let pooling = review_pooling(o, &Choice::default())?;
    let (measure, method, preset) = match pooling {
        ReviewPooling::Tables(TablePooling::MantelHaenszel(m)) => (m, "MH", "revman5"),
        ReviewPooling::Tables(TablePooling::Peto) => (Measure::PETO, "Peto", "revman5"),
        ReviewPooling::MhRandom(m) => (m, "DL", "revman5"),
        ReviewPooling::Rma {
            measure, method, ..
        } => {
            let measure = if measure == Measure::SMD {
                Measure::GEN
            } else {
                measure
            };
            // Under the revman5 preset, DL on 2×2 tables is the Mantel–Haenszel model; an
            // inverse-variance random-effects model of tables is metafor's DL.
            let preset = if o.data_type == DataType::Dichotomous && method == Method::DL {
                "metafor"
            } else {
                "revman5"
            };
            (measure, method.name(), preset)
        }
    };
    let title = outcome_title(o);
    Ok(crate::app::manifest::AnalysisConfig {
        name: Some(title.clone()),
        title: Some(title),
        analysis: Some(o.id.clone()),
        measure: Some(measure.name().to_string()),
        method: Some(method.to_string()),
        preset: Some(preset.into()),
        test: Some("z".into()),
        level: Some(Level::new(o.ci_total)?),
        by: (!o.subgroups.is_empty()).then(|| "subgroup".to_string()),
        labels: o.graph_labels.clone(),
        ..Default::default()
    })
}

/// "1.1 Comparison: Outcome".
pub fn outcome_title(o: &Outcome) -> String {
    format!("{} {}: {}", o.id, o.comparison, o.name)
}
