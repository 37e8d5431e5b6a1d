//! The shared kernel: the inverse-variance (mixed-effects) model of metafor's `rma.uni`.
//!
//! Options ([`Method`], [`Test`], [`PiType`], [`Control`], [`RmaOptions`]), the design
//! ([`design`]), τ² estimators ([`tau2`]), heterogeneity and the Q-profile CI ([`heterogeneity`]),
//! and the fit with inference and prediction ([`fit`]). Every analysis builds on this layer.
//!
//! [`rma`] fits the intercept-only model of metafor's `rma.uni`: τ² by [`Method`], inference by
//! [`Test`], the prediction interval, Q-profile CI for τ², heterogeneity and fit statistics, with
//! metafor's algorithms reproduced step for step.

pub mod blup;
pub mod design;
pub mod fit;
pub mod heterogeneity;
pub mod profile;
pub mod scale;
pub mod tau2;

/// The confidence level type lives with the distributions (the data layer validates level cells
/// with it too); the model is where analyses meet it.
pub use crate::stats::level::Level;
pub use fit::{
    fit_core, rma, rma_design, rma_owned, FitCore, FitStats, ModifiedKh, Prediction, RmaFit,
    Weighting,
};

use crate::error::{Error, Result};
use std::str::FromStr;

/// How τ² is estimated (metafor's `method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum Method {
    /// Fixed (equal) effects: τ² = 0.
    FE,
    /// DerSimonian & Laird 1986, *Control Clin Trials* 7:177–188.
    DL,
    /// Hedges 1983 (Hedges & Olkin 1985): the unweighted method of moments.
    HE,
    /// Hunter & Schmidt 2004, *Methods of Meta-Analysis*.
    HS,
    /// Sidik & Jonkman 2005, *J Biopharm Stat* 15:823–838.
    SJ,
    /// Maximum likelihood (Hardy & Thompson 1996), by Fisher scoring.
    ML,
    /// Restricted maximum likelihood (Viechtbauer 2005, *J Educ Behav Stat* 30:261–293).
    REML,
    /// Empirical Bayes (Morris 1983), by Fisher scoring.
    EB,
    /// Paule & Mandel 1982, *J Res Natl Bur Stand* 87:377–385: generalised Q = k − p.
    PM,
}

impl Method {
    /// Every supported estimator, FE first.
    pub const ALL: [Method; 9] = [
        Method::FE,
        Method::DL,
        Method::HE,
        Method::HS,
        Method::SJ,
        Method::ML,
        Method::REML,
        Method::EB,
        Method::PM,
    ];

    /// The name as metafor's `method` argument spells it ("REML", "DL", ...).
    pub fn name(self) -> &'static str {
        match self {
            Method::FE => "FE",
            Method::DL => "DL",
            Method::HE => "HE",
            Method::HS => "HS",
            Method::SJ => "SJ",
            Method::ML => "ML",
            Method::REML => "REML",
            Method::EB => "EB",
            Method::PM => "PM",
        }
    }

    /// A readable description for reports.
    pub fn description(self) -> &'static str {
        match self {
            Method::FE => "fixed-effect (inverse-variance) model",
            Method::DL => "DerSimonian–Laird estimator",
            Method::HE => "Hedges estimator",
            Method::HS => "Hunter–Schmidt estimator",
            Method::SJ => "Sidik–Jonkman estimator",
            Method::ML => "maximum-likelihood estimator",
            Method::REML => "restricted maximum-likelihood estimator",
            Method::EB => "empirical Bayes estimator",
            Method::PM => "Paule–Mandel estimator",
        }
    }

    /// The fixed-effect model: τ² is 0, not estimated.
    pub fn is_fixed(self) -> bool {
        self == Method::FE
    }
}

impl FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let up = s.trim().to_ascii_uppercase();
        let up = match up.as_str() {
            "EE" | "CE" => "FE",
            other => other,
        };
        Method::ALL.iter().copied().find(|m| m.name() == up).ok_or_else(|| {
            Error::invalid(format!(
                "unknown method '{s}': expected one of FE, DL, HE, HS, SJ, ML, REML, EB, PM, MH, Peto"
            ))
        })
    }
}

/// How the pooled estimate is tested and its CI built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Test {
    /// Wald-type z test and normal CI.
    Z,
    /// Knapp & Hartung 2003 (*Stat Med* 22:2693–2710): scaled variance, t with k − p df.
    Knha,
    /// Knapp–Hartung with the scale factor truncated at 1 (never narrower than the Wald CI;
    /// Röver, Knapp & Friede 2015, *BMC Med Res Methodol* 15:99).
    Adhoc,
    /// The t distribution with k − p df on the unadjusted (Wald) standard error: metafor's
    /// `test = "t"`, not Knapp–Hartung.
    T,
}

impl Test {
    /// The name as metafor's `test` argument spells it ("z", "knha", "adhoc", "t").
    pub fn name(self) -> &'static str {
        match self {
            Test::Z => "z",
            Test::Knha => "knha",
            Test::Adhoc => "adhoc",
            Test::T => "t",
        }
    }

    /// The standard error is scaled by the Knapp–Hartung factor s² (knha, adhoc).
    pub fn scales_se(self) -> bool {
        matches!(self, Test::Knha | Test::Adhoc)
    }

    /// Tests and CIs use the t distribution with k − p df rather than the normal.
    pub fn uses_t(self) -> bool {
        self != Test::Z
    }
}

impl FromStr for Test {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "z" => Ok(Test::Z),
            "knha" | "hksj" => Ok(Test::Knha),
            "adhoc" => Ok(Test::Adhoc),
            "t" => Ok(Test::T),
            _ => Err(Error::invalid(format!(
                "unknown test '{s}': expected z, t, knha or adhoc"
            ))),
        }
    }
}

/// Which prediction interval is reported as the main one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PiType {
    /// metafor 3.8's default: normal quantile under z, t(k − p) under Knapp–Hartung.
    Metafor,
    /// Higgins, Thompson & Spiegelhalter 2009 / Riley et al. 2011 (*BMJ* 342:d549): t with k − p − 1 df.
    Riley,
}

impl FromStr for PiType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "metafor" | "default" => Ok(PiType::Metafor),
            "riley" | "higgins" => Ok(PiType::Riley),
            _ => Err(Error::invalid(format!(
                "unknown prediction interval '{s}': expected metafor or riley"
            ))),
        }
    }
}

/// How ML, REML and EB find τ².
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solver {
    /// metafor's Fisher scoring, step for step (default; reproduces metafor to ~1e-15, and fails
    /// where metafor fails).
    #[default]
    Fisher,
    /// Safeguarded Newton: the Fisher-scoring step (Newton's step with the expected information)
    /// kept inside a shrinking bracket of the score's root, bisecting when a step leaves it
    /// (Press et al., Numerical Recipes, `rtsafe`). Cannot cycle; iterates to full precision.
    Newton,
}

/// Iteration control, with metafor's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Control {
    /// Fisher scoring stops when |Δτ²| < threshold (1e-5).
    pub threshold: f64,
    /// Fisher scoring iteration limit (100).
    pub maxiter: usize,
    /// Fisher scoring step multiplier (1).
    pub stepadj: f64,
    /// Lower bound for τ² (0).
    pub tau2_min: f64,
    /// Upper end of the PM search; `None` = max(100, 10·mad(y)²).
    pub tau2_max: Option<f64>,
    /// Start value for Fisher scoring; `None` = max(0, HE).
    pub tau2_init: Option<f64>,
    /// `uniroot` tolerance for PM and the ll0 check margin (eps^0.25).
    pub tol: f64,
    /// `uniroot` iteration limit for PM (metafor passes maxiter = 100).
    pub uniroot_maxiter: usize,
    /// Compare the log-likelihood at τ² = 0 after ML/REML (true).
    pub ll0check: bool,
    /// The ML/REML/EB algorithm (metafor's Fisher scoring).
    pub solver: Solver,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            threshold: 1e-5,
            maxiter: 100,
            stepadj: 1.0,
            tau2_min: 0.0,
            tau2_max: None,
            tau2_init: None,
            tol: f64::EPSILON.powf(0.25),
            uniroot_maxiter: 100,
            ll0check: true,
            solver: Solver::Fisher,
        }
    }
}

impl Control {
    /// The first Fisher-scoring control out of range, as (metafor's parameter name, what is wrong
    /// with it): a negative or NaN threshold, no iterations or a step of 0 would otherwise only
    /// show up as a non-convergence of every fit.
    pub fn invalid_parameter(&self) -> Option<(&'static str, String)> {
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            let t = self.threshold;
            Some(("threshold", format!("must be a positive number, got {t}")))
        } else if self.maxiter == 0 {
            Some(("maxiter", "must be at least 1, got 0".to_string()))
        } else if !(self.stepadj.is_finite() && self.stepadj > 0.0) {
            let s = self.stepadj;
            Some(("stepadj", format!("must be a positive number, got {s}")))
        } else {
            None
        }
    }

    /// Checks the Fisher-scoring controls ([`Control::invalid_parameter`]).
    pub fn validate(&self) -> crate::error::Result<()> {
        match self.invalid_parameter() {
            None => Ok(()),
            Some((name, why)) => Err(crate::error::Error::invalid(format!(
                "control {name} {why}"
            ))),
        }
    }
}

/// Options of a random/fixed-effects fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmaOptions {
    /// The τ² estimator (metafor's `method`, default REML).
    pub method: Method,
    /// How the estimate is tested and its CI built (metafor's `test`, default z).
    pub test: Test,
    /// Confidence level.
    pub level: Level,
    /// Which prediction interval is the main one (metafor's default, or Riley's).
    pub pi_type: PiType,
    /// Iteration control of the τ² estimators (metafor's `control`).
    pub control: Control,
    /// Compute the Q-profile CI for τ².
    pub tau2_ci: bool,
    /// `uniroot` tolerance of the Q-profile search.
    pub qprofile_tol: f64,
    /// τ² fixed at this value instead of estimated (metafor's `rma(tau2 = …)`); `method` then
    /// only chooses the formula of se(τ²), and τ² is no parameter of the information criteria.
    pub tau2_fixed: Option<f64>,
    /// Inverse-variance weighted estimation of the pooled effect (true); false is metafor's
    /// `weighted = FALSE`: the unweighted mean with variance Σ(vᵢ + τ²)/k² (intercept-only).
    pub weighted: bool,
}

impl Default for RmaOptions {
    fn default() -> Self {
        RmaOptions {
            method: Method::REML,
            test: Test::Z,
            level: Level::NINETY_FIVE,
            pi_type: PiType::Metafor,
            control: Control::default(),
            tau2_ci: true,
            qprofile_tol: f64::EPSILON.powf(0.25),
            tau2_fixed: None,
            weighted: true,
        }
    }
}
