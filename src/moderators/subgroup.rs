//! Subgroup analysis: a separate model per level of a grouping column, the test for subgroup
//! differences from those fits (Q-between), and the mixed-effects model with the grouping as a
//! factor (common τ²), whose QM is the moderator test (Borenstein et al. 2009, *Introduction to
//! Meta-Analysis*, ch. 19).

use super::formula::{factor_levels, Formula};
use super::metareg::{metareg_formula, MetaregFit};
use crate::data::Value;
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::design::Intercept;
use crate::model::heterogeneity::heterogeneity;
use crate::model::rma;
use crate::model::RmaFit;
use crate::model::RmaOptions;

/// The separate fit of one subgroup.
#[derive(Debug, Clone)]
pub struct GroupFit {
    /// The group's value of the grouping column.
    pub level: String,
    /// The model fitted to the group's studies alone.
    pub fit: RmaFit,
    /// Positions of the group's studies in the analysed effect set.
    pub members: Vec<usize>,
}

/// Cochran's Q between subgroups: an FE model on the per-level estimates and standard errors.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct QBetween {
    /// Q-between: Cochran's Q of the subgroup estimates.
    pub q: f64,
    /// Degrees of freedom: the number of subgroups − 1.
    pub df: usize,
    /// p-value of the χ² test for subgroup differences.
    pub pval: f64,
}

impl QBetween {
    /// I² of the subgroup differences, in percent: (Q − df)/Q, at least 0, as RevMan 5 reports
    /// it under "Test for subgroup differences" (Richardson, Garner & Donegan 2019, *Res Synth
    /// Methods* 10:412–22); 0 when Q is 0 or not a number.
    pub fn i2(&self) -> f64 {
        if self.q > 0.0 && self.q.is_finite() {
            (100.0 * (self.q - self.df as f64) / self.q).max(0.0)
        } else {
            0.0
        }
    }
}

/// A subgroup analysis.
#[derive(Debug, Clone)]
pub struct SubgroupFit {
    /// The grouping column.
    pub column: String,
    /// Separate fits, one per level (levels sorted as R's `factor`).
    pub groups: Vec<GroupFit>,
    /// Test for subgroup differences from the separate fits.
    pub q_between: QBetween,
    /// The mixed-effects model `~ factor(g)` (common τ²); its QM tests subgroup differences.
    pub mixed: MetaregFit,
    /// The model `~ factor(g) - 1`: one estimate per level with a common τ².
    pub common: MetaregFit,
}

/// Runs the subgroup analysis on the grouping column `column`; studies with no group are dropped.
///
/// # Examples
///
/// ```
/// use evident::{read_studies, subgroup, ColumnMap, CsvOptions, EffectSet, EscalcOptions};
/// use evident::{Measure, RmaOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let set = EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default())?;
/// let sg = subgroup(&set, "alloc", &RmaOptions::default())?; // random, alternate, systematic
/// let members: usize = sg.groups.iter().map(|g| g.members.len()).sum();
/// assert_eq!(members, set.k()); // every study has an allocation
/// assert_eq!(sg.q_between.df, sg.groups.len() - 1);
/// assert!((0.0..=1.0).contains(&sg.q_between.pval));
/// # Ok::<(), evident::Error>(())
/// ```
pub fn subgroup(effects: &EffectSet, column: &str, opts: &RmaOptions) -> Result<SubgroupFit> {
    let m = effects
        .find_moderator(column)
        .ok_or_else(|| Error::UnknownColumn {
            what: "grouping column",
            column: column.to_string(),
            available: effects.moderators.iter().map(|m| m.name.clone()).collect(),
        })?;
    let present: Vec<usize> = (0..effects.k())
        .filter(|&i| !m.values[i].is_missing())
        .collect();
    let (levels, index) = factor_levels(&m.values, &present);
    if levels.len() < 2 {
        return Err(Error::invalid(format!(
            "grouping column '{column}' has {} level{}: subgroup analysis needs at least 2",
            levels.len(),
            if levels.len() == 1 { "" } else { "s" }
        )));
    }
    let mut groups = Vec::with_capacity(levels.len());
    for (l, level) in levels.iter().enumerate() {
        let idx: Vec<usize> = present
            .iter()
            .zip(&index)
            .filter(|(_, &j)| j == l)
            .map(|(&i, _)| i)
            .collect();
        let fit = rma(&effects.subset(&idx), opts)
            .map_err(|e| Error::invalid(format!("subgroup {column} = {level}: {e}")))?;
        groups.push(GroupFit {
            level: level.clone(),
            fit,
            members: idx,
        });
    }
    let est: Vec<f64> = groups.iter().map(|g| g.fit.estimate).collect();
    let var: Vec<f64> = groups.iter().map(|g| g.fit.se * g.fit.se).collect();
    let h = heterogeneity(&Intercept { k: est.len() }, &est, &var, 0.0, true);
    let q_between = QBetween {
        q: h.q,
        df: h.q_df,
        pval: h.q_pval,
    };
    let mixed = metareg_formula(effects, &Formula::factor(column, true), opts)?;
    let common = metareg_formula(effects, &Formula::factor(column, false), opts)?;
    Ok(SubgroupFit {
        column: column.to_owned(),
        groups,
        q_between,
        mixed,
        common,
    })
}

/// A subgroup: its name, its own fit, and its studies' positions in the overall fit.
#[derive(Debug, Clone)]
pub struct Subgroup {
    /// The group's value of the column (`(missing)` for studies without one).
    pub name: String,
    /// The model fitted to the group's studies with the overall fit's options.
    pub fit: RmaFit,
    /// Positions of the group's studies in the overall fit's effect set.
    pub members: Vec<usize>,
}

/// Splits a fit's studies by a moderator column and fits each group with the same options.
pub fn subgroups(fit: &RmaFit, column: &str) -> Result<Vec<Subgroup>> {
    let m = fit.effects.moderator(column, "group by")?;
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, v) in m.values.iter().enumerate() {
        let name = match v {
            Value::Missing => "(missing)".to_string(),
            v => v.as_text(),
        };
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, idx)) => idx.push(i),
            None => groups.push((name, vec![i])),
        }
    }
    groups
        .into_iter()
        .map(|(name, members)| {
            let sub = fit.effects.subset(&members);
            let f = rma(&sub, &fit.options).map_err(|e| {
                Error::invalid(format!(
                    "subgroup '{name}' ({} studies): {e}",
                    members.len()
                ))
            })?;
            Ok(Subgroup {
                name,
                fit: f,
                members,
            })
        })
        .collect()
}

/// The subgroups of a subgroup analysis for the plot, with the analysis's own per-level fits (so
/// the diamonds are the estimates it reports). `fit` is the overall model of the same studies;
/// studies without a group value, which the analysis leaves out, are shown under "(missing)".
pub fn subgroups_from(fit: &RmaFit, sg: &SubgroupFit) -> Result<Vec<Subgroup>> {
    let mut grouped = vec![false; fit.k];
    let mut out = Vec::with_capacity(sg.groups.len() + 1);
    for g in &sg.groups {
        let same = g.members.len() == g.fit.k
            && g.members.iter().enumerate().all(|(j, &i)| {
                i < fit.k
                    && fit.effects.yi[i] == g.fit.effects.yi[j]
                    && fit.effects.vi[i] == g.fit.effects.vi[j]
            });
        if !same {
            return Err(Error::invalid(format!(
                "subgroup '{}' was not fitted to the studies of this model",
                g.level
            )));
        }
        for &i in &g.members {
            grouped[i] = true;
        }
        out.push(Subgroup {
            name: g.level.clone(),
            fit: g.fit.clone(),
            members: g.members.clone(),
        });
    }
    let missing: Vec<usize> = (0..fit.k).filter(|&i| !grouped[i]).collect();
    if !missing.is_empty() {
        let f = rma(&fit.effects.subset(&missing), &fit.options).map_err(|e| {
            Error::invalid(format!("studies with no value of '{}': {e}", sg.column))
        })?;
        out.push(Subgroup {
            name: "(missing)".into(),
            fit: f,
            members: missing,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Method;

    fn bcg() -> EffectSet {
        crate::effect::bcg_rr()
    }

    // Fixed effects: the moderator test of ~factor(alloc) is exactly Q-between of the separate
    // FE fits. R: rma(yi, vi, mods=~factor(alloc), data=dat, method="FE") -> QM, QMp, R2;
    // rma(yi=est, sei=se, method="FE")$QE on the per-level FE fits.
    #[test]
    fn fixed_effect_tests_agree() {
        let o = RmaOptions {
            method: Method::FE,
            ..Default::default()
        };
        let s = subgroup(&bcg(), "alloc", &o).unwrap();
        let close = |a: f64, b: f64, r: f64| assert!((a - b).abs() <= r * b.abs(), "{a} vs {b}");
        close(s.mixed.qm.stat, 19.86536981966557, 1e-10);
        close(s.mixed.qm.pval, 4.8561238362814666e-05, 1e-6);
        close(s.q_between.q, 19.865369819665638, 1e-10);
        assert_eq!(s.mixed.r2, Some(0.0));
        close(s.mixed.het.q, 132.36763826270754, 1e-10);
        assert_eq!(
            s.groups
                .iter()
                .map(|g| g.level.as_str())
                .collect::<Vec<_>>(),
            ["alternate", "random", "systematic"]
        );
    }

    #[test]
    fn bad_grouping_columns_are_errors() {
        let o = RmaOptions::default();
        let set = bcg();
        let e = subgroup(&set, "nope", &o).unwrap_err();
        assert!(
            e.to_string().contains("available: ablat, year, alloc"),
            "{e}"
        );
        let one = set.subset(&[0, 1, 2]);
        let e = subgroup(&one, "alloc", &o).unwrap_err();
        assert!(e.to_string().contains("1 level"), "{e}");
    }
}
