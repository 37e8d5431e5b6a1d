//! The pooling options of one analysis: every option of `evident pool`, built by the command line
//! (its flags) and by the report's manifest (its keys), each value checked here once, with the
//! same message (naming the manifest's key; the command line names its flag instead).
//! Viechtbauer 2010 (*J Stat Softw* 36(3)) names the options: metafor's `rma` arguments.

use crate::app::presets::{PoolMethod, Preset};
use crate::data::CsvOptions;
use crate::effect::{AddTo, EscalcOptions, StudyCi, VType};
use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::model::heterogeneity::Tau2CiType;
use crate::model::{Level, Method, PiType, RmaOptions, Solver, Test};
use crate::multilevel::{Dfs, Structure};
use crate::render::html::analysis::AnalysisConfig;
use crate::robust::RobustType;

/// The multilevel model's options (metafor's `rma.mv`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MultilevelOptions {
    /// Random-effects formulas (`~ 1 | study/es`); empty: no multilevel model.
    pub random: Vec<String>,
    /// Covariance structures of `~ inner | outer` terms.
    pub structure: Vec<Structure>,
    /// Sampling correlation between different `obs` of one `cluster` (metafor's `vcalc`).
    pub rho: Option<f64>,
    /// The observation column of `rho`.
    pub obs: Option<String>,
    /// Columns of known sampling covariance blocks within `cluster`.
    pub v_block: Vec<String>,
    /// Degrees of freedom of t tests.
    pub dfs: Option<Dfs>,
}

/// Every option of `evident pool`, resolved to the library's types.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolOptions {
    /// Bundle of defaults.
    pub preset: Preset,
    /// τ² estimator, Mantel–Haenszel or Peto; `None`: the preset's for the data.
    pub method: Option<PoolMethod>,
    /// Inference on the pooled estimate; `None`: the preset's.
    pub test: Option<Test>,
    /// Confidence level.
    pub level: Level,
    /// Prediction interval.
    pub pi: PiType,
    /// Mantel–Haenszel tests without continuity correction.
    pub no_correct: bool,
    /// ML/REML/EB algorithm.
    pub solver: Option<Solver>,
    /// Fisher scoring step multiplier, in (0, 1].
    pub stepadj: Option<f64>,
    /// Fisher scoring iteration limit.
    pub maxiter: Option<usize>,
    /// Fisher scoring convergence threshold.
    pub threshold: Option<f64>,
    /// Root-finding tolerance (Paule–Mandel, Q-profile).
    pub tol: Option<f64>,
    /// τ² fixed at this value.
    pub tau2: Option<f64>,
    /// Unweighted estimate of the pooled effect.
    pub unweighted: bool,
    /// Continuity correction and which studies get it, variance type, mixed ratios
    /// (`drop00` as given is [`PoolOptions::drop00`]).
    pub escalc: EscalcOptions,
    /// Drop double-zero studies, as given (Mantel–Haenszel and Peto drop them unless false).
    pub drop00: Option<bool>,
    /// Scale of given effects (GEN).
    pub scale: Option<Scale>,
    /// Field delimiter of the CSV file.
    pub delimiter: Option<u8>,
    /// Decimal comma (true), point (false); `None`: detected.
    pub decimal_comma: Option<bool>,
    /// Meta-regression formula.
    pub mods: Option<String>,
    /// Reference levels of factors (`[COLUMN=]LEVEL`).
    pub reference: Vec<String>,
    /// Wald tests of the coefficients whose names contain each text.
    pub test_coefs: Vec<String>,
    /// Points (values of the coefficients after the intercept) to predict at.
    pub predict: Vec<Vec<f64>>,
    /// Random permutations of the permutation test.
    pub permutations: Option<usize>,
    /// Seed of the permutations (1 unless given).
    pub seed: Option<u64>,
    /// Subgroup column.
    pub by: Option<String>,
    /// Lead with the subgroup estimates of the model with one common τ².
    pub common_tau2: bool,
    /// How the CI for τ² is found.
    pub tau2_ci: Tau2CiType,
    /// Cluster-robust variance estimator.
    pub robust: Option<RobustType>,
    /// Cluster column (robust, rho, V_block).
    pub cluster: Option<String>,
    /// Assumed control risk of the summary-of-findings row.
    pub control_risk: Option<f64>,
    /// The event counted is a good one.
    pub events_desirable: bool,
    /// Rows carry what each paper reported.
    pub reported: bool,
    /// With `reported`: pool "p < b" rows at their SE bound.
    pub include_p_bounds: bool,
    /// The multilevel model.
    pub multilevel: MultilevelOptions,
    /// Each study's own interval for single proportions and rates.
    pub study_ci: StudyCi,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            preset: Preset::default(),
            method: None,
            test: None,
            level: Level::default(),
            pi: PiType::Metafor,
            no_correct: false,
            solver: None,
            stepadj: None,
            maxiter: None,
            threshold: None,
            tol: None,
            tau2: None,
            unweighted: false,
            escalc: EscalcOptions::default(),
            drop00: None,
            scale: None,
            delimiter: None,
            decimal_comma: None,
            mods: None,
            reference: Vec::new(),
            test_coefs: Vec::new(),
            predict: Vec::new(),
            permutations: None,
            seed: None,
            by: None,
            common_tau2: false,
            tau2_ci: Tau2CiType::QProfile,
            robust: None,
            cluster: None,
            control_risk: None,
            events_desirable: false,
            reported: false,
            include_p_bounds: false,
            multilevel: MultilevelOptions::default(),
            study_ci: StudyCi::default(),
        }
    }
}

/// "`key` why, got x".
fn bad(key: &str, why: &str, x: impl std::fmt::Display) -> Error {
    Error::invalid(format!("`{key}` {why}, got {x}"))
}

impl PoolOptions {
    /// The `rma` options with this τ² estimator (the preset's when `None`), every control
    /// checked: an out-of-range value is refused once, up front, instead of each fit reporting
    /// its own non-convergence.
    pub fn rma_options_for(&self, method: Option<Method>) -> Result<RmaOptions> {
        let mut o = self
            .preset
            .rma_options(method, self.test, self.level, self.pi);
        if let Some(s) = self.stepadj {
            if !(s > 0.0 && s <= 1.0) {
                return Err(bad("stepadj", "must lie in (0, 1]", s));
            }
            o.control.stepadj = s;
        }
        if let Some(solver) = self.solver {
            o.control.solver = solver;
        }
        if let Some(n) = self.maxiter {
            o.control.maxiter = n;
        }
        if let Some(t) = self.threshold {
            o.control.threshold = t;
        }
        if let Some(t) = self.tol {
            if !(t.is_finite() && t > 0.0) {
                return Err(bad("tol", "must be a positive number", t));
            }
            o.control.tol = t;
            o.qprofile_tol = t;
        }
        if let Some(t) = self.tau2 {
            if !(t.is_finite() && t >= 0.0) {
                return Err(bad("tau2", "must be a non-negative number", t));
            }
            o.tau2_fixed = Some(t);
        }
        o.weighted = !self.unweighted;
        if let Some((name, why)) = o.control.invalid_parameter() {
            return Err(Error::invalid(format!("`{name}` {why}")));
        }
        Ok(o)
    }

    /// The `rma` options of the chosen method (for Mantel–Haenszel and Peto, the fixed-effect
    /// options of the analyses on the per-study effects; DerSimonian–Laird for RevMan 5's
    /// random-effects model).
    pub fn rma_options(&self) -> Result<RmaOptions> {
        let method = match self.method {
            None => None,
            Some(PoolMethod::Rma(m)) => Some(m),
            Some(PoolMethod::MantelHaenszel | PoolMethod::Peto) => Some(Method::FE),
            Some(PoolMethod::MhRandom) => Some(Method::DL),
        };
        self.rma_options_for(method)
    }

    /// The effect-size options as given (the preset's rules not applied), checked.
    pub fn escalc_options(&self) -> Result<EscalcOptions> {
        let a = self.escalc.add;
        if !(a.is_finite() && a >= 0.0) {
            return Err(bad("add", "must be a non-negative number", a));
        }
        Ok(EscalcOptions {
            drop00: self.drop00.unwrap_or(false),
            ..self.escalc
        })
    }

    /// How the data file is read (`delimiter`, `decimal`) from `sheet`.
    pub fn csv_options(&self, sheet: Option<&str>) -> CsvOptions {
        CsvOptions {
            delimiter: self.delimiter,
            decimal_comma: self.decimal_comma,
            sheet: sheet.map(str::to_owned),
        }
    }

    /// The rules between options: what each needs and what it excludes.
    pub fn check(&self) -> Result<()> {
        let needs = |set: bool, key: &str, other: &str, has: bool| -> Result<()> {
            match set && !has {
                true => Err(Error::invalid(format!("`{key}` needs `{other}`"))),
                false => Ok(()),
            }
        };
        let mods = self.mods.is_some();
        needs(!self.reference.is_empty(), "reference", "mods", mods)?;
        needs(!self.test_coefs.is_empty(), "test_coefs", "mods", mods)?;
        needs(!self.predict.is_empty(), "predict", "mods", mods)?;
        needs(self.common_tau2, "common_tau2", "by", self.by.is_some())?;
        needs(
            self.seed.is_some(),
            "seed",
            "permutations",
            self.permutations.is_some(),
        )?;
        needs(
            self.robust.is_some(),
            "robust",
            "cluster",
            self.cluster.is_some(),
        )?;
        needs(
            self.include_p_bounds,
            "include_p_bounds",
            "reported",
            self.reported,
        )?;
        let ml = &self.multilevel;
        let random = !ml.random.is_empty();
        if self.cluster.is_some() && self.robust.is_none() && !random {
            return Err(Error::invalid(
                "`cluster` is used with `robust`, or with `rho` or `V_block` of a multilevel \
                 model (`random`)",
            ));
        }
        needs(!ml.structure.is_empty(), "struct", "random", random)?;
        needs(ml.dfs.is_some(), "dfs", "random", random)?;
        needs(ml.rho.is_some(), "rho", "random", random)?;
        needs(ml.rho.is_some(), "rho", "cluster", self.cluster.is_some())?;
        needs(ml.rho.is_some(), "rho", "obs", ml.obs.is_some())?;
        needs(ml.obs.is_some(), "obs", "rho", ml.rho.is_some())?;
        needs(
            !ml.v_block.is_empty(),
            "V_block",
            "cluster",
            self.cluster.is_some(),
        )?;
        let conflict = |a: (&str, bool), b: (&str, bool)| -> Result<()> {
            match a.1 && b.1 {
                true => Err(Error::invalid(format!(
                    "`{}` cannot be used with `{}`",
                    a.0, b.0
                ))),
                false => Ok(()),
            }
        };
        let by = ("by", self.by.is_some());
        let pl = ("tau2_ci", self.tau2_ci == Tau2CiType::ProfileLikelihood);
        conflict(pl, by)?;
        conflict(
            ("V_block", !ml.v_block.is_empty()),
            ("rho", ml.rho.is_some()),
        )?;
        let robust = ("robust", self.robust.is_some());
        conflict(robust, by)?;
        conflict(robust, ("permutations", self.permutations.is_some()))?;
        let reported = ("reported", self.reported);
        conflict(robust, reported)?;
        conflict(reported, ("random", random))?;
        conflict(reported, ("permutations", self.permutations.is_some()))?;
        self.check_reported()?;
        // The multilevel model has no subgroups, permutation test or summary-of-findings row
        // here: refused rather than ignored (`tau2_ci = pl` profiles its variance components).
        let ml_key = ("random", random);
        conflict(ml_key, by)?;
        conflict(ml_key, ("permutations", self.permutations.is_some()))?;
        conflict(ml_key, ("control_risk", self.control_risk.is_some()))?;
        conflict(reported, ("mods", mods))?;
        conflict(reported, by)?;
        if let Some(r) = ml.rho {
            if !(r.is_finite() && (-1.0..=1.0).contains(&r)) {
                return Err(bad("rho", "must be a correlation in [-1, 1]", r));
            }
        }
        if let Some(r) = self.control_risk {
            if !(r.is_finite() && r > 0.0 && r < 1.0) {
                return Err(bad("control_risk", "must lie strictly between 0 and 1", r));
            }
        }
        if self.permutations == Some(0) {
            return Err(bad("permutations", "must be at least 1", 0));
        }
        self.rma_options()?;
        self.escalc_options()?;
        Ok(())
    }

    /// `reported` rows are each converted by their own rule on their measure's scale: the effect
    /// size options and `scale` cannot apply, and are refused rather than ignored.
    fn check_reported(&self) -> Result<()> {
        let d = EscalcOptions::default();
        let given = [
            ("add", self.escalc.add != d.add),
            ("to", self.escalc.to != d.to),
            ("drop00", self.drop00.is_some()),
            ("vtype", self.escalc.vtype != d.vtype),
            ("scale", self.scale.is_some()),
        ];
        let keys: Vec<String> = given
            .iter()
            .filter(|g| g.1)
            .map(|g| format!("`{}`", g.0))
            .collect();
        match self.reported && !keys.is_empty() {
            true => Err(Error::invalid(format!(
                "{} cannot apply to `reported` rows: each row is converted by its own rule, on \
                 its measure's scale",
                keys.join(", ")
            ))),
            false => Ok(()),
        }
    }

    /// `no_correct` applies to the tests of Mantel–Haenszel pooling only (metafor's
    /// `rma.mh(correct = FALSE)`): refused for any other `pooling` rather than ignored.
    pub fn check_no_correct(&self, pooling: PoolMethod) -> Result<()> {
        match self.no_correct && pooling != PoolMethod::MantelHaenszel {
            true => Err(Error::invalid(
                "`no_correct` applies to the tests of `method` MH only",
            )),
            false => Ok(()),
        }
    }

    /// The options of a manifest's analysis, every value parsed and checked (errors name the
    /// key, for the manifest to give its line).
    pub fn from_config(cfg: &AnalysisConfig) -> Result<PoolOptions> {
        let mut o = PoolOptions {
            preset: parse_key::<Preset>("preset", cfg.preset.as_deref())?.unwrap_or_default(),
            method: parse_key("method", cfg.method.as_deref())?,
            test: parse_key("test", cfg.test.as_deref())?,
            level: cfg.level.unwrap_or_default(),
            pi: parse_key("pi", cfg.pi.as_deref())?.unwrap_or(PiType::Metafor),
            no_correct: cfg.no_correct,
            solver: parse_with("solver", cfg.solver.as_deref(), solver)?,
            stepadj: cfg.stepadj,
            maxiter: cfg.maxiter,
            threshold: cfg.threshold,
            tol: cfg.tol,
            tau2: cfg.tau2,
            unweighted: cfg.unweighted,
            drop00: cfg.drop00,
            scale: parse_with("scale", cfg.scale.as_deref(), scale)?,
            delimiter: parse_with("delimiter", cfg.delimiter.as_deref(), delimiter)?,
            decimal_comma: parse_with("decimal", cfg.decimal.as_deref(), decimal)?,
            mods: (!cfg.mods.is_empty()).then(|| cfg.mods.join(" + ")),
            reference: cfg.reference.clone(),
            test_coefs: cfg.test_coefs.clone(),
            predict: cfg.predict.iter().map(|p| p.0.clone()).collect(),
            permutations: cfg.permutations,
            seed: cfg.seed,
            by: cfg.by.clone(),
            common_tau2: cfg.common_tau2,
            tau2_ci: parse_with("tau2_ci", cfg.tau2_ci.as_deref(), tau2_ci)?.unwrap_or_default(),
            robust: parse_key("robust", cfg.robust.as_deref())?,
            cluster: cfg.cluster.clone(),
            control_risk: cfg.control_risk,
            events_desirable: cfg
                .events_desirable
                .unwrap_or(cfg.direction == Some(crate::render::html::analysis::Direction::Higher)),
            reported: cfg.reported,
            include_p_bounds: cfg.include_p_bounds,
            study_ci: parse_key("study_ci", cfg.study_ci.as_deref())?.unwrap_or_default(),
            multilevel: MultilevelOptions {
                random: cfg.random.0.clone(),
                structure: cfg
                    .structure
                    .0
                    .iter()
                    .map(|s| {
                        s.parse::<Structure>()
                            .map_err(|e| Error::invalid(format!("`struct`: {e}")))
                    })
                    .collect::<Result<_>>()?,
                rho: cfg.rho,
                obs: cfg.obs.clone(),
                v_block: cfg
                    .v_block
                    .0
                    .iter()
                    .flat_map(|s| s.split(','))
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect(),
                dfs: parse_key("dfs", cfg.dfs.as_deref())?,
            },
            ..PoolOptions::default()
        };
        o.escalc = EscalcOptions {
            allow_mixed_ratios: cfg.allow_mixed_ratios,
            // metafor's default for the measure when the manifest names one (0 for the
            // arcsine and square-root measures); the data's default measures all take ½.
            add: cfg.add.unwrap_or_else(|| {
                cfg.measure
                    .as_deref()
                    .and_then(|m| m.parse::<crate::measure::Measure>().ok())
                    .map_or(o.escalc.add, crate::measure::Measure::default_add)
            }),
            to: parse_key::<AddTo>("to", cfg.to.as_deref())?.unwrap_or(o.escalc.to),
            vtype: parse_key::<VType>("vtype", cfg.vtype.as_deref())?.unwrap_or(o.escalc.vtype),
            drop00: false,
        };
        if cfg.predict.iter().any(|p| p.0.is_empty()) {
            return Err(Error::invalid(
                "`predict`: a point needs at least one value".to_string(),
            ));
        }
        o.check()?;
        Ok(o)
    }
}

/// A setting's value parsed by its type's `FromStr`, an error naming the key otherwise.
pub(crate) fn parse_key<T: std::str::FromStr<Err = Error>>(
    key: &str,
    value: Option<&str>,
) -> Result<Option<T>> {
    parse_with(key, value, str::parse::<T>)
}

/// A setting's value parsed by `parse`, an error naming the key otherwise.
fn parse_with<T>(
    key: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T>,
) -> Result<Option<T>> {
    value
        .map(parse)
        .transpose()
        .map_err(|e| Error::invalid(format!("`{key}`: {e}")))
}

/// `fisher` or `newton`.
fn solver(s: &str) -> Result<Solver> {
    match s.trim().to_ascii_lowercase().as_str() {
        "fisher" | "fisher-scoring" => Ok(Solver::Fisher),
        "newton" | "safeguarded" => Ok(Solver::Newton),
        _ => Err(Error::invalid(format!(
            "unknown solver '{s}': expected fisher or newton"
        ))),
    }
}

/// `qp` (Q-profile) or `pl` (profile likelihood).
fn tau2_ci(s: &str) -> Result<Tau2CiType> {
    match s.trim().to_ascii_lowercase().as_str() {
        "qp" | "q-profile" => Ok(Tau2CiType::QProfile),
        "pl" | "profile" => Ok(Tau2CiType::ProfileLikelihood),
        _ => Err(Error::invalid(format!(
            "unknown tau2 CI method '{s}': expected qp or pl"
        ))),
    }
}

/// The scale of given effects, as `--scale` names it.
fn scale(s: &str) -> Result<Scale> {
    match s.trim().to_ascii_lowercase().as_str() {
        "identity" => Ok(Scale::Identity),
        "log" => Ok(Scale::Log),
        "logit" => Ok(Scale::Logit),
        "fisherz" | "fisher-z" | "z" => Ok(Scale::FisherZ),
        _ => Err(Error::invalid(format!(
            "unknown scale '{s}': expected identity, log, logit or fisherz"
        ))),
    }
}

/// One ASCII character.
fn delimiter(s: &str) -> Result<u8> {
    match s.as_bytes() {
        [c] if c.is_ascii() => Ok(*c),
        _ => Err(Error::invalid(format!(
            "must be a single ASCII character, got '{s}'"
        ))),
    }
}

/// `.` or `,`.
fn decimal(s: &str) -> Result<bool> {
    match s {
        "." => Ok(false),
        "," => Ok(true),
        _ => Err(Error::invalid(format!("must be '.' or ',', got '{s}'"))),
    }
}

/// A library message naming keys in backticks, with each key written as the command line's flag
/// (`` `test_coefs` `` → `--test-coefs`): the one message of a check, worded for the command line.
pub fn as_flags(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        let key = i % 2 == 0;
        let flag_like =
            key && !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match (key, flag_like) {
            (true, true) => {
                let flag = match part {
                    "V_block" => "V-block".to_string(),
                    p => p.replace('_', "-"),
                };
                out.push_str("--");
                out.push_str(&flag);
            }
            (true, false) => {
                out.push('`');
                out.push_str(part);
                out.push('`');
            }
            (false, _) => out.push_str(part),
        }
    }
    out
}

/// The preset of an analysis (`cochrane` unless set).
pub(crate) fn preset_of(cfg: &crate::render::html::analysis::AnalysisConfig) -> Result<Preset> {
    Ok(parse_key::<Preset>("preset", cfg.preset.as_deref())?.unwrap_or_default())
}

/// The model options of an analysis: the preset's (Cochrane: REML, Knapp–Hartung, 95 %) unless
/// set. For Mantel–Haenszel and Peto pooling these are the fixed-effect options of the analyses
/// that work on the per-study effects (Egger's and Begg's tests).
pub fn options(cfg: &crate::render::html::analysis::AnalysisConfig) -> Result<RmaOptions> {
    PoolOptions::from_config(cfg)?.rma_options()
}

/// The effect-size options of an analysis (`add`, `to`, `drop00`, `vtype`, as `pool` takes them),
/// with the preset's rules applied.
pub fn escalc_options(
    cfg: &crate::render::html::analysis::AnalysisConfig,
) -> Result<crate::effect::EscalcOptions> {
    let o = PoolOptions::from_config(cfg)?;
    Ok(o.preset.escalc(o.escalc_options()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest's `add` defaults to metafor's for its measure (0 for PFT, ½ for PLO or none).
    #[test]
    fn manifest_add_defaults_to_the_measures() {
        let add = |measure: Option<&str>, add: Option<f64>| {
            let cfg = crate::render::html::analysis::AnalysisConfig {
                measure: measure.map(String::from),
                add,
                ..Default::default()
            };
            escalc_options(&cfg).unwrap().add
        };
        assert_eq!(add(Some("PFT"), None), 0.0);
        assert_eq!(add(Some("PLO"), None), 0.5);
        assert_eq!(add(None, None), 0.5);
        assert_eq!(add(Some("PFT"), Some(0.25)), 0.25);
    }

    #[test]
    fn keys_become_flags_for_the_command_line() {
        assert_eq!(
            as_flags("`tol` must be a positive number, got 0"),
            "--tol must be a positive number, got 0"
        );
        assert_eq!(
            as_flags("`V_block` needs `cluster`"),
            "--V-block needs --cluster"
        );
        assert_eq!(as_flags("`test_coefs` x"), "--test-coefs x");
    }

    #[test]
    fn every_check_names_its_key() {
        let base = PoolOptions::default();
        for (o, key) in [
            (
                PoolOptions {
                    stepadj: Some(2.0),
                    ..base.clone()
                },
                "`stepadj`",
            ),
            (
                PoolOptions {
                    threshold: Some(-1.0),
                    ..base.clone()
                },
                "`threshold`",
            ),
            (
                PoolOptions {
                    robust: Some(RobustType::CR2),
                    ..base.clone()
                },
                "`robust` needs `cluster`",
            ),
            (
                PoolOptions {
                    predict: vec![vec![1.0]],
                    ..base.clone()
                },
                "`predict` needs `mods`",
            ),
            (
                PoolOptions {
                    tau2_ci: Tau2CiType::ProfileLikelihood,
                    by: Some("g".into()),
                    ..base.clone()
                },
                "`tau2_ci` cannot be used with `by`",
            ),
        ] {
            let e = o.check().unwrap_err().to_string();
            assert!(e.contains(key), "{e}");
        }
        assert!(base.check().is_ok());
    }
}
