//! Brent's root finder as R's `uniroot()` runs it (R's `R_zeroin2`, after Brent 1973, *Algorithms for
//! Minimization without Derivatives*, ch. 4).
//!
//! metafor finds the Paule–Mandel estimate and the Q-profile bounds with `uniroot(tol = eps^0.25)`,
//! so its answers carry that tolerance's error. Running the same iteration, step for step, gives the
//! same answers to the last bits, rather than a "better" root that disagrees with metafor at 1e-5.

/// Why the search gave no root.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ZeroinError {
    /// f(lower) and f(upper) have the same sign.
    NoSignChange,
    /// The iteration limit was reached.
    MaxIter,
    /// The function returned a non-finite value.
    NotFinite,
}

/// Finds a root of `f` in `[lower, upper]` with R's defaults for `uniroot` (absolute tolerance `tol`,
/// at most `maxiter` function evaluations after the two end points).
pub fn uniroot<F: FnMut(f64) -> f64>(
    mut f: F,
    lower: f64,
    upper: f64,
    tol: f64,
    maxiter: usize,
) -> Result<f64, ZeroinError> {
    let fa = f(lower);
    let fb = f(upper);
    if !fa.is_finite() || !fb.is_finite() {
        return Err(ZeroinError::NotFinite);
    }
    if fa * fb > 0.0 {
        return Err(ZeroinError::NoSignChange);
    }
    zeroin2(f, lower, upper, fa, fb, tol, maxiter)
}

/// The iteration itself, given the function values at the end points.
pub fn zeroin2<F: FnMut(f64) -> f64>(
    mut f: F,
    ax: f64,
    bx: f64,
    fa0: f64,
    fb0: f64,
    tol: f64,
    maxiter: usize,
) -> Result<f64, ZeroinError> {
    let (mut a, mut b) = (ax, bx);
    let (mut fa, mut fb) = (fa0, fb0);
    let mut c = a;
    let mut fc = fa;
    if fa == 0.0 {
        return Ok(a);
    }
    if fb == 0.0 {
        return Ok(b);
    }
    let mut remaining = maxiter + 1;
    while remaining > 0 {
        remaining -= 1;
        let prev_step = b - a;
        if fc.abs() < fb.abs() {
            // Keep b the best approximation.
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol_act = 2.0 * f64::EPSILON * b.abs() + tol / 2.0;
        let mut new_step = (c - b) / 2.0;
        if new_step.abs() <= tol_act || fb == 0.0 {
            return Ok(b);
        }
        if prev_step.abs() >= tol_act && fa.abs() > fb.abs() {
            let cb = c - b;
            let (mut p, mut q);
            if a == c {
                // Linear interpolation (secant).
                let t1 = fb / fa;
                p = cb * t1;
                q = 1.0 - t1;
            } else {
                // Inverse quadratic interpolation.
                let qq = fa / fc;
                let t1 = fb / fc;
                let t2 = fb / fa;
                p = t2 * (cb * qq * (qq - t1) - (b - a) * (t1 - 1.0));
                q = (qq - 1.0) * (t1 - 1.0) * (t2 - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if p < (0.75 * cb * q - (tol_act * q).abs() / 2.0) && p < (prev_step * q / 2.0).abs() {
                new_step = p / q;
            }
        }
        if new_step.abs() < tol_act {
            new_step = if new_step > 0.0 { tol_act } else { -tol_act };
        }
        a = b;
        fa = fb;
        b += new_step;
        fb = f(b);
        if !fb.is_finite() {
            return Err(ZeroinError::NotFinite);
        }
        if (fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0) {
            c = a;
            fc = fa;
        }
    }
    Err(ZeroinError::MaxIter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sqrt2_like_r() {
        // R: uniroot(function(x) x^2 - 2, c(0, 2), tol = 1e-12)$root = 1.4142135623730951
        let r = uniroot(|x| x * x - 2.0, 0.0, 2.0, 1e-12, 1000).unwrap();
        assert!((r - std::f64::consts::SQRT_2).abs() < 1e-12);
    }

    #[test]
    fn same_sign_is_an_error() {
        assert_eq!(
            uniroot(|x| x * x + 1.0, -1.0, 1.0, 1e-8, 100),
            Err(ZeroinError::NoSignChange)
        );
    }
}
