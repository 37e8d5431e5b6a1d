//! metafor's UM.RS model, `rma.glmm(model = "UM.RS")`: the logit (OR) or log rate (IRR) of arm j
//! of study i is μ + vᵢ + xᵢ'β·[j = 1] + uᵢ·gⱼ with vᵢ ~ N(0, σ²) and uᵢ ~ N(0, τ²) independent and
//! g = ±½, fitted by ML with the Laplace approximation as lme4's `glmer(nAGQ = 1)` (Stijnen,
//! Hamza & Özdemir 2010, *Stat Med* 29:3046–3067, §3.2, model with random study effects).

use super::*;

/// Fits the equal-effects (τ = 0), random-effects and saturated UM.RS models.
pub(super) fn fit(prep: &Prepared, measure: Measure, o: &GlmmOptions) -> Result<GlmmFit> {
    let m = &prep.model;
    let (p, k) = (prep.x.ncols(), prep.effects.k());
    let g = pirls::Glmer::new(m.family, &m.studies);
    // θ = (μ, β, σ, τ): the arms' design rows are (1, xᵢ) and (1, 0).
    let nb = p + 1;
    let (ee, ll_ee, _) = glmer(&g, nb, false)?;
    let (theta, loglik, lp0) = glmer(&g, nb, true)?;
    // lme4's vcov of a GLMM: the inverse Hessian of its deviance in (θ, β) jointly.
    let f = |_: usize, t: &[f64]| {
        g.deviance([t[nb], t[nb + 1]], &t[..nb], &lp0)
            .map(|d| -d / 2.0)
    };
    let sep = Separable {
        k: 1,
        local: false,
        term: &f,
        exact: None,
    };
    let v = fixed_vcov(&theta, 0, 2, |keep| sep.shared_cov(&theta, keep))?;
    let (ll_sat, qe_wld) = saturated(prep, &ee)?;
    let core = Core {
        beta: theta[1..=p].to_vec(),
        vbeta: v.view((1, 1), (p, p)).into_owned(),
        tau2: theta[p + 2].powi(2),
        sigma2: Some(theta[p + 1].powi(2)),
        loglik,
        ll_ee,
        ll_sat,
        qe_wld,
        q: p + 3,
        n_eff: 2 * k,
    };
    Ok(finish(core, prep, measure, o))
}

/// lme4's two stages for the model with the study × group effect (`group`) or without it (the
/// equal-effects fit): the ML estimates (b, σ, τ), the log-likelihood and stage 1's linear
/// predictor, which defines the stage-2 deviance.
fn glmer(g: &pirls::Glmer, nb: usize, group: bool) -> Result<(Vec<f64>, f64, Vec<Vec<f64>>)> {
    let what = if group {
        "random-effects"
    } else {
        "equal-effects"
    };
    let (th1, b1, lp0) = g
        .stage1(nb, [true, group])
        .ok_or_else(|| fit_failed(what))?;
    let f = |t: &[f64]| {
        g.deviance([t[nb], t[nb + 1]], &t[..nb], &lp0)
            .map_or(f64::NEG_INFINITY, |d| -d / 2.0)
    };
    let mut x0 = b1;
    x0.extend(th1);
    let mut free = vec![true; nb + 2];
    free[nb + 1] = group;
    let mut t = separable::maximise(&f, &x0, &free).ok_or_else(|| fit_failed(what))?;
    t[nb] = t[nb].abs();
    t[nb + 1] = t[nb + 1].abs();
    let ll = f(&t);
    Ok((t, ll, lp0))
}

/// The saturated UM.RS fit (a free group effect δᵢ per study, the random intercepts kept), started
/// at the equal-effects μ and σ as metafor does: its Laplace log-likelihood and the Wald test that
/// the δᵢ lie in the column space of X, their covariance from the fit's information. A study whose
/// arm-1 count is at a bound has δᵢ = ±∞: its term is the limit, and it leaves the Wald test (no
/// information), as the saturated weight 0 of UM.FS.
fn saturated(prep: &Prepared, ee: &[f64]) -> Result<(f64, f64)> {
    let m = &prep.model;
    let (p, k) = (prep.x.ncols(), prep.effects.k());
    let open: Vec<bool> = m
        .studies
        .iter()
        .map(|g| bound(&g[0], m.family).is_none())
        .collect();
    // θ = (μ, σ, δᵢ).
    let term = |i: usize, t: &[f64]| {
        let g = &m.studies[i];
        let sd = [t[1], 0.0];
        if open[i] {
            laplace::study(
                m.family,
                g,
                &[g[0].offset + t[0] + t[2], g[1].offset + t[0]],
                sd,
            )
        } else {
            let control = laplace::study(m.family, &g[1..], &[g[1].offset + t[0]], sd)?;
            Some(m.family.ll_saturated(&g[0]) + control)
        }
    };
    let sep = Separable {
        k,
        local: true,
        term: &term,
        exact: None,
    };
    let mut x0: Vec<f64> = m
        .studies
        .iter()
        .map(|g| pooled_link(m.family, &g[..1]) - pooled_link(m.family, &g[1..]))
        .collect();
    x0.extend([ee[0], ee[p + 1]]);
    let sat = sep
        .maximise(&x0, &[true, true])
        .ok_or_else(|| fit_failed("saturated"))?;
    // σ at 0 is left out of the information (even in σ, its cross-derivatives vanish).
    let keep = [true, sat[k + 1].abs() > 1e-6];
    let info = sep
        .own_information(&sat, &keep)
        .ok_or_else(|| fit_failed("saturated (singular information)"))?;
    let rows: Vec<usize> = (0..k).filter(|&i| open[i]).collect();
    let w = DMatrix::from_fn(rows.len(), rows.len(), |r, c| info[(rows[r], rows[c])]);
    let x = DMatrix::from_fn(rows.len(), p, |r, c| prep.x[(rows[r], c)]);
    let d = DVector::from_fn(rows.len(), |r, _| sat[rows[r]]);
    Ok((sep.value(&sat), wald_residual(&w, &x, &d)))
}
