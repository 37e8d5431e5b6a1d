//! The G matrices of rma.mv's `~ inner | outer` random-effects terms: the variance structures
//! CS, HCS, UN, ID, DIAG, AR and HAR of metafor (Viechtbauer 2010, J Stat Softw 36(3); metafor's
//! `rma.mv(struct = ...)`), their parameters on metafor's optimiser scale, and exact first and
//! second derivatives.
//!
//! # API contract (for the rma.mv kernel)
//!
//! For one `~ inner | outer` term over the k rows of a fit:
//!
//! 1. [`InnerLevels::new`] on the inner column of **all rows of the data before rows with missing
//!    effects, variances or moderators are dropped** (metafor's `g.levels.f`: the G matrix has one
//!    row per level of the full data, and AR/HAR lags are differences of these positions), then
//!    take `positions` of the rows kept. `outer` is any dense 0-based id per kept row (equal ids =
//!    one cluster).
//! 2. [`GStructure::new`]`(structure, levels.len())`. Its parameter vector θ (length
//!    [`GStructure::n_params`]) is, in metafor's order, the variances then the correlations, on
//!    metafor's optimiser scale: `ln tau2` for every variance, `atanh rho` for every correlation.
//!    DIAG and ID have no correlation parameter (rho is 0, fixed, and not counted), nor have
//!    CS/HCS/AR/HAR/UN with a single inner level (metafor fixes rho at 0 with a warning).
//!    [`GStructure::auto_fixed`] lists the parameters metafor fixes at 0 for the data at hand
//!    (the variance of a level whose rows were all dropped; rho when every outer level holds one
//!    row; UN pairs of levels never seen in one cluster): hold those at 0 (θ = −∞ for a
//!    variance, 0 for a correlation) and do not count them as estimated.
//! 3. The marginal variance is `M = V + Σ sigma2_j Z_j Z_j' + Σ_{i,j: outer_i = outer_j}
//!    G[pos_i, pos_j] e_i e_j'`: [`GStructure::add_to_block`] adds the last term to M (and
//!    [`GStructure::add_dg_to_block`], [`GStructure::add_d2g_to_block`] add ∂M/∂θ_j and
//!    ∂²M/∂θ_i∂θ_j to zeroed matrices). [`add_g_block`] does the same for a G matrix computed
//!    once with [`GStructure::g`], [`GStructure::dg`], [`GStructure::d2g`].
//! 4. Start values: [`start_variance`] gives metafor's common start of every variance component
//!    (with `n_vc` from [`start_n_vc`]: metafor counts an absent kind of term as one component),
//!    [`GStructure::start_theta`] turns it into θ (rho = 0.5 for every free correlation; UN as
//!    metafor's Cholesky start, see there).
//! 5. Boundaries: θ may be ±∞ (tau2 = 0 is `ln 0 = -∞`, rho = ±1 is `atanh(±1) = ±∞`); G and its
//!    derivatives stay finite there (the derivatives vanish). A variance `<= 10·ε` (machine ε)
//!    is taken as exactly 0, as metafor does. [`GStructure::to_theta`] maps natural values
//!    (tau2, rho) to θ, [`GStructure::components`] maps θ back to what is reported, and
//!    [`GStructure::snap_to_boundaries`] applies the corpus's rule for components at a boundary.
//! 6. Admissibility: metafor only requires M to be positive definite (a Cholesky failure of M
//!    makes the log-likelihood −∞), so CS and HCS with a negative rho may have an indefinite G.
//!    UN is different: metafor optimises it on the Cholesky factor of G, which keeps G positive
//!    semidefinite. Here UN uses log-variances and atanh-correlations like every other structure
//!    (so each reported tau2 and rho is one coordinate: profiling, fixing at a boundary and the
//!    automatic rho = 0 fix one θ, and the derivatives are closed-form; it is also the scale of
//!    the corpus's `converged` polish); the price is that for 3 or more levels a θ can give a
//!    correlation matrix that is not positive semidefinite. The kernel must treat a θ for which
//!    [`GStructure::is_admissible`] is false like a non-positive-definite M (reject the step),
//!    which keeps the model space metafor's.
//! 7. Fit statistics count [`GStructure::n_estimated`] parameters; profile-likelihood CIs search
//!    [`GStructure::profile_bracket`]; the `contain` df rule uses [`contain_groupings`].

use std::fmt;
use std::str::FromStr;

use nalgebra::DMatrix;

use crate::data::studies::Value;

/// A variance structure of an `~ inner | outer` term, as metafor's `struct` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Structure {
    /// Compound symmetry: tau2 on the diagonal, rho·tau2 off it.
    CS,
    /// Heteroscedastic compound symmetry: tau2_l on the diagonal, rho·sqrt(tau2_l tau2_m) off it.
    HCS,
    /// Unstructured: free tau2_l and rho_lm.
    UN,
    /// Identity (scaled): tau2 on the diagonal, 0 off it.
    ID,
    /// Diagonal: tau2_l on the diagonal, 0 off it.
    DIAG,
    /// First-order autoregressive: tau2·rho^|l-m| over level positions l, m.
    AR,
    /// Heteroscedastic AR(1): sqrt(tau2_l tau2_m)·rho^|l-m|.
    HAR,
}

impl Structure {
    /// Every structure, in metafor's documentation order.
    pub const ALL: [Structure; 7] = [
        Structure::CS,
        Structure::HCS,
        Structure::UN,
        Structure::ID,
        Structure::DIAG,
        Structure::AR,
        Structure::HAR,
    ];

    /// metafor's name of the structure (`"CS"`, `"HAR"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Structure::CS => "CS",
            Structure::HCS => "HCS",
            Structure::UN => "UN",
            Structure::ID => "ID",
            Structure::DIAG => "DIAG",
            Structure::AR => "AR",
            Structure::HAR => "HAR",
        }
    }

    /// One variance per inner level (HCS, UN, DIAG, HAR) rather than one in all.
    pub fn heteroscedastic(self) -> bool {
        matches!(
            self,
            Structure::HCS | Structure::UN | Structure::DIAG | Structure::HAR
        )
    }

    /// Autoregressive in the level positions (AR, HAR).
    pub fn autoregressive(self) -> bool {
        matches!(self, Structure::AR | Structure::HAR)
    }

    /// The structure has correlations at all (not ID or DIAG, whose rho is fixed at 0).
    pub fn correlated(self) -> bool {
        !matches!(self, Structure::ID | Structure::DIAG)
    }
}

impl fmt::Display for Structure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Structure {
    type Err = StructureError;
    /// metafor's names, case-insensitive (`"cs"`, `"HAR"`, `"Un"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Structure::ALL
            .into_iter()
            .find(|st| st.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| StructureError::UnknownStructure { name: s.to_owned() })
    }
}

/// What can go wrong when setting up a G structure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StructureError {
    /// A structure name metafor does not have (or this library does not implement).
    #[error("unknown variance structure '{name}' (known: CS, HCS, UN, ID, DIAG, AR, HAR)")]
    UnknownStructure {
        /// The name as given.
        name: String,
    },
    /// A missing value in the inner variable of the term (metafor: "No NAs allowed in variables
    /// specified via the 'random' argument").
    #[error("row {row}: the inner variable of an '~ inner | outer' term is missing (no missing values are allowed in random-effects grouping variables)")]
    MissingInner {
        /// The 1-based row of the data.
        row: usize,
    },
    /// A term over no level at all.
    #[error("an '~ inner | outer' term needs at least one inner level")]
    NoLevels,
    /// Natural parameter values of the wrong number or outside their range.
    #[error("{structure}: {detail}")]
    BadParameters {
        /// The structure the values were meant for.
        structure: Structure,
        /// What is wrong.
        detail: String,
    },
    /// UN when every outer level holds a single row (metafor refuses the fit).
    #[error("cannot fit an unstructured (UN) G: each level of the outer factor contains only a single level of the inner term")]
    SingleRowClusters,
}

impl From<StructureError> for crate::error::Error {
    fn from(e: StructureError) -> Self {
        crate::error::Error::Invalid(e.to_string())
    }
}

/// The sorted distinct values of an inner variable and each row's position among them.
#[derive(Debug, Clone, PartialEq)]
pub struct InnerLevels {
    /// The levels as R's `factor()` labels them, in order: numeric columns numerically (labels as
    /// `as.character`, 15 significant digits), text columns in C byte order.
    pub labels: Vec<String>,
    /// Each row's 0-based position in `labels`.
    pub positions: Vec<usize>,
}

impl InnerLevels {
    /// Levels of a column (numbers, or text when any cell is text); a missing cell is an error
    /// naming its 1-based row.
    pub fn new(values: &[Value]) -> Result<InnerLevels, StructureError> {
        if let Some(row) = values.iter().position(Value::is_missing) {
            return Err(StructureError::MissingInner { row: row + 1 });
        }
        if values.is_empty() {
            return Err(StructureError::NoLevels);
        }
        let rows: Vec<usize> = (0..values.len()).collect();
        let (labels, positions) = crate::moderators::formula::factor_levels(values, &rows);
        Ok(InnerLevels { labels, positions })
    }

    /// The number of levels.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// No levels (never after [`InnerLevels::new`] succeeded).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The positions of the rows `rows` (the rows a fit keeps), in that order.
    pub fn positions_of(&self, rows: &[usize]) -> Vec<usize> {
        rows.iter().map(|&i| self.positions[i]).collect()
    }
}

/// What one optimiser-scale parameter of a G structure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GParam {
    /// A variance (θ = ln tau2); `level` is its 0-based inner level for heteroscedastic
    /// structures, `None` for the one common tau2.
    Tau2 {
        /// The inner level, when there is one variance per level.
        level: Option<usize>,
    },
    /// A correlation (θ = atanh rho); `pair` (row, column), row > column, for UN's rho_lm,
    /// `None` for the one common rho.
    Rho {
        /// The pair of inner levels, for UN.
        pair: Option<(usize, usize)>,
    },
}

impl GParam {
    /// The parameter is a variance (else a correlation).
    pub fn is_variance(self) -> bool {
        matches!(self, GParam::Tau2 { .. })
    }
}

/// The reported values of a G structure, under the project's JSON keys.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GComponents {
    /// tau2: one, or one per inner level (HCS, UN, DIAG, HAR) in `g_levels` order.
    pub tau2: Vec<f64>,
    /// rho: one (CS, HCS, AR, HAR; 0 for ID, DIAG or a single level), or UN's lower triangle
    /// column by column (r21, r31, ..., r32, ...).
    pub rho: Vec<f64>,
    /// The inner levels.
    pub g_levels: Vec<String>,
    /// The numbers of inner and outer levels.
    pub g_nlevels: [usize; 2],
}

/// Which of rma.mv's two `~ inner | outer` terms: the first (G: tau2, rho) or the second
/// (H: gamma2, phi), as metafor names their parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermNames {
    /// The first term: tau2 and rho.
    G,
    /// The second term: gamma2 and phi.
    H,
}

impl TermNames {
    /// The variance and correlation symbols a table or a sentence prints: τ² and ρ for the
    /// first term, γ² and φ for the second.
    pub fn symbols(self) -> (&'static str, &'static str) {
        match self {
            TermNames::G => ("τ²", "ρ"),
            TermNames::H => ("γ²", "φ"),
        }
    }

    /// The first (0) or second (1) term.
    pub fn of(index: usize) -> TermNames {
        if index == 0 {
            TermNames::G
        } else {
            TermNames::H
        }
    }

    /// `tau2` or `gamma2`.
    pub fn variance(self) -> &'static str {
        match self {
            TermNames::G => "tau2",
            TermNames::H => "gamma2",
        }
    }

    /// `rho` or `phi`.
    pub fn correlation(self) -> &'static str {
        match self {
            TermNames::G => "rho",
            TermNames::H => "phi",
        }
    }
}

/// A structure over `n_levels` inner levels: the map from θ to the L×L matrix G.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GStructure {
    /// The variance structure.
    pub structure: Structure,
    /// The number of inner levels L (the order of G).
    pub n_levels: usize,
}

/// Natural values at θ: variances (not thresholded), correlations and d rho / d atanh-rho.
struct Natural {
    tau2: Vec<f64>,
    rho: Vec<f64>,
    sech2: Vec<f64>,
}

/// A variance at or below this is exactly 0 (metafor's `.Machine$double.eps * 10`).
pub const ZERO_VARIANCE: f64 = 10.0 * f64::EPSILON;

/// metafor's start of every variance component: `max(0.001·n_vc, var(y − X b_FE) − v̄)/n_vc`,
/// with `resid_var` = var(y − X b_FE) (b_FE the GLS estimate with V alone, `var` with divisor
/// k − 1), `typical_v` = v̄ = 1/mean(1/diag V) and `n_vc` the number of variance components of
/// the whole model (sigma2s + tau2s + gamma2s).
pub fn start_variance(resid_var: f64, typical_v: f64, n_vc: usize) -> f64 {
    let n = n_vc.max(1) as f64;
    (0.001 * n).max(resid_var - typical_v) / n
}

/// The `n_vc` of [`start_variance`] as metafor counts it: the sigma2s of the `~ 1 | f` terms,
/// the tau2s of the first and the gamma2s of the second `~ inner | outer` term, where an absent
/// kind of term still counts 1 (metafor keeps one placeholder component of each kind).
pub fn start_n_vc(n_sigma2: usize, g_tau2s: Option<usize>, h_tau2s: Option<usize>) -> usize {
    n_sigma2.max(1) + g_tau2s.unwrap_or(1) + h_tau2s.unwrap_or(1)
}

/// metafor's `confint` search interval of a variance (sigma2, tau2) whose estimate is
/// `estimate`: [0, max(10, 100·estimate)], or [0, 10] for an estimate <= sqrt(ε).
pub fn variance_bracket(estimate: f64) -> (f64, f64) {
    if estimate <= f64::EPSILON.sqrt() {
        (0.0, 10.0)
    } else {
        (0.0, (100.0 * estimate).max(10.0))
    }
}

/// One grouping of the rows for dfs = "contain": a dense 0-based level id per row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    /// The level id of each row.
    pub ids: Vec<usize>,
    /// The number of distinct levels.
    pub n_levels: usize,
}

/// The two factors an `~ inner | outer` term contributes to metafor's dfs = "contain" rule:
/// the inner × outer combination and the outer factor (ids in order of first appearance).
pub fn contain_groupings(inner_pos: &[usize], outer: &[usize]) -> [Grouping; 2] {
    let combos: Vec<(usize, usize)> = inner_pos.iter().zip(outer).map(|(&i, &o)| (i, o)).collect();
    [dense_ids(&combos), dense_ids(outer)]
}

fn dense_ids<T: Ord + Copy>(keys: &[T]) -> Grouping {
    let mut seen = std::collections::BTreeMap::new();
    let ids = keys
        .iter()
        .map(|k| {
            let n = seen.len();
            *seen.entry(*k).or_insert(n)
        })
        .collect();
    Grouping {
        ids,
        n_levels: seen.len(),
    }
}

/// Adds `g[pos_i, pos_j]` to `m[i, j]` for every pair of rows i, j in the same outer level
/// (the `(Z1 G Z1') ∘ (Z2 Z2')` term of metafor's marginal variance).
pub fn add_g_block(g: &DMatrix<f64>, inner_pos: &[usize], outer: &[usize], m: &mut DMatrix<f64>) {
    let k = inner_pos.len();
    assert_eq!(
        outer.len(),
        k,
        "inner positions and outer ids differ in length"
    );
    assert!(m.nrows() == k && m.ncols() == k, "M must be k x k");
    for i in 0..k {
        for j in 0..k {
            if outer[i] == outer[j] {
                m[(i, j)] += g[(inner_pos[i], inner_pos[j])];
            }
        }
    }
}

/// `rho^d` for an integer lag d ≥ 0 (`0^0 = 1`).
fn powi(rho: f64, d: usize) -> f64 {
    rho.powi(d as i32)
}

impl GStructure {
    /// The structure over `n_levels` inner levels (at least 1).
    pub fn new(structure: Structure, n_levels: usize) -> Result<GStructure, StructureError> {
        if n_levels == 0 {
            return Err(StructureError::NoLevels);
        }
        Ok(GStructure {
            structure,
            n_levels,
        })
    }

    /// The number of variances (tau2): one per level for HCS, UN, DIAG, HAR, else one.
    pub fn n_tau2(&self) -> usize {
        if self.structure.heteroscedastic() {
            self.n_levels
        } else {
            1
        }
    }

    /// The number of free-able correlations: UN L(L−1)/2, CS/HCS/AR/HAR one, none for ID, DIAG
    /// or a single inner level.
    pub fn n_rho(&self) -> usize {
        let l = self.n_levels;
        if !self.structure.correlated() || l < 2 {
            0
        } else if self.structure == Structure::UN {
            l * (l - 1) / 2
        } else {
            1
        }
    }

    /// The length of θ.
    pub fn n_params(&self) -> usize {
        self.n_tau2() + self.n_rho()
    }

    /// What θ_j is.
    pub fn param(&self, j: usize) -> GParam {
        let nt = self.n_tau2();
        assert!(j < self.n_params(), "parameter {j} out of range");
        if j < nt {
            GParam::Tau2 {
                level: self.structure.heteroscedastic().then_some(j),
            }
        } else if self.structure == Structure::UN {
            GParam::Rho {
                pair: Some(self.pair_of(j - nt)),
            }
        } else {
            GParam::Rho { pair: None }
        }
    }

    /// The names of θ's parameters as metafor labels them (ASCII): `tau2` or `tau2.1`, `tau2.2`,
    /// ...; `rho` or UN's `rho.2.1`, `rho.3.1`, ..., `rho.3.2` (1-based levels).
    pub fn param_names(&self) -> Vec<String> {
        self.param_names_as(TermNames::G)
    }

    /// The names of θ's parameters for the first (`tau2`, `rho`) or second (`gamma2`, `phi`)
    /// `~ inner | outer` term, as [`GStructure::param_names`].
    pub fn param_names_as(&self, term: TermNames) -> Vec<String> {
        let (var, cor) = (term.variance(), term.correlation());
        (0..self.n_params())
            .map(|j| match self.param(j) {
                GParam::Tau2 { level: None } => var.to_owned(),
                GParam::Tau2 { level: Some(l) } => format!("{var}.{}", l + 1),
                GParam::Rho { pair: None } => cor.to_owned(),
                GParam::Rho { pair: Some((r, c)) } => format!("{cor}.{}.{}", r + 1, c + 1),
            })
            .collect()
    }

    /// θ_j is a variance (ln tau2) rather than a correlation (atanh rho).
    pub fn is_variance(&self, j: usize) -> bool {
        self.param(j).is_variance()
    }

    /// The (row, column) pair of UN's k-th correlation: the lower triangle column by column.
    fn pair_of(&self, k: usize) -> (usize, usize) {
        let l = self.n_levels;
        let mut left = k;
        for c in 0..l {
            let in_col = l - 1 - c;
            if left < in_col {
                return (c + 1 + left, c);
            }
            left -= in_col;
        }
        unreachable!("UN correlation index {k} out of range")
    }

    /// The index among the correlations of UN's pair (r, c), r > c.
    fn pair_index(&self, r: usize, c: usize) -> usize {
        let l = self.n_levels;
        c * l - c * (c + 1) / 2 + (r - c - 1)
    }

    /// The count of estimated parameters for fit statistics, given which θ are held fixed
    /// (`fixed` empty = none; DIAG's and ID's rho are not parameters and never counted).
    pub fn n_estimated(&self, fixed: &[bool]) -> usize {
        (0..self.n_params())
            .filter(|&j| !fixed.get(j).copied().unwrap_or(false))
            .count()
    }

    /// θ from natural values: `tau2` (n_tau2 values ≥ 0) and `rho` (n_rho values in [−1, 1]);
    /// 0 maps to −∞, ±1 to ±∞.
    pub fn to_theta(&self, tau2: &[f64], rho: &[f64]) -> Result<Vec<f64>, StructureError> {
        let bad = |detail: String| StructureError::BadParameters {
            structure: self.structure,
            detail,
        };
        if tau2.len() != self.n_tau2() || rho.len() != self.n_rho() {
            return Err(bad(format!(
                "{} variance(s) and {} correlation(s) expected, got {} and {}",
                self.n_tau2(),
                self.n_rho(),
                tau2.len(),
                rho.len()
            )));
        }
        if let Some(t) = tau2.iter().find(|t| !(**t >= 0.0) || t.is_infinite()) {
            return Err(bad(format!("a variance must be finite and >= 0, got {t}")));
        }
        if let Some(r) = rho.iter().find(|r| !(r.abs() <= 1.0)) {
            return Err(bad(format!("a correlation must lie in [-1, 1], got {r}")));
        }
        Ok(tau2
            .iter()
            .map(|t| t.ln())
            .chain(rho.iter().map(|r| r.atanh()))
            .collect())
    }

    /// The reported components at θ (variances `<= 10·ε` as 0; rho `[0]` where fixed by the
    /// structure), with the inner level labels and the number of outer levels.
    pub fn components(&self, theta: &[f64], labels: &[String], n_outer: usize) -> GComponents {
        let nat = self.natural(theta);
        let tau2 = nat.tau2.iter().map(|&t| threshold(t)).collect();
        let rho = if nat.rho.is_empty() {
            vec![0.0]
        } else {
            nat.rho
        };
        GComponents {
            tau2,
            rho,
            g_levels: labels.to_vec(),
            g_nlevels: [self.n_levels, n_outer],
        }
    }

    /// θ at metafor's start: every variance `variance_start` (see [`start_variance`]), every
    /// correlation 0.5. For UN metafor starts its Cholesky parametrisation from the diagonal of
    /// the Cholesky factor of that G (its off-diagonal start is 0), which is the G with
    /// tau2_l = d_l² (d the factor's diagonal: the conditional variances) and every rho 0; this
    /// returns that point.
    pub fn start_theta(&self, variance_start: f64) -> Vec<f64> {
        let t = variance_start;
        if self.structure == Structure::UN && self.n_levels > 1 {
            let g0 = DMatrix::from_fn(self.n_levels, self.n_levels, |r, c| {
                if r == c {
                    t
                } else {
                    0.5 * t
                }
            });
            let mut th: Vec<f64> = match g0.cholesky() {
                Some(ch) => ch.l().diagonal().iter().map(|d| (d * d).ln()).collect(),
                None => vec![t.ln(); self.n_levels],
            };
            th.extend(std::iter::repeat_n(0.0, self.n_rho()));
            return th;
        }
        let mut th = vec![t.ln(); self.n_tau2()];
        th.extend(std::iter::repeat_n(0.5f64.atanh(), self.n_rho()));
        th
    }

    fn natural(&self, theta: &[f64]) -> Natural {
        assert_eq!(
            theta.len(),
            self.n_params(),
            "{} over {} levels has {} parameters",
            self.structure,
            self.n_levels,
            self.n_params()
        );
        let (v, r) = theta.split_at(self.n_tau2());
        Natural {
            tau2: v.iter().map(|x| x.exp()).collect(),
            rho: r.iter().map(|x| x.tanh()).collect(),
            sech2: r
                .iter()
                .map(|x| {
                    let c = x.cosh();
                    1.0 / (c * c)
                })
                .collect(),
        }
    }
}

fn threshold(t: f64) -> f64 {
    if t <= ZERO_VARIANCE {
        0.0
    } else {
        t
    }
}

// The entries of G are G_lm = a_lm(variances) · c_lm(correlations), with c_ll = 1; the
// derivatives below are those of a and c with respect to θ (ln tau2, atanh rho).
impl GStructure {
    /// The variance part a_lm: tau2 (homoscedastic) or sqrt(tau2_l tau2_m).
    fn a(&self, nat: &Natural, l: usize, m: usize) -> f64 {
        if !self.structure.heteroscedastic() {
            nat.tau2[0]
        } else if l == m {
            nat.tau2[l]
        } else {
            nat.tau2[l].sqrt() * nat.tau2[m].sqrt()
        }
    }

    /// ∂²a_lm/∂θ_i∂θ_j over the variances (i, j < n_tau2) is a_lm·w_i·w_j with w the weight of
    /// variance i in a_lm: 1 (homoscedastic), (δ_li + δ_mi)/2 (heteroscedastic).
    fn a_weight(&self, l: usize, m: usize, i: usize) -> f64 {
        if !self.structure.heteroscedastic() {
            1.0
        } else {
            (f64::from(u8::from(l == i)) + f64::from(u8::from(m == i))) / 2.0
        }
    }

    /// The correlation part c_lm and its first and second derivatives with respect to the
    /// correlation parameters i, j (indices among the correlations; `None` = no derivative).
    fn c(&self, nat: &Natural, l: usize, m: usize, i: Option<usize>, j: Option<usize>) -> f64 {
        let none = i.is_none() && j.is_none();
        if l == m {
            return if none { 1.0 } else { 0.0 };
        }
        if nat.rho.is_empty() {
            return 0.0;
        }
        let (which, d) = match self.structure {
            Structure::UN => (self.pair_index(l.max(m), l.min(m)), 1),
            Structure::AR | Structure::HAR => (0, l.abs_diff(m)),
            _ => (0, 1),
        };
        if i.is_some_and(|i| i != which) || j.is_some_and(|j| j != which) {
            return 0.0;
        }
        let (rho, s) = (nat.rho[which], nat.sech2[which]);
        let df = d as f64;
        match (i.is_some(), j.is_some()) {
            (false, false) => powi(rho, d),
            (true, false) | (false, true) => df * powi(rho, d - 1) * s,
            (true, true) => {
                let curv = if d >= 2 {
                    df * (df - 1.0) * powi(rho, d - 2) * s * s
                } else {
                    0.0
                };
                curv - 2.0 * df * powi(rho, d) * s
            }
        }
    }

    /// One entry of ∂ⁿG/∂θ_i∂θ_j (n = number of `Some` among i, j).
    fn entry(&self, nat: &Natural, l: usize, m: usize, i: Option<usize>, j: Option<usize>) -> f64 {
        let nt = self.n_tau2();
        let a = self.a(nat, l, m);
        if a == 0.0 {
            return 0.0;
        }
        let mut aw = 1.0;
        let (mut ci, mut cj) = (None, None);
        for (p, slot) in [(i, &mut ci), (j, &mut cj)] {
            match p {
                Some(p) if p < nt => aw *= self.a_weight(l, m, p),
                Some(p) => *slot = Some(p - nt),
                None => {}
            }
        }
        if aw == 0.0 {
            return 0.0;
        }
        a * aw * self.c(nat, l, m, ci, cj)
    }

    fn matrix(&self, theta: &[f64], i: Option<usize>, j: Option<usize>) -> DMatrix<f64> {
        for p in [i, j].into_iter().flatten() {
            assert!(p < self.n_params(), "parameter {p} out of range");
        }
        self.matrix_at(self.natural(theta), i, j)
    }

    fn matrix_at(&self, mut nat: Natural, i: Option<usize>, j: Option<usize>) -> DMatrix<f64> {
        if i.is_none() && j.is_none() {
            nat.tau2.iter_mut().for_each(|t| *t = threshold(*t));
        }
        let l = self.n_levels;
        DMatrix::from_fn(l, l, |r, c| self.entry(&nat, r, c, i, j))
    }

    /// G at θ (L×L; variances `<= 10·ε` taken as 0, as metafor).
    pub fn g(&self, theta: &[f64]) -> DMatrix<f64> {
        self.matrix(theta, None, None)
    }

    /// ∂G/∂θ_j (θ on the optimiser scale: ln tau2, atanh rho).
    pub fn dg(&self, theta: &[f64], j: usize) -> DMatrix<f64> {
        self.matrix(theta, Some(j), None)
    }

    /// ∂²G/∂θ_i∂θ_j (θ on the optimiser scale).
    pub fn d2g(&self, theta: &[f64], i: usize, j: usize) -> DMatrix<f64> {
        self.matrix(theta, Some(i), Some(j))
    }

    /// G at natural values (tau2, rho) as [`GStructure::to_theta`] takes them, computed from
    /// them directly (no round trip through ln and atanh).
    pub fn g_natural(&self, tau2: &[f64], rho: &[f64]) -> Result<DMatrix<f64>, StructureError> {
        self.to_theta(tau2, rho)?; // validates
        let nat = Natural {
            tau2: tau2.to_vec(),
            rho: rho.to_vec(),
            sech2: rho.iter().map(|r| 1.0 - r * r).collect(),
        };
        Ok(self.matrix_at(nat, None, None))
    }

    /// Adds G's entries to M for the rows of each outer level (see [`add_g_block`]).
    pub fn add_to_block(
        &self,
        theta: &[f64],
        inner_pos: &[usize],
        outer: &[usize],
        m: &mut DMatrix<f64>,
    ) {
        add_g_block(&self.g(theta), inner_pos, outer, m);
    }

    /// Adds ∂G/∂θ_j's entries to `m` for the rows of each outer level.
    pub fn add_dg_to_block(
        &self,
        theta: &[f64],
        j: usize,
        inner_pos: &[usize],
        outer: &[usize],
        m: &mut DMatrix<f64>,
    ) {
        add_g_block(&self.dg(theta, j), inner_pos, outer, m);
    }

    /// Adds ∂²G/∂θ_i∂θ_j's entries to `m` for the rows of each outer level.
    pub fn add_d2g_to_block(
        &self,
        theta: &[f64],
        (i, j): (usize, usize),
        inner_pos: &[usize],
        outer: &[usize],
        m: &mut DMatrix<f64>,
    ) {
        add_g_block(&self.d2g(theta, i, j), inner_pos, outer, m);
    }

    /// θ with the components at a boundary set exactly onto it, by the corpus's rule
    /// (README_mv, the `converged` polish): a variance below `1e-6·variance_scale` becomes 0
    /// (θ = −∞), a correlation with |rho| > 1 − 1e-6 becomes ±1 (θ = ±∞). The kernel should
    /// then confirm that moving inward lowers the log-likelihood.
    pub fn snap_to_boundaries(&self, theta: &[f64], variance_scale: f64) -> Vec<f64> {
        let nat = self.natural(theta);
        let nt = self.n_tau2();
        theta
            .iter()
            .enumerate()
            .map(|(j, &t)| {
                if j < nt {
                    if nat.tau2[j] < 1e-6 * variance_scale {
                        f64::NEG_INFINITY
                    } else {
                        t
                    }
                } else if nat.rho[j - nt].abs() > 1.0 - 1e-6 {
                    f64::INFINITY.copysign(t)
                } else {
                    t
                }
            })
            .collect()
    }

    /// The smallest eigenvalue of G at θ.
    pub fn min_eigenvalue(&self, theta: &[f64]) -> f64 {
        let g = self.g(theta);
        g.symmetric_eigenvalues().min()
    }

    /// θ lies in metafor's parameter space: always, except for UN, whose G must be positive
    /// semidefinite (metafor's Cholesky parametrisation cannot leave that cone); the tolerance is
    /// 1e-12 relative to the largest variance.
    pub fn is_admissible(&self, theta: &[f64]) -> bool {
        if self.structure != Structure::UN || self.n_levels < 3 {
            return true;
        }
        let g = self.g(theta);
        let scale = g.diagonal().max().max(0.0);
        g.symmetric_eigenvalues().min() >= -1e-12 * scale
    }

    /// The parameters metafor fixes at 0 for the rows at hand (indices into θ; hold a variance
    /// at θ = −∞, a correlation at θ = 0, and count neither): the tau2 of a level none of whose
    /// rows is kept (HCS, HAR, DIAG, UN; with two levels also HCS's, HAR's and UN's rho); the rho
    /// of CS, HCS, AR, HAR when every outer level holds a single row; UN's rho_lm for each pair
    /// of levels never observed together in one outer level. UN with one row per outer level is
    /// refused. `inner_pos` and `outer` are those of the kept rows.
    pub fn auto_fixed(
        &self,
        inner_pos: &[usize],
        outer: &[usize],
    ) -> Result<Vec<usize>, StructureError> {
        let (nt, l) = (self.n_tau2(), self.n_levels);
        let mut fixed = Vec::new();
        if self.structure.heteroscedastic() {
            fixed.extend((0..l).filter(|lev| !inner_pos.contains(lev)));
        }
        if self.n_rho() == 0 {
            return Ok(fixed);
        }
        let n_outer = dense_ids(outer).n_levels;
        if n_outer == outer.len() && self.structure == Structure::UN {
            return Err(StructureError::SingleRowClusters);
        }
        if self.structure != Structure::UN {
            if n_outer == outer.len() || (l == 2 && !fixed.is_empty()) {
                fixed.push(nt);
            }
            return Ok(fixed);
        }
        let mut seen = vec![false; self.n_rho()];
        let mut members: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for (&p, &o) in inner_pos.iter().zip(outer) {
            members.entry(o).or_default().push(p);
        }
        for levels in members.values() {
            for &a in levels {
                for &b in levels {
                    if a > b && a < l {
                        seen[self.pair_index(a, b)] = true;
                    }
                }
            }
        }
        fixed.extend((0..self.n_rho()).filter(|&k| !seen[k]).map(|k| nt + k));
        Ok(fixed)
    }

    /// metafor's `confint` search interval for θ_j's natural value (estimate = its estimate):
    /// variances [0, max(10, 100·estimate)] ([0, 10] for an estimate <= sqrt(ε)); correlations
    /// [−1, 1] (CS, HCS, UN), [min(0, rho), 1] (AR, HAR).
    pub fn profile_bracket(&self, j: usize, estimate: f64) -> (f64, f64) {
        if self.is_variance(j) {
            variance_bracket(estimate)
        } else if self.structure.autoregressive() {
            (estimate.min(0.0), 1.0)
        } else {
            (-1.0, 1.0)
        }
    }
}

#[cfg(test)]
mod tests;
