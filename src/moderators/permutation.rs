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
    let exact_perms: Vec<Vec<usize>> = if exact && !int_only {
        let mut sorted_groups = groups.clone();
        sorted_groups.sort_unstable();
        multiset_permutations(&sorted_groups)
    } else {
        Vec::new()
    };
    let permuter = Permuter {
        x,
        y0: &fit.effects.yi,
        int_only,
        exact,
        seed: o.seed,
        reps: &reps,
        exact_perms: &exact_perms,
    };
    let results = parallel_map(n, o.threads, |i| {
        let (xm, y) = permuter.make(i);
        stats(&xm, &y)
    });
    let obs_z: Vec<f64> = fit.coefficients.iter().map(|c| c.stat).collect();
    let obs_qm = fit.qm.stat;
    let tol = f64::EPSILON.sqrt();
    let ok: Vec<&(Vec<f64>, f64)> = results.iter().flatten().collect();
    let m = ok.len() as f64;
    let pval = (0..p)
        .map(|j| {
            ok.iter()
                .filter(|(z, _)| z[j].abs() >= obs_z[j].abs() - tol)
                .count() as f64
                / m
        })
        .collect();
    let qm_pval = ok.iter().filter(|(_, q)| *q >= obs_qm - tol).count() as f64 / m;
    Ok(PermutationTest {
        pval,
        qm_pval,
        iterations: n,
        exact,
        failed: n - ok.len(),
    })
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
    exact_perms: &'a [Vec<usize>],
}

impl Permuter<'_> {
    /// The i-th permutation: (model matrix, effects).
    fn make(&self, i: usize) -> (DMatrix<f64>, Vec<f64>) {
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
            let rows: Vec<usize> = if self.exact {
                self.exact_perms[i].iter().map(|&g| self.reps[g]).collect()
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

/// `f(0), …, f(n − 1)` in order, on `threads` scoped threads (0 = all cores) in contiguous chunks.
fn parallel_map<F: Fn(usize) -> Stats + Sync>(n: usize, threads: usize, f: F) -> Vec<Stats> {
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
                sc.spawn(move || {
                    (t * chunk..((t + 1) * chunk).min(n))
                        .map(f)
                        .collect::<Vec<Stats>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// All distinct permutations of a sorted multiset, in lexicographic order.
fn multiset_permutations(sorted: &[usize]) -> Vec<Vec<usize>> {
    let mut a = sorted.to_vec();
    let mut out = vec![a.clone()];
    loop {
        let n = a.len();
        let Some(i) = (0..n.saturating_sub(1)).rev().find(|&i| a[i] < a[i + 1]) else {
            return out;
        };
        let j = (i + 1..n).rev().find(|&j| a[j] > a[i]).unwrap_or(i + 1);
        a.swap(i, j);
        a[i + 1..].reverse();
        out.push(a.clone());
    }
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
