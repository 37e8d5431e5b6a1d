//! The clusters of a cluster-robust analysis: which rows belong together.

use crate::data::{Studies, Value};
use crate::effect::EffectSet;
use crate::error::{Error, Location, Result};

/// The rows of a model grouped into clusters (metafor's `cluster` argument), in order of first
/// appearance as metafor's `unique(cluster)`; rows of a cluster need not be contiguous.
#[derive(Debug, Clone, PartialEq)]
pub struct Clusters {
    /// The column the clusters were read from (for messages and outputs).
    pub column: String,
    /// Each cluster's value, as text.
    pub labels: Vec<String>,
    /// The cluster of each row of the model.
    pub of_row: Vec<usize>,
    /// The rows of each cluster, in model order.
    pub rows: Vec<Vec<usize>>,
}

impl Clusters {
    /// Clusters from a cluster index per row (0-based, every index below `labels.len()` used).
    pub fn from_index(column: &str, labels: Vec<String>, of_row: Vec<usize>) -> Result<Clusters> {
        let mut rows = vec![Vec::new(); labels.len()];
        for (i, &c) in of_row.iter().enumerate() {
            let Some(r) = rows.get_mut(c) else {
                return Err(Error::invalid(format!(
                    "cluster index {c} of row {} is out of range ({} clusters)",
                    i + 1,
                    labels.len()
                )));
            };
            r.push(i);
        }
        if let Some(empty) = rows.iter().position(Vec::is_empty) {
            return Err(Error::invalid(format!(
                "cluster '{}' has no rows",
                labels[empty]
            )));
        }
        Ok(Clusters {
            column: column.to_owned(),
            labels,
            of_row,
            rows,
        })
    }

    /// The clusters given by a study-level column of the studies in a model. A missing value is
    /// an error naming the study's line (as metafor: "No missing values allowed in 'cluster'").
    pub fn from_column(effects: &EffectSet, column: &str) -> Result<Clusters> {
        let m = effects
            .find_moderator(column)
            .ok_or_else(|| Error::UnknownColumn {
                what: "cluster column",
                column: column.to_string(),
                available: effects.moderators.iter().map(|m| m.name.clone()).collect(),
            })?;
        let values: Vec<&Value> = m.values.iter().collect();
        let missing = |i: usize| {
            Error::input(
                Location {
                    file: effects.source.clone(),
                    line: effects.lines.get(i).copied(),
                    column: Some(column.to_owned()),
                    sheet: None,
                },
                format!(
                    "study '{}' has no cluster: cluster-robust inference needs the cluster of every study in the model",
                    effects.labels[i]
                ),
            )
        };
        Clusters::from_values(column, &values, missing)
    }

    /// The clusters given by a column of `studies` on the input rows `rows` of a model (a
    /// multilevel fit's); a missing value is an error naming the row's line.
    pub fn from_rows(studies: &Studies, column: &str, rows: &[usize]) -> Result<Clusters> {
        let m = studies
            .moderators
            .iter()
            .find(|m| m.name == column)
            .ok_or_else(|| Error::UnknownColumn {
                what: "cluster column",
                column: column.to_string(),
                available: studies.moderators.iter().map(|m| m.name.clone()).collect(),
            })?;
        let values: Vec<&Value> = rows.iter().map(|&r| &m.values[r]).collect();
        let missing = |i: usize| {
            Error::input(
                Location {
                    file: Some(studies.source.clone()),
                    line: studies.lines.get(rows[i]).copied(),
                    column: Some(column.to_owned()),
                    sheet: None,
                },
                format!(
                    "row '{}' has no cluster: cluster-robust inference needs the cluster of every row in the model",
                    studies.labels[rows[i]]
                ),
            )
        };
        Clusters::from_values(column, &values, missing)
    }

    /// Clusters in order of first appearance of `values`; `missing(i)` is the error for a
    /// missing value in row i.
    fn from_values(
        column: &str,
        values: &[&Value],
        missing: impl Fn(usize) -> Error,
    ) -> Result<Clusters> {
        if let Some(i) = values.iter().position(|v| v.is_missing()) {
            return Err(missing(i));
        }
        let (of_row, first) = crate::data::levels::first_appearance(values.iter().copied());
        let labels = first.iter().map(|&i| values[i].as_text()).collect();
        Clusters::from_index(column, labels, of_row)
    }

    /// Number of clusters.
    pub fn n(&self) -> usize {
        self.labels.len()
    }
}
