//! Presets: named bundles of defaults (Cochrane guidance, metafor, RevMan 5) and the rules by
//! which they combine with explicit choices. The command line, `batch` and the report all resolve
//! their options here, so one preset means the same everywhere.

use crate::data::Data;
use crate::effect::EscalcOptions;
use crate::error::{Error, Result};
use crate::glmm::GlmmModel;
use crate::measure::Measure;
use crate::model::{Level, Method, PiType, RmaOptions, Test};
use crate::render::html::analysis::{GlmmRole, ReportGlmm};
use crate::render::plot::forest::ForestLayout;
use std::str::FromStr;

/// A bundle of defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// REML with Knapp–Hartung, prediction interval and Q-profile CI (current Cochrane Handbook
    /// guidance, ch. 10; the default).
    #[default]
    Cochrane,
    /// metafor's defaults: REML with z tests.
    Metafor,
    /// RevMan 5: DerSimonian–Laird with z tests; Mantel–Haenszel for binary data; double-zero
    /// studies dropped.
    Revman5,
}

/// How studies are pooled: an inverse-variance (`rma`) model, Mantel–Haenszel, or Peto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMethod {
    /// An inverse-variance random- or fixed-effects model fitted by `rma` with this estimator.
    Rma(Method),
    /// Mantel & Haenszel 1959 (Greenland & Robins 1985 for RR and RD).
    MantelHaenszel,
    /// Peto's one-step odds ratio (Yusuf et al. 1985).
    Peto,
    /// RevMan 5's random effects for binary data (Deeks & Higgins 2010): DerSimonian–Laird τ²
    /// from the Mantel–Haenszel Q, then inverse-variance weights 1/(vi + τ²)
    /// ([`crate::pool::view::revman5_random`]).
    MhRandom,
}

impl PoolMethod {
    /// The `rma` estimator, or `None` for Mantel–Haenszel and Peto.
    pub fn rma(self) -> Option<Method> {
        match self {
            PoolMethod::Rma(m) => Some(m),
            PoolMethod::MantelHaenszel | PoolMethod::Peto | PoolMethod::MhRandom => None,
        }
    }
}

/// `MH`, `Peto` or an `rma` estimator, case-insensitively (EE and CE for FE).
impl FromStr for PoolMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "MH" => Ok(PoolMethod::MantelHaenszel),
            "PETO" => Ok(PoolMethod::Peto),
            _ => s.parse().map(PoolMethod::Rma),
        }
    }
}

/// The measures Mantel–Haenszel pools: OR, RR, RD (2×2 tables), IRR, IRD (incidence data).
pub fn mh_measure(m: Measure) -> bool {
    matches!(
        m,
        Measure::OR | Measure::RR | Measure::RD | Measure::IRR | Measure::IRD
    )
}

/// `cochrane`, `metafor` or `revman5`, case-insensitively (as the command line's `--preset`).
impl FromStr for Preset {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cochrane" => Ok(Preset::Cochrane),
            "metafor" => Ok(Preset::Metafor),
            "revman5" => Ok(Preset::Revman5),
            _ => Err(Error::invalid(format!(
                "unknown preset '{s}': expected cochrane, metafor or revman5"
            ))),
        }
    }
}

impl Preset {
    /// The test unless one is chosen: Knapp–Hartung under Cochrane guidance, z otherwise.
    pub fn test(self) -> Test {
        match self {
            Preset::Cochrane => Test::Knha,
            Preset::Metafor | Preset::Revman5 => Test::Z,
        }
    }

    /// The τ² estimator unless one is chosen.
    pub fn method(self) -> Method {
        match self {
            Preset::Revman5 => Method::DL,
            Preset::Cochrane | Preset::Metafor => Method::REML,
        }
    }

    /// The forest layout unless one is chosen: RevMan 5's under `revman5`, evident's own
    /// otherwise.
    pub fn forest_layout(self) -> ForestLayout {
        match self {
            Preset::Revman5 => ForestLayout::Revman,
            Preset::Cochrane | Preset::Metafor => ForestLayout::Standard,
        }
    }

    /// Whether studies without events (or with only events) in both arms are dropped.
    pub fn drop00(self) -> bool {
        self == Preset::Revman5
    }

    /// The effect-size settings given, with the preset's rules applied (RevMan 5 drops
    /// double-zero studies whatever `drop00` says).
    pub fn escalc(self, given: EscalcOptions) -> EscalcOptions {
        EscalcOptions {
            drop00: given.drop00 || self.drop00(),
            ..given
        }
    }

    /// The pooling for data of this kind: the method chosen, else RevMan 5's Mantel–Haenszel for
    /// binary data (2×2 or incidence, measures OR, RR, RD, IRR, IRD; Peto's OR keeps Peto's own
    /// weights in an `rma` model), else the preset's estimator. Under RevMan 5, DerSimonian–Laird
    /// for such data is RevMan's random-effects model ([`PoolMethod::MhRandom`]).
    pub fn pooling(self, method: Option<PoolMethod>, binary: bool, measure: Measure) -> PoolMethod {
        let revman_mh = self == Preset::Revman5 && binary && mh_measure(measure);
        match method {
            Some(PoolMethod::Rma(Method::DL)) if revman_mh => PoolMethod::MhRandom,
            Some(m) => m,
            None if revman_mh => PoolMethod::MantelHaenszel,
            None => PoolMethod::Rma(self.method()),
        }
    }

    /// `rma` options: the estimator and test chosen or the preset's, at `level`.
    pub fn rma_options(
        self,
        method: Option<Method>,
        test: Option<Test>,
        level: Level,
        pi_type: PiType,
    ) -> RmaOptions {
        RmaOptions {
            method: method.unwrap_or(self.method()),
            test: test.unwrap_or(self.test()),
            level,
            pi_type,
            ..RmaOptions::default()
        }
    }
}

/// The report's generalized linear mixed model: `glmm` in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GlmmChoice {
    /// As current guidance: the binomial-normal model pools single proportions; UM.FS is added
    /// beside the pooling of 2×2 tables with a zero cell.
    #[default]
    Auto,
    /// No GLMM.
    Off,
    /// This model for 2×2 tables with a zero cell (single proportions take the binomial-normal
    /// model whatever is named, as metafor).
    Model(GlmmModel),
}

/// `auto`, `off` or a model of `rma.glmm` (`UM.FS`, `UM.RS`, `CM.EL`, `CM.AL`), case-insensitively.
impl FromStr for GlmmChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "AUTO" => Ok(GlmmChoice::Auto),
            "OFF" | "NONE" => Ok(GlmmChoice::Off),
            "UM.FS" => Ok(GlmmChoice::Model(GlmmModel::UmFs)),
            "UM.RS" => Ok(GlmmChoice::Model(GlmmModel::UmRs)),
            "CM.EL" => Ok(GlmmChoice::Model(GlmmModel::CmEl)),
            "CM.AL" => Ok(GlmmChoice::Model(GlmmModel::CmAl)),
            _ => Err(Error::invalid(format!(
                "unknown GLMM '{s}': expected auto, off, UM.FS, UM.RS, CM.EL or CM.AL"
            ))),
        }
    }
}

/// The GLMM a report fits for these data, the measure it is fitted on and its role; `None`
/// when there is none to fit. The one place the report decides it, following current guidance
/// for sparse events (Stijnen, Hamza & Özdemir 2010; Schwarzer et al. 2019; Cochrane Handbook
/// §10.4.4): single proportions are pooled with the binomial-normal model (R meta's `metaprop`
/// default), the inverse-variance analysis becoming a sensitivity line; 2×2 tables analysed as
/// odds ratios with any zero cell get UM.FS (metafor's default model) beside their pooling.
pub fn report_glmm(choice: GlmmChoice, data: &Data, measure: Measure) -> Option<ReportGlmm> {
    let model = match choice {
        GlmmChoice::Off => return None,
        GlmmChoice::Auto => GlmmModel::UmFs,
        GlmmChoice::Model(m) => m,
    };
    let proportion = matches!(
        measure,
        Measure::PR | Measure::PLO | Measure::PAS | Measure::PFT | Measure::PLN
    );
    match data {
        Data::Proportion { .. } if proportion => Some(ReportGlmm {
            measure: Measure::PLO,
            model: GlmmModel::UmFs,
            role: GlmmRole::Primary,
        }),
        Data::TwoByTwo { ai, bi, ci, di }
            if matches!(measure, Measure::OR | Measure::PETO)
                && [ai, bi, ci, di].iter().any(|c| c.contains(&Some(0.0))) =>
        {
            Some(ReportGlmm {
                measure: Measure::OR,
                model,
                role: GlmmRole::Sensitivity,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_glmm_follows_the_data() {
        let v = |x: &[f64]| x.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        let prop = Data::Proportion {
            xi: v(&[0.0, 3.0]),
            ni: v(&[31.0, 10.0]),
        };
        let lead = report_glmm(GlmmChoice::Auto, &prop, Measure::PFT).unwrap();
        assert_eq!((lead.measure, lead.role), (Measure::PLO, GlmmRole::Primary));
        assert!(report_glmm(GlmmChoice::Off, &prop, Measure::PLO).is_none());
        let table = |a: f64| Data::TwoByTwo {
            ai: v(&[a, 2.0]),
            bi: v(&[10.0, 8.0]),
            ci: v(&[3.0, 4.0]),
            di: v(&[9.0, 7.0]),
        };
        let sparse = report_glmm(GlmmChoice::Auto, &table(0.0), Measure::OR).unwrap();
        assert_eq!(
            (sparse.model, sparse.role),
            (GlmmModel::UmFs, GlmmRole::Sensitivity)
        );
        let chosen = GlmmChoice::Model(GlmmModel::CmEl);
        assert_eq!(
            report_glmm(chosen, &table(0.0), Measure::OR).unwrap().model,
            GlmmModel::CmEl
        );
        assert!(report_glmm(GlmmChoice::Auto, &table(1.0), Measure::OR).is_none());
        assert!(report_glmm(GlmmChoice::Auto, &table(0.0), Measure::RR).is_none());
        assert_eq!(
            " cm.al ".parse::<GlmmChoice>().unwrap(),
            GlmmChoice::Model(GlmmModel::CmAl)
        );
        assert!("glmm".parse::<GlmmChoice>().is_err());
    }

    #[test]
    fn presets_resolve_as_documented() {
        let reml = PoolMethod::Rma(Method::REML);
        assert_eq!(Preset::Cochrane.pooling(None, true, Measure::OR), reml);
        assert_eq!(Preset::Cochrane.test(), Test::Knha);
        assert_eq!(Preset::Metafor.test(), Test::Z);
        assert_eq!(
            Preset::Revman5.pooling(None, true, Measure::OR),
            PoolMethod::MantelHaenszel
        );
        assert_eq!(
            Preset::Revman5.pooling(None, true, Measure::PETO),
            PoolMethod::Rma(Method::DL)
        );
        assert_eq!(
            Preset::Revman5.pooling(None, false, Measure::GEN),
            PoolMethod::Rma(Method::DL)
        );
        assert_eq!(Preset::Revman5.pooling(Some(reml), true, Measure::OR), reml);
        let dl = Some(PoolMethod::Rma(Method::DL));
        assert_eq!(
            Preset::Revman5.pooling(dl, true, Measure::RR),
            PoolMethod::MhRandom
        );
        assert_eq!(
            Preset::Revman5.pooling(dl, true, Measure::PETO),
            PoolMethod::Rma(Method::DL)
        );
        assert_eq!(
            Preset::Metafor.pooling(dl, true, Measure::OR),
            PoolMethod::Rma(Method::DL)
        );
        assert_eq!(
            Preset::Revman5.pooling(None, true, Measure::PLO),
            PoolMethod::Rma(Method::DL)
        );
        assert_eq!(" RevMan5".parse::<Preset>().unwrap(), Preset::Revman5);
        assert!("revman".parse::<Preset>().is_err());
        assert!(Preset::Revman5.drop00() && !Preset::Cochrane.drop00());
        assert_eq!(Preset::Revman5.forest_layout(), ForestLayout::Revman);
        assert_eq!(Preset::Metafor.forest_layout(), ForestLayout::Standard);
        let given = EscalcOptions::default();
        assert!(Preset::Revman5.escalc(given).drop00 && !Preset::Cochrane.escalc(given).drop00);
        let asked = EscalcOptions {
            drop00: true,
            ..given
        };
        assert!(Preset::Cochrane.escalc(asked).drop00);
        let o = Preset::Cochrane.rma_options(None, None, Level::default(), PiType::Metafor);
        assert_eq!((o.method, o.test), (Method::REML, Test::Knha));
    }

    #[test]
    fn pool_methods_parse_with_metafor_aliases() {
        assert_eq!(
            "mh".parse::<PoolMethod>().unwrap(),
            PoolMethod::MantelHaenszel
        );
        assert_eq!(" Peto ".parse::<PoolMethod>().unwrap(), PoolMethod::Peto);
        assert_eq!(
            "EE".parse::<PoolMethod>().unwrap(),
            PoolMethod::Rma(Method::FE)
        );
        let e = "XYZ".parse::<PoolMethod>().unwrap_err().to_string();
        assert!(e.contains("MH, Peto"), "{e}");
    }
}
