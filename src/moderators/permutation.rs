//! Permutation tests for meta-regression coefficients and the omnibus QM, as metafor's
//! `permutest` (Higgins & Thompson 2004, *Stat Med* 23:1663–1682; Viechtbauer et al. 2015,
//! *Res Synth Methods* 6:228–247): rows of the model matrix are permuted against (yi, vi), or for
//! an intercept-only model the signs of yi are flipped; exact when all distinct permutations fit
//! in the requested number, otherwise random with a seed. Runs on all cores.

use super::metareg::{omnibus, MetaregFit};
use crate::error::{Error, Result};
use crate::model::design::Matrix;
use crate::model::fit_core;
use crate::stats::SplitMix64;
use nalgebra::DMatrix;

/// The most random permutations a test runs (each one a full refit of the model).
pub const MAX_PERMUTATIONS: usize = 10_000_000;

/// Settings of a permutation test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PermutationOptions {
    /// Number of random permutations (metafor's `iter`, default 1000); the exact test is used
    /// when the number of distinct permutations does not exceed it.
    pub iter: usize,
    /// Force the exact test whatever its size.
    pub exact: bool,
    /// Seed of the random permutations (SplitMix64, not R's generator); each permutation is seeded
    /// from it and its index, so the p-values do not depend on the thread count.
    pub seed: u64,
    /// Worker threads (0 = all available cores).
    pub threads: usize,
}

impl Default for PermutationOptions {
    fn default() -> Self {
        PermutationOptions {
            iter: 1000,
            exact: false,
            seed: 1,
            threads: 0,
        }
    }
}

/// Permutation p-values.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PermutationTest {
    /// One p-value per coefficient (two-sided, on the test statistic).
    pub pval: Vec<f64>,
    /// p-value of the omnibus test QM.
    pub qm_pval: f64,
    /// Permutations evaluated (including the observed data).
    pub iterations: usize,
    /// All distinct permutations were evaluated (an exact test), not a random sample.
    pub exact: bool,
    /// Permutations whose fit failed (left out of the p-values).
    pub failed: usize,
}

/// Statistics of one permuted fit: z/t per coefficient and QM.
type Stats = Option<(Vec<f64>, f64)>;

/// Runs the permutation test on a fitted meta-regression.
pub fn permutest(fit: &MetaregFit, o: &PermutationOptions) -> Result<PermutationTest> {
    let p = fit.p;
    let x = &fit.matrix.x;
    let int_only = p == 1 && fit.matrix.intercept;
    if o.iter < 2 {
        return Err(Error::invalid(
            "a permutation test needs at least 2 iterations",
        ));
    }
    if o.iter > MAX_PERMUTATIONS {
        return Err(Error::OverLimit {
            what: "random permutations",
            requested: o.iter as u64,
            limit: MAX_PERMUTATIONS as u64,
            hint: "each is a full refit, and p-values beyond 1e-7 resolution add nothing",
        });
    }
    let btt: Vec<usize> = if fit.matrix.intercept && p > 1 {
        (1..p).collect()
    } else {
        (0..p).collect()
    };
    let opts = fit.options;
    let stats = |xm: &DMatrix<f64>, y: &[f64]| -> Stats {
        let mut set = fit.effects.clone();
        set.yi = y.to_vec();
        let core = fit_core(&Matrix::new(xm.clone()), &set, &opts).ok()?;
        let z = (0..p)
            .map(|j| core.beta[j] / core.vb[j * p + j].sqrt())
            .collect();
        let qm = omnibus(&core.beta, &core.vb, p, &btt, core.df).stat;
        Some((z, qm))
    };
    let (groups, reps) = row_groups(x);
    let n_exact = distinct_permutations(int_only, &groups, reps.len());
    let exact = o.exact || n_exact <= o.iter as f64;
    if exact && n_exact > 5e6 {
        return Err(Error::invalid(format!(
            "the exact test needs {n_exact:.0} permutations: too many; use random permutations"
        )));
    }
    let n = if exact { n_exact as usize } else { o.iter };
    let mut first_perm = groups.clone();
    first_perm.sort_unstable();
    let permuter = Permuter {
        x,
        y0: &fit.effects.yi,
        int_only,
        exact,
        seed: o.seed,
        reps: &reps,
    };
    let obs_z: Vec<f64> = fit.coefficients.iter().map(|c| c.stat).collect();
    let obs_qm = fit.qm.stat;
    let tol = f64::EPSILON.sqrt();
    // Only counts are kept, never the permuted statistics: memory does not grow with `iter`.
    // Exact permutations are stepped through in lexicographic order from each thread's start.
    let tally = parallel_tally(n, o.threads, |range| {
        let mut t = Tally::new(p);
        let mut perm = (exact && !int_only).then(|| {
            let mut g = first_perm.clone();
            for _ in 0..range.start {
                next_permutation(&mut g);
            }
            g
        });
        for i in range {
            let (xm, y) = permuter.make(i, perm.as_deref());
            if let Some((z, q)) = stats(&xm, &y) {
                t.ok += 1;
                for (c, (zj, oj)) in t.z.iter_mut().zip(z.iter().zip(&obs_z)) {
                    *c += usize::from(zj.abs() >= oj.abs() - tol);
                }
                t.qm += usize::from(q >= obs_qm - tol);
            }
            if let Some(g) = perm.as_mut() {
                next_permutation(g);
            }
        }
        t
    });
    let m = tally.ok as f64;
    Ok(PermutationTest {
        pval: tally.z.iter().map(|&c| c as f64 / m).collect(),
        qm_pval: tally.qm as f64 / m,
        iterations: n,
        exact,
        failed: n - tally.ok,
    })
}

/// How many permuted statistics reach the observed ones, out of `ok` fitted permutations.
#[derive(Debug, Default)]
struct Tally {
    /// Per coefficient: |z| ≥ |z observed|.
    z: Vec<usize>,
    /// QM ≥ QM observed.
    qm: usize,
    /// Permutations whose fit succeeded.
    ok: usize,
}

impl Tally {
    fn new(p: usize) -> Tally {
        Tally {
            z: vec![0; p],
            ..Tally::default()
        }
    }

    fn add(&mut self, o: Tally) {
        if self.z.len() < o.z.len() {
            self.z.resize(o.z.len(), 0);
        }
        for (a, b) in self.z.iter_mut().zip(o.z) {
            *a += b;
        }
        self.qm += o.qm;
        self.ok += o.ok;
    }
}

/// Row groups: identical rows of X are one group, so only distinct permutations count. Gives
/// each row's group and each group's first row.
fn row_groups(x: &DMatrix<f64>) -> (Vec<usize>, Vec<usize>) {
    let k = x.nrows();
    let mut groups: Vec<usize> = vec![usize::MAX; k];
    let mut reps: Vec<usize> = Vec::new();
    for i in 0..k {
        if groups[i] != usize::MAX {
            continue;
        }
        groups[i] = reps.len();
        for (j, g) in groups.iter_mut().enumerate().skip(i + 1) {
            if *g == usize::MAX && x.row(i) == x.row(j) {
                *g = reps.len();
            }
        }
        reps.push(i);
    }
    (groups, reps)
}

/// The number of distinct permutations: 2^k sign flips for an intercept-only model, else the
/// multinomial k! / Π nᵍ! over the row groups.
fn distinct_permutations(int_only: bool, groups: &[usize], n_groups: usize) -> f64 {
    let k = groups.len();
    if int_only {
        return 2f64.powi(k as i32);
    }
    let mut counts = vec![0usize; n_groups];
    for &g in groups {
        counts[g] += 1;
    }
    let lg = crate::stats::lgamma;
    (lg(k as f64 + 1.0) - counts.iter().map(|&c| lg(c as f64 + 1.0)).sum::<f64>())
        .exp()
        .round()
}

/// Builds the i-th permuted data set; permutation 0 of a random test is the observed data.
struct Permuter<'a> {
    x: &'a DMatrix<f64>,
    y0: &'a [f64],
    int_only: bool,
    exact: bool,
    seed: u64,
    reps: &'a [usize],
}

impl Permuter<'_> {
    /// The i-th permutation: (model matrix, effects); `groups` is the row-group order of the
    /// i-th exact permutation of a meta-regression.
    fn make(&self, i: usize, groups: Option<&[usize]>) -> (DMatrix<f64>, Vec<f64>) {
        let (k, p) = self.x.shape();
        let rng = || SplitMix64(self.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        if self.int_only {
            let signs: Vec<f64> = if self.exact {
                (0..k)
                    .map(|j| if (i >> j) & 1 == 1 { -1.0 } else { 1.0 })
                    .collect()
            } else if i == 0 {
                vec![1.0; k]
            } else {
                let mut r = rng();
                (0..k)
                    .map(|_| if r.next() & 1 == 1 { -1.0 } else { 1.0 })
                    .collect()
            };
            let y = self.y0.iter().zip(&signs).map(|(a, s)| a * s).collect();
            (self.x.clone(), y)
        } else {
            let rows: Vec<usize> = if let Some(g) = groups.filter(|_| self.exact) {
                g.iter().map(|&g| self.reps[g]).collect()
            } else if i == 0 {
                (0..k).collect()
            } else {
                let mut r = rng();
                let mut idx: Vec<usize> = (0..k).collect();
                for j in (1..k).rev() {
                    let s = (r.next() % (j as u64 + 1)) as usize;
                    idx.swap(j, s);
                }
                idx
            };
            let xm = DMatrix::from_fn(k, p, |r, c| self.x[(rows[r], c)]);
            (xm, self.y0.to_vec())
        }
    }
}

/// The sum of `f` over contiguous ranges covering 0..n, one range per scoped thread (0 = all
/// cores).
fn parallel_tally<F: Fn(std::ops::Range<usize>) -> Tally + Sync>(
    n: usize,
    threads: usize,
    f: F,
) -> Tally {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |t| t.get())
    } else {
        threads
    }
    .clamp(1, n.max(1));
    let chunk = n.div_ceil(threads);
    std::thread::scope(|sc| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let f = &f;
                sc.spawn(move || f((t * chunk).min(n)..((t + 1) * chunk).min(n)))
            })
            .collect();
        let mut total = Tally::default();
        for h in handles {
            total.add(h.join().unwrap_or_default());
        }
        total
    })
}

/// Steps a multiset to its next permutation in lexicographic order; `false` after the last.
fn next_permutation(a: &mut [usize]) -> bool {
    let n = a.len();
    let Some(i) = (0..n.saturating_sub(1)).rev().find(|&i| a[i] < a[i + 1]) else {
        return false;
    };
    let j = (i + 1..n).rev().find(|&j| a[j] > a[i]).unwrap_or(i + 1);
    a.swap(i, j);
    a[i + 1..].reverse();
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effect::EffectSet;
    use crate::model::Method;
    use crate::model::RmaOptions;
    use crate::model::Test;
    use crate::moderators::metareg;

    fn bcg(rows: usize) -> EffectSet {
        crate::effect::bcg_rr().subset(&(0..rows).collect::<Vec<_>>())
    }

    fn run(rows: usize, f: &str, method: Method, test: Test) -> PermutationTest {
        let o = RmaOptions {
            method,
            test,
            ..Default::default()
        };
        let fit = metareg(&bcg(rows), f, &o).unwrap();
        permutest(
            &fit,
            &PermutationOptions {
                exact: true,
                threads: 2,
                ..Default::default()
            },
        )
        .unwrap()
    }

    // dat <- escalc("RR", ai=ai, bi=bi, ci=ci, di=di, data=d)   (d = bcg_rr/input.csv)
    #[test]
    fn exact_tests_match_metafor() {
        // permutest(rma(yi, vi, mods=~alloc, data=dat[1:8,], method="DL", test="knha"), exact=TRUE)
        let t = run(8, "alloc", Method::DL, Test::Knha);
        assert_eq!((t.iterations, t.exact), (28, true));
        for (a, b) in t.pval.iter().zip([0.8214285714285714, 0.39285714285714285]) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        assert!((t.qm_pval - 0.39285714285714285).abs() < 1e-12);
        // permutest(rma(yi, vi, mods=~ablat, data=dat[1:7,], method="REML"), exact=TRUE):
        // 2520 distinct permutations (two studies share ablat = 44), one of which metafor cannot
        // fit either (Fisher scoring does not converge), so the p-values are out of 2519.
        let t = run(7, "ablat", Method::REML, Test::Z);
        assert_eq!((t.iterations, t.failed), (2520, 1));
        assert!((t.pval[0] - 0.91703056768558955).abs() < 1e-12);
        assert!((t.pval[1] - 0.18380309646685192).abs() < 1e-12);
        assert!((t.qm_pval - 0.18380309646685192).abs() < 1e-12);
        // permutest(rma(yi, vi, data=dat[1:9,], method="REML"), exact=TRUE): 2^9 sign flips
        let t = run(9, "1", Method::REML, Test::Z);
        assert_eq!(t.iterations, 512);
        assert!((t.pval[0] - 0.0078125).abs() < 1e-12);
        assert!((t.qm_pval - 0.0078125).abs() < 1e-12);
    }

    // The permuted statistics are counted, not kept; beyond the cap the test is refused.
    #[test]
    fn permutations_beyond_the_cap_are_refused() {
        let fit = metareg(&bcg(13), "ablat", &RmaOptions::default()).unwrap();
        let po = PermutationOptions {
            iter: 100_000_000,
            ..Default::default()
        };
        let e = permutest(&fit, &po).unwrap_err();
        assert!(
            matches!(e, Error::OverLimit { limit, .. } if limit == MAX_PERMUTATIONS as u64),
            "{e}"
        );
        assert!(e.to_string().contains("100000000"), "{e}");
    }

    // Stepping through exact permutations visits each distinct one once, in order.
    #[test]
    fn next_permutation_walks_the_multiset() {
        let mut a = vec![0, 0, 1, 2];
        let mut n = 1;
        while next_permutation(&mut a) {
            n += 1;
        }
        assert_eq!(n, 12); // 4! / 2!
        assert_eq!(a, [2, 1, 0, 0]);
    }

    #[test]
    fn random_permutations_are_reproducible() {
        let o = RmaOptions {
            method: Method::DL,
            ..Default::default()
        };
        let fit = metareg(&bcg(13), "ablat", &o).unwrap();
        let po = PermutationOptions {
            iter: 200,
            seed: 7,
            ..Default::default()
        };
        let a = permutest(&fit, &po).unwrap();
        let b = permutest(&fit, &PermutationOptions { threads: 1, ..po }).unwrap();
        assert!(!a.exact);
        assert_eq!(a, b);
        assert!(a.pval[1] < 0.05, "{:?}", a.pval);
    }
}
