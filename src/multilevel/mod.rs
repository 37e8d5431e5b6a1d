//! Multilevel and crossed random-effects models, as metafor's `rma.mv` with `random = ~ 1 | f`
//! terms (Konstantopoulos 2011, *Res Synth Methods* 2:61–76; Viechtbauer 2010, *J Stat Softw*
//! 36(3)): the marginal variance M = V + Σ σ²_j Z_j Z_j', σ² by REML or ML with an exact
//! optimiser ([`optimize`]), fixed effects by GLS, z or t inference (dfs residual or contain),
//! the multilevel I², and profile-likelihood CIs of each σ² ([`profile`]).
//!
//! The random part is a list of components that add to M within blocks of rows
//! ([`likelihood`]); up to two `~ inner | outer` terms with a covariance structure
//! ([`structure`]) plug in there as more components: metafor's G (tau2, rho) and H (gamma2,
//! phi).

pub mod aggregate;
pub mod anova;
mod fit;
mod indicator;
pub mod likelihood;
mod optimize;
pub mod profile;
pub mod random;
pub mod sampling;
pub mod structure;
mod view;

pub use likelihood::Likelihood;
pub use profile::{
    confint_all, confint_component, confint_sigma2, Component, MvProfile, ProfileCi,
};
pub use random::{Factor, RandomFormula};
pub use sampling::SamplingCov;
pub use structure::{GComponents, Structure, TermNames};
use structure::{GStructure, InnerLevels};
pub use view::Fitted;

use crate::data::Studies;
use crate::effect::{EffectSet, EscalcOptions};
use crate::error::{Error, Result};
use crate::measure::Measure;
use crate::model::{Method, Test};
use crate::moderators::formula::Formula;
use crate::moderators::metareg::OmnibusTest;
use crate::stats::level::Level;
use nalgebra::DMatrix;

/// Degrees of freedom of t tests (metafor's `dfs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dfs {
    /// k − p for every coefficient.
    Residual,
    /// The levels of the innermost random factor that contains the coefficient's column, − p.
    Contain,
}

impl std::str::FromStr for Dfs {
    type Err = Error;
    fn from_str(s: &str) -> Result<Dfs> {
        match s {
            "residual" => Ok(Dfs::Residual),
            "contain" => Ok(Dfs::Contain),
            other => Err(Error::invalid(format!(
                "unknown degrees-of-freedom rule '{other}' (residual or contain)"
            ))),
        }
    }
}

/// What a multilevel fit needs besides the data.
#[derive(Debug, Clone)]
pub struct MvOptions {
    /// The effect measure (`GEN` for given yi, vi).
    pub measure: Measure,
    /// escalc settings for computed measures.
    pub escalc: EscalcOptions,
    /// The random-effects formulas as R writes them (`~ 1 | district/school`).
    pub random: Vec<String>,
    /// The moderators' formula (`~ year`); `None` for intercept only.
    pub mods: Option<String>,
    /// The sampling covariance matrix.
    pub v: SamplingCov,
    /// REML or ML.
    pub method: Method,
    /// z or t.
    pub test: Test,
    /// The df rule of t tests.
    pub dfs: Dfs,
    /// Confidence level.
    pub level: Level,
    /// Components fixed at a value (metafor's `sigma2 = c(NA, 0)`), by position; empty = none.
    pub sigma2: Vec<Option<f64>>,
    /// The variance structure of each `~ inner | outer` term (metafor's `struct`), in order; a
    /// single structure applies to both terms (as metafor recycles it), none is CS.
    pub structs: Vec<Structure>,
    /// A function of the sampling variances appended to the moderators (the small-study
    /// regressions: `yi ~ sqrt(vi)` for Egger's test, `yi ~ vi` for PEESE); `None` for none.
    pub precision: Option<PrecisionTerm>,
}

/// A moderator computed from the sampling variances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrecisionTerm {
    /// The standard error √vi (metafor's coefficient `sqrt(vi)`).
    Sei,
    /// The sampling variance vi.
    Vi,
}

impl PrecisionTerm {
    /// The coefficient's name as metafor's for `mods = ~ sqrt(vi)` or `~ vi`.
    pub fn name(self) -> &'static str {
        match self {
            PrecisionTerm::Sei => "sqrt(vi)",
            PrecisionTerm::Vi => "vi",
        }
    }

    fn value(self, vi: f64) -> f64 {
        match self {
            PrecisionTerm::Sei => vi.sqrt(),
            PrecisionTerm::Vi => vi,
        }
    }
}

impl Default for MvOptions {
    fn default() -> Self {
        MvOptions {
            measure: Measure::GEN,
            escalc: EscalcOptions::default(),
            random: Vec::new(),
            mods: None,
            v: SamplingCov::Diag,
            method: Method::REML,
            test: Test::Z,
            dfs: Dfs::Residual,
            level: Level::new(95.0).expect("95 is a valid level"),
            sigma2: Vec::new(),
            structs: Vec::new(),
            precision: None,
        }
    }
}

/// The fitted `~ inner | outer` term.
#[derive(Debug, Clone)]
pub struct GFit {
    /// The term as written (`~ outcome | trial`).
    pub formula: String,
    /// Its inner and outer variables.
    pub inner: String,
    /// The outer (cluster) variable.
    pub outer: String,
    /// The variance structure.
    pub structure: Structure,
    /// tau2, rho, the inner levels and the numbers of inner and outer levels.
    pub components: GComponents,
    /// metafor's names of θ (`tau2`, `tau2.1`, `rho`, `rho.2.1`, ...; the second term's
    /// `gamma2`, `phi`, ...).
    pub names: Vec<String>,
    /// Which term it is: the first (tau2, rho) or the second (gamma2, phi).
    pub term: TermNames,
    /// Which θ are fixed (by metafor's automatic rules), else estimated.
    pub fixed: Vec<bool>,
    /// θ on metafor's optimiser scale (ln tau2, atanh rho).
    pub theta: Vec<f64>,
    pub(crate) gs: GStructure,
    pub(crate) pos: Vec<usize>,
    pub(crate) outer_ids: Vec<usize>,
}

impl GFit {
    /// The fit's rows at each inner level (metafor's `g.levels.k`).
    pub fn level_counts(&self) -> Vec<usize> {
        let mut n = vec![0; self.gs.n_levels];
        for &p in &self.pos {
            n[p] += 1;
        }
        n
    }

    /// For inner levels r > c: the outer levels holding both (metafor's `g.levels.comb.k`,
    /// the lower triangle column by column, as UN's rho).
    pub fn pair_counts(&self) -> Vec<usize> {
        let l = self.gs.n_levels;
        let mut seen = std::collections::BTreeSet::new();
        for (&p, &o) in self.pos.iter().zip(&self.outer_ids) {
            seen.insert((o, p));
        }
        let mut out = Vec::new();
        for c in 0..l {
            for r in c + 1..l {
                let both = (0..self.components.g_nlevels[1])
                    .filter(|&o| seen.contains(&(o, r)) && seen.contains(&(o, c)))
                    .count();
                out.push(both);
            }
        }
        out
    }
}

/// One variance component of a `~ 1 | f` term.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VarianceComponent {
    /// metafor's `s.names` (`district`, `district/school`).
    pub name: String,
    /// The estimate (or the fixed value).
    pub sigma2: f64,
    /// Number of levels.
    pub nlevels: usize,
    /// Fixed rather than estimated (a single-level factor, or set by the caller).
    pub fixed: bool,
}

/// One row of the coefficient table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MvCoefficient {
    /// metafor's name (`intrcpt`, `year`, `deltypeovert`).
    pub name: String,
    /// The estimate.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// z or t statistic.
    pub stat: f64,
    /// df of the t test; `None` for z.
    pub df: Option<f64>,
    /// Two-sided p-value.
    pub pval: f64,
    /// Lower CI bound.
    pub ci_lb: f64,
    /// Upper CI bound.
    pub ci_ub: f64,
}

/// A fitted multilevel model.
#[derive(Debug, Clone)]
pub struct MvFit {
    /// Rows used.
    pub k: usize,
    /// Coefficients.
    pub p: usize,
    /// REML or ML.
    pub method: Method,
    /// z or t.
    pub test: Test,
    /// The df rule of t tests.
    pub dfs: Dfs,
    /// Confidence level.
    pub level: Level,
    /// The coefficient table.
    pub coefficients: Vec<MvCoefficient>,
    /// Var(b) = (X'WX)⁻¹.
    pub vb: DMatrix<f64>,
    /// The variance components.
    pub components: Vec<VarianceComponent>,
    /// Test of residual heterogeneity: QE, df, p-value.
    pub qe: (f64, usize, f64),
    /// The omnibus test of the coefficients (all but the intercept).
    pub qm: OmnibusTest,
    /// Log-likelihood (REML or ML as fitted).
    pub loglik: f64,
    /// Deviance.
    pub deviance: f64,
    /// AIC, BIC, AICc.
    pub aic: f64,
    /// BIC.
    pub bic: f64,
    /// AICc.
    pub aicc: f64,
    /// Parameters counted in the information criteria.
    pub parms: usize,
    /// Prediction interval (intercept-only models).
    pub pi: Option<(f64, f64)>,
    /// Multilevel I² (%): total, and per component.
    pub i2_total: f64,
    /// I² per component.
    pub i2_components: Vec<f64>,
    /// Warnings (redundant moderators dropped, single-level factors, rows omitted).
    pub warnings: Vec<String>,
    /// Optimiser iterations.
    pub iterations: usize,
    /// The input rows (indices into the studies) of the fit's rows, in model order.
    pub rows: Vec<usize>,
    /// Whether the design has an intercept.
    pub intercept: bool,
    /// The first `~ inner | outer` term (tau2, rho), if any.
    pub g: Option<GFit>,
    /// The second `~ inner | outer` term (gamma2, phi), if any.
    pub h: Option<GFit>,
    pub(crate) model: likelihood::Model,
    pub(crate) lik: Likelihood,
    pub(crate) fixed: Vec<Option<f64>>,
    pub(crate) scale: f64,
}

impl MvFit {
    /// The fit's design X (k × p), outcomes y and marginal covariance
    /// M = V + Σ σ²_j Z_j Z_j' at the estimates, in model order. M is block-diagonal: each
    /// block's rows (positions in 0..k) with their covariance, so it takes O(Σ n_b²), not k².
    /// Crossed random effects correlate every row: M is one dense block then, refused above
    /// 5,000 rows.
    #[allow(clippy::type_complexity)]
    pub fn marginal(&self) -> Result<(DMatrix<f64>, Vec<f64>, Vec<(Vec<usize>, DMatrix<f64>)>)> {
        let (k, p) = (self.k, self.p);
        if let Some(c) = &self.model.crossed {
            let m = c.dense_marginal(&self.model, &self.sigma2())?;
            let mut y = vec![0.0; k];
            for blk in &self.model.blocks {
                for (a, &ra) in blk.rows.iter().enumerate() {
                    y[ra] = blk.y[a];
                }
            }
            return Ok((self.design(), y, vec![((0..k).collect(), m)]));
        }
        let (mut x, mut y) = (DMatrix::zeros(k, p), vec![0.0; k]);
        let mut m = Vec::with_capacity(self.model.blocks.len());
        for blk in &self.model.blocks {
            for (a, &ra) in blk.rows.iter().enumerate() {
                y[ra] = blk.y[a];
                for j in 0..p {
                    x[(ra, j)] = blk.x[(a, j)];
                }
            }
            m.push((blk.rows.clone(), self.block_marginal(blk)));
        }
        Ok((x, y, m))
    }

    /// The fitted σ², in the order of the components.
    pub(crate) fn sigma2(&self) -> Vec<f64> {
        self.components.iter().map(|c| c.sigma2).collect()
    }
}

impl MvFit {
    /// The fit's design X (k × p), in model order.
    pub fn design(&self) -> DMatrix<f64> {
        let mut x = DMatrix::zeros(self.k, self.p);
        for blk in &self.model.blocks {
            for (a, &ra) in blk.rows.iter().enumerate() {
                for j in 0..self.p {
                    x[(ra, j)] = blk.x[(a, j)];
                }
            }
        }
        x
    }

    /// The block of the marginal variance M = V + Σ σ²_j D_j of a block of rows.
    pub(crate) fn block_marginal(&self, blk: &likelihood::Block) -> DMatrix<f64> {
        let s: Vec<f64> = self.components.iter().map(|c| c.sigma2).collect();
        let g: Vec<DMatrix<f64>> = self.terms().iter().map(|g| g.gs.g(&g.theta)).collect();
        blk.marginal(&s, &g)
    }

    /// The `~ inner | outer` terms, in order (G, then H).
    pub fn terms(&self) -> Vec<&GFit> {
        self.g.iter().chain(&self.h).collect()
    }
}

/// The design of a fit: effect set, rows, X and its names.
struct Design {
    rows: Vec<usize>,
    y: Vec<f64>,
    vi: Vec<f64>,
    x: DMatrix<f64>,
    names: Vec<String>,
    intercept: bool,
}

/// Effects, moderators and the rows that have both.
fn design(studies: &Studies, opts: &MvOptions, warnings: &mut Vec<String>) -> Result<Design> {
    let set = EffectSet::from_studies(studies, opts.measure, &opts.escalc)?;
    let (x, names, used, intercept) = match &opts.mods {
        Some(m) => {
            let mm = Formula::parse(m)?.model_matrix(&set)?;
            if !mm.redundant.is_empty() {
                warnings.push(format!(
                    "redundant predictors dropped from the model: {}",
                    mm.redundant.join(", ")
                ));
            }
            (mm.x, mm.names, mm.used, mm.intercept)
        }
        None => (
            DMatrix::from_element(set.k(), 1, 1.0),
            vec!["intrcpt".to_string()],
            (0..set.k()).collect(),
            true,
        ),
    };
    let (x, names) = match opts.precision {
        Some(t) => with_precision(x, names, t, used.iter().map(|&u| set.vi[u]))?,
        None => (x, names),
    };
    let omitted = studies.labels.len() - used.len();
    if omitted > 0 {
        warnings.push(format!(
            "{omitted} row(s) with missing values omitted from model fitting"
        ));
    }
    Ok(Design {
        rows: used.iter().map(|&u| set.rows[u]).collect(),
        y: used.iter().map(|&u| set.yi[u]).collect(),
        vi: used.iter().map(|&u| set.vi[u]).collect(),
        x,
        names,
        intercept,
    })
}

/// The design with the precision term as its last column; an error when the term is the same
/// for every row (it would only repeat the intercept).
fn with_precision(
    x: DMatrix<f64>,
    mut names: Vec<String>,
    term: PrecisionTerm,
    vi: impl Iterator<Item = f64>,
) -> Result<(DMatrix<f64>, Vec<String>)> {
    let col: Vec<f64> = vi.map(|v| term.value(v)).collect();
    if col.iter().all(|&c| c == col[0]) {
        return Err(Error::invalid(format!(
            "the predictor {} is the same for every row: there is no funnel asymmetry to test",
            term.name()
        )));
    }
    let p = x.ncols();
    let mut x = x.insert_column(p, 0.0);
    for (i, c) in col.into_iter().enumerate() {
        x[(i, p)] = c;
    }
    if names.iter().any(|n| n == term.name()) {
        return Err(Error::invalid(format!(
            "the moderators already contain {}",
            term.name()
        )));
    }
    names.push(term.name().to_string());
    Ok((x, names))
}

/// metafor's start: every component max(0.001·n, var(y − X b_V) − 1/mean(1/vi)) / n.
fn start_value(model: &likelihood::Model, d: &Design, n_vc: usize) -> Result<f64> {
    let (b, _, _) = model.gls_v()?;
    let k = d.y.len();
    let r: Vec<f64> = (0..k)
        .map(|i| d.y[i] - (0..d.x.ncols()).map(|j| d.x[(i, j)] * b[j]).sum::<f64>())
        .collect();
    let mean = r.iter().sum::<f64>() / k as f64;
    let var = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k as f64 - 1.0);
    let vbar = k as f64 / d.vi.iter().map(|v| 1.0 / v).sum::<f64>();
    let n = n_vc.max(1) as f64;
    Ok((0.001 * n).max(var - vbar) / n)
}

/// Fits a multilevel model with `~ 1 | f` random terms (metafor's `rma.mv`).
pub fn rma_mv(studies: &Studies, opts: &MvOptions) -> Result<MvFit> {
    let lik = match opts.method {
        Method::REML => Likelihood::Reml,
        Method::ML => Likelihood::Ml,
        other => {
            return Err(Error::invalid(format!(
                "a multilevel model is fitted by REML or ML, not {other:?}"
            )))
        }
    };
    if !matches!(opts.test, Test::Z | Test::T) {
        return Err(Error::invalid("a multilevel model is tested with z or t"));
    }
    if opts.random.is_empty() {
        return Err(Error::invalid(
            "a multilevel model needs at least one random-effects formula",
        ));
    }
    let formulas: Vec<RandomFormula> = opts
        .random
        .iter()
        .map(|r| RandomFormula::parse(r))
        .collect::<Result<_>>()?;
    for f in &formulas {
        for c in f.columns() {
            random::grouping_column(studies, c, "the random-effects variable")?;
        }
    }
    let n_structured = formulas
        .iter()
        .filter(|f| matches!(f, RandomFormula::Structured { .. }))
        .count();
    if opts.structs.len() > n_structured {
        return Err(Error::invalid(format!(
            "{} variance structure(s) given but {n_structured} '~ inner | outer' random term(s): a structure needs a term such as '~ outcome | study'",
            opts.structs.len()
        )));
    }
    if n_structured > 2 {
        return Err(Error::invalid(format!(
            "{n_structured} '~ inner | outer' random terms: a model has at most two (tau2, rho and gamma2, phi)"
        )));
    }
    let mut warnings = Vec::new();
    let d = design(studies, opts, &mut warnings)?;
    let k = d.rows.len();
    if k <= 1 {
        return Err(Error::TooFewStudies {
            what: "a multilevel model",
            k,
            needed: 2,
        });
    }
    if d.x.ncols() >= k {
        return Err(Error::invalid(format!(
            "{} coefficients cannot be estimated from {k} rows",
            d.x.ncols()
        )));
    }
    let factors = random::factors(studies, &formulas, &d.rows)?;
    random::check_identifiable(&factors)?;
    let q = factors.len();
    let mut fixed: Vec<Option<f64>> = (0..q)
        .map(|j| opts.sigma2.get(j).copied().flatten())
        .collect();
    for (j, f) in factors.iter().enumerate() {
        if f.nlevels == 1 && fixed[j].is_none() {
            warnings.push(format!(
                "'{}' has a single level: its variance component is fixed at 0",
                f.name
            ));
            fixed[j] = Some(0.0);
        }
    }
    let v = sampling::build_v(studies, &opts.v, &d.rows, &d.vi)?;
    let couple: Vec<bool> = fixed.iter().map(|f| *f != Some(0.0)).collect();
    let n_free = fixed.iter().filter(|f| f.is_none()).count();
    let names: Vec<String> = factors.iter().map(|f| f.name.clone()).collect();
    let structured: Vec<(&str, &str, &str)> = formulas
        .iter()
        .zip(&opts.random)
        .filter_map(|(f, text)| match f {
            RandomFormula::Structured { inner, outer } => {
                Some((text.as_str(), inner.as_str(), outer.as_str()))
            }
            RandomFormula::Nested(_) => None,
        })
        .collect();
    if !structured.is_empty() {
        let mut terms = Vec::with_capacity(structured.len());
        for (t, &(text, inner, outer)) in structured.iter().enumerate() {
            let st = match opts.structs.as_slice() {
                [one] => *one,
                many => many.get(t).copied().unwrap_or(Structure::CS),
            };
            terms.push(g_term(studies, &d.rows, (text, inner, outer), st, t)?);
        }
        let inputs = (v, couple, n_free, names);
        return fit_structured(opts, lik, d, factors, fixed, inputs, warnings, terms);
    }
    let model = likelihood::Model::new(&d.y, &d.x, &v, &factors, &couple)?;
    let start = start_value(&model, &d, n_free)?;
    let scale = d.vi.iter().sum::<f64>() / k as f64 + start;
    let opt = optimize::maximise(&model, lik, &vec![start; q], &fixed, &names, scale)?;
    fit::inference(
        opts,
        lik,
        d,
        factors,
        fixed,
        model,
        opt,
        scale,
        warnings,
        (None, None),
    )
}

/// The fit of a model with `~ inner | outer` terms: the terms' θ estimated with the σ².
#[allow(clippy::too_many_arguments)]
fn fit_structured(
    opts: &MvOptions,
    lik: Likelihood,
    d: Design,
    factors: Vec<Factor>,
    fixed: Vec<Option<f64>>,
    (v, couple, n_free, names): (sampling::VBlocks, Vec<bool>, usize, Vec<String>),
    mut warnings: Vec<String>,
    mut terms: Vec<GFit>,
) -> Result<MvFit> {
    let k = d.rows.len();
    let q = factors.len();
    let gterms: Vec<likelihood::GTerm> = terms
        .iter()
        .map(|g| likelihood::GTerm {
            structure: g.gs,
            pos: g.pos.clone(),
            outer: g.outer_ids.clone(),
        })
        .collect();
    let model = likelihood::Model::with_g(&d.y, &d.x, &v, &factors, &couple, &gterms)?;
    let n_tau2 = |t: usize| terms.get(t).map(|g| g.gs.n_tau2());
    let n_vc = structure::start_n_vc(n_free, n_tau2(0), n_tau2(1));
    let start = start_value(&model, &d, n_vc)?;
    let scale = d.vi.iter().sum::<f64>() / k as f64 + start;
    check_parameter_count(&d, n_free, &terms)?;
    let refs: Vec<&GFit> = terms.iter().collect();
    let (theta_fixed, variance, all_names) = theta_layout(&fixed, &names, &refs);
    let mut start_theta = vec![start.ln(); q];
    for g in &terms {
        for (_, name) in g.names.iter().enumerate().filter(|(j, _)| g.fixed[*j]) {
            warnings.push(format!(
                "'{}': {name} cannot be estimated from these data and is fixed at 0",
                g.formula
            ));
        }
        start_theta.extend(g.gs.start_theta(start));
    }
    let structures: Vec<GStructure> = terms.iter().map(|g| g.gs).collect();
    let spec = optimize::ThetaSpec {
        ns: q,
        fixed: &theta_fixed,
        variance: &variance,
        g: &structures,
        names: &all_names,
        max_iter: optimize::MAX_ITER,
    };
    optimize::check_identified(&model, lik, &start_theta, &spec)?;
    let opt = optimize::maximise_theta(&model, lik, &start_theta, &spec, scale)?;
    let mut rest = &opt.theta_g[..];
    for g in &mut terms {
        let (mine, more) = rest.split_at(g.gs.n_params());
        rest = more;
        g.theta = mine.to_vec();
        let labels = g.components.g_levels.clone();
        g.components =
            g.gs.components(&g.theta, &labels, g.components.g_nlevels[1]);
    }
    let opt = optimize::Optimum {
        sigma2: opt.sigma2,
        eval: opt.eval,
        iterations: opt.iterations,
    };
    let mut terms = terms.into_iter();
    let gh = (terms.next(), terms.next());
    fit::inference(
        opts, lik, d, factors, fixed, model, opt, scale, warnings, gh,
    )
}

/// More coefficients and variance parameters than rows cannot be estimated: refused, naming
/// the terms and their parameters.
fn check_parameter_count(d: &Design, n_free: usize, terms: &[GFit]) -> Result<()> {
    let k = d.rows.len();
    let n_est: usize = terms.iter().map(|g| g.gs.n_estimated(&g.fixed)).sum();
    if d.x.ncols() + n_free + n_est <= k {
        return Ok(());
    }
    let described: Vec<String> = terms
        .iter()
        .map(|g| {
            format!(
                "'{}' with struct {} ({}, {})",
                g.formula,
                g.structure,
                g.term.variance(),
                g.term.correlation()
            )
        })
        .collect();
    Err(Error::invalid(format!(
        "the random part ({}, {n_free} sigma2) has {} variance parameters besides {} coefficients: more than the {k} rows identify",
        described.join(", "),
        n_free + n_est,
        d.x.ncols()
    )))
}

/// The θ of a fit with `~ inner | outer` terms (ln σ², then each term's parameters): the fixed
/// values (`fixed` σ² on the log scale, the terms' automatically fixed parameters at tau2 = 0 or
/// rho = 0), which θ are variances, and their names for messages (`sigma2 of 'district'`,
/// `gamma2 of '~ time | study'`).
pub(crate) fn theta_layout(
    fixed: &[Option<f64>],
    names: &[String],
    terms: &[&GFit],
) -> (Vec<Option<f64>>, Vec<bool>, Vec<String>) {
    let mut theta_fixed: Vec<Option<f64>> = fixed.iter().map(|f| f.map(f64::ln)).collect();
    let mut variance = vec![true; fixed.len()];
    let mut all_names: Vec<String> = names.iter().map(|n| format!("sigma2 of '{n}'")).collect();
    for g in terms {
        for j in 0..g.gs.n_params() {
            let var = g.gs.is_variance(j);
            variance.push(var);
            theta_fixed.push(g.fixed[j].then_some(if var { f64::NEG_INFINITY } else { 0.0 }));
            all_names.push(format!("{} of '{}'", g.names[j], g.formula));
        }
    }
    (theta_fixed, variance, all_names)
}

/// The `~ inner | outer` term over the fit's rows: inner levels of the full data, positions,
/// outer ids, the structure and metafor's automatically fixed parameters (θ not yet fitted).
fn g_term(
    studies: &Studies,
    rows: &[usize],
    (text, inner, outer): (&str, &str, &str),
    st: Structure,
    index: usize,
) -> Result<GFit> {
    let inner_col = random::grouping_column(studies, inner, "the random-effects variable")?;
    let levels = InnerLevels::new(inner_col)?;
    let pos = levels.positions_of(rows);
    let of = random::factors(studies, &[RandomFormula::Nested(vec![outer.into()])], rows)?;
    let outer_f = &of[0];
    let gs = GStructure::new(st, levels.len())?;
    let auto = gs
        .auto_fixed(&pos, &outer_f.level)
        .map_err(|e| Error::invalid(format!("random term '{text}' with struct {st}: {e}")))?;
    let fixed: Vec<bool> = (0..gs.n_params()).map(|j| auto.contains(&j)).collect();
    let theta = vec![0.0; gs.n_params()];
    Ok(GFit {
        formula: text.to_string(),
        inner: inner.to_string(),
        outer: outer.to_string(),
        structure: st,
        components: gs.components(&theta, &levels.labels, outer_f.nlevels),
        names: gs.param_names_as(TermNames::of(index)),
        term: TermNames::of(index),
        fixed,
        theta,
        gs,
        pos,
        outer_ids: outer_f.level.clone(),
    })
}
