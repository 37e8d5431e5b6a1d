//! The small-study panel: which checks for funnel-plot asymmetry run together, from how many
//! studies, and the caution that goes with few studies. The report and `evident bias` both run it.

use super::fsn::{fsn, Fsn, FsnType};
use super::petpeese::{pet_peese, PetPeese};
use super::ranktest::{ranktest, Ranktest};
use super::regtest::{regtest, sample_sizes, Predictor, RegModel, Regtest};
use super::trimfill::{trimfill, Estimator, TrimFill};
use crate::data::Studies;
use crate::effect::EffectSet;
use crate::error::Result;
use crate::measure::Measure;
use crate::model::RmaOptions;

/// Fewest studies for which the report runs leave-one-out (and for which a regression on the
/// standard errors has a residual df); the funnel-based methods wait for [`ADVISED_K`].
pub const MIN_K: usize = 3;

/// Fewest studies for which tests for funnel-plot asymmetry are advised: with fewer their power is
/// too low to tell chance from bias (Sterne et al. 2011, *BMJ* 343:d4002; Cochrane Handbook
/// §13.3.5.4).
pub const ADVISED_K: usize = 10;

/// The advice as the outputs cite it.
pub const ADVICE_SOURCE: &str = "Cochrane Handbook §13.3.5.4";

/// Fewer studies than [`ADVISED_K`]: the caution every small-study output prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FewStudies {
    /// The number of studies analysed.
    k: usize,
}

impl FewStudies {
    /// `Some` when `k` is below [`ADVISED_K`].
    pub fn check(k: usize) -> Option<FewStudies> {
        (k < ADVISED_K).then_some(FewStudies { k })
    }

    /// "study" or "studies", as k asks.
    pub fn noun(self) -> &'static str {
        if self.k == 1 {
            "study"
        } else {
            "studies"
        }
    }

    /// The advice as a clause: "tests for funnel-plot asymmetry have low power with fewer than
    /// 10 studies".
    pub fn low_power(self) -> String {
        format!(
            "tests for funnel-plot asymmetry have low power with fewer than {ADVISED_K} studies"
        )
    }

    /// Why the report does not run a funnel-based method (`what`: "Egger's test", ...) with these
    /// few studies: "not done: k = 5 < 10 (…, Cochrane Handbook §13.3.5.4)".
    pub fn not_done(self, what: &str) -> String {
        format!(
            "not done: k = {} < {ADVISED_K} ({what}, like every method based on funnel-plot \
             asymmetry, needs at least {ADVISED_K} studies; {ADVICE_SOURCE})",
            self.k
        )
    }

    /// The warning line of the command-line bias reports.
    pub fn warning(self) -> String {
        format!(
            "Warning: only {} {}. T{} and should not be used ({ADVICE_SOURCE}).",
            self.k,
            self.noun(),
            &self.low_power()[1..]
        )
    }
}

/// The panel's analyses of one effect set, with the options of the model they accompany.
#[derive(Debug)]
pub struct BiasPanel {
    /// Egger's regression test (Egger et al. 1997) as metafor's default: the model's τ² method,
    /// standard errors as predictor.
    pub regtest: Result<Regtest>,
    /// Begg & Mazumdar's (1994) rank correlation test.
    pub ranktest: Result<Ranktest>,
    /// Trim-and-fill (Duval & Tweedie 2000), L0 with the side estimated.
    pub trimfill: Result<TrimFill>,
}

impl BiasPanel {
    /// Whether the report runs the panel for `k` studies: from [`ADVISED_K`] on, as the Handbook
    /// advises (the command-line tools run it from fewer, with [`FewStudies::warning`]).
    pub fn runs_for(k: usize) -> bool {
        FewStudies::check(k).is_none()
    }

    /// Runs the three analyses; each fails on its own.
    pub fn run(set: &EffectSet, opts: &RmaOptions) -> BiasPanel {
        BiasPanel {
            regtest: regtest(set, opts, RegModel::Rma, Predictor::Sei, None),
            ranktest: ranktest(set),
            trimfill: trimfill(set, opts, Estimator::L0, None),
        }
    }

    /// Peters' test (Peters et al. 2006, *JAMA* 295:676–680) for binary outcomes, when the data
    /// give sample sizes: a weighted regression on 1/n.
    pub fn peters(
        studies: &Studies,
        set: &EffectSet,
        opts: &RmaOptions,
    ) -> Option<Result<Regtest>> {
        let binary = matches!(
            set.measure,
            Measure::OR | Measure::RR | Measure::RD | Measure::PETO
        );
        match sample_sizes(studies, set) {
            Some(ni) if binary => {
                Some(regtest(set, opts, RegModel::Lm, Predictor::Ninv, Some(&ni)))
            }
            _ => None,
        }
    }
}

/// Everything `evident bias` reports beside the pooled model: the panel, PET-PEESE (Stanley &
/// Doucouliagos 2014) at α = 0.10, Rosenthal's fail-safe N at α = 0.05 and, for binary
/// outcomes with sample sizes, Peters' test.
#[derive(Debug)]
pub struct BiasReport {
    /// Egger, Begg and trim-and-fill.
    pub panel: BiasPanel,
    /// PET-PEESE.
    pub pet_peese: Result<PetPeese>,
    /// Rosenthal's fail-safe N.
    pub fsn: Result<Fsn>,
    /// Peters' test; `None` when the outcome is not binary or gives no sample sizes.
    pub peters: Option<Result<Regtest>>,
}

impl BiasReport {
    /// Runs every check of the report on the effects `set` fitted with `opts`.
    pub fn run(studies: &Studies, set: &EffectSet, opts: &RmaOptions) -> BiasReport {
        BiasReport {
            panel: BiasPanel::run(set, opts),
            pet_peese: pet_peese(set, opts, 0.10),
            fsn: fsn(set, FsnType::Rosenthal, 0.05),
            peters: BiasPanel::peters(studies, set, opts),
        }
    }
}

/// An estimate with its confidence interval, as the agreement sentence compares them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The method ("trim-and-fill", "PET-PEESE", "the 3PSM"; "the pooled estimate").
    pub method: &'static str,
    /// Lower confidence bound (analysis scale).
    pub ci_lb: f64,
    /// Upper confidence bound (analysis scale).
    pub ci_ub: f64,
}

/// What an interval says about the effect: wholly above or below no effect, or including it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    Above,
    Below,
    Includes,
}

impl Reading {
    fn of(i: &Interval, null: f64) -> Reading {
        if i.ci_lb > null {
            Reading::Above
        } else if i.ci_ub < null {
            Reading::Below
        } else {
            Reading::Includes
        }
    }

    /// The predicate after "the interval(s) of …" (`plural`: several intervals).
    fn phrase(self, plural: bool) -> String {
        let (verb, inc) = if plural {
            ("lie", "include")
        } else {
            ("lies", "includes")
        };
        match self {
            Reading::Above => format!("{verb} above no effect"),
            Reading::Below => format!("{verb} below no effect"),
            Reading::Includes => format!("{inc} no effect"),
        }
    }
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The report's sentence setting the estimates adjusted for small-study effects (trim-and-fill,
/// PET-PEESE, the three-parameter selection model, whichever could be computed) beside the
/// pooled one: they agree when every confidence interval says the same about no effect (`null`
/// on the analysis scale): wholly above it, wholly below it, or including it (read as a
/// sensitivity analysis: does adjusting change the conclusion?). `None` without an adjusted
/// estimate.
pub fn agreement_sentence(pooled: &Interval, adjusted: &[Interval], null: f64) -> Option<String> {
    let first = adjusted.first()?;
    let base = Reading::of(pooled, null);
    let readings: Vec<Reading> = adjusted.iter().map(|i| Reading::of(i, null)).collect();
    let names: Vec<&str> = adjusted.iter().map(|i| i.method).collect();
    let one = adjusted.len() == 1;
    let of = if one {
        format!("The estimate adjusted by {}", first.method)
    } else {
        format!("The estimates adjusted by {}", and_list(&names))
    };
    let r0 = readings[0];
    if readings.iter().all(|&r| r == r0) {
        let every = if one {
            "its confidence interval"
        } else {
            "every confidence interval"
        };
        return Some(if r0 == base {
            format!(
                "{of} {} with the pooled estimate: {every} {}, as the pooled one does.",
                if one { "agrees" } else { "agree" },
                r0.phrase(false)
            )
        } else {
            format!(
                "{of} {} with the pooled estimate: {every} {}, while the pooled one {}; \
                 the conclusion may not be robust to small-study effects.",
                if one {
                    "disagrees"
                } else {
                    "agree with one another but not"
                },
                r0.phrase(false),
                base.phrase(false)
            )
        });
    }
    // Group the methods by what their intervals say, in the order they were given.
    let mut groups: Vec<(Reading, Vec<&str>)> = Vec::new();
    for (r, n) in readings.iter().zip(&names) {
        match groups.iter_mut().find(|g| g.0 == *r) {
            Some(g) => g.1.push(n),
            None => groups.push((*r, vec![n])),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(r, ns)| {
            let plural = ns.len() > 1;
            format!(
                "the interval{} of {} {}",
                if plural { "s" } else { "" },
                and_list(ns),
                r.phrase(plural)
            )
        })
        .collect();
    Some(format!(
        "The adjusted estimates disagree: {} (the pooled one {}); the conclusion depends on how \
         small-study effects are adjusted for.",
        parts.join(", while "),
        base.phrase(false)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(method: &'static str, ci_lb: f64, ci_ub: f64) -> Interval {
        Interval {
            method,
            ci_lb,
            ci_ub,
        }
    }

    #[test]
    fn the_sentence_reads_when_the_adjusted_estimates_agree() {
        let pooled = iv("the pooled estimate", -0.9, -0.4);
        let all = [
            iv("trim-and-fill", -0.8, -0.2),
            iv("PET-PEESE", -1.2, -0.1),
            iv("the 3PSM", -0.9, -0.3),
        ];
        assert_eq!(
            agreement_sentence(&pooled, &all, 0.0).unwrap(),
            "The estimates adjusted by trim-and-fill, PET-PEESE and the 3PSM agree with the \
             pooled estimate: every confidence interval lies below no effect, as the pooled one \
             does."
        );
        let none = [iv("trim-and-fill", -0.5, 0.2), iv("the 3PSM", -0.6, 0.1)];
        assert_eq!(
            agreement_sentence(&pooled, &none, 0.0).unwrap(),
            "The estimates adjusted by trim-and-fill and the 3PSM agree with one another but not \
             with the pooled estimate: every confidence interval includes no effect, while the \
             pooled one lies below no effect; the conclusion may not be robust to small-study \
             effects."
        );
        assert_eq!(
            agreement_sentence(&pooled, &all[1..2], 0.0).unwrap(),
            "The estimate adjusted by PET-PEESE agrees with the pooled estimate: its confidence \
             interval lies below no effect, as the pooled one does."
        );
        assert_eq!(agreement_sentence(&pooled, &[], 0.0), None);
    }

    #[test]
    fn the_sentence_reads_when_the_adjusted_estimates_disagree() {
        let pooled = iv("the pooled estimate", 0.2, 0.6);
        let mixed = [
            iv("trim-and-fill", 0.1, 0.5),
            iv("PET-PEESE", -0.3, 0.2),
            iv("the 3PSM", 0.05, 0.55),
        ];
        assert_eq!(
            agreement_sentence(&pooled, &mixed, 0.0).unwrap(),
            "The adjusted estimates disagree: the intervals of trim-and-fill and the 3PSM lie \
             above no effect, while the interval of PET-PEESE includes no effect (the pooled one \
             lies above no effect); the conclusion depends on how small-study effects are \
             adjusted for."
        );
        // A single adjusted estimate that changes the conclusion.
        assert_eq!(
            agreement_sentence(&pooled, &mixed[1..2], 0.0).unwrap(),
            "The estimate adjusted by PET-PEESE disagrees with the pooled estimate: its \
             confidence interval includes no effect, while the pooled one lies above no effect; \
             the conclusion may not be robust to small-study effects."
        );
    }

    #[test]
    fn advice_from_ten_studies_on_is_silent() {
        assert!(FewStudies::check(ADVISED_K).is_none());
        assert!(BiasPanel::runs_for(ADVISED_K) && !BiasPanel::runs_for(ADVISED_K - 1));
        assert_eq!(
            FewStudies { k: 9 }.not_done("Egger's test"),
            "not done: k = 9 < 10 (Egger's test, like every method based on funnel-plot \
             asymmetry, needs at least 10 studies; Cochrane Handbook §13.3.5.4)"
        );
        assert_eq!(FewStudies::check(9), Some(FewStudies { k: 9 }));
    }

    #[test]
    fn warning_reads_as_the_command_line_always_printed_it() {
        assert_eq!(
            FewStudies { k: 1 }.warning(),
            "Warning: only 1 study. Tests for funnel-plot asymmetry have low power with fewer \
             than 10 studies and should not be used (Cochrane Handbook §13.3.5.4)."
        );
        assert_eq!(
            FewStudies { k: 4 }.warning(),
            "Warning: only 4 studies. Tests for funnel-plot asymmetry have low power with fewer \
             than 10 studies and should not be used (Cochrane Handbook §13.3.5.4)."
        );
    }
}
