//! The forest plot's options from the choices of `evident forest` or of a report's manifest,
//! so that both draw one figure from one code path: the data columns (RevMan 5's per arm or
//! evident's own), extra columns, subgroups, "Not estimable" rows, the second model of
//! `both_models`, and RevMan 5's Total rows and tests (Review Manager 5.4 User Guide, "Forest
//! plots").

use crate::app::presets::Preset;
use crate::app::revman::arm_totals;
use crate::data::{Studies, Value};
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::{rma, Method, RmaFit, RmaOptions};
use crate::moderators::subgroup::{subgroups_from, Subgroup, SubgroupFit};
use crate::multilevel::random::grouping_column;
use crate::multilevel::{MvFit, MvOptions, RandomFormula};
use crate::render::plot::forest::{
    column_totals, data_columns_for, is_rob_column, multilevel_layout, revman_columns,
    subgroup_differences_line, subgroup_test_text, Arms, Cluster, ForestLayout, ForestOptions,
    MultilevelLayout, NotEstimable, OtherModel, RevmanLayout, Span, TextColumn,
};
use crate::robust::RobustFit;

/// What shapes the figure beyond [`ForestOptions`]' plain settings.
#[derive(Debug, Clone, Default)]
pub struct ForestChoices {
    /// evident's layout or RevMan 5's.
    pub layout: ForestLayout,
    /// The arms' names over the data columns.
    pub arms: Arms,
    /// Study-level columns to show beside the labels (`rob_*` ones are drawn as lights).
    pub show_cols: Vec<String>,
    /// Leave out the raw-data columns.
    pub no_data: bool,
    /// Draw the common-effect and the random-effects models together.
    pub both_models: bool,
    /// The preset whose τ² estimator the random-effects model of `both_models` uses beside a
    /// common-effect fit.
    pub preset: Preset,
}

impl ForestChoices {
    fn revman(&self) -> bool {
        self.layout == ForestLayout::Revman
    }

    /// The columns shown as text: `rob_*` columns are drawn as traffic lights already.
    fn shown_cols(&self) -> Vec<&str> {
        self.show_cols
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty() && !is_rob_column(n))
            .collect()
    }
}

/// The options of the forest plot of `fit` to `studies`: `base`'s plain settings (title,
/// sorting, axis, labels, size, ...) with the columns, subgroups (`by`: the column and the
/// subgroup analysis of it), "Not estimable" rows, second model and layout the choices ask.
pub fn forest_options(
    studies: &Studies,
    fit: &RmaFit,
    by: Option<(&str, &SubgroupFit)>,
    choices: &ForestChoices,
    base: ForestOptions,
) -> Result<ForestOptions> {
    let data = &studies.data;
    let arms = choices.arms.pair();
    let rv_cols = if choices.revman() && !choices.no_data {
        revman_columns(data, &fit.effects.rows, arms)
    } else {
        None
    };
    let data_cols = |rows: &[usize]| match &rv_cols {
        Some(_) => revman_columns(data, rows, arms).map_or_else(Vec::new, |c| c.0),
        None => data_columns_for(data, rows, arms),
    };
    let mut columns = if choices.no_data {
        Vec::new()
    } else {
        data_cols(&fit.effects.rows)
    };
    let n_data = columns.len();
    columns.extend(extra_columns(&fit.effects, &choices.shown_cols())?);
    let subgroups = match by {
        Some((_, sg)) => subgroups_from(fit, sg)?,
        None => Vec::new(),
    };
    let not_estimable = not_estimable_rows(
        studies,
        &fit.effects,
        choices,
        by.map(|b| b.0),
        n_data,
        &data_cols,
    );
    let other_model = if choices.both_models {
        Some(OtherModel::from_fit(
            &other_fit(fit, choices.preset)?,
            choices.revman(),
        ))
    } else {
        None
    };
    let revman = choices.revman().then(|| {
        let omitted: Vec<(usize, Option<&str>)> = fit
            .effects
            .omitted
            .iter()
            .zip(&not_estimable)
            .map(|(o, n)| (o.row, n.group.as_deref()))
            .collect();
        let spans = rv_cols.as_ref().map_or_else(Vec::new, |c| c.1.clone());
        revman_layout(studies, fit, &subgroups, by.map(|b| b.1), &omitted, spans)
    });
    Ok(ForestOptions {
        columns: tidy(columns),
        subgroup_test: match (&revman, by) {
            (None, Some((_, sg))) => Some(subgroup_test_text(sg)),
            _ => None,
        },
        subgroups,
        revman,
        not_estimable,
        other_model,
        ..base
    })
}

/// Study-level columns named `names`, as text columns.
pub fn extra_columns(set: &EffectSet, names: &[&str]) -> Result<Vec<TextColumn>> {
    names
        .iter()
        .map(|&n| {
            let m = set.moderators.iter().find(|m| m.name == n).ok_or_else(|| {
                let have: Vec<&str> = set.moderators.iter().map(|m| m.name.as_str()).collect();
                Error::invalid(format!(
                    "no column '{n}' in the data to show beside the studies (extra \
                         columns: {})",
                    if have.is_empty() {
                        "none".to_string()
                    } else {
                        have.join(", ")
                    }
                ))
            })?;
            Ok(TextColumn {
                header: vec![n.to_string()],
                values: m.values.iter().map(|v| v.as_text()).collect(),
            })
        })
        .collect()
}

/// Drops a leading empty header line so single-line columns sit on the header's last line.
fn tidy(mut cols: Vec<TextColumn>) -> Vec<TextColumn> {
    for c in &mut cols {
        c.header.retain(|h| !h.is_empty());
    }
    cols
}

/// The other model of `both_models`: the common-effect model beside a random-effects fit, or
/// the preset's τ² estimator beside a common-effect fit.
fn other_fit(fit: &RmaFit, preset: Preset) -> Result<RmaFit> {
    let method = if fit.options.method.is_fixed() {
        preset.method()
    } else {
        Method::FE
    };
    let o = RmaOptions {
        method,
        ..fit.options
    };
    rma(&fit.effects, &o)
}

/// The studies the effect layer left out of `set`, as "Not estimable" rows: their data cells
/// (`n_data` columns), their extra columns' cells and their subgroup (of the column `by`).
fn not_estimable_rows(
    studies: &Studies,
    set: &EffectSet,
    choices: &ForestChoices,
    by: Option<&str>,
    n_data: usize,
    data_cols: &dyn Fn(&[usize]) -> Vec<TextColumn>,
) -> Vec<NotEstimable> {
    let column = |name: &str| studies.moderators.iter().find(|m| m.name == name.trim());
    let by = by.and_then(column);
    set.omitted
        .iter()
        .map(|o| {
            let mut values: Vec<String> = if n_data == 0 {
                Vec::new()
            } else {
                data_cols(&[o.row])
                    .into_iter()
                    .map(|c| c.values.into_iter().next().unwrap_or_default())
                    .collect()
            };
            for name in choices.shown_cols() {
                values.push(column(name).map_or_else(String::new, |m| m.values[o.row].as_text()));
            }
            NotEstimable {
                label: o.label.clone(),
                row: o.row,
                values,
                group: by.map(|m| match &m.values[o.row] {
                    Value::Missing => "(missing)".to_string(),
                    v => v.as_text(),
                }),
                reason: o.reason.clone(),
            }
        })
        .collect()
}

/// RevMan's totals per arm (fitted and not-estimable studies alike), per subgroup and overall,
/// and its test for subgroup differences; `spans` are the arms' headers over RevMan's data
/// columns (empty, and no totals, without them).
fn revman_layout(
    studies: &Studies,
    fit: &RmaFit,
    subgroups: &[Subgroup],
    sg: Option<&SubgroupFit>,
    omitted: &[(usize, Option<&str>)],
    spans: Vec<Span>,
) -> RevmanLayout {
    let data = &studies.data;
    let with_totals = !spans.is_empty();
    let totals = |mut rows: Vec<usize>| {
        rows.sort_unstable();
        arm_totals(data, &rows).map(|t| column_totals(data, &t))
    };
    let mut all = fit.effects.rows.clone();
    all.extend(omitted.iter().map(|o| o.0));
    let subtotals = if with_totals {
        subgroups
            .iter()
            .filter_map(|g| {
                let mut rows: Vec<usize> = g.members.iter().map(|&i| fit.effects.rows[i]).collect();
                rows.extend(
                    omitted
                        .iter()
                        .filter(|o| o.1 == Some(g.name.as_str()))
                        .map(|o| o.0),
                );
                totals(rows)
            })
            .collect()
    } else {
        Vec::new()
    };
    RevmanLayout {
        method: None,
        spans,
        total: if with_totals { totals(all) } else { None },
        subtotals,
        subgroup_differences: sg.map(subgroup_differences_line),
    }
}

/// A multilevel model's forest plot: the fit's view ([`MvFit::forest_view`]) and its layout, the
/// rows grouped under the clusters of `cluster` (by default the outermost factor of the first
/// random-effects formula) in order of first appearance, with the cluster-robust row if given.
pub fn multilevel_forest(
    studies: &Studies,
    fit: &MvFit,
    mv: &MvOptions,
    robust: Option<&RobustFit>,
    cluster: Option<&str>,
) -> Result<(RmaFit, MultilevelLayout)> {
    let effects = EffectSet::from_studies(studies, mv.measure, &mv.escalc)?;
    let view = fit.forest_view(&effects)?;
    let column = match cluster {
        Some(c) => c.to_string(),
        None => outer_factor(mv)?,
    };
    let values = grouping_column(studies, &column, "the cluster variable")?;
    let rows = &view.effects.rows;
    let (of_row, first) = crate::data::levels::first_appearance(rows.iter().map(|&r| &values[r]));
    let mut clusters: Vec<Cluster> = first
        .iter()
        .map(|&i| {
            let value = &values[rows[i]];
            let name = match value {
                Value::Number(_) => format!("{column} {}", value.as_text()),
                _ => value.as_text(),
            };
            Cluster {
                name,
                members: Vec::new(),
            }
        })
        .collect();
    for (i, &c) in of_row.iter().enumerate() {
        clusters[c].members.push(i);
    }
    Ok((view, multilevel_layout(fit, robust, clusters)))
}

/// The outermost grouping variable of the first random-effects formula.
fn outer_factor(mv: &MvOptions) -> Result<String> {
    let first = mv
        .random
        .first()
        .ok_or_else(|| Error::invalid("a multilevel model needs a random-effects formula"))?;
    Ok(match RandomFormula::parse(first)? {
        RandomFormula::Nested(names) => names[0].clone(),
        RandomFormula::Structured { outer, .. } => outer,
    })
}
