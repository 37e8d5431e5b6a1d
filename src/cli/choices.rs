//! The closed sets of choices of the command line as clap value enums, mapped onto the library's
//! types: `--help` lists them, case is ignored, metafor's aliases are accepted. clap stays here;
//! the library keeps its own `FromStr` (manifests), whose messages a refused value is reported by
//! (see [`library_message`]).

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::ValueEnum;
use evident::app::presets::{PoolMethod, Preset};
use evident::bias::{Alternative, Estimator, Predictor, RegModel, SelType, Side};
use evident::effect::{AddTo, StudyCi, VType};
use evident::model::heterogeneity::Tau2CiType;
use evident::model::{Method, PiType, Solver, Test};
use evident::multilevel::Structure;
use evident::render::plot::robfig::RobTool;
use evident::reported::median::MedianMethod;
use evident::robust::RobustType;
use evident::Scale;

/// A CLI value enum and its library counterpart; each variant maps to one library value.
macro_rules! choices {
    ($(#[$meta:meta])* $name:ident => $target:ty {
        $($(#[$vmeta:meta])* $variant:ident => $value:expr),+ $(,)?
    }) => {
        #[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
        $(#[$meta])*
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }
        impl From<$name> for $target {
            fn from(c: $name) -> $target {
                match c {
                    $($name::$variant => $value),+
                }
            }
        }
    };
}

choices! {
    /// `--tau2-ci`: how the confidence interval for τ² is found.
    Tau2CiArg => Tau2CiType {
        /// Q-profile (Viechtbauer 2007), metafor's default.
        #[value(alias = "QP", alias = "q-profile")]
        Qp => Tau2CiType::QProfile,
        /// Profile likelihood (ML and REML fits), metafor's confint(type = "PL").
        #[value(alias = "PL", alias = "profile")]
        Pl => Tau2CiType::ProfileLikelihood,
    }
}

choices! {
    /// `--study-ci`: each study's own interval for single proportions and rates.
    StudyCiArg => StudyCi {
        /// Clopper–Pearson (Clopper & Pearson 1934) for proportions, Garwood's exact Poisson
        /// interval for rates: R meta's method.ci = "CP".
        #[value(alias = "CP", alias = "exact")]
        Cp => StudyCi::Exact,
        /// Wilson's score interval (Wilson 1927; the Poisson score interval for rates): R
        /// meta's method.ci = "WS".
        #[value(alias = "WS", alias = "ws")]
        Wilson => StudyCi::Wilson,
        /// yi ± z·√vi on the pooling scale, back-transformed (metafor's summary.escalc).
        Wald => StudyCi::Wald,
    }
}

choices! {
    /// `--robust`: the cluster-robust variance estimator.
    #[allow(clippy::upper_case_acronyms)]
    RobustArg => RobustType {
        /// metafor's robust(adjust = TRUE): n/(n - p) times the CR0 sandwich, t and F tests
        /// with n - p df (n clusters, p coefficients).
        #[value(name = "CR1")]
        CR1 => RobustType::CR1,
        /// clubSandwich's CR2 (bias-reduced linearisation) with Satterthwaite df and the HTZ
        /// Wald test.
        #[value(name = "CR2")]
        CR2 => RobustType::CR2,
    }
}

choices! {
    /// `--solver`: how ML, REML and EB find τ².
    SolverArg => Solver {
        /// metafor's Fisher scoring, step for step (default).
        #[value(alias = "fisher-scoring")]
        Fisher => Solver::Fisher,
        /// Safeguarded Newton: Fisher-scoring steps kept inside a bracket of the optimum, to
        /// full precision; converges where Fisher scoring cycles.
        #[value(alias = "safeguarded")]
        Newton => Solver::Newton,
    }
}

choices! {
    /// `selmodel --type`: the selection function w(p) (metafor's `type`).
    SelTypeArg => SelType {
        /// Beta: p^(δ₁−1)(1−p)^(δ₂−1) (Citkowicz & Vevea 2017).
        Beta => SelType::Beta,
        /// Half-normal: exp(−δp²).
        Halfnorm => SelType::Halfnorm,
        /// Negative exponential: exp(−δp).
        Negexp => SelType::Negexp,
        /// Logistic: 2exp(−δp)/(1 + exp(−δp)).
        Logistic => SelType::Logistic,
        /// Power: (1−p)^δ.
        Power => SelType::Power,
        /// Step function: one δ per p-value interval of --steps (Vevea & Hedges 1995).
        Stepfun => SelType::Stepfun,
    }
}

choices! {
    /// `selmodel --alternative`: which significant effects selection favours.
    AlternativeArg => Alternative {
        /// Positive effects: p = 1 − Φ(yi/√vi) (metafor's default).
        Greater => Alternative::Greater,
        /// Negative effects: p = Φ(yi/√vi).
        Less => Alternative::Less,
    }
}

choices! {
    /// `--method`: a τ² estimator, Mantel–Haenszel or Peto.
    #[allow(clippy::upper_case_acronyms)]
    #[value(rename_all = "verbatim")]
    MethodArg => PoolMethod {
        /// Fixed (equal, common) effect.
        #[value(alias = "EE", alias = "CE")]
        FE => PoolMethod::Rma(Method::FE),
        /// DerSimonian–Laird.
        DL => PoolMethod::Rma(Method::DL),
        /// Hedges.
        HE => PoolMethod::Rma(Method::HE),
        /// Hunter–Schmidt.
        HS => PoolMethod::Rma(Method::HS),
        /// Sidik–Jonkman.
        SJ => PoolMethod::Rma(Method::SJ),
        /// Maximum likelihood.
        ML => PoolMethod::Rma(Method::ML),
        /// Restricted maximum likelihood.
        REML => PoolMethod::Rma(Method::REML),
        /// Empirical Bayes.
        EB => PoolMethod::Rma(Method::EB),
        /// Paule–Mandel.
        PM => PoolMethod::Rma(Method::PM),
        /// Mantel–Haenszel (2×2 tables, incidence data).
        MH => PoolMethod::MantelHaenszel,
        /// Peto's one-step odds ratio.
        Peto => PoolMethod::Peto,
    }
}

choices! {
    /// `--test`.
    TestArg => Test {
        /// Wald-type z test and normal CI.
        #[value(name = "z")]
        Z => Test::Z,
        /// Knapp–Hartung (Hartung–Knapp–Sidik–Jonkman).
        #[value(name = "knha", alias = "hksj")]
        Knha => Test::Knha,
        /// The t distribution with k − p df on the unadjusted (Wald) SE (metafor's test = "t").
        #[value(name = "t")]
        T => Test::T,
        /// Knapp–Hartung never narrower than the z test.
        #[value(name = "adhoc")]
        Adhoc => Test::Adhoc,
    }
}

choices! {
    /// `--pi`.
    PiArg => PiType {
        /// metafor's: normal quantile under z, t(k − p) under Knapp–Hartung.
        #[value(name = "metafor", alias = "default")]
        Metafor => PiType::Metafor,
        /// Riley et al. 2011: t with k − 2 df.
        #[value(name = "riley", alias = "higgins")]
        Riley => PiType::Riley,
    }
}

choices! {
    /// `--to`.
    AddToArg => AddTo {
        /// Only studies with a zero cell.
        #[value(name = "only0")]
        Only0 => AddTo::Only0,
        /// Every study.
        #[value(name = "all")]
        All => AddTo::All,
        /// Every study, if any has a zero cell.
        #[value(name = "if0all")]
        If0all => AddTo::If0all,
        /// No correction.
        #[value(name = "none")]
        None => AddTo::None,
    }
}

choices! {
    /// `--vtype`.
    #[allow(clippy::upper_case_acronyms)]
    VTypeArg => VType {
        /// Large-sample approximation.
        #[value(name = "LS")]
        LS => VType::LS,
        /// Unbiased estimate.
        #[value(name = "UB")]
        UB => VType::UB,
    }
}

choices! {
    /// `--scale` of pre-computed effects.
    ScaleArg => Scale {
        #[value(name = "identity")]
        Identity => Scale::Identity,
        #[value(name = "log")]
        Log => Scale::Log,
        #[value(name = "logit")]
        Logit => Scale::Logit,
        #[value(name = "fisherz")]
        Fisherz => Scale::FisherZ,
    }
}

choices! {
    /// `--preset`.
    PresetArg => Preset {
        /// REML with Knapp–Hartung, prediction interval and Q-profile CI (current Cochrane
        /// guidance; the default).
        #[value(name = "cochrane")]
        Cochrane => Preset::Cochrane,
        /// metafor's defaults: REML with z tests.
        #[value(name = "metafor")]
        Metafor => Preset::Metafor,
        /// RevMan 5: DerSimonian–Laird with z tests; Mantel–Haenszel for binary data;
        /// double-zero studies dropped.
        #[value(name = "revman5")]
        Revman5 => Preset::Revman5,
    }
}

choices! {
    /// `--estimator` of trim-and-fill.
    EstimatorArg => Estimator {
        #[value(name = "L0")]
        L0 => Estimator::L0,
        #[value(name = "R0")]
        R0 => Estimator::R0,
        #[value(name = "Q0")]
        Q0 => Estimator::Q0,
    }
}

choices! {
    /// `--side` of trim-and-fill.
    SideArg => Side {
        #[value(name = "left")]
        Left => Side::Left,
        #[value(name = "right")]
        Right => Side::Right,
    }
}

choices! {
    /// `--model` of the regression test.
    RegModelArg => RegModel {
        /// Meta-regression on the predictor (metafor's default).
        #[value(name = "rma")]
        Rma => RegModel::Rma,
        /// Egger's weighted regression.
        #[value(name = "lm")]
        Lm => RegModel::Lm,
    }
}

choices! {
    /// `--predictor` of the regression test.
    PredictorArg => Predictor {
        /// Standard error (Egger).
        #[value(name = "sei")]
        Sei => Predictor::Sei,
        /// Sampling variance (PEESE).
        #[value(name = "vi")]
        Vi => Predictor::Vi,
        /// Sample size.
        #[value(name = "ni")]
        Ni => Predictor::Ni,
        /// 1/n (Peters, with --model lm).
        #[value(name = "ninv")]
        Ninv => Predictor::Ninv,
        /// √n.
        #[value(name = "sqrtni")]
        SqrtNi => Predictor::SqrtNi,
        /// 1/√n.
        #[value(name = "sqrtninv")]
        SqrtNinv => Predictor::SqrtNinv,
    }
}

choices! {
    /// `--median-method` of `recompute`.
    MedianArg => MedianMethod {
        /// Luo 2018 means, Wan 2014 / Shi 2020 SDs.
        #[value(name = "luo")]
        Luo => MedianMethod::LuoWanShi,
        /// Hozo 2005 (median and range only).
        #[value(name = "hozo")]
        Hozo => MedianMethod::Hozo,
    }
}

/// `--type` of fail-safe N (Orwin's parameters come from their own options).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsnKind {
    /// Rosenthal (Stouffer).
    Rosenthal,
    /// Orwin (--target, --weighted).
    Orwin,
    /// Rosenberg.
    Rosenberg,
}

/// A refused value of a choice, worded as before these were value enums (by the library's
/// parser, or the CLI's own words where the library's name the parameter, not the flag), so
/// that such errors keep their message and exit code 1. `None`: clap's own message stands.
pub fn library_message(e: &clap::Error) -> Option<String> {
    match e.kind() {
        // A value parser that delegates to the library (e.g. `--level`).
        ErrorKind::ValueValidation => {
            let src = std::error::Error::source(e)?;
            Some(src.downcast_ref::<evident::Error>()?.to_string())
        }
        ErrorKind::InvalidValue => {
            let text = |k| match e.get(k) {
                Some(ContextValue::String(s)) => Some(s.clone()),
                _ => None,
            };
            let arg = text(ContextKind::InvalidArg)?;
            let v = text(ContextKind::InvalidValue)?;
            let flag = arg.split_whitespace().next()?;
            let lib = |r: Result<(), evident::Error>| r.err().map(|e| e.to_string());
            match flag {
                "--method" => lib(v.parse::<PoolMethod>().map(drop)),
                "--test" => lib(v.parse::<Test>().map(drop)),
                "--pi" => lib(v.parse::<PiType>().map(drop)),
                "--estimator" => lib(v.parse::<Estimator>().map(drop)),
                "--side" => lib(v.parse::<Side>().map(drop)),
                "--model" => lib(v.parse::<RegModel>().map(drop)),
                "--predictor" => lib(v.parse::<Predictor>().map(drop)),
                "--to" => Some(format!(
                    "unknown --to '{v}': expected only0, all, if0all or none"
                )),
                "--vtype" => Some(format!("unknown --vtype '{v}': expected LS or UB")),
                "--type" => Some(format!(
                    "unknown fail-safe N type '{}': expected rosenthal, orwin or rosenberg",
                    v.trim().to_ascii_lowercase()
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

choices! {
    /// `--struct`: the covariance structure of a `~ inner | outer` random term (metafor's names).
    #[allow(clippy::upper_case_acronyms)]
    StructArg => Structure {
        /// Compound symmetry: one tau2, one rho (metafor's default).
        #[value(name = "CS")]
        CS => Structure::CS,
        /// Heteroscedastic compound symmetry: one tau2 per inner level, one rho.
        #[value(name = "HCS")]
        HCS => Structure::HCS,
        /// Unstructured: one tau2 per inner level, one rho per pair.
        #[value(name = "UN")]
        UN => Structure::UN,
        /// Scaled identity: one tau2, no correlation.
        #[value(name = "ID")]
        ID => Structure::ID,
        /// Diagonal: one tau2 per inner level, no correlation.
        #[value(name = "DIAG")]
        DIAG => Structure::DIAG,
        /// First-order autoregressive over the inner levels' order.
        #[value(name = "AR")]
        AR => Structure::AR,
        /// Heteroscedastic AR(1).
        #[value(name = "HAR")]
        HAR => Structure::HAR,
    }
}

choices! {
    /// `rob --tool`: the risk-of-bias tool that names the domains.
    RobToolArg => Option<RobTool> {
        /// RoB 2 for 5 domains, ROBINS-I for 7, else the columns' names.
        Auto => None,
        /// Cochrane's RoB 2 (randomised trials).
        #[value(alias = "rob-2")]
        Rob2 => Some(RobTool::Rob2),
        /// ROBINS-I (non-randomised studies).
        #[value(alias = "robinsi", alias = "robins")]
        RobinsI => Some(RobTool::RobinsI),
        /// Domains named by their columns.
        Generic => Some(RobTool::Generic),
    }
}

/// `rob --type`: which risk-of-bias figure.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobPlotArg {
    /// Traffic lights: a row per study, a column per domain and the overall judgement.
    #[value(alias = "traffic-light")]
    Traffic,
    /// A bar per domain of the (weighted) shares of the judgements.
    Summary,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<E: ValueEnum>(s: &str) -> Option<E> {
        E::from_str(s, true).ok()
    }

    #[test]
    fn spellings_accepted_before_value_enums_still_parse() {
        assert_eq!(parse::<MethodArg>("ee"), Some(MethodArg::FE));
        assert_eq!(parse::<MethodArg>("CE"), Some(MethodArg::FE));
        assert_eq!(parse::<MethodArg>("reml"), Some(MethodArg::REML));
        assert_eq!(parse::<MethodArg>("PETO"), Some(MethodArg::Peto));
        assert_eq!(parse::<MethodArg>("mh"), Some(MethodArg::MH));
        assert_eq!(Test::from(parse::<TestArg>("HKSJ").unwrap()), Test::Knha);
        assert_eq!(Test::from(parse::<TestArg>("t").unwrap()), Test::T);
        assert_eq!(parse::<PiArg>("Higgins"), Some(PiArg::Riley));
        assert_eq!(parse::<VTypeArg>("ub"), Some(VTypeArg::UB));
        assert_eq!(parse::<AddToArg>("IF0ALL"), Some(AddToArg::If0all));
        assert_eq!(parse::<EstimatorArg>("r0"), Some(EstimatorArg::R0));
        assert_eq!(
            parse::<PredictorArg>("SQRTNINV"),
            Some(PredictorArg::SqrtNinv)
        );
    }

    #[test]
    fn every_library_name_is_a_choice() {
        for m in Method::ALL {
            let p = PoolMethod::from(parse::<MethodArg>(m.name()).unwrap());
            assert_eq!(p, PoolMethod::Rma(m));
        }
    }
}

/// `--layout` of `evident forest`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForestLayoutArg {
    /// evident's own: estimates and weights right of the panel.
    #[value(name = "standard")]
    Standard,
    /// RevMan 5's: events and totals per arm, weights and estimates left of the panel, the
    /// method in the headers, Total rows and RevMan's test lines.
    #[value(name = "revman", alias = "revman5")]
    Revman,
}

impl From<ForestLayoutArg> for evident::render::plot::forest::ForestLayout {
    fn from(l: ForestLayoutArg) -> Self {
        match l {
            ForestLayoutArg::Standard => Self::Standard,
            ForestLayoutArg::Revman => Self::Revman,
        }
    }
}
