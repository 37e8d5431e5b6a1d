//! PET-PEESE: precision-effect test and precision-effect estimate with standard error.

use super::regtest::{regtest, Predictor, RegModel, Regtest};
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::RmaOptions;

/// Which of the two regressions supplies the adjusted estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PetPeeseChoice {
    /// PET's intercept, reported when it does not differ from 0 at `alpha`.
    Pet,
    /// PEESE's intercept, reported when PET's differs from 0 at `alpha`.
    Peese,
}

impl PetPeeseChoice {
    /// "PET" or "PEESE".
    pub fn name(self) -> &'static str {
        match self {
            PetPeeseChoice::Pet => "PET",
            PetPeeseChoice::Peese => "PEESE",
        }
    }
}

/// The result of PET-PEESE.
#[derive(Debug, Clone)]
pub struct PetPeese {
    /// PET: yi ~ sei by weighted least squares (weights 1/vi); its intercept is the estimate.
    pub pet: Regtest,
    /// PEESE: yi ~ vi by weighted least squares.
    pub peese: Regtest,
    /// Two-sided level at which PET's intercept is tested (0.10 = one-sided 5%).
    pub alpha: f64,
    /// Which regression's intercept is reported.
    pub choice: PetPeeseChoice,
    /// The chosen intercept with its CI.
    pub estimate: f64,
    /// Lower bound of the chosen intercept's confidence interval.
    pub ci_lb: f64,
    /// Upper bound of the chosen intercept's confidence interval.
    pub ci_ub: f64,
}

/// PET-PEESE: if PET's intercept differs from 0 at two-sided `alpha` (0.10 by convention, the
/// one-sided 5% test), report PEESE's intercept, else PET's.
///
/// Stanley & Doucouliagos 2014, *Res Synth Methods* 5:60–78. Both regressions are Egger's
/// weighted `lm` form ([`regtest`] with `RegModel::Lm`), with predictors √vi and vi.
pub fn pet_peese(set: &EffectSet, opts: &RmaOptions, alpha: f64) -> Result<PetPeese> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(Error::invalid(format!(
            "alpha must lie strictly between 0 and 1, got {alpha}"
        )));
    }
    let pet = regtest(set, opts, RegModel::Lm, Predictor::Sei, None)?;
    let peese = regtest(set, opts, RegModel::Lm, Predictor::Vi, None)?;
    let pl = pet.limit.expect("sei has a limit estimate");
    let (choice, l) = if pl.pval < alpha {
        (
            PetPeeseChoice::Peese,
            peese.limit.expect("vi has a limit estimate"),
        )
    } else {
        (PetPeeseChoice::Pet, pl)
    };
    Ok(PetPeese {
        alpha,
        choice,
        estimate: l.estimate,
        ci_lb: l.ci_lb,
        ci_ub: l.ci_ub,
        pet,
        peese,
    })
}
