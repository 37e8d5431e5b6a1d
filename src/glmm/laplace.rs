//! The Laplace approximation to one study's marginal likelihood under two independent normal
//! random effects (Tierney & Kadane 1986, *J Am Stat Assoc* 81:82–86): the conditional mode of
//! the standardised effects by Newton's method, then the log posterior there minus half the log
//! determinant of its negative Hessian. Exact at the mode, it serves UM.RS's saturated fit; the
//! model itself follows lme4's own evaluation ([`super::pirls`]).

use super::agq::{Family, Obs};

/// log ∫∫ Πⱼ f(yⱼ | ηⱼ) φ(a) φ(b) da db by Laplace, ηⱼ = `eta0`ⱼ + sd₀·a + sd₁·cⱼ·b (cⱼ the
/// observation's group coding). `None` when the mode search fails.
pub fn study(family: Family, obs: &[Obs], eta0: &[f64], sd: [f64; 2]) -> Option<f64> {
    // The log posterior h(a, b) = Σ log f − (a² + b²)/2, its gradient and negative Hessian.
    let eval = |ab: [f64; 2]| {
        let (mut l, mut g, mut nh) = (0.0, [-ab[0], -ab[1]], [1.0, 0.0, 1.0]);
        for (o, &e) in obs.iter().zip(eta0) {
            let z = [sd[0], sd[1] * o.c];
            let (f, d1, d2) = family.ll(o, e + z[0] * ab[0] + z[1] * ab[1]);
            l += f;
            g[0] += d1 * z[0];
            g[1] += d1 * z[1];
            nh[0] -= d2 * z[0] * z[0];
            nh[1] -= d2 * z[0] * z[1];
            nh[2] -= d2 * z[1] * z[1];
        }
        (l - (ab[0] * ab[0] + ab[1] * ab[1]) / 2.0, g, nh)
    };
    let mut ab = [0.0, 0.0];
    let (mut f, mut g, mut nh) = eval(ab);
    for _ in 0..200 {
        // Newton step (−∇²h)⁻¹∇h of the concave h, halved while it overshoots.
        let det = nh[0] * nh[2] - nh[1] * nh[1];
        let mut step = [
            (nh[2] * g[0] - nh[1] * g[1]) / det,
            (nh[0] * g[1] - nh[1] * g[0]) / det,
        ];
        let mut tries = 0;
        let next = loop {
            let t = [ab[0] + step[0], ab[1] + step[1]];
            let e = eval(t);
            if e.0 >= f - 1e-14 * f.abs().max(1.0) || tries > 60 {
                break (t, e);
            }
            step = [step[0] / 2.0, step[1] / 2.0];
            tries += 1;
        };
        ab = next.0;
        (f, g, nh) = next.1;
        if step[0].abs().max(step[1].abs()) < 1e-13 * (1.0 + ab[0].abs().max(ab[1].abs())) {
            let det = nh[0] * nh[2] - nh[1] * nh[1];
            return (f.is_finite() && det > 0.0).then(|| f - det.ln() / 2.0);
        }
    }
    None
}
