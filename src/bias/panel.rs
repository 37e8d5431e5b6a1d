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

#[cfg(test)]
mod tests {
    use super::*;

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
