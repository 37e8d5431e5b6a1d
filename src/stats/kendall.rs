//! Kendall's rank correlation and its test, as R's `cor.test(method = "kendall")`.
//!
//! Kendall 1938, *Biometrika* 30:81–93 (τ); the exact null distribution counts permutations by their
//! number of inversions (Kendall 1948, *Rank Correlation Methods*), as R's `ckendall`; with ties the
//! normal approximation uses the tie-corrected variance of S (Kendall 1948, ch. 4).

use super::{pnorm, pnorm_upper};

/// Kendall's τ_b (ties in either variable reduce the denominator), as R's `cor(method = "kendall")`.
pub fn tau_b(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (mut s, mut nx, mut ny) = (0.0, 0.0, 0.0);
    for i in 0..n {
        for j in 0..i {
            let sx = sign(x[i] - x[j]);
            let sy = sign(y[i] - y[j]);
            s += sx * sy;
            nx += sx * sx;
            ny += sy * sy;
        }
    }
    if nx == 0.0 || ny == 0.0 {
        return f64::NAN;
    }
    (s / (nx.sqrt() * ny.sqrt())).clamp(-1.0, 1.0)
}

fn sign(d: f64) -> f64 {
    if d > 0.0 {
        1.0
    } else if d < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// P(T ≤ q) for T the number of concordant pairs among n untied observations under independence
/// (R's `pkendall`): the distribution of the number of inversions of a random permutation.
pub fn pkendall(q: f64, n: usize) -> f64 {
    let q = (q + 1e-7).floor();
    let u = n * n.saturating_sub(1) / 2;
    if q < 0.0 {
        return 0.0;
    }
    if q >= u as f64 {
        return 1.0;
    }
    // Probabilities rather than counts, so that n! never overflows: p_m(k) = (1/m) Σ_{i<m} p_{m−1}(k − i).
    let mut p = vec![1.0];
    for m in 2..=n {
        let len = m * (m - 1) / 2 + 1;
        let mut next = vec![0.0; len];
        // A running window sum over the previous row.
        let mut window = 0.0;
        for (k, slot) in next.iter_mut().enumerate() {
            if k < p.len() {
                window += p[k];
            }
            if k >= m && k - m < p.len() {
                window -= p[k - m];
            }
            *slot = window / m as f64;
        }
        p = next;
    }
    p.iter().take(q as usize + 1).sum::<f64>().min(1.0)
}

/// The result of a Kendall rank-correlation test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KendallTest {
    /// Kendall's τ_b (tie-corrected).
    pub tau: f64,
    /// Two-sided p-value.
    pub pval: f64,
    /// Whether the exact permutation distribution was used (no ties and `exact` requested).
    pub exact: bool,
}

/// Two-sided test of Kendall's τ, as R's `cor.test(x, y, method = "kendall", exact = exact)`:
/// exact when requested and there are no ties, else the normal approximation with tie-corrected
/// variance (no continuity correction, R's default).
pub fn kendall_test(x: &[f64], y: &[f64], exact: bool) -> KendallTest {
    let n = x.len();
    let tau = tau_b(x, y);
    let ties = distinct(x) < n || distinct(y) < n;
    if !tau.is_finite() {
        return KendallTest {
            tau: f64::NAN,
            pval: f64::NAN,
            exact: false,
        };
    }
    let nf = n as f64;
    if exact && !ties {
        let q = ((tau + 1.0) * nf * (nf - 1.0) / 4.0).round();
        let p = if q > nf * (nf - 1.0) / 4.0 {
            1.0 - pkendall(q - 1.0, n)
        } else {
            pkendall(q, n)
        };
        return KendallTest {
            tau,
            pval: (2.0 * p).min(1.0),
            exact: true,
        };
    }
    let tx = tie_sizes(x);
    let ty = tie_sizes(y);
    let t0 = nf * (nf - 1.0) / 2.0;
    let sum = |t: &[f64], f: &dyn Fn(f64) -> f64| t.iter().map(|&t| f(t)).sum::<f64>();
    let t1 = sum(&tx, &|t| t * (t - 1.0)) / 2.0;
    let t2 = sum(&ty, &|t| t * (t - 1.0)) / 2.0;
    let s = tau * ((t0 - t1) * (t0 - t2)).sqrt();
    let v0 = nf * (nf - 1.0) * (2.0 * nf + 5.0);
    let vt = sum(&tx, &|t| t * (t - 1.0) * (2.0 * t + 5.0));
    let vu = sum(&ty, &|t| t * (t - 1.0) * (2.0 * t + 5.0));
    let v1 = sum(&tx, &|t| t * (t - 1.0)) * sum(&ty, &|t| t * (t - 1.0));
    let v2 = sum(&tx, &|t| t * (t - 1.0) * (t - 2.0)) * sum(&ty, &|t| t * (t - 1.0) * (t - 2.0));
    let var_s = (v0 - vt - vu) / 18.0
        + v1 / (2.0 * nf * (nf - 1.0))
        + v2 / (9.0 * nf * (nf - 1.0) * (nf - 2.0));
    let z = s / var_s.sqrt();
    KendallTest {
        tau,
        pval: 2.0 * pnorm(z).min(pnorm_upper(z)),
        exact: false,
    }
}

fn distinct(x: &[f64]) -> usize {
    let mut v = x.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.dedup();
    v.len()
}

/// Sizes of the groups of tied values (groups of size ≥ 2 only).
fn tie_sizes(x: &[f64]) -> Vec<f64> {
    let mut v = x.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i + 1;
        while j < v.len() && v[j] == v[i] {
            j += 1;
        }
        if j - i > 1 {
            out.push((j - i) as f64);
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rtol: f64) -> bool {
        (a - b).abs() <= 1e-15 + rtol * b.abs()
    }

    #[test]
    fn exact_matches_r() {
        // cor.test(1:7, c(1,3,2,5,4,7,6), method="kendall", exact=TRUE)$p.value = 0.030158730158730052
        let r = kendall_test(
            &[1., 2., 3., 4., 5., 6., 7.],
            &[1., 3., 2., 5., 4., 7., 6.],
            true,
        );
        assert!(r.exact);
        assert!(close(r.tau, 0.7142857142857143, 1e-14));
        assert!(close(r.pval, 0.030158730158730052, 1e-12), "{}", r.pval);
        // cor.test(1:10, c(3,1,2,6,5,4,10,7,9,8), method="kendall")$p.value = 0.016666115520282077
        let r = kendall_test(
            &[1., 2., 3., 4., 5., 6., 7., 8., 9., 10.],
            &[3., 1., 2., 6., 5., 4., 10., 7., 9., 8.],
            true,
        );
        assert!(close(r.pval, 0.016666115520282077, 1e-12), "{}", r.pval);
    }

    #[test]
    fn ties_use_normal_approximation_as_r() {
        // suppressWarnings(cor.test(c(1,2,2,3,4,5), c(2,1,3,3,5,4), method="kendall"))
        //   estimate 0.64285714285714279, p.value 0.07983871964585261
        let r = kendall_test(&[1., 2., 2., 3., 4., 5.], &[2., 1., 3., 3., 5., 4.], true);
        assert!(!r.exact);
        assert!(close(r.tau, 0.64285714285714279, 1e-13), "{}", r.tau);
        assert!(close(r.pval, 0.07983871964585261, 1e-10), "{}", r.pval);
    }
}
