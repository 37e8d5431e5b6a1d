//! Effect-size measures and the scale each is analysed on.

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// An effect-size measure, named as metafor's `escalc(measure = ...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum Measure {
    /// Log odds ratio (2×2).
    OR,
    /// Log risk ratio (2×2).
    RR,
    /// Risk difference (2×2).
    RD,
    /// Peto's log odds ratio (2×2).
    PETO,
    /// Arcsine square-root risk difference (2×2).
    AS,
    /// Phi coefficient (2×2).
    PHI,
    /// Yule's Q (2×2).
    YUQ,
    /// Yule's Y (2×2).
    YUY,
    /// Log odds ratio converted to an SMD, normal distribution (2×2; Cox 1970).
    OR2DN,
    /// Log odds ratio converted to an SMD, logistic distribution (2×2; Hasselblad & Hedges 1995).
    OR2DL,
    /// Raw mean difference.
    MD,
    /// Standardised mean difference, bias-corrected (Hedges' g).
    SMD,
    /// Standardised mean difference with heteroscedastic SDs (Bonett 2008).
    SMDH,
    /// Log ratio of means (Hedges, Gurevitch & Curtis 1999).
    ROM,
    /// Log variability ratio (Nakagawa et al. 2015).
    VR,
    /// Log coefficient-of-variation ratio (Nakagawa et al. 2015).
    CVR,
    /// Log incidence rate ratio.
    IRR,
    /// Incidence rate difference.
    IRD,
    /// Raw proportion.
    PR,
    /// Logit-transformed proportion.
    PLO,
    /// Arcsine square-root transformed proportion.
    PAS,
    /// Freeman–Tukey double arcsine transformed proportion (Freeman & Tukey 1950).
    PFT,
    /// Log-transformed proportion.
    PLN,
    /// Fisher's r-to-z transformed correlation.
    ZCOR,
    /// Raw correlation.
    COR,
    /// Bias-corrected correlation (Olkin & Pratt 1958).
    UCOR,
    /// Partial correlation from a regression t statistic.
    PCOR,
    /// Fisher's r-to-z transformed partial correlation.
    ZPCOR,
    /// Incidence rate of a single group.
    IR,
    /// Log incidence rate.
    IRLN,
    /// Square-root transformed incidence rate.
    IRS,
    /// Freeman–Tukey transformed incidence rate.
    IRFT,
    /// Raw mean of a single group.
    MN,
    /// Log mean.
    MNLN,
    /// Log coefficient of variation (Nakagawa et al. 2015).
    CVLN,
    /// Log standard deviation (Nakagawa et al. 2015).
    SDLN,
    /// Raw mean change (pre-post or matched pairs).
    MC,
    /// Standardised mean change, change-score standardisation (Gibbons et al. 1993).
    SMCC,
    /// Standardised mean change, raw-score standardisation (Becker 1988).
    SMCR,
    /// Standardised mean change, raw-score standardisation with heteroscedastic SDs (Bonett 2008).
    SMCRH,
    /// Log ratio of means of one group at two occasions (Lajeunesse 2011).
    ROMC,
    /// Generic: yi and vi given directly, analysed on the scale given.
    GEN,
}

impl Measure {
    /// Every measure, in declaration order.
    pub const ALL: [Measure; 42] = [
        Measure::OR,
        Measure::RR,
        Measure::RD,
        Measure::PETO,
        Measure::AS,
        Measure::PHI,
        Measure::YUQ,
        Measure::YUY,
        Measure::OR2DN,
        Measure::OR2DL,
        Measure::MD,
        Measure::SMD,
        Measure::SMDH,
        Measure::ROM,
        Measure::VR,
        Measure::CVR,
        Measure::IRR,
        Measure::IRD,
        Measure::PR,
        Measure::PLO,
        Measure::PAS,
        Measure::PFT,
        Measure::PLN,
        Measure::ZCOR,
        Measure::COR,
        Measure::UCOR,
        Measure::PCOR,
        Measure::ZPCOR,
        Measure::IR,
        Measure::IRLN,
        Measure::IRS,
        Measure::IRFT,
        Measure::MN,
        Measure::MNLN,
        Measure::CVLN,
        Measure::SDLN,
        Measure::MC,
        Measure::SMCC,
        Measure::SMCR,
        Measure::SMCRH,
        Measure::ROMC,
        Measure::GEN,
    ];

    /// The scale the effect is analysed on (GEN: identity unless the caller says otherwise; PFT
    /// and IRFT: back-transformed at n = 1 (t = 1) unless the data give the harmonic mean, see
    /// [`Scale::freeman_tukey`] and [`Scale::freeman_tukey_rate`]).
    pub fn scale(self) -> Scale {
        match self {
            Measure::OR
            | Measure::RR
            | Measure::PETO
            | Measure::ROM
            | Measure::VR
            | Measure::CVR
            | Measure::IRR
            | Measure::PLN
            | Measure::IRLN
            | Measure::MNLN
            | Measure::CVLN
            | Measure::SDLN
            | Measure::ROMC => Scale::Log,
            Measure::PLO => Scale::Logit,
            Measure::PAS => Scale::Arcsine,
            Measure::PFT => Scale::freeman_tukey(1.0),
            Measure::IRS => Scale::SquareRoot,
            Measure::IRFT => Scale::freeman_tukey_rate(1.0),
            Measure::ZCOR | Measure::ZPCOR => Scale::FisherZ,
            _ => Scale::Identity,
        }
    }

    /// metafor's `add` when none is given: 0 for the arcsine and square-root measures (escalc's
    /// Note: they are defined at zero counts), ½ otherwise.
    pub fn default_add(self) -> f64 {
        match self {
            Measure::AS
            | Measure::PHI
            | Measure::PAS
            | Measure::PFT
            | Measure::IRS
            | Measure::IRFT => 0.0,
            _ => 0.5,
        }
    }

    /// metafor's name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::OR => "OR",
            Measure::RR => "RR",
            Measure::RD => "RD",
            Measure::PETO => "PETO",
            Measure::AS => "AS",
            Measure::PHI => "PHI",
            Measure::YUQ => "YUQ",
            Measure::YUY => "YUY",
            Measure::OR2DN => "OR2DN",
            Measure::OR2DL => "OR2DL",
            Measure::MD => "MD",
            Measure::SMD => "SMD",
            Measure::SMDH => "SMDH",
            Measure::ROM => "ROM",
            Measure::VR => "VR",
            Measure::CVR => "CVR",
            Measure::IRR => "IRR",
            Measure::IRD => "IRD",
            Measure::PR => "PR",
            Measure::PLO => "PLO",
            Measure::PAS => "PAS",
            Measure::PFT => "PFT",
            Measure::PLN => "PLN",
            Measure::ZCOR => "ZCOR",
            Measure::COR => "COR",
            Measure::UCOR => "UCOR",
            Measure::PCOR => "PCOR",
            Measure::ZPCOR => "ZPCOR",
            Measure::IR => "IR",
            Measure::IRLN => "IRLN",
            Measure::IRS => "IRS",
            Measure::IRFT => "IRFT",
            Measure::MN => "MN",
            Measure::MNLN => "MNLN",
            Measure::CVLN => "CVLN",
            Measure::SDLN => "SDLN",
            Measure::MC => "MC",
            Measure::SMCC => "SMCC",
            Measure::SMCR => "SMCR",
            Measure::SMCRH => "SMCRH",
            Measure::ROMC => "ROMC",
            Measure::GEN => "GEN",
        }
    }

    /// A readable description.
    pub fn description(self) -> &'static str {
        match self {
            Measure::OR => "odds ratio",
            Measure::RR => "risk ratio",
            Measure::RD => "risk difference",
            Measure::PETO => "Peto odds ratio",
            Measure::AS => "arcsine risk difference",
            Measure::PHI => "phi coefficient",
            Measure::YUQ => "Yule's Q",
            Measure::YUY => "Yule's Y",
            Measure::OR2DN => "SMD from the log odds ratio (normal)",
            Measure::OR2DL => "SMD from the log odds ratio (logistic)",
            Measure::MD => "mean difference",
            Measure::SMD => "standardised mean difference (Hedges' g)",
            Measure::SMDH => "standardised mean difference (unequal variances)",
            Measure::ROM => "ratio of means",
            Measure::VR => "variability ratio",
            Measure::CVR => "coefficient-of-variation ratio",
            Measure::IRR => "incidence rate ratio",
            Measure::IRD => "incidence rate difference",
            Measure::PR => "proportion",
            Measure::PLO => "proportion (logit)",
            Measure::PAS => "proportion (arcsine)",
            Measure::PFT => "proportion (Freeman–Tukey)",
            Measure::PLN => "proportion (log)",
            Measure::ZCOR => "correlation (Fisher's z)",
            Measure::COR => "correlation",
            Measure::UCOR => "correlation (bias-corrected)",
            Measure::PCOR => "partial correlation",
            Measure::ZPCOR => "partial correlation (Fisher's z)",
            Measure::IR => "incidence rate",
            Measure::IRLN => "incidence rate (log)",
            Measure::IRS => "incidence rate (square root)",
            Measure::IRFT => "incidence rate (Freeman–Tukey)",
            Measure::MN => "mean",
            Measure::MNLN => "mean (log)",
            Measure::CVLN => "coefficient of variation (log)",
            Measure::SDLN => "standard deviation (log)",
            Measure::MC => "mean change",
            Measure::SMCC => "standardised mean change (change-score SD)",
            Measure::SMCR => "standardised mean change (raw-score SD)",
            Measure::SMCRH => "standardised mean change (raw-score SD, unequal variances)",
            Measure::ROMC => "ratio of means (paired)",
            Measure::GEN => "generic effect",
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Measure {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let up = s.trim().to_ascii_uppercase();
        Measure::ALL
            .iter()
            .copied()
            .find(|m| m.name() == up)
            .ok_or_else(|| {
                let names: Vec<&str> = Measure::ALL.iter().map(|m| m.name()).collect();
                Error::invalid(format!(
                    "unknown measure '{s}': expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// The scale an effect is analysed on, and how to bring it back for display.
///
/// Keeping this a type means a log odds ratio cannot be printed as if it were an odds ratio: every
/// renderer asks the scale for the display value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scale {
    /// Differences, raw proportions, raw correlations: shown as analysed.
    Identity,
    /// Log ratios (OR, RR, IRR, HR), log means and rates: shown exponentiated.
    Log,
    /// Logit proportions: shown through the inverse logit.
    Logit,
    /// Fisher's z: shown as a correlation (tanh).
    FisherZ,
    /// Arcsine square-root proportions: shown as sin(x)², clamped to [0, 1] (metafor's
    /// `transf.iarcsin`).
    Arcsine,
    /// Freeman–Tukey double arcsine proportions: shown through Miller's (1978) inverse at the
    /// harmonic mean sample size (metafor's `transf.ipft.hm`).
    FreemanTukey(HarmonicN),
    /// Square-root rates: shown as x², 0 below 0 (metafor's `transf.isqrt`).
    SquareRoot,
    /// Freeman–Tukey rates: shown through the inverse at the harmonic mean person-time
    /// (metafor's `transf.iirft` with `ti` the harmonic mean of the studies' ti).
    FreemanTukeyRate(HarmonicN),
}

/// The sample size (person-time) the Freeman–Tukey inverse is taken at: the harmonic mean of the
/// studies' n (ti), kept as bits so that [`Scale`] stays `Eq` and `Hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HarmonicN(u64);

impl HarmonicN {
    /// The sample size.
    pub fn get(self) -> f64 {
        f64::from_bits(self.0)
    }
}

impl serde::Serialize for HarmonicN {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_f64(self.get())
    }
}

impl<'de> serde::Deserialize<'de> for HarmonicN {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(HarmonicN(f64::deserialize(d)?.to_bits()))
    }
}

/// The Freeman–Tukey double arcsine of a proportion p at sample size n (metafor's `transf.pft`).
pub fn pft(p: f64, n: f64) -> f64 {
    let x = p * n;
    0.5 * ((x / (n + 1.0)).sqrt().asin() + ((x + 1.0) / (n + 1.0)).sqrt().asin())
}

/// Miller's (1978) inverse of the Freeman–Tukey double arcsine at sample size n, clamped to
/// [0, 1] outside the range of [`pft`] (metafor's `transf.ipft`).
pub fn ipft(x: f64, n: f64) -> f64 {
    if x < pft(0.0, n) {
        return 0.0;
    }
    if x > pft(1.0, n) {
        return 1.0;
    }
    let s = (2.0 * x).sin();
    let c = (2.0 * x).cos();
    let inner = 1.0 - (s + (s - 1.0 / s) / n).powi(2);
    0.5 * (1.0 - c.signum() * inner.sqrt())
}

/// The Freeman–Tukey transform of a rate r at person-time t (metafor's `transf.irft`).
pub fn irft(r: f64, t: f64) -> f64 {
    0.5 * (r.sqrt() + (r + 1.0 / t).sqrt())
}

/// The inverse of [`irft`] at person-time t, 0 below `irft(0, t)` and where it rounds to 0
/// (metafor's `transf.iirft`).
pub fn iirft(x: f64, t: f64) -> f64 {
    if x < irft(0.0, t) {
        return 0.0;
    }
    let x2 = x * x;
    let z = (1.0 / t - 8.0 * x2 + 16.0 * t * x2 * x2) / (16.0 * x2 * t);
    if z <= f64::EPSILON {
        0.0
    } else {
        z
    }
}

impl Scale {
    /// The Freeman–Tukey scale back-transformed at sample size `n` (the harmonic mean of the
    /// studies' sample sizes, as metafor's `transf.ipft.hm`).
    pub fn freeman_tukey(n: f64) -> Scale {
        Scale::FreemanTukey(HarmonicN(n.to_bits()))
    }

    /// The Freeman–Tukey rate scale back-transformed at person-time `t` (the harmonic mean of
    /// the studies' person-times).
    pub fn freeman_tukey_rate(t: f64) -> Scale {
        Scale::FreemanTukeyRate(HarmonicN(t.to_bits()))
    }

    /// Back-transformation to the display scale.
    pub fn back(self, x: f64) -> f64 {
        match self {
            Scale::Identity => x,
            Scale::Log => x.exp(),
            Scale::Logit => 1.0 / (1.0 + (-x).exp()),
            Scale::FisherZ => x.tanh(),
            Scale::Arcsine => {
                if x < 0.0 {
                    0.0
                } else if x > std::f64::consts::FRAC_PI_2 {
                    1.0
                } else {
                    x.sin().powi(2)
                }
            }
            Scale::FreemanTukey(n) => ipft(x, n.get()),
            Scale::SquareRoot => {
                if x < 0.0 {
                    0.0
                } else {
                    x * x
                }
            }
            Scale::FreemanTukeyRate(t) => iirft(x, t.get()),
        }
    }

    /// The analysis-scale value of a display value: the inverse of [`Scale::back`] (NaN or ±∞
    /// outside the display range).
    pub fn forward(self, display: f64) -> f64 {
        match self {
            Scale::Identity => display,
            Scale::Log => display.ln(),
            Scale::Logit => (display / (1.0 - display)).ln(),
            Scale::FisherZ => display.atanh(),
            Scale::Arcsine => display.sqrt().asin(),
            Scale::FreemanTukey(n) => {
                if (0.0..=1.0).contains(&display) {
                    pft(display, n.get())
                } else {
                    f64::NAN
                }
            }
            Scale::SquareRoot => display.sqrt(),
            Scale::FreemanTukeyRate(t) if display >= 0.0 => irft(display, t.get()),
            Scale::FreemanTukeyRate(_) => f64::NAN,
        }
    }

    /// Whether the display scale differs from the analysis scale.
    pub fn is_transformed(self) -> bool {
        self != Scale::Identity
    }

    /// Whether the display values are proportions (axis and labels in [0, 1]).
    pub fn is_proportion(self) -> bool {
        matches!(self, Scale::Logit | Scale::Arcsine | Scale::FreemanTukey(_))
    }

    /// The suffix metafor-style output keys carry for back-transformed values.
    pub fn key_suffix(self) -> Option<&'static str> {
        match self {
            Scale::Identity => None,
            Scale::Log => Some("exp"),
            Scale::Logit => Some("ilogit"),
            Scale::FisherZ => Some("ztor"),
            Scale::Arcsine => Some("iarcsin"),
            Scale::FreemanTukey(_) => Some("ipft_hm"),
            Scale::SquareRoot => Some("isqrt"),
            Scale::FreemanTukeyRate(_) => Some("iirft_hm"),
        }
    }

    /// The value meaning "no effect" on the display scale (1 for ratios, 0 for differences).
    pub fn null_value(self) -> f64 {
        match self {
            Scale::Log => 1.0,
            _ => 0.0,
        }
    }
}
