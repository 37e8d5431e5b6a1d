//! Each study's own interval for single proportions and single rates, shown beside the pooled
//! result as R meta's `metaprop` shows it: the observed x/n (or x/t) with an exact or score
//! interval on the proportion (rate) scale, whatever scale the studies are pooled on.

use super::EffectSet;
use crate::data::{Data, Studies};
use crate::error::{Error, Result};
use crate::measure::Measure;
use crate::stats::exact::{clopper_pearson, poisson_exact, poisson_score, wilson};
use crate::stats::level::Level;
use std::str::FromStr;

/// How each study's interval is computed (R meta's `method.ci`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum StudyCi {
    /// Clopper–Pearson for proportions (Clopper & Pearson 1934), Garwood's exact interval for
    /// rates (Garwood 1936): meta's `"CP"`, the default.
    #[default]
    Exact,
    /// Wilson's score interval for proportions (Wilson 1927), the Poisson score interval for
    /// rates: meta's `"WS"`.
    Wilson,
    /// yi ± z·√vi on the analysis scale, back-transformed (metafor's `summary.escalc`).
    Wald,
}

impl StudyCi {
    /// The name the command line and the manifest use.
    pub fn name(self) -> &'static str {
        match self {
            StudyCi::Exact => "cp",
            StudyCi::Wilson => "wilson",
            StudyCi::Wald => "wald",
        }
    }
}

/// `cp` (also `exact`), `wilson` (also `ws`) or `wald`, case-insensitively.
impl FromStr for StudyCi {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cp" | "exact" => Ok(StudyCi::Exact),
            "wilson" | "ws" => Ok(StudyCi::Wilson),
            "wald" => Ok(StudyCi::Wald),
            _ => Err(Error::invalid(format!(
                "unknown study interval '{s}': expected cp, wilson or wald"
            ))),
        }
    }
}

/// What the studies count: events out of trials, or events over person-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    /// A proportion x/n.
    Proportion,
    /// A rate x/t.
    Rate,
}

/// Each study's estimate and interval on the display scale (proportion or rate), in the order
/// of the effect set's studies.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StudyIntervals {
    /// How the intervals were computed.
    pub method: StudyCi,
    /// x/n or x/t (the back-transformed yi under [`StudyCi::Wald`]).
    pub estimate: Vec<f64>,
    /// Lower bounds.
    pub ci_lb: Vec<f64>,
    /// Upper bounds.
    pub ci_ub: Vec<f64>,
}

/// The measures whose back-transformed scale is the proportion (rate) itself, so that an
/// interval for x/n (x/t) sits on the same axis as the pooled result.
fn counted(measure: Measure) -> Option<Counted> {
    match measure {
        Measure::PR | Measure::PLO | Measure::PAS | Measure::PFT | Measure::PLN => {
            Some(Counted::Proportion)
        }
        Measure::IR | Measure::IRLN | Measure::IRS | Measure::IRFT => Some(Counted::Rate),
        _ => None,
    }
}

impl StudyIntervals {
    /// Whether the studies of `measure` are rates x/t with Poisson intervals (not proportions).
    pub fn of_rates(measure: Measure) -> bool {
        counted(measure) == Some(Counted::Rate)
    }

    /// The intervals of the studies in `set` (computed from `studies` by [`EffectSet::new`]) at
    /// `level`; `None` for data other than single proportions and rates.
    pub fn compute(
        studies: &Studies,
        set: &EffectSet,
        method: StudyCi,
        level: Level,
    ) -> Result<Option<StudyIntervals>> {
        let Some(what) = counted(set.measure) else {
            return Ok(None);
        };
        let (xs, ds) = match (&studies.data, what) {
            (Data::Proportion { xi, ni }, Counted::Proportion) => (xi, ni),
            (Data::Rate { xi, ti }, Counted::Rate) => (xi, ti),
            _ => return Ok(None),
        };
        let (alpha, z) = (level.alpha(), level.z());
        let k = set.k();
        let mut out = StudyIntervals {
            method,
            estimate: Vec::with_capacity(k),
            ci_lb: Vec::with_capacity(k),
            ci_ub: Vec::with_capacity(k),
        };
        for i in 0..k {
            let (e, lb, ub) = if method == StudyCi::Wald {
                let half = z * set.vi[i].sqrt();
                let b = |y: f64| set.scale.back(y);
                (b(set.yi[i]), b(set.yi[i] - half), b(set.yi[i] + half))
            } else {
                let row = set.rows[i];
                let (x, d) = (xs[row], ds[row]);
                let ci = x.zip(d).and_then(|(x, d)| match (what, method) {
                    (Counted::Proportion, StudyCi::Wilson) => wilson(x, d, z),
                    (Counted::Proportion, _) => clopper_pearson(x, d, alpha),
                    (Counted::Rate, StudyCi::Wilson) => poisson_score(x, d, z),
                    (Counted::Rate, _) => poisson_exact(x, d, alpha),
                });
                let ((lb, ub), x, d) =
                    ci.zip(x)
                        .zip(d)
                        .map(|((c, x), d)| (c, x, d))
                        .ok_or_else(|| {
                            Error::invalid(format!(
                                "study {}: no interval for these counts",
                                set.study_ref(i)
                            ))
                        })?;
                (x / d, lb, ub)
            };
            out.estimate.push(e);
            out.ci_lb.push(lb);
            out.ci_ub.push(ub);
        }
        Ok(Some(out))
    }

    /// The intervals of the studies at positions `idx`.
    pub fn subset(&self, idx: &[usize]) -> StudyIntervals {
        let pick = |v: &[f64]| idx.iter().map(|&i| v[i]).collect();
        StudyIntervals {
            method: self.method,
            estimate: pick(&self.estimate),
            ci_lb: pick(&self.ci_lb),
            ci_ub: pick(&self.ci_ub),
        }
    }
}
