//! Inference at the optimum of a multilevel model: GLS coefficients with z or t tests (dfs
//! residual or contain), the omnibus Wald test, QE, fit statistics, the prediction interval and
//! the multilevel I² (Nakagawa & Santos 2012, *Evol Ecol* 26:1253–1274).

use super::likelihood::{logdet_spd, Likelihood, Model};
use super::optimize::Optimum;
use super::random::Factor;
use super::structure::contain_groupings;
use super::{Design, Dfs, GFit, MvCoefficient, MvFit, MvOptions, VarianceComponent};
use crate::error::Result;
use crate::model::Test;
use crate::moderators::metareg::OmnibusTest;
use crate::stats::{pchisq_upper, pf_upper, pnorm_two_sided, pt_two_sided, qnorm_upper, qt_upper};
use nalgebra::{DMatrix, DVector};

/// Per-coefficient df under `dfs = "contain"`: the fewest levels among the factors within
/// whose levels the column is constant (k if none), minus p, at least 1.
fn contain_df(x: &DMatrix<f64>, factors: &[Factor]) -> Vec<f64> {
    let (k, p) = (x.nrows(), x.ncols());
    (0..p)
        .map(|j| {
            let mut best = k;
            for f in factors {
                let mut value = vec![None; f.nlevels];
                let constant = (0..k).all(|i| {
                    let v = value[f.level[i]].get_or_insert(x[(i, j)]);
                    *v == x[(i, j)]
                });
                if constant {
                    best = best.min(f.nlevels);
                }
            }
            (best as f64 - p as f64).max(1.0)
        })
        .collect()
}

/// The coefficient table.
fn coefficients(
    opts: &MvOptions,
    d: &Design,
    b: &DVector<f64>,
    vb: &DMatrix<f64>,
    df: &[f64],
) -> Vec<MvCoefficient> {
    let alpha = opts.level.alpha();
    (0..b.len())
        .map(|j| {
            let se = vb[(j, j)].sqrt();
            let stat = b[j] / se;
            let (crit, pval, dfj) = match opts.test {
                Test::T => (
                    qt_upper(alpha / 2.0, df[j]),
                    pt_two_sided(stat, df[j]),
                    Some(df[j]),
                ),
                _ => (qnorm_upper(alpha / 2.0), pnorm_two_sided(stat), None),
            };
            MvCoefficient {
                name: d.names[j].clone(),
                estimate: b[j],
                se,
                stat,
                df: dfj,
                pval,
                ci_lb: b[j] - crit * se,
                ci_ub: b[j] + crit * se,
            }
        })
        .collect()
}

/// The Wald test of all coefficients but the intercept (of the intercept alone when it is the
/// only one): χ² under z, F = χ²/m with the smallest df of the tested coefficients under t.
fn omnibus(test: Test, d: &Design, b: &DVector<f64>, vb: &DMatrix<f64>, df: &[f64]) -> OmnibusTest {
    let p = b.len();
    let s: Vec<usize> = if d.intercept && p > 1 {
        (1..p).collect()
    } else {
        (0..p).collect()
    };
    let m = s.len();
    let bs = DVector::from_fn(m, |a, _| b[s[a]]);
    let vs = DMatrix::from_fn(m, m, |a, c| vb[(s[a], s[c])]);
    let wald = vs
        .clone()
        .cholesky()
        .map_or(f64::NAN, |c| bs.dot(&c.solve(&bs)));
    match test {
        Test::T => {
            let ddf = s.iter().map(|&j| df[j]).fold(f64::INFINITY, f64::min);
            let f = wald / m as f64;
            OmnibusTest {
                stat: f,
                df: m,
                ddf: Some(ddf),
                pval: pf_upper(f, m as f64, ddf),
            }
        }
        _ => OmnibusTest {
            stat: wald,
            df: m,
            ddf: None,
            pval: pchisq_upper(wald, m as f64),
        },
    }
}

/// The fit statistics: parms, deviance, AIC, BIC, AICc (metafor's `fit.stats`).
fn fit_stats(
    lik: Likelihood,
    ll: f64,
    k: usize,
    p: usize,
    parms: usize,
    logdet_v: f64,
) -> [f64; 4] {
    let n = match lik {
        Likelihood::Ml => k,
        Likelihood::Reml => k - p,
    } as f64;
    let pm = parms as f64;
    let deviance = match lik {
        Likelihood::Ml => {
            let ll_sat = -0.5 * k as f64 * (2.0 * std::f64::consts::PI).ln() - 0.5 * logdet_v;
            -2.0 * (ll - ll_sat)
        }
        Likelihood::Reml => -2.0 * ll,
    };
    let nn = n.max(pm + 2.0);
    [
        deviance,
        -2.0 * ll + 2.0 * pm,
        -2.0 * ll + pm * n.ln(),
        -2.0 * ll + 2.0 * pm * nn / (nn - pm - 1.0),
    ]
}

/// Everything reported at the optimum.
#[allow(clippy::too_many_arguments)]
pub(super) fn inference(
    opts: &MvOptions,
    lik: Likelihood,
    d: Design,
    factors: Vec<Factor>,
    fixed: Vec<Option<f64>>,
    model: Model,
    opt: Optimum,
    scale: f64,
    warnings: Vec<String>,
    (g, h): (Option<GFit>, Option<GFit>),
) -> Result<MvFit> {
    let (k, p) = (model.k, model.p);
    let (b, vb) = (&opt.eval.b, &opt.eval.vb);
    let df: Vec<f64> = match (opts.test, opts.dfs) {
        (Test::T, Dfs::Contain) => {
            let mut all = factors.clone();
            for g in g.iter().chain(&h) {
                for grp in contain_groupings(&g.pos, &g.outer_ids) {
                    all.push(Factor {
                        name: String::new(),
                        nlevels: grp.n_levels,
                        level: grp.ids,
                    });
                }
            }
            contain_df(&d.x, &all)
        }
        _ => vec![(k - p) as f64; p],
    };
    let coefficients = coefficients(opts, &d, b, vb, &df);
    let qm = omnibus(opts.test, &d, b, vb, &df);
    let (_, qe, tr_p) = model.gls_v()?;
    let qe_df = k - p;
    let sum_s: f64 = opt.sigma2.iter().sum();
    // With one tau2 (gamma2) the PI adds it; with one per inner level metafor gives none.
    let tau2_pi = g.iter().chain(&h).try_fold(0.0, |sum, g| {
        (g.components.tau2.len() == 1).then(|| sum + g.components.tau2[0])
    });
    let pi = (p == 1 && d.intercept && tau2_pi.is_some()).then(|| {
        let sum_s = sum_s + tau2_pi.unwrap_or(0.0);
        let c = &coefficients[0];
        let crit = match opts.test {
            Test::T => qt_upper(opts.level.alpha() / 2.0, df[0]),
            _ => qnorm_upper(opts.level.alpha() / 2.0),
        };
        let sd = (c.se * c.se + sum_s).sqrt();
        (c.estimate - crit * sd, c.estimate + crit * sd)
    });
    let v_typ = qe_df as f64 / tr_p;
    let i2_components: Vec<f64> = opt
        .sigma2
        .iter()
        .map(|s| 100.0 * s / (sum_s + v_typ))
        .collect();
    let parms = p
        + fixed.iter().filter(|f| f.is_none()).count()
        + g.iter()
            .chain(&h)
            .map(|g| g.gs.n_estimated(&g.fixed))
            .sum::<usize>();
    let logdet_v: f64 = model
        .blocks
        .iter()
        .map(|blk| logdet_spd(&blk.v).unwrap_or(f64::NAN))
        .sum();
    let [deviance, aic, bic, aicc] = fit_stats(lik, opt.eval.ll, k, p, parms, logdet_v);
    let components = factors
        .iter()
        .zip(&opt.sigma2)
        .zip(&fixed)
        .map(|((f, &s), fx)| VarianceComponent {
            name: f.name.clone(),
            sigma2: s,
            nlevels: f.nlevels,
            fixed: fx.is_some(),
        })
        .collect();
    Ok(MvFit {
        k,
        p,
        method: opts.method,
        test: opts.test,
        dfs: opts.dfs,
        level: opts.level,
        coefficients,
        vb: vb.clone(),
        components,
        qe: (qe, qe_df, pchisq_upper(qe, qe_df as f64)),
        qm,
        loglik: opt.eval.ll,
        deviance,
        aic,
        bic,
        aicc,
        parms,
        pi,
        i2_total: 100.0 * sum_s / (sum_s + v_typ),
        i2_components,
        warnings,
        iterations: opt.iterations,
        rows: d.rows.clone(),
        intercept: d.intercept,
        g,
        h,
        model,
        lik,
        fixed,
        scale,
    })
}
