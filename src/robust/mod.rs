//! Cluster-robust (sandwich) inference for a fitted model, as metafor's `robust()`: CR1, the
//! sandwich with the small-sample factor n/(n − p) and t(n − p) tests (Hedges, Tipton & Johnson
//! 2010, *Res Synth Methods* 1:39–65), and CR2, the bias-reduced linearisation with Satterthwaite
//! df and the HTZ Wald test of clubSandwich (Tipton & Pustejovsky 2015, *J Educ Behav Stat*
//! 40:604–634; Pustejovsky & Tipton 2018, *J Bus Econ Stat* 36:672–683).
//!
//! The core ([`robust`]) is model-agnostic: it takes a [`RobustModel`] (design, outcomes,
//! coefficients, the model's Var(b) and its marginal covariance M) and [`Clusters`].
//! [`robust_rma`] and [`robust_metareg`] build it from plain `rma.uni` fits, where
//! M = diag(vi + τ²); [`robust_mv`] from multilevel (`rma.mv`) fits, with the dense M of the
//! fitted random effects.

mod clusters;
mod cr2;

pub use clusters::Clusters;

use crate::data::Studies;
use crate::error::{Error, Result};
use crate::model::{Level, RmaFit};
use crate::moderators::metareg::{omnibus, MetaregFit, OmnibusTest};
use crate::multilevel::MvFit;
use crate::stats::{pt_two_sided, qt_upper};
use nalgebra::{DMatrix, DVector};
use std::str::FromStr;

/// The cluster-robust variance estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum RobustType {
    /// metafor's `robust(adjust = TRUE)`: n/(n − p) times the CR0 sandwich, t and F with n − p df.
    CR1,
    /// clubSandwich's CR2 (bias-reduced linearisation) with Satterthwaite df and the HTZ test.
    CR2,
}

impl RobustType {
    /// The estimator's name (`CR1`, `CR2`).
    pub fn name(self) -> &'static str {
        match self {
            RobustType::CR1 => "CR1",
            RobustType::CR2 => "CR2",
        }
    }

    /// How its degrees of freedom are obtained, for headings.
    pub fn df_name(self) -> &'static str {
        match self {
            RobustType::CR1 => "n - p df",
            RobustType::CR2 => "Satterthwaite df",
        }
    }
}

impl FromStr for RobustType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CR1" => Ok(RobustType::CR1),
            "CR2" => Ok(RobustType::CR2),
            _ => Err(Error::invalid(format!(
                "unknown cluster-robust estimator '{s}': expected CR1 or CR2"
            ))),
        }
    }
}

/// The marginal covariance M of the outcomes under the fitted model.
#[derive(Debug, Clone, PartialEq)]
pub enum Marginal {
    /// Independent rows: M = diag(m), e.g. vi + τ² for `rma.uni`.
    Diagonal(Vec<f64>),
    /// Block-diagonal M (multilevel and multivariate models): rows of different blocks are
    /// uncorrelated, so memory and time grow with the blocks' sizes, not with k².
    Blocks(BlockDiagonal),
}

/// One diagonal block of a block-diagonal M.
#[derive(Debug, Clone, PartialEq)]
pub struct CovBlock {
    /// The rows of the block: positions in the model's k rows.
    pub rows: Vec<usize>,
    /// Their covariance (rows.len() × rows.len()).
    pub cov: DMatrix<f64>,
}

/// A block-diagonal M: every row of the model in exactly one block.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockDiagonal {
    blocks: Vec<CovBlock>,
    /// For each row, its block and its position there.
    at: Vec<(usize, usize)>,
}

impl BlockDiagonal {
    /// M of `k` rows from its diagonal blocks; an error unless each row is in exactly one
    /// block and each block's covariance is square of its rows' size.
    pub fn new(k: usize, blocks: Vec<CovBlock>) -> Result<BlockDiagonal> {
        let mut at = vec![(usize::MAX, 0); k];
        for (bi, b) in blocks.iter().enumerate() {
            let n = b.rows.len();
            if b.cov.nrows() != n || b.cov.ncols() != n {
                return Err(Error::invalid(format!(
                    "block {} of the model's covariance is {} × {} for {n} rows",
                    bi + 1,
                    b.cov.nrows(),
                    b.cov.ncols()
                )));
            }
            for (pos, &r) in b.rows.iter().enumerate() {
                match at.get_mut(r) {
                    Some(slot) if slot.0 == usize::MAX => *slot = (bi, pos),
                    _ => {
                        return Err(Error::invalid(format!(
                        "row {} is outside the model's {k} rows or in two blocks of its covariance",
                        r + 1
                    )))
                    }
                }
            }
        }
        if let Some(r) = at.iter().position(|s| s.0 == usize::MAX) {
            return Err(Error::invalid(format!(
                "row {} is in no block of the model's covariance",
                r + 1
            )));
        }
        Ok(BlockDiagonal { blocks, at })
    }

    /// A full k × k M as one block.
    pub fn dense(m: DMatrix<f64>) -> BlockDiagonal {
        let k = m.nrows();
        BlockDiagonal {
            blocks: vec![CovBlock {
                rows: (0..k).collect(),
                cov: m,
            }],
            at: (0..k).map(|r| (0, r)).collect(),
        }
    }

    /// The diagonal blocks.
    pub fn blocks(&self) -> &[CovBlock] {
        &self.blocks
    }
}

impl Marginal {
    /// M⁻¹X, or an error when M is not positive definite.
    fn solve(&self, x: &DMatrix<f64>) -> Result<DMatrix<f64>> {
        match self {
            Marginal::Diagonal(m) => {
                check_positive(m)?;
                Ok(DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
                    x[(i, j)] / m[i]
                }))
            }
            Marginal::Blocks(bd) => {
                let mut out = DMatrix::zeros(x.nrows(), x.ncols());
                for b in &bd.blocks {
                    let chol = b
                        .cov
                        .clone()
                        .cholesky()
                        .ok_or_else(|| Error::invalid(NOT_PD))?;
                    let solved = chol.solve(&x.select_rows(&b.rows));
                    for (a, &r) in b.rows.iter().enumerate() {
                        out.row_mut(r).copy_from(&solved.row(a));
                    }
                }
                Ok(out)
            }
        }
    }

    /// The block of M for `rows`.
    fn block(&self, rows: &[usize]) -> DMatrix<f64> {
        let n = rows.len();
        match self {
            Marginal::Diagonal(m) => {
                DMatrix::from_fn(n, n, |a, b| if a == b { m[rows[a]] } else { 0.0 })
            }
            Marginal::Blocks(bd) => DMatrix::from_fn(n, n, |a, b| {
                let ((ba, pa), (bb, pb)) = (bd.at[rows[a]], bd.at[rows[b]]);
                if ba == bb {
                    bd.blocks[ba].cov[(pa, pb)]
                } else {
                    0.0
                }
            }),
        }
    }

    /// CR2 needs M block-diagonal by cluster (the random effects nested within the clusters):
    /// an error naming two correlated rows of different clusters otherwise (the first such
    /// pair in row order).
    fn check_nested(&self, clusters: &Clusters) -> Result<()> {
        let Marginal::Blocks(bd) = self else {
            return Ok(());
        };
        let mut first: Option<(usize, usize)> = None;
        for blk in &bd.blocks {
            for (a, &i) in blk.rows.iter().enumerate() {
                // M is symmetric: the lower triangle of each block covers every pair.
                for (b, &j) in blk.rows.iter().enumerate().take(a) {
                    let pair = (i.max(j), i.min(j));
                    if clusters.of_row[i] != clusters.of_row[j]
                        && blk.cov[(a, b)] != 0.0
                        && first.is_none_or(|f| pair < f)
                    {
                        first = Some(pair);
                    }
                }
            }
        }
        match first {
            None => Ok(()),
            Some((hi, lo)) => Err(Error::invalid(format!(
                "CR2 needs the random effects nested within the clusters of '{}': rows {} and {} are in clusters '{}' and '{}' but correlated in the model",
                clusters.column,
                lo + 1,
                hi + 1,
                clusters.labels[clusters.of_row[lo]],
                clusters.labels[clusters.of_row[hi]]
            ))),
        }
    }
}

const NOT_PD: &str =
    "the model's marginal covariance is not positive definite: no cluster-robust inference";

fn check_positive(m: &[f64]) -> Result<()> {
    match m.iter().position(|&v| !(v > 0.0 && v.is_finite())) {
        Some(i) => Err(Error::invalid(format!(
            "row {}: marginal variance vi + tau2 = {} is not positive: no cluster-robust inference",
            i + 1,
            m[i]
        ))),
        None => Ok(()),
    }
}

/// What cluster-robust inference needs from a fitted model.
#[derive(Debug, Clone)]
pub struct RobustModel {
    /// Coefficient names, one per column of `x`.
    pub names: Vec<String>,
    /// The k × p design matrix.
    pub x: DMatrix<f64>,
    /// The outcomes yi.
    pub y: Vec<f64>,
    /// The fitted coefficients b.
    pub beta: Vec<f64>,
    /// The model's Var(b) (p × p): the bread of CR1 (metafor's `vb`, Knapp–Hartung-scaled under
    /// `test = "knha"`, as metafor uses it).
    pub vb: DMatrix<f64>,
    /// The marginal covariance M (weights W = M⁻¹).
    pub marginal: Marginal,
    /// The coefficients of the omnibus test (all but the intercept, or the intercept alone).
    pub btt: Vec<usize>,
    /// The confidence level of the intervals.
    pub level: Level,
}

/// One coefficient with its cluster-robust test and interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RobustCoefficient {
    /// Coefficient name as metafor's.
    pub name: String,
    /// The estimate (unchanged by the robust variance).
    pub estimate: f64,
    /// Cluster-robust standard error.
    pub se: f64,
    /// t statistic.
    pub tval: f64,
    /// Degrees of freedom: n − p (CR1) or Satterthwaite's (CR2; may be below 1).
    pub df: f64,
    /// Two-sided p-value.
    pub pval: f64,
    /// Lower bound of the confidence interval.
    pub ci_lb: f64,
    /// Upper bound of the confidence interval.
    pub ci_ub: f64,
}

/// The result of cluster-robust inference.
#[derive(Debug, Clone)]
pub struct RobustFit {
    /// The estimator.
    pub method: RobustType,
    /// The cluster column.
    pub cluster: String,
    /// Number of clusters.
    pub n_clusters: usize,
    /// The coefficient table.
    pub coefficients: Vec<RobustCoefficient>,
    /// The cluster-robust Var(b), row-major p × p.
    pub vb: Vec<f64>,
    /// The omnibus test of `tested`: F(m, n − p) (CR1), HTZ F(q, ν − q + 1) (CR2), or t² with
    /// Satterthwaite df for one coefficient (CR2).
    pub qm: OmnibusTest,
    /// The coefficients of the omnibus test.
    pub tested: Vec<usize>,
    /// The confidence level of the intervals.
    pub level: Level,
    /// What the numbers cannot say (a coefficient whose robust variance is 0).
    pub warnings: Vec<String>,
}

/// A robust SE below this fraction of the model-based one is 0 to rounding (the exact CR2
/// variance of a coefficient that one cluster alone identifies is 0; clubSandwich then reports
/// rounding residue such as 1e-16 and a t of 1e15).
const ZERO_SE: f64 = 1e-10;

/// Coefficients whose robust variance is 0 to rounding get se 0 and no t test, df or CI (they
/// are undefined), the Wald test including one of them none either; a warning says which and,
/// when the rows informing it lie in one cluster, names it.
fn undefined_tests(
    model: &RobustModel,
    clusters: &Clusters,
    vb: &DMatrix<f64>,
    coefficients: &mut [RobustCoefficient],
    qm: &mut OmnibusTest,
) -> Vec<String> {
    let mut warnings = Vec::new();
    for (j, c) in coefficients.iter_mut().enumerate() {
        // A variance of rounding size, of either sign (its exact value is 0).
        if vb[(j, j)].abs() > (ZERO_SE * ZERO_SE) * model.vb[(j, j)] {
            continue;
        }
        let mut informing: Vec<usize> = (0..model.x.nrows())
            .filter(|&i| model.x[(i, j)] != 0.0)
            .map(|i| clusters.of_row[i])
            .collect();
        informing.sort_unstable();
        informing.dedup();
        let why = match informing.as_slice() {
            [one] => format!(
                ": the rows that inform it all lie in cluster '{}' of '{}'",
                clusters.labels[*one], clusters.column
            ),
            _ => String::new(),
        };
        warnings.push(format!(
            "the cluster-robust variance of '{}' is 0{why}; its robust t test, df, p-value and CI are undefined{}",
            c.name,
            if model.btt.contains(&j) { ", and so is the Wald test of the coefficients including it" } else { "" }
        ));
        (c.se, c.tval, c.df, c.pval, c.ci_lb, c.ci_ub) =
            (0.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN);
        if model.btt.contains(&j) {
            (qm.stat, qm.pval, qm.ddf) = (f64::NAN, f64::NAN, qm.ddf.map(|_| f64::NAN));
        }
    }
    warnings
}

/// Cluster-robust inference for `model` with `clusters` (metafor's `robust()`; CR2 as
/// clubSandwich 0.5.8). Refused unless there are more clusters than coefficients.
pub fn robust(model: &RobustModel, clusters: &Clusters, method: RobustType) -> Result<RobustFit> {
    let (k, p) = (model.x.nrows(), model.x.ncols());
    let n = clusters.n();
    if model.y.len() != k || model.beta.len() != p || clusters.of_row.len() != k {
        return Err(Error::invalid(format!(
            "cluster-robust inference: {k} rows of the design, {} outcomes, {} cluster values; {p} coefficients, {} estimates",
            model.y.len(),
            clusters.of_row.len(),
            model.beta.len()
        )));
    }
    if n <= p {
        return Err(Error::invalid(format!(
            "cluster-robust inference needs more clusters than coefficients: {n} cluster{} in '{}' for {p} coefficient{} (metafor: the number of clusters must be larger than the number of fixed effects)",
            if n == 1 { "" } else { "s" },
            clusters.column,
            if p == 1 { "" } else { "s" }
        )));
    }
    let (vb, df, qm) = match method {
        RobustType::CR1 => {
            let vb = cr1(model, clusters)?;
            let ddf = (n - p) as f64;
            let flat: Vec<f64> = (0..p * p).map(|i| vb[(i / p, i % p)]).collect();
            let qm = omnibus(&model.beta, &flat, p, &model.btt, Some(ddf));
            (vb, vec![ddf; p], qm)
        }
        RobustType::CR2 => {
            model.marginal.check_nested(clusters)?;
            let c = cr2::cr2(model, clusters)?;
            (c.vb, c.df, c.qm)
        }
    };
    let mut coefficients = table(model, &vb, &df);
    let mut qm = match (method, model.btt.as_slice()) {
        // One coefficient: t² with its Satterthwaite df (metafor; HTZ with q = 1 is the same).
        (RobustType::CR2, &[j]) => OmnibusTest {
            stat: coefficients[j].tval.powi(2),
            df: 1,
            ddf: Some(df[j]),
            pval: coefficients[j].pval,
        },
        _ => qm,
    };
    let warnings = undefined_tests(model, clusters, &vb, &mut coefficients, &mut qm);
    Ok(RobustFit {
        method,
        cluster: clusters.column.clone(),
        n_clusters: n,
        coefficients,
        vb: (0..p * p).map(|i| vb[(i / p, i % p)]).collect(),
        qm,
        tested: model.btt.clone(),
        level: model.level,
        warnings,
    })
}

/// The coefficient table: t tests and CIs with each coefficient's df.
fn table(model: &RobustModel, vb: &DMatrix<f64>, df: &[f64]) -> Vec<RobustCoefficient> {
    let alpha = model.level.alpha();
    (0..model.beta.len())
        .map(|j| {
            let (b, se) = (model.beta[j], vb[(j, j)].sqrt());
            let crit = qt_upper(alpha / 2.0, df[j]);
            RobustCoefficient {
                name: model.names[j].clone(),
                estimate: b,
                se,
                tval: b / se,
                df: df[j],
                pval: pt_two_sided(b / se, df[j]),
                ci_lb: b - crit * se,
                ci_ub: b + crit * se,
            }
        })
        .collect()
}

/// CR1: n/(n − p) · B (⊕ e_c e_c') B' with B = Var(b) X'W and e = y − Xb (metafor's
/// `robust(adjust = TRUE)`).
fn cr1(model: &RobustModel, clusters: &Clusters) -> Result<DMatrix<f64>> {
    let p = model.x.ncols();
    let n = clusters.n();
    let wx = model.marginal.solve(&model.x)?;
    let bread = &model.vb * wx.transpose();
    let e = residuals(model);
    let mut meat = DMatrix::zeros(p, p);
    for rows in &clusters.rows {
        let mut u = DVector::zeros(p);
        for &i in rows {
            u += bread.column(i) * e[i];
        }
        meat += &u * u.transpose();
    }
    Ok(meat * (n as f64 / (n - p) as f64))
}

/// Marginal residuals e = y − Xb.
fn residuals(model: &RobustModel) -> DVector<f64> {
    let b = DVector::from_column_slice(&model.beta);
    DVector::from_column_slice(&model.y) - &model.x * b
}

/// The omnibus test's coefficients as metafor's default `btt`: all but the intercept, or every
/// coefficient when there is no intercept or nothing else.
fn default_btt(intercept: bool, p: usize) -> Vec<usize> {
    if intercept && p > 1 {
        (1..p).collect()
    } else {
        (0..p).collect()
    }
}

/// Refuses the views of Mantel–Haenszel and Peto poolings: robust inference needs the
/// inverse-variance model.
fn check_inverse_variance(fit: &RmaFit) -> Result<()> {
    if fit.weighting != crate::model::Weighting::InverseVariance {
        return Err(Error::invalid(
            "cluster-robust inference needs an inverse-variance model, not a Mantel–Haenszel or Peto pooling",
        ));
    }
    Ok(())
}

/// Cluster-robust inference for an intercept-only `rma.uni` fit, clusters from a study-level
/// column (metafor's `robust(res, cluster)`; `clubSandwich = TRUE` for CR2).
///
/// # Examples
///
/// ```
/// use evident::{read_studies, rma, robust_rma, ColumnMap, CsvOptions, EffectSet, EscalcOptions};
/// use evident::{Measure, RmaOptions, RobustType};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let set = EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default())?;
/// let fit = rma(&set, &RmaOptions::default())?;
/// let cr2 = robust_rma(&fit, "alloc", RobustType::CR2)?; // 3 allocation methods
/// assert_eq!(cr2.n_clusters, 3);
/// let c = &cr2.coefficients[0];
/// assert!(c.df > 0.0 && c.ci_lb < c.estimate && c.estimate < c.ci_ub);
/// # Ok::<(), evident::Error>(())
/// ```
pub fn robust_rma(fit: &RmaFit, column: &str, method: RobustType) -> Result<RobustFit> {
    check_inverse_variance(fit)?;
    let clusters = Clusters::from_column(&fit.effects, column)?;
    let k = fit.k;
    let model = RobustModel {
        names: vec!["intrcpt".to_owned()],
        x: DMatrix::from_element(k, 1, 1.0),
        y: fit.effects.yi.clone(),
        beta: vec![fit.estimate],
        vb: DMatrix::from_element(1, 1, fit.se * fit.se),
        marginal: Marginal::Diagonal(fit.effects.vi.iter().map(|v| v + fit.tau2).collect()),
        btt: vec![0],
        level: fit.options.level,
    };
    robust(&model, &clusters, method)
}

/// Cluster-robust inference for a meta-regression (`rma.uni` with `mods`), clusters from a
/// study-level column of the studies in the model.
pub fn robust_metareg(fit: &MetaregFit, column: &str, method: RobustType) -> Result<RobustFit> {
    let clusters = Clusters::from_column(&fit.effects, column)?;
    let p = fit.p;
    let model = RobustModel {
        names: fit.names().to_vec(),
        x: fit.matrix.x.clone(),
        y: fit.effects.yi.clone(),
        beta: fit.coefficients.iter().map(|c| c.estimate).collect(),
        vb: DMatrix::from_row_slice(p, p, &fit.vb),
        marginal: Marginal::Diagonal(fit.effects.vi.iter().map(|v| v + fit.tau2).collect()),
        btt: default_btt(fit.matrix.intercept, p),
        level: fit.options.level,
    };
    robust(&model, &clusters, method)
}

/// Cluster-robust inference for a multilevel fit (metafor's `robust(rma.mv fit, cluster)`;
/// `clubSandwich = TRUE` for CR2), clusters from a column of the fitted `studies`; M is the
/// fit's marginal covariance V + Σ σ²_j Z_j Z_j'.
pub fn robust_mv(
    fit: &MvFit,
    studies: &Studies,
    column: &str,
    method: RobustType,
) -> Result<RobustFit> {
    let clusters = Clusters::from_rows(studies, column, &fit.rows)?;
    let (x, y, blocks) = fit.marginal()?;
    let model = RobustModel {
        names: fit.coefficients.iter().map(|c| c.name.clone()).collect(),
        x,
        y,
        beta: fit.coefficients.iter().map(|c| c.estimate).collect(),
        vb: fit.vb.clone(),
        marginal: Marginal::Blocks(BlockDiagonal::new(
            fit.k,
            blocks
                .into_iter()
                .map(|(rows, cov)| CovBlock { rows, cov })
                .collect(),
        )?),
        btt: default_btt(fit.intercept, fit.p),
        level: fit.level,
    };
    robust(&model, &clusters, method)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blk(rows: &[usize], n: usize) -> CovBlock {
        CovBlock {
            rows: rows.to_vec(),
            cov: DMatrix::identity(n, n),
        }
    }

    /// Each of k rows in exactly one block, each block square of its rows' size: anything
    /// else is refused naming the row or block, never read as zeros.
    #[test]
    fn block_diagonal_refuses_missing_repeated_and_misshapen_blocks() {
        assert!(BlockDiagonal::new(3, vec![blk(&[0, 2], 2), blk(&[1], 1)]).is_ok());
        let missing = BlockDiagonal::new(3, vec![blk(&[0, 2], 2)]).unwrap_err();
        assert!(
            missing.to_string().contains("row 2 is in no block"),
            "{missing}"
        );
        let twice = BlockDiagonal::new(2, vec![blk(&[0, 1], 2), blk(&[1], 1)]).unwrap_err();
        assert!(twice.to_string().contains("row 2"), "{twice}");
        let outside = BlockDiagonal::new(2, vec![blk(&[0, 5], 2)]).unwrap_err();
        assert!(outside.to_string().contains("row 6"), "{outside}");
        let shape = BlockDiagonal::new(2, vec![blk(&[0, 1], 3)]).unwrap_err();
        assert!(shape.to_string().contains("3 × 3 for 2 rows"), "{shape}");
    }

    /// The block of M for a cluster's rows reads across blocks as zeros and within a block
    /// from its covariance, in the cluster's row order.
    #[test]
    fn a_clusters_block_is_read_from_the_model_blocks() {
        let b0 = CovBlock {
            rows: vec![2, 0],
            cov: DMatrix::from_row_slice(2, 2, &[4.0, 0.5, 0.5, 3.0]),
        };
        let m = Marginal::Blocks(BlockDiagonal::new(3, vec![b0, blk(&[1], 1)]).unwrap());
        let got = m.block(&[0, 1, 2]);
        let want = DMatrix::from_row_slice(3, 3, &[3.0, 0.0, 0.5, 0.0, 1.0, 0.0, 0.5, 0.0, 4.0]);
        assert_eq!(got, want);
    }
}
