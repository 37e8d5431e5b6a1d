//! The sampling covariance matrix V of a multilevel model: diagonal, metafor's `vcalc`
//! (Pustejovsky & Tipton 2022, *Prev Sci* 23:425–438: correlated hierarchical effects), or
//! known blocks read from columns. V is block-diagonal by cluster; each block is checked
//! symmetric positive definite.

use super::random::grouping_column;
use crate::data::{Studies, Value};
use crate::error::{Error, Result};
use nalgebra::DMatrix;
use std::collections::HashMap;

/// How V is formed.
#[derive(Debug, Clone, PartialEq)]
pub enum SamplingCov {
    /// V = diag(vi).
    Diag,
    /// `vcalc(vi, cluster, obs, rho)`: within a cluster, rho·sqrt(vi vj) between different
    /// `obs`, sqrt(vi vj) between equal ones.
    Vcalc {
        /// The cluster column.
        cluster: String,
        /// The observation (outcome / time) column.
        obs: String,
        /// The correlation between different observations.
        rho: f64,
    },
    /// Known blocks: in row i, column j of `columns` holds V[i, r_j], r_j the j-th row (in file
    /// order) of i's cluster.
    Blocks {
        /// The block columns.
        columns: Vec<String>,
        /// The cluster column.
        cluster: String,
    },
}

/// V over the rows of a fit, as blocks: every row sits in exactly one block.
#[derive(Debug, Clone)]
pub struct VBlocks {
    /// The blocks: positions (in the fit's rows) and the block of V.
    pub blocks: Vec<(Vec<usize>, DMatrix<f64>)>,
}

impl VBlocks {
    /// Each row's block.
    pub fn block_of(&self, k: usize) -> Vec<usize> {
        let mut out = vec![0; k];
        for (b, (rows, _)) in self.blocks.iter().enumerate() {
            for &r in rows {
                out[r] = b;
            }
        }
        out
    }
}

/// Groups the fit's rows (positions 0..rows.len(), input rows `rows`) by the values of a column.
fn clusters(values: &[Value], rows: &[usize]) -> Vec<Vec<usize>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (pos, &i) in rows.iter().enumerate() {
        let key = values[i].as_text();
        let n = index.len();
        let c = *index.entry(key).or_insert(n);
        if c == out.len() {
            out.push(Vec::new());
        }
        out[c].push(pos);
    }
    out
}

/// Builds V for the fit's rows: `rows` are input rows, `vi` their sampling variances.
pub fn build_v(
    studies: &Studies,
    spec: &SamplingCov,
    rows: &[usize],
    vi: &[f64],
) -> Result<VBlocks> {
    let blocks = match spec {
        SamplingCov::Diag => (0..rows.len())
            .map(|p| (vec![p], DMatrix::from_element(1, 1, vi[p])))
            .collect(),
        SamplingCov::Vcalc { cluster, obs, rho } => {
            if !(rho.abs() <= 1.0) {
                return Err(Error::invalid(format!(
                    "the sampling correlation must lie in [-1, 1], found {rho}"
                )));
            }
            let cv = grouping_column(studies, cluster, "the sampling-covariance cluster")?;
            let ov = grouping_column(studies, obs, "the sampling-covariance observation")?;
            clusters(cv, rows)
                .into_iter()
                .map(|c| {
                    let m = DMatrix::from_fn(c.len(), c.len(), |a, b| {
                        let (pa, pb) = (c[a], c[b]);
                        if a == b {
                            vi[pa]
                        } else if ov[rows[pa]] == ov[rows[pb]] {
                            (vi[pa] * vi[pb]).sqrt()
                        } else {
                            rho * (vi[pa] * vi[pb]).sqrt()
                        }
                    });
                    (c, m)
                })
                .collect()
        }
        SamplingCov::Blocks { columns, cluster } => known_blocks(studies, columns, cluster, rows)?,
    };
    for (c, m) in &blocks {
        check_spd(m, || describe_block(studies, spec, rows, c))?;
    }
    Ok(VBlocks { blocks })
}

fn describe_block(studies: &Studies, spec: &SamplingCov, rows: &[usize], c: &[usize]) -> String {
    let col = match spec {
        SamplingCov::Diag => return format!("row {}", studies.labels[rows[c[0]]]),
        SamplingCov::Vcalc { cluster, .. } | SamplingCov::Blocks { cluster, .. } => cluster,
    };
    let value = studies
        .moderators
        .iter()
        .find(|m| &m.name == col)
        .map(|m| m.values[rows[c[0]]].as_text())
        .unwrap_or_default();
    format!("cluster {col} = {value}")
}

/// Known blocks from columns, positions counted among all input rows of the cluster.
fn known_blocks(
    studies: &Studies,
    columns: &[String],
    cluster: &str,
    rows: &[usize],
) -> Result<Vec<(Vec<usize>, DMatrix<f64>)>> {
    let cv = grouping_column(studies, cluster, "the sampling-covariance cluster")?;
    let cols: Vec<&[Value]> = columns
        .iter()
        .map(|c| {
            studies
                .moderators
                .iter()
                .find(|m| &m.name == c)
                .map(|m| m.values.as_slice())
                .ok_or_else(|| Error::UnknownColumn {
                    what: "sampling-covariance block",
                    column: c.clone(),
                    available: studies.moderators.iter().map(|m| m.name.clone()).collect(),
                })
        })
        .collect::<Result<_>>()?;
    // Position of every input row within its cluster, in file order.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let within: Vec<usize> = cv
        .iter()
        .map(|v| {
            let e = seen.entry(v.as_text()).or_insert(0);
            *e += 1;
            *e - 1
        })
        .collect();
    let mut out = Vec::new();
    for c in clusters(cv, rows) {
        let mut m = DMatrix::zeros(c.len(), c.len());
        for (a, &pa) in c.iter().enumerate() {
            for (b, &pb) in c.iter().enumerate() {
                let j = within[rows[pb]];
                let value = cols.get(j).map(|col| &col[rows[pa]]);
                let Some(Value::Number(x)) = value else {
                    return Err(Error::invalid(format!(
                        "cluster {cluster} = {}: the sampling-covariance block needs a number in column {} of row {} ({} columns given)",
                        cv[rows[pa]].as_text(),
                        j + 1,
                        studies.labels[rows[pa]],
                        cols.len()
                    )));
                };
                m[(a, b)] = *x;
            }
        }
        out.push((c, m));
    }
    Ok(out)
}

/// Symmetric (to 1e-10 relative) and positive definite, or an error naming the block.
fn check_spd(m: &DMatrix<f64>, name: impl Fn() -> String) -> Result<()> {
    let n = m.nrows();
    for a in 0..n {
        for b in 0..a {
            let (x, y) = (m[(a, b)], m[(b, a)]);
            if (x - y).abs() > 1e-10 * (x.abs() + y.abs()) {
                return Err(Error::invalid(format!(
                    "{}: the sampling-covariance block is not symmetric ({x} vs {y})",
                    name()
                )));
            }
        }
    }
    if nalgebra::Cholesky::new(m.clone()).is_none() {
        return Err(Error::invalid(format!(
            "{}: the sampling-covariance block is not positive definite",
            name()
        )));
    }
    Ok(())
}
