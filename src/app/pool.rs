//! The pooling workflow of `evident pool`, shared with the report: the fitted model and what its
//! options add to it — the profile-likelihood CI for τ² (Viechtbauer 2007), cluster-robust
//! inference (Hedges, Tipton & Johnson 2010; CR2: Pustejovsky & Tipton 2018), the permutation
//! test (Higgins & Thompson 2004), predictions and Wald tests of a meta-regression — computed by
//! one set of calls, so that the command line and the report's pages give the same numbers.

use crate::app::options::PoolOptions;
use crate::app::presets::PoolMethod;
use crate::data::{ColumnMap, Studies, Table};
use crate::effect::{EffectSet, EscalcOptions};
use crate::error::{Error, Result};
use crate::measure::Measure;
use crate::model::heterogeneity::Tau2CiType;
use crate::model::profile::rma_pl_ci;
use crate::model::{rma, Method, RmaFit, RmaOptions, Test};
use crate::moderators::metareg::{metareg_formula, MetaregFit};
use crate::moderators::permutation::{permutest, PermutationOptions, PermutationTest};
use crate::moderators::profile::metareg_pl_ci;
use crate::moderators::subgroup::{subgroup, SubgroupFit};
use crate::moderators::{Formula, Reference};
use crate::multilevel::{confint_all, rma_mv, Dfs, MvOptions, MvProfile, SamplingCov};
pub use crate::render::html::analysis::{MetaregExtras, MvRun, PooledExtras};
use crate::render::json;
use crate::reported::rows::RowResult;
use crate::reported::{to_effects_with, PoolRows};
use crate::robust::{robust_metareg, robust_mv, robust_rma, RobustFit};
use serde_json::Value;

/// The pooled model (no moderators, no subgroups) with what its options add.
#[derive(Debug, Clone)]
pub struct RmaRun {
    /// The fit, with the profile-likelihood CI for τ² when asked for.
    pub fit: RmaFit,
    /// Its cluster-robust inference and permutation test.
    pub extras: PooledExtras,
}

/// A meta-regression with what its options add.
#[derive(Debug, Clone)]
pub struct MetaregRun {
    /// The fit (factor references as asked), with the profile-likelihood CI when asked for.
    pub fit: MetaregFit,
    /// Its predictions, Wald tests, permutation test and cluster-robust inference.
    pub extras: MetaregExtras,
}

/// A subgroup analysis with the permutation test of its mixed model.
#[derive(Debug, Clone)]
pub struct SubgroupRun {
    /// The separate fits, the tests for subgroup differences and the common-τ² models.
    pub fit: SubgroupFit,
    /// The permutation test of the mixed model `~ factor(by)`.
    pub permutation: Option<PermutationTest>,
}

/// The fit with its Q-profile CI for τ² replaced by the profile-likelihood one under
/// `tau2_ci = pl` (Viechtbauer 2007 compares the two).
pub fn with_tau2_ci(o: &PoolOptions, mut fit: RmaFit) -> Result<RmaFit> {
    if o.tau2_ci == Tau2CiType::ProfileLikelihood {
        if fit.options.method.is_fixed() {
            return Err(Error::invalid(
                "`tau2_ci` pl: the fixed-effect model has no tau^2 to estimate",
            ));
        }
        fit.tau2_ci = Some(rma_pl_ci(&fit)?);
    }
    Ok(fit)
}

/// Mantel–Haenszel, Peto and RevMan 5's random-effects pooling get no profile-likelihood CI,
/// cluster-robust or permutation inference (those refit inverse-variance models): refused
/// rather than ignored.
pub fn refuse_for_tables(o: &PoolOptions) -> Result<()> {
    let asked = [
        ("robust", o.robust.is_some()),
        ("permutations", o.permutations.is_some()),
        ("tau2_ci", o.tau2_ci == Tau2CiType::ProfileLikelihood),
    ];
    match asked.iter().find(|a| a.1) {
        Some((key, _)) => Err(Error::invalid(format!(
            "`{key}` needs an inverse-variance model: choose `method` (e.g. REML or DL), not \
             Mantel–Haenszel or Peto"
        ))),
        None => Ok(()),
    }
}

/// The permutation test of `fit` under `permutations` (with `seed`), if asked for.
fn permutation(o: &PoolOptions, fit: &MetaregFit) -> Result<Option<PermutationTest>> {
    o.permutations
        .map(|iter| {
            permutest(
                fit,
                &PermutationOptions {
                    iter,
                    seed: o.seed.unwrap_or(1),
                    ..Default::default()
                },
            )
        })
        .transpose()
}

/// Cluster-robust inference by `run` on the `cluster` column, if `robust` asks for it.
fn robust_of(
    o: &PoolOptions,
    run: impl FnOnce(&str, crate::robust::RobustType) -> Result<RobustFit>,
) -> Result<Option<RobustFit>> {
    match (o.robust, &o.cluster) {
        (Some(m), Some(c)) => Ok(Some(run(c, m)?)),
        _ => Ok(None),
    }
}

/// Pools `set` with `rma` and adds the CI for τ², cluster-robust inference and the permutation
/// test its options ask for (metafor's `permutest` of an `rma` without `mods`: sign flips).
pub fn run_rma(set: &EffectSet, rma_o: &RmaOptions, o: &PoolOptions) -> Result<RmaRun> {
    let fit = with_tau2_ci(o, rma(set, rma_o)?)?;
    let robust = robust_of(o, |c, m| robust_rma(&fit, c, m))?;
    let permutation = match o.permutations {
        None => None,
        Some(_) => {
            let model = metareg_formula(set, &Formula::parse("1")?, rma_o)?;
            permutation(o, &model)?.map(|t| (model, t))
        }
    };
    Ok(RmaRun {
        fit,
        extras: PooledExtras {
            robust,
            permutation,
        },
    })
}

/// The meta-regression on `formula` with the `reference` levels, and the CI for τ²,
/// predictions, Wald tests, permutation test and cluster-robust inference its options ask for.
pub fn run_metareg(
    set: &EffectSet,
    formula: &str,
    rma_o: &RmaOptions,
    o: &PoolOptions,
) -> Result<MetaregRun> {
    let references = o.reference.iter().map(|r| Reference::parse(r)).collect();
    let formula = Formula::parse(formula)?.with_references(references);
    let mut fit = metareg_formula(set, &formula, rma_o)?;
    if o.tau2_ci == Tau2CiType::ProfileLikelihood {
        if fit.options.method.is_fixed() {
            return Err(Error::invalid(
                "`tau2_ci` pl: the fixed-effects model has no residual tau^2 to estimate",
            ));
        }
        fit.tau2_ci = Some(metareg_pl_ci(&fit)?);
    }
    let predictions = o
        .predict
        .iter()
        .map(|v| Ok((v.clone(), fit.predict_at(v)?)))
        .collect::<Result<Vec<_>>>()?;
    let wald = o
        .test_coefs
        .iter()
        .map(|t| fit.wald_test(t))
        .collect::<Result<Vec<_>>>()?;
    let permutation = permutation(o, &fit)?;
    let robust = robust_of(o, |c, m| robust_metareg(&fit, c, m))?;
    Ok(MetaregRun {
        fit,
        extras: MetaregExtras {
            predictions,
            wald,
            permutation,
            robust,
        },
    })
}

/// The subgroup analysis by `column`, with the permutation test of its mixed model.
pub fn run_subgroup(
    set: &EffectSet,
    column: &str,
    rma_o: &RmaOptions,
    o: &PoolOptions,
) -> Result<SubgroupRun> {
    let fit = subgroup(set, column, rma_o)?;
    let permutation = permutation(o, &fit.mixed)?;
    Ok(SubgroupRun { fit, permutation })
}

/// Reported rows (`reported`) as `pool --reported` reads them: each row converted by its own
/// rule (as `evident recompute`), the rows that give an SE kept, with `include_p_bounds` the
/// "p < b" rows at their SE bound. Returns the effects to pool and every row's conversion.
pub fn reported_effects(
    table: &Table,
    measure: Option<&str>,
    o: &PoolOptions,
) -> Result<(EffectSet, Vec<RowResult>)> {
    let how = PoolRows {
        include_se_bounds: o.include_p_bounds,
        allow_mixed_ratios: o.escalc.allow_mixed_ratios,
    };
    let (set, rows, _) = to_effects_with(table, measure, how)?;
    Ok((set, rows))
}

/// `col` mappings of reported rows: each mapped column is renamed to its field, and a column
/// already bearing the field's name gives way, so that the mapping wins.
pub fn map_reported_columns(table: &mut Table, map: &ColumnMap) -> Result<()> {
    let fields = crate::reported::rows::FIELDS;
    for (field, column) in map {
        let Some(&canonical) = fields.iter().find(|f| f.eq_ignore_ascii_case(field)) else {
            return Err(Error::invalid(format!(
                "`col` {field}=...: '{field}' is not a field of reported rows (known: {})",
                fields.join(", ")
            )));
        };
        let Some(ix) = table.column(column) else {
            return Err(Error::MappedColumnMissing {
                file: table.source.clone(),
                field: field.clone(),
                column: column.clone(),
            });
        };
        for (j, h) in table.headers.iter_mut().enumerate() {
            if j != ix && h.eq_ignore_ascii_case(canonical) {
                *h = format!("{h} (replaced by the mapping {field}={column})");
            }
        }
        table.headers[ix] = canonical.to_string();
    }
    Ok(())
}

/// Inserts `key` into a JSON object.
fn insert(v: &mut Value, key: &str, value: Value) {
    if let Some(obj) = v.as_object_mut() {
        obj.insert(key.into(), value);
    }
}

/// `pool --json` of the pooled model: the corpus's `rma` keys, with `robust` and `permutation`.
pub fn rma_run_json(r: &RmaRun) -> Value {
    let mut v = json::rma_json(&r.fit);
    add_pooled_json(&mut v, &r.extras);
    v
}

/// The `robust` and `permutation` keys of the pooled model's extras, added to its JSON.
pub fn add_pooled_json(v: &mut Value, x: &PooledExtras) {
    if let Some(rob) = &x.robust {
        insert(v, "robust", json::robust_json(rob));
    }
    if let Some((model, t)) = &x.permutation {
        insert(v, "permutation", json::permutation_json(model, t));
    }
}

/// `pool --mods --json`: the meta-regression's keys, with `robust`, `permutation`,
/// `predictions` and `wald_tests`.
pub fn metareg_run_json(fit: &MetaregFit, x: &MetaregExtras) -> Value {
    let mut v = json::metareg_json(fit);
    if let Some(rob) = &x.robust {
        insert(&mut v, "robust", json::robust_json(rob));
    }
    if let Some(t) = &x.permutation {
        insert(&mut v, "permutation", json::permutation_json(fit, t));
    }
    if !x.predictions.is_empty() {
        insert(
            &mut v,
            "predictions",
            json::predictions_json(fit, &x.predictions),
        );
    }
    if !x.wald.is_empty() {
        insert(&mut v, "wald_tests", json::wald_tests_json(&x.wald));
    }
    v
}

/// `pool --by --json`: the subgroup keys, with `mixed_permutation`.
pub fn subgroup_run_json(fit: &SubgroupFit, permutation: Option<&PermutationTest>) -> Value {
    let mut v = json::subgroup_json(fit);
    if let Some(t) = permutation {
        insert(
            &mut v,
            "mixed_permutation",
            json::permutation_json(&fit.mixed, t),
        );
    }
    v
}

/// The `rma.mv` options of `o` for effects of `measure` (escalc settings `escalc`): REML unless
/// ML is asked for, z unless t, the `rho` working correlation of `vcalc` or the `V_block`
/// covariance columns, the covariance structures and the df rule.
pub fn mv_options(o: &PoolOptions, measure: Measure, escalc: EscalcOptions) -> Result<MvOptions> {
    let method = match o.method {
        None => Method::REML,
        Some(PoolMethod::Rma(m @ (Method::REML | Method::ML))) => m,
        Some(_) => {
            return Err(Error::invalid(
                "`random`: a multilevel model is fitted by `method` REML or ML",
            ))
        }
    };
    let test = match o.test {
        None => Test::Z,
        Some(t @ (Test::Z | Test::T)) => t,
        Some(_) => {
            return Err(Error::invalid(
                "`random`: a multilevel model is tested with `test` z or t",
            ))
        }
    };
    let ml = &o.multilevel;
    let needs = |what: &str| Error::invalid(format!("`{what}` needs `cluster`"));
    let v = match (ml.rho, ml.v_block.is_empty()) {
        (Some(rho), _) => SamplingCov::Vcalc {
            cluster: o.cluster.clone().ok_or_else(|| needs("rho"))?,
            obs: ml
                .obs
                .clone()
                .ok_or_else(|| Error::invalid("`rho` needs `obs`"))?,
            rho,
        },
        (None, false) => SamplingCov::Blocks {
            columns: ml.v_block.clone(),
            cluster: o.cluster.clone().ok_or_else(|| needs("V_block"))?,
        },
        (None, true) => SamplingCov::Diag,
    };
    Ok(MvOptions {
        measure,
        escalc,
        random: ml.random.clone(),
        mods: o.mods.clone(),
        v,
        method,
        test,
        dfs: ml.dfs.unwrap_or(Dfs::Residual),
        level: o.level,
        sigma2: Vec::new(),
        structs: ml.structure.clone(),
        precision: None,
    })
}

/// Fits the multilevel model of `o` to `studies`, its cluster-robust inference and, under
/// `tau2_ci = pl`, the profile-likelihood CIs of its variance components.
pub fn run_mv(
    studies: &Studies,
    measure: Measure,
    escalc: EscalcOptions,
    o: &PoolOptions,
) -> Result<MvRun> {
    let options = mv_options(o, measure, escalc)?;
    let fit = rma_mv(studies, &options)?;
    let robust = match (o.robust, &o.cluster) {
        (Some(m), Some(c)) => Some(robust_mv(&fit, studies, c, m)?),
        _ => None,
    };
    let cis = match o.tau2_ci {
        Tau2CiType::ProfileLikelihood => confint_all(&fit, mv_pl_tol(o))?,
        _ => MvProfile::default(),
    };
    Ok(MvRun {
        options,
        fit,
        robust,
        cis,
    })
}

/// The root tolerance of the variance components' profile CIs: metafor's `confint()` default
/// (ε^¼) unless `tol` is given.
pub fn mv_pl_tol(o: &PoolOptions) -> f64 {
    o.tol.unwrap_or(f64::EPSILON.powf(0.25))
}

/// `pool --random --json`: the `rma.mv` keys, with `robust`.
pub fn mv_run_json(r: &MvRun) -> Value {
    let mut v = json::mv_json(&r.fit, &r.cis);
    if let Some(rob) = &r.robust {
        insert(&mut v, "robust", json::robust_json(rob));
    }
    v
}
