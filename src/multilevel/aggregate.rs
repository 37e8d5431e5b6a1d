//! One effect per cluster from dependent effects, as metafor's `aggregate.escalc(x, cluster,
//! rho, struct, weighted)` (Borenstein et al. 2009, *Introduction to Meta-Analysis*, ch. 24):
//! within a cluster V = S R S with R compound symmetric (`CS`, correlation rho) or the identity
//! (`ID`); the GLS mean yi = (1'W1)⁻¹ 1'W y with vi = (1'W1)⁻¹, W = V⁻¹, or under
//! `weighted = false` the plain mean with vi = 1'V1 / k². The other columns are carried as
//! metafor does: numbers by their mean over the non-missing values, text by its most frequent
//! value (ties: the last in sort order).

use crate::data::{Moderator, Value};
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use nalgebra::{Cholesky, DMatrix, DVector};
use std::collections::{BTreeMap, HashMap};

/// The assumed correlation structure of the effects of one cluster (metafor's `struct`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum AggregateStruct {
    /// Independent effects.
    #[serde(rename = "ID")]
    Id,
    /// Compound symmetry: every pair of a cluster correlates by `rho`.
    #[serde(rename = "CS")]
    Cs {
        /// The within-cluster correlation, in [-1, 1].
        rho: f64,
    },
}

/// What [`aggregate`] needs besides the effects.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateOptions {
    /// The cluster column (metafor's `cluster`).
    pub cluster: String,
    /// The correlation structure.
    pub structure: AggregateStruct,
    /// Inverse-variance (GLS) weights, else the plain mean (metafor's `weighted`).
    pub weighted: bool,
}

/// The aggregated data: one row per cluster, in order of first appearance.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregated {
    /// The cluster column's name.
    pub cluster: String,
    /// The structure and weighting used.
    pub structure: AggregateStruct,
    /// Weighted (GLS) or plain means.
    pub weighted: bool,
    /// The effects' measure name (`GEN` for given yi, vi).
    pub measure: String,
    /// The aggregated effect of each cluster.
    pub yi: Vec<f64>,
    /// Its sampling variance.
    pub vi: Vec<f64>,
    /// The number of effects in each cluster (metafor's `addk = TRUE` column `ki`).
    pub ki: Vec<usize>,
    /// Every study-level column (the cluster's among them), one value per cluster.
    pub columns: Vec<Moderator>,
}

/// Aggregates the effects of `set` within the clusters of `opts.cluster`.
pub fn aggregate(set: &EffectSet, opts: &AggregateOptions) -> Result<Aggregated> {
    if let AggregateStruct::Cs { rho } = opts.structure {
        if !(-1.0..=1.0).contains(&rho) {
            return Err(Error::invalid(format!(
                "the within-cluster correlation rho must lie in [-1, 1], found {rho}"
            )));
        }
    }
    let cl = set.moderator(&opts.cluster, "aggregate by")?;
    if let Some(i) = cl.values.iter().position(Value::is_missing) {
        return Err(Error::invalid(format!(
            "missing value in the cluster column '{}' in study {}: every row needs one",
            opts.cluster,
            set.study_ref(i)
        )));
    }
    let groups = clusters(&cl.values);
    let mut out = Aggregated {
        cluster: opts.cluster.clone(),
        structure: opts.structure,
        weighted: opts.weighted,
        measure: set.measure.name().to_string(),
        yi: Vec::with_capacity(groups.len()),
        vi: Vec::with_capacity(groups.len()),
        ki: groups.iter().map(Vec::len).collect(),
        columns: set.moderators.iter().map(|m| carry(m, &groups)).collect(),
    };
    for rows in &groups {
        let v = cluster_v(set, rows, opts.structure);
        let y = DVector::from_iterator(rows.len(), rows.iter().map(|&i| set.yi[i]));
        let Some(chol) = Cholesky::new(v.clone()) else {
            return Err(Error::invalid(format!(
                "cluster {} = {}: the sampling covariance matrix of its {} effects is not positive definite under rho (metafor refuses to aggregate it)",
                opts.cluster,
                cl.values[rows[0]].as_text(),
                rows.len()
            )));
        };
        let (yi, vi) = if opts.weighted {
            let w = crate::stats::linalg::cholesky_inverse(&chol);
            let sum_w = w.sum();
            ((&w * &y).sum() / sum_w, 1.0 / sum_w)
        } else {
            let k = rows.len() as f64;
            (y.sum() / k, v.sum() / (k * k))
        };
        out.yi.push(yi);
        out.vi.push(vi);
    }
    Ok(out)
}

/// The rows of each cluster, clusters in order of first appearance.
fn clusters(values: &[Value]) -> Vec<Vec<usize>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let n = index.len();
        let c = *index.entry(v.as_text()).or_insert(n);
        if c == out.len() {
            out.push(Vec::new());
        }
        out[c].push(i);
    }
    out
}

/// V = S R S over the rows of one cluster.
fn cluster_v(set: &EffectSet, rows: &[usize], structure: AggregateStruct) -> DMatrix<f64> {
    let rho = match structure {
        AggregateStruct::Id => 0.0,
        AggregateStruct::Cs { rho } => rho,
    };
    DMatrix::from_fn(rows.len(), rows.len(), |a, b| {
        let (va, vb) = (set.vi[rows[a]], set.vi[rows[b]]);
        if a == b {
            va
        } else {
            rho * (va * vb).sqrt()
        }
    })
}

/// One column's value per cluster: metafor's mean of the non-missing numbers (missing when there
/// are none), or the most frequent text.
fn carry(m: &Moderator, groups: &[Vec<usize>]) -> Moderator {
    let values = groups
        .iter()
        .map(|rows| {
            let present: Vec<&Value> = rows
                .iter()
                .map(|&i| &m.values[i])
                .filter(|v| !v.is_missing())
                .collect();
            if present.is_empty() {
                Value::Missing
            } else if m.numeric {
                let xs: Vec<f64> = present
                    .iter()
                    .filter_map(|v| match v {
                        Value::Number(x) => Some(*x),
                        _ => None,
                    })
                    .collect();
                Value::Number(xs.iter().sum::<f64>() / xs.len() as f64)
            } else {
                most_frequent(&present)
            }
        })
        .collect();
    Moderator {
        name: m.name.clone(),
        values,
        numeric: m.numeric,
    }
}

/// R's `tail(names(sort(table(x))), 1)`: the most frequent value; among ties the last in sort
/// order (`table` sorts its names, `sort` is stable).
fn most_frequent(values: &[&Value]) -> Value {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v.as_text()).or_insert(0) += 1;
    }
    let best = counts.values().copied().max().unwrap_or(0);
    counts
        .into_iter()
        .rfind(|(_, n)| *n == best)
        .map_or(Value::Missing, |(s, _)| Value::Text(s))
}
