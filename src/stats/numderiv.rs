//! Numerical Hessians as R's numDeriv computes them (`numDeriv::hessian`, method "Richardson"),
//! so that standard errors from a numerically differentiated likelihood agree with R's.
//!
//! Richardson 1911, *Phil Trans R Soc A* 210:307–357 (extrapolation); Gilbert & Varadhan,
//! numDeriv 2016.8-1.1 (`genD`, the algorithm ported here step for step).

/// `numDeriv::hessian`'s defaults besides `r`: `d` (relative step), `eps` (step at zero),
/// `zero.tol`, `v = 2`. `hessian` passes d = 0.1 to `genD`, not genD's own default 1e-4: with
/// 1e-4 the sixth halving leaves steps of ~5e-6, whose second differences are rounding noise.
const D: f64 = 0.1;
const EPS: f64 = 1e-4;

/// `sqrt(.Machine$double.eps / 7e-7)`: |x| below this counts as zero.
fn zero_tol() -> f64 {
    (f64::EPSILON / 7e-7).sqrt()
}

/// Richardson extrapolation of `r` estimates made with steps h, h/2, h/4, … (error O(h²)).
fn extrapolate(mut a: Vec<f64>) -> f64 {
    let r = a.len();
    for m in 1..r {
        let f = 4f64.powi(m as i32);
        for k in 0..r - m {
            a[k] = (a[k + 1] * f - a[k]) / (f - 1.0);
        }
    }
    a[0]
}

/// The Hessian of `f` at `x` by numDeriv's `genD` with `r` Richardson levels (metafor passes
/// `r = 6`); entries are NaN where `f` is not finite near `x`.
pub fn hessian(f: &dyn Fn(&[f64]) -> f64, x: &[f64], r: usize) -> Vec<Vec<f64>> {
    let n = x.len();
    let f0 = f(x);
    let h0: Vec<f64> = x
        .iter()
        .map(|&xi| (D * xi).abs() + if xi.abs() < zero_tol() { EPS } else { 0.0 })
        .collect();
    let at = |moves: &[(usize, f64)]| {
        let mut y = x.to_vec();
        for &(i, s) in moves {
            y[i] += s;
        }
        f(&y)
    };
    let mut hm = vec![vec![0.0; n]; n];
    for i in 0..n {
        let diag: Vec<f64> = (0..r)
            .map(|k| {
                let h = h0[i] / 2f64.powi(k as i32);
                (at(&[(i, h)]) - 2.0 * f0 + at(&[(i, -h)])) / (h * h)
            })
            .collect();
        hm[i][i] = extrapolate(diag);
    }
    for i in 0..n {
        for j in 0..i {
            let off: Vec<f64> = (0..r)
                .map(|k| {
                    let s = 2f64.powi(k as i32);
                    let (hi, hj) = (h0[i] / s, h0[j] / s);
                    (at(&[(i, hi), (j, hj)]) - 2.0 * f0 + at(&[(i, -hi), (j, -hj)])
                        // genD's `Hdiag[i]*h[i]^2`: the square first, for R's rounding.
                        - hm[i][i] * (hi * hi)
                        - hm[j][j] * (hj * hj))
                        / (2.0 * hi * hj)
                })
                .collect();
            let v = extrapolate(off);
            hm[i][j] = v;
            hm[j][i] = v;
        }
    }
    hm
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A polynomial of degree 4: Richardson with 6 levels is exact to rounding.
    #[test]
    fn hessian_of_a_quartic() {
        let f = |x: &[f64]| x[0].powi(4) + 3.0 * x[0] * x[1] + x[1].powi(2) * x[0];
        let h = hessian(&f, &[1.5, -0.5], 6);
        let want = [[12.0 * 1.5 * 1.5, 3.0 + 2.0 * -0.5], [3.0 - 1.0, 2.0 * 1.5]];
        for i in 0..2 {
            for j in 0..2 {
                assert!((h[i][j] - want[i][j]).abs() < 1e-7, "{i}{j}: {}", h[i][j]);
            }
        }
    }

    /// numDeriv 2016.8-1.1's own `hessian` of a transcendental function, with its default r = 4
    /// and metafor's r = 6, at a point with a zero coordinate (step eps there):
    /// tests/fixtures/selmodel/numderiv_hessian.R. The same arithmetic in the same order gives
    /// R's numbers to rounding; the noise-sized entries (~1e-10, the true value is 0) are held
    /// to an absolute 1e-12 because they are where a different order of operations would show.
    #[test]
    fn hessian_matches_numderiv() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/selmodel/numderiv_hessian.json"
        );
        let want: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let f = |x: &[f64]| {
            x[0].exp() * x[1].sin()
                + (1.0 + x[0] * x[0] * (x[1] * x[1])).ln()
                + x[2].cos() * x[0]
                + x[2].powf(3.0) / (1.0 + x[1] * x[1])
        };
        let x: Vec<f64> = want["x"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        for (key, r) in [("hessian_r4", 4), ("hessian_r6", 6)] {
            let h = hessian(&f, &x, r);
            for i in 0..3 {
                for j in 0..3 {
                    let w = want[key][i][j].as_f64().unwrap();
                    let tol = 1e-12 + 1e-10 * w.abs();
                    assert!(
                        (h[i][j] - w).abs() <= tol,
                        "{key}[{i}][{j}]: {} vs {w}",
                        h[i][j]
                    );
                }
            }
        }
    }
}
