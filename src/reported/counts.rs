//! Effects from counts: 2×2 tables (OR, RR, RD) and single proportions.
//!
//! Woolf (Ann Hum Genet 1955) for the log OR, Katz et al. (Biometrics 1978) for the log RR, the exact
//! conditional OR of Cornfield (1956) as R's `fisher.test` computes it, Newcombe (Stat Med 1998,
//! method 10) for the RD, Wilson (JASA 1927) and Clopper & Pearson (Biometrika 1934) for proportions.

use super::effect::Effect;
use crate::error::{Error, Result};
use crate::stats::level::Level;
use crate::stats::{self, zeroin::uniroot};

/// A 2×2 table: events `a` and non-events `b` in group 1, events `c` and non-events `d` in group 2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Table2x2 {
    pub(crate) a: f64,
    pub(crate) b: f64,
    pub(crate) c: f64,
    pub(crate) d: f64,
}

impl Table2x2 {
    /// A table from events and group sizes; every cell must be a non-negative whole number.
    pub fn from_events(e1: f64, n1: f64, e2: f64, n2: f64) -> Result<Table2x2> {
        Table2x2::new(e1, n1 - e1, e2, n2 - e2)
    }

    /// A table from its four cells.
    pub fn new(a: f64, b: f64, c: f64, d: f64) -> Result<Table2x2> {
        for (v, name) in [(a, "a"), (b, "b"), (c, "c"), (d, "d")] {
            if !(v >= 0.0 && v.fract() == 0.0 && v.is_finite()) {
                return Err(Error::invalid(format!(
                    "2×2 cell {name} = {v}: counts must be non-negative whole numbers \
                     (events cannot exceed the group size)"
                )));
            }
        }
        Ok(Table2x2 { a, b, c, d })
    }

    fn has_zero(&self) -> bool {
        self.a == 0.0 || self.b == 0.0 || self.c == 0.0 || self.d == 0.0
    }

    /// 0.5 added to every cell when one is zero (metafor's default `add = 1/2, to = "only0"`).
    fn corrected(&self) -> Table2x2 {
        if self.has_zero() {
            Table2x2 {
                a: self.a + 0.5,
                b: self.b + 0.5,
                c: self.c + 0.5,
                d: self.d + 0.5,
            }
        } else {
            *self
        }
    }
}

/// Woolf's log odds ratio with its Wald CI; var = 1/a + 1/b + 1/c + 1/d.
pub fn or_woolf(t: &Table2x2, level: Level) -> Result<Effect> {
    let t = t.corrected();
    Effect::from_se(
        (t.a * t.d / (t.b * t.c)).ln(),
        (1.0 / t.a + 1.0 / t.b + 1.0 / t.c + 1.0 / t.d).sqrt(),
        level,
    )
}

/// Katz's log risk ratio; var = 1/a − 1/n₁ + 1/c − 1/n₂.
pub fn rr_katz(t: &Table2x2, level: Level) -> Result<Effect> {
    let t = t.corrected();
    let (n1, n2) = (t.a + t.b, t.c + t.d);
    Effect::from_se(
        ((t.a / n1) / (t.c / n2)).ln(),
        (1.0 / t.a - 1.0 / n1 + 1.0 / t.c - 1.0 / n2).sqrt(),
        level,
    )
}

/// Wald risk difference p₁ − p₂; var = p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂.
pub fn rd_wald(t: &Table2x2, level: Level) -> Result<Effect> {
    let (n1, n2) = (t.a + t.b, t.c + t.d);
    if n1 == 0.0 || n2 == 0.0 {
        return Err(Error::invalid(
            "a risk difference needs both groups non-empty",
        ));
    }
    let (p1, p2) = (t.a / n1, t.c / n2);
    Effect::from_se(
        p1 - p2,
        (p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2).sqrt(),
        level,
    )
}

/// A point estimate with a confidence interval, on the natural scale.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    /// The point estimate.
    pub estimate: f64,
    /// Lower confidence limit.
    pub ci_lb: f64,
    /// Upper confidence limit.
    pub ci_ub: f64,
}

/// Newcombe's hybrid score interval for p₁ − p₂ (his method 10): Wilson limits of each proportion
/// combined by the square-and-add rule.
pub fn rd_newcombe(t: &Table2x2, level: Level) -> Result<Interval> {
    let (n1, n2) = (t.a + t.b, t.c + t.d);
    let w1 = wilson(t.a, n1, level)?;
    let w2 = wilson(t.c, n2, level)?;
    let (p1, p2) = (w1.estimate, w2.estimate);
    let d = p1 - p2;
    Ok(Interval {
        estimate: d,
        ci_lb: d - ((p1 - w1.ci_lb).powi(2) + (w2.ci_ub - p2).powi(2)).sqrt(),
        ci_ub: d + ((w1.ci_ub - p1).powi(2) + (p2 - w2.ci_lb).powi(2)).sqrt(),
    })
}

fn check_prop(x: f64, n: f64) -> Result<()> {
    if !(n > 0.0 && x >= 0.0 && x <= n && x.fract() == 0.0 && n.fract() == 0.0) {
        return Err(Error::invalid(format!(
            "{x} events out of {n}: expected whole numbers with 0 <= events <= total, total > 0"
        )));
    }
    Ok(())
}

/// Wilson's score interval for x/n (R: `prop.test(x, n, correct = FALSE)$conf.int`).
pub fn wilson(x: f64, n: f64, level: Level) -> Result<Interval> {
    check_prop(x, n)?;
    let z = level.z();
    let z2 = z * z;
    let centre = (x + z2 / 2.0) / (n + z2);
    let half = z / (n + z2) * (x * (n - x) / n + z2 / 4.0).sqrt();
    Ok(Interval {
        estimate: x / n,
        ci_lb: (centre - half).max(0.0),
        ci_ub: (centre + half).min(1.0),
    })
}

/// Clopper–Pearson exact interval for x/n (R: `binom.test(x, n)$conf.int`).
pub fn clopper_pearson(x: f64, n: f64, level: Level) -> Result<Interval> {
    check_prop(x, n)?;
    let alpha = level.alpha();
    Ok(Interval {
        estimate: x / n,
        ci_lb: if x == 0.0 {
            0.0
        } else {
            stats::qbeta(alpha / 2.0, x, n - x + 1.0)
        },
        ci_ub: if x == n {
            1.0
        } else {
            stats::qbeta(1.0 - alpha / 2.0, x + 1.0, n - x)
        },
    })
}

/// Two-sided exact binomial test of H₀: P = p0 (R's `binom.test`: outcomes no more likely than the
/// observed one, with R's relative tolerance 1 + 10⁻⁷).
pub fn binom_test_p(x: f64, n: f64, p0: f64) -> Result<f64> {
    check_prop(x, n)?;
    let rel = 1.0 + 1e-7;
    let d = stats::dbinom(x, n, p0);
    let m = n * p0;
    let p = if x == m {
        1.0
    } else if x < m {
        let y = (m.ceil() as u64..=n as u64)
            .filter(|&i| stats::dbinom(i as f64, n, p0) <= d * rel)
            .count() as f64;
        stats::pbinom(x, n, p0) + stats::pbinom_upper(n - y, n, p0)
    } else {
        let y = (0..=m.floor() as u64)
            .filter(|&i| stats::dbinom(i as f64, n, p0) <= d * rel)
            .count() as f64;
        stats::pbinom(y - 1.0, n, p0) + stats::pbinom_upper(x - 1.0, n, p0)
    };
    Ok(p.min(1.0))
}

/// The exact conditional odds ratio of a 2×2 table.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ExactOr {
    /// Conditional maximum-likelihood estimate (0 or ∞ at the edges of the support).
    pub estimate: f64,
    /// Lower limit of Cornfield's exact interval (as `fisher.test`, which solves with `uniroot`'s
    /// default tolerance).
    pub ci_lb: f64,
    /// Upper limit of Cornfield's exact interval.
    pub ci_ub: f64,
    /// Fisher's exact two-sided p-value.
    pub pval: f64,
    /// Mid-p two-sided p-value: 2·min(P(X<x) + P(X=x)/2, P(X>x) + P(X=x)/2), capped at 1.
    pub midp: f64,
    /// Lower mid-p exact limit (the tails above with P(X=x) counted half), solved to 1e-10.
    pub midp_ci_lb: f64,
    /// Upper mid-p exact limit, likewise.
    pub midp_ci_ub: f64,
}

/// The non-central hypergeometric distribution of `a` given the margins.
struct NcHyper {
    lo: f64,
    support: Vec<f64>,
    logdc: Vec<f64>,
}

impl NcHyper {
    fn new(t: &Table2x2) -> NcHyper {
        let (m, n, k) = (t.a + t.c, t.b + t.d, t.a + t.b);
        let lo = (k - n).max(0.0);
        let hi = k.min(m);
        let support: Vec<f64> = (lo as u64..=hi as u64).map(|i| i as f64).collect();
        let logdc = support
            .iter()
            .map(|&x| stats::ldhyper(x, m, n, k))
            .collect();
        NcHyper { lo, support, logdc }
    }
    fn hi(&self) -> f64 {
        *self.support.last().expect("support is never empty")
    }
    fn density(&self, ncp: f64) -> Vec<f64> {
        let d: Vec<f64> = self
            .logdc
            .iter()
            .zip(&self.support)
            .map(|(l, s)| l + ncp.ln() * s)
            .collect();
        let mx = d.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = d.iter().map(|v| (v - mx).exp()).collect();
        let s: f64 = e.iter().sum();
        e.into_iter().map(|v| v / s).collect()
    }
    fn mean(&self, ncp: f64) -> f64 {
        if ncp == 0.0 {
            return self.lo;
        }
        if ncp.is_infinite() {
            return self.hi();
        }
        self.density(ncp)
            .iter()
            .zip(&self.support)
            .map(|(d, s)| d * s)
            .sum()
    }
    /// P(X ≥ q) when `upper`, else P(X ≤ q); `half` counts P(X = q) half (mid-p).
    fn tail(&self, q: f64, ncp: f64, upper: bool, half: bool) -> f64 {
        if ncp == 0.0 || ncp.is_infinite() {
            let at = if ncp == 0.0 { self.lo } else { self.hi() };
            let inside = if upper { at >= q } else { at <= q };
            let w = if half && at == q { 0.5 } else { 1.0 };
            return if inside { w } else { 0.0 };
        }
        self.density(ncp)
            .iter()
            .zip(&self.support)
            .filter(|(_, &s)| if upper { s >= q } else { s <= q })
            .map(|(d, &s)| if half && s == q { 0.5 * d } else { *d })
            .sum()
    }
}

const R_TOL: f64 = 1.220703125e-4; // .Machine$double.eps^0.25, uniroot's default

fn root(f: impl FnMut(f64) -> f64, lo: f64, hi: f64, tol: f64) -> Result<f64> {
    uniroot(f, lo, hi, tol, 1000)
        .map_err(|e| Error::invalid(format!("exact odds ratio: root search failed ({e:?})")))
}

/// Exact conditional odds ratio, Cornfield limits and Fisher's p-value, as R's `fisher.test`.
pub fn or_exact(t: &Table2x2, level: Level) -> Result<ExactOr> {
    let alpha = level.alpha() / 2.0;
    let h = NcHyper::new(t);
    let x = t.a;
    let (lo, hi) = (h.lo, h.hi());
    let eps = f64::EPSILON;

    let estimate = if x == lo {
        0.0
    } else if x == hi {
        f64::INFINITY
    } else {
        let mu = h.mean(1.0);
        if mu > x {
            root(|s| h.mean(s) - x, 0.0, 1.0, R_TOL)?
        } else if mu < x {
            1.0 / root(|s| h.mean(1.0 / s) - x, eps, 1.0, R_TOL)?
        } else {
            1.0
        }
    };
    // Solves tail(ψ) = α for the limit, searching ψ in (0, 1] or 1/ψ in (0, 1] as fisher.test does.
    let limit = |upper: bool, half: bool, tol: f64| -> Result<f64> {
        if upper && x == lo || !upper && x == hi {
            return Ok(if upper { 0.0 } else { f64::INFINITY });
        }
        let p = h.tail(x, 1.0, upper, half);
        // The lower limit uses the upper tail, which rises with ψ; the upper limit the lower tail.
        let below_one = if upper { p > alpha } else { p < alpha };
        if p == alpha {
            Ok(1.0)
        } else if below_one {
            root(|s| h.tail(x, s, upper, half) - alpha, 0.0, 1.0, tol)
        } else {
            Ok(1.0 / root(|s| h.tail(x, 1.0 / s, upper, half) - alpha, eps, 1.0, tol)?)
        }
    };
    let d1 = h.density(1.0);
    let dx = d1[(x - lo) as usize];
    let pval: f64 = d1.iter().filter(|&&d| d <= dx * (1.0 + 1e-7)).sum();
    let below: f64 = d1[..(x - lo) as usize].iter().sum();
    let above: f64 = d1[(x - lo) as usize + 1..].iter().sum();
    let midp = (2.0 * (below + 0.5 * dx).min(above + 0.5 * dx)).min(1.0);
    Ok(ExactOr {
        estimate,
        ci_lb: limit(true, false, R_TOL)?,
        ci_ub: limit(false, false, R_TOL)?,
        pval: pval.min(1.0),
        midp,
        midp_ci_lb: limit(true, true, 1e-12)?,
        midp_ci_ub: limit(false, true, 1e-12)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const L95: Level = Level::NINETY_FIVE;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    // 18 of 31 completed (ALS seed 002) against a made-up comparison group of 9 of 30.
    fn table() -> Table2x2 {
        Table2x2::from_events(18.0, 31.0, 9.0, 30.0).unwrap()
    }

    #[test]
    fn woolf_katz_wald_match_escalc() {
        // escalc("OR", ai=18, n1i=31, ci=9, n2i=30): yi = 1.1727202608218317, vi = 0.29120879120879117
        let e = or_woolf(&table(), L95).unwrap();
        assert!(
            close(e.yi, 1.1727202608218317, 1e-13) && close(e.vi(), 0.29120879120879117, 1e-13)
        );
        // escalc("RR", ...): yi = 0.66035735773695459, vi = 0.10107526881720430
        let e = rr_katz(&table(), L95).unwrap();
        assert!(
            close(e.yi, 0.66035735773695459, 1e-13) && close(e.vi(), 0.10107526881720430, 1e-13)
        );
        // escalc("RD", ...): yi = 0.28064516129032263, vi = 0.014854721224530899
        let e = rd_wald(&table(), L95).unwrap();
        assert!(
            close(e.yi, 0.28064516129032263, 1e-13) && close(e.vi(), 0.014854721224530899, 1e-12)
        );
        // zero cell: escalc("OR", ai=0, n1i=10, ci=4, n2i=10) adds 1/2: yi = -2.6767976575981058
        let z = Table2x2::from_events(0.0, 10.0, 4.0, 10.0).unwrap();
        assert!(close(
            or_woolf(&z, L95).unwrap().yi,
            -2.6767976575981058,
            1e-13
        ));
    }

    #[test]
    fn exact_or_matches_fisher_test() {
        // f <- fisher.test(matrix(c(18, 9, 13, 21), 2)); f$estimate; f$conf.int; f$p.value
        //   3.1659541297074543; 0.99826346533757460 10.693953659008518; 0.039545791826584693
        let e = or_exact(&table(), L95).unwrap();
        assert!(close(e.estimate, 3.1659541297074543, 1e-9));
        assert!(close(e.ci_lb, 0.99826346533757460, 1e-9));
        assert!(close(e.ci_ub, 10.693953659008518, 1e-9));
        assert!(close(e.pval, 0.039545791826584693, 1e-10));
        // mid-p: d <- dhyper(0:27, 31, 30, 27); 2 * (sum(d[(18:27) + 1]) - d[19] / 2)
        //   = 0.031708285009608761
        assert!(close(e.midp, 0.031708285009608761, 1e-10));
        // mid-p limits: m <- function(psi, up) { d <- dhyper(0:27, 31, 30, 27) * psi^(0:27);
        //   d <- d / sum(d); if (up) sum(d[20:28]) + d[19]/2 else sum(d[1:18]) + d[19]/2 }
        //   uniroot(function(p) m(p, TRUE) - 0.025, c(0.5, 2), tol = 1e-13)$root = 1.1036476816958312
        //   uniroot(function(p) m(p, FALSE) - 0.025, c(2, 20), tol = 1e-13)$root = 9.5157771114932501
        assert!(close(e.midp_ci_lb, 1.1036476816958312, 1e-9));
        assert!(close(e.midp_ci_ub, 9.5157771114932501, 1e-9));
        // zero cell: fisher.test(matrix(c(0, 4, 10, 6), 2)): estimate 0, CI 0 to 1.2980449242673797,
        //   p = 0.086687306501547989
        let z = or_exact(&Table2x2::from_events(0.0, 10.0, 4.0, 10.0).unwrap(), L95).unwrap();
        assert_eq!((z.estimate, z.ci_lb), (0.0, 0.0));
        assert!(close(z.ci_ub, 1.2980449242673797, 1e-9));
        assert!(close(z.pval, 0.086687306501547989, 1e-10));
    }

    #[test]
    fn exact_or_large_and_infinite() {
        // f <- fisher.test(matrix(c(120, 200, 124, 349), 2)): 1.6876120407633464,
        //   CI 1.229341918971206 2.3177096624408113, p = 0.000967823566784563
        let e = or_exact(&Table2x2::new(120.0, 124.0, 200.0, 349.0).unwrap(), L95).unwrap();
        assert!(close(e.estimate, 1.6876120407633464, 1e-8));
        assert!(close(e.ci_lb, 1.229341918971206, 1e-8));
        assert!(close(e.ci_ub, 2.3177096624408113, 1e-8));
        assert!(close(e.pval, 0.000967823566784563, 1e-9));
        // f <- fisher.test(matrix(c(5, 0, 3, 9), 2)): Inf, CI 1.5131164314171728 Inf,
        //   p = 0.0090497737556561007
        let e = or_exact(&Table2x2::new(5.0, 3.0, 0.0, 9.0).unwrap(), L95).unwrap();
        assert!(e.estimate.is_infinite() && e.ci_ub.is_infinite());
        assert!(close(e.ci_lb, 1.5131164314171728, 1e-8));
        assert!(close(e.pval, 0.0090497737556561007, 1e-10));
    }

    #[test]
    fn newcombe_and_proportions_match_r() {
        // w1 <- prop.test(18, 31, correct = FALSE)$conf.int: 0.40766262495369726 0.73584456932687770
        let w = wilson(18.0, 31.0, L95).unwrap();
        assert!(close(w.ci_lb, 0.40766262495369726, 1e-12));
        assert!(close(w.ci_ub, 0.73584456932687770, 1e-12));
        // binom.test(18, 31)$conf.int: 0.39075922249209255 0.75452404926134831
        let c = clopper_pearson(18.0, 31.0, L95).unwrap();
        assert!(close(c.ci_lb, 0.39075922249209255, 1e-10));
        assert!(close(c.ci_ub, 0.75452404926134831, 1e-10));
        // w2 <- prop.test(9, 30, correct = FALSE)$conf.int; d <- 18/31 - 9/30
        // d - sqrt((18/31 - w1[1])^2 + (w2[2] - 9/30)^2) = 0.031893607316549444
        // d + sqrt((w1[2] - 18/31)^2 + (9/30 - w2[1])^2) = 0.48526615271062579
        let n = rd_newcombe(&table(), L95).unwrap();
        assert!(close(n.ci_lb, 0.031893607316549444, 1e-11));
        assert!(close(n.ci_ub, 0.48526615271062579, 1e-11));
        // binom.test(18, 31, 0.3)$p.value = 0.0013011574693281122
        assert!(close(
            binom_test_p(18.0, 31.0, 0.3).unwrap(),
            0.0013011574693281122,
            1e-10
        ));
        // binom.test(3, 31, 0.3)$p.value = 0.010553938001141636
        assert!(close(
            binom_test_p(3.0, 31.0, 0.3).unwrap(),
            0.010553938001141636,
            1e-10
        ));
        assert!(wilson(5.0, 3.0, L95).is_err());
        assert!(Table2x2::from_events(5.0, 3.0, 1.0, 3.0).is_err());
    }
}
