//! GOSH: the model fitted to every subset of the studies (metafor's `gosh`).

use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::design::Intercept;
use crate::model::heterogeneity::heterogeneity;
use crate::model::tau2;
use crate::model::RmaOptions;
use crate::stats::SplitMix64;
use rayon::prelude::*;

/// Default cap on the number of fits: every subset up to k = 20 (2^20 − 1 = 1,048,575).
pub const DEFAULT_MAX_SUBSETS: usize = (1 << 20) - 1;

/// The fits of a GOSH analysis, one row per subset (struct of arrays, for plotting).
#[derive(Debug, Clone)]
pub struct Gosh {
    /// Number of studies in the full data.
    pub k: usize,
    /// True when every non-empty subset was fitted; false for a random sample.
    pub exact: bool,
    /// u64 words per subset in `incl`.
    pub words: usize,
    /// Membership bitsets, `words` per subset: study j is in subset r when bit j % 64 of word
    /// `r * words + j / 64` is set.
    pub incl: Vec<u64>,
    /// Studies in each subset.
    pub k_sub: Vec<usize>,
    /// The pooled estimate of each subset, on the analysis scale; NaN where the fit failed.
    pub estimate: Vec<f64>,
    /// τ² of each subset.
    pub tau2: Vec<f64>,
    /// Cochran's Q of each subset.
    pub qe: Vec<f64>,
    /// I² of each subset, in percent.
    pub i2: Vec<f64>,
    /// H² of each subset.
    pub h2: Vec<f64>,
}

impl Gosh {
    /// Number of subsets fitted.
    pub fn len(&self) -> usize {
        self.k_sub.len()
    }

    /// True when no subset was fitted.
    pub fn is_empty(&self) -> bool {
        self.k_sub.is_empty()
    }

    /// Whether study `j` is in subset `r`.
    pub fn includes(&self, r: usize, j: usize) -> bool {
        self.incl[r * self.words + j / 64] >> (j % 64) & 1 == 1
    }

    /// Mean estimate (and mean I²) over the subsets that include study `j` and over those that
    /// do not (failed fits skipped): a study that shifts the GOSH cloud shows a gap here
    /// (Olkin, Dahabreh & Trikalinos 2012 colour the plot by such membership).
    pub fn with_without(&self, j: usize) -> StudyContrast {
        let (mut n_in, mut n_out) = (0usize, 0usize);
        let (mut e_in, mut e_out, mut i_in, mut i_out) = (0.0, 0.0, 0.0, 0.0);
        for r in 0..self.len() {
            if !self.estimate[r].is_finite() {
                continue;
            }
            if self.includes(r, j) {
                n_in += 1;
                e_in += self.estimate[r];
                i_in += self.i2[r];
            } else {
                n_out += 1;
                e_out += self.estimate[r];
                i_out += self.i2[r];
            }
        }
        let div = |x: f64, n: usize| if n == 0 { f64::NAN } else { x / n as f64 };
        StudyContrast {
            estimate_with: div(e_in, n_in),
            estimate_without: div(e_out, n_out),
            i2_with: div(i_in, n_in),
            i2_without: div(i_out, n_out),
        }
    }

    /// The studies of subset `r`.
    pub fn members(&self, r: usize) -> Vec<usize> {
        (0..self.k).filter(|&j| self.includes(r, j)).collect()
    }
}

/// Mean GOSH estimate and I² over subsets with and without one study.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StudyContrast {
    /// Mean estimate over the subsets that include the study.
    pub estimate_with: f64,
    /// Mean estimate over the subsets without the study.
    pub estimate_without: f64,
    /// Mean I² (percent) over the subsets that include the study.
    pub i2_with: f64,
    /// Mean I² (percent) over the subsets without the study.
    pub i2_without: f64,
}

/// Fits the model to subsets of the studies: all 2^k − 1 non-empty subsets when that is at most
/// `max_subsets`, otherwise `max_subsets` subsets drawn uniformly (each study in with probability
/// 1/2, empty draws rejected, as metafor's size-then-members scheme) from `seed`. Fits run in
/// parallel; a fit that fails gives NaN.
///
/// Olkin, Dahabreh & Trikalinos 2012, *Res Synth Methods* 3:214–223.
///
/// # Examples
///
/// ```
/// use evident::{gosh, rma, EffectSet, Measure, RmaOptions, Scale};
/// let (yi, vi) = (vec![-0.9, -1.6, -1.4, -0.2], vec![0.36, 0.21, 0.43, 0.05]);
/// let set = EffectSet::from_yi_vi(yi, vi, Measure::GEN, Scale::Log);
/// let g = gosh(&set, &RmaOptions::default(), 1000, 42)?;
/// assert!(g.exact && g.len() == 15); // 2⁴ − 1 subsets ≤ 1000: all of them
/// // The subset of all four studies is the full model.
/// let all = g.k_sub.iter().position(|&n| n == 4).unwrap();
/// assert!((g.estimate[all] - rma(&set, &RmaOptions::default())?.estimate).abs() < 1e-10);
/// # Ok::<(), evident::Error>(())
/// ```
pub fn gosh(set: &EffectSet, opts: &RmaOptions, max_subsets: usize, seed: u64) -> Result<Gosh> {
    let k = set.k();
    if k < 2 {
        return Err(Error::TooFewStudies {
            what: "GOSH",
            k,
            needed: 2,
        });
    }
    if max_subsets < 1 {
        return Err(Error::invalid("the number of subsets must be at least 1"));
    }
    let words = k.div_ceil(64);
    let all = if k < 64 { (1u64 << k) - 1 } else { u64::MAX };
    let exact = k < 64 && (all as u128) <= max_subsets as u128;
    // Memory and time grow with subsets × k: refuse what would take hours or exhaust memory.
    let fits = if exact {
        all as u128
    } else {
        max_subsets as u128
    };
    if fits * k as u128 > 2_000_000_000 {
        return Err(Error::invalid(format!(
            "GOSH with {fits} subsets of up to {k} studies is too large; lower the number of subsets"
        )));
    }
    let incl: Vec<u64> = if exact {
        (1..=all).collect()
    } else {
        draw_subsets(k, max_subsets, seed)
    };
    let fits: Vec<[f64; 5]> = incl
        .par_chunks(words)
        .map_init(
            || (Vec::with_capacity(k), Vec::with_capacity(k)),
            |(y, v), mask| {
                y.clear();
                v.clear();
                for j in 0..k {
                    if mask[j / 64] >> (j % 64) & 1 == 1 {
                        y.push(set.yi[j]);
                        v.push(set.vi[j]);
                    }
                }
                fit_subset(y, v, opts)
            },
        )
        .collect();
    let n = fits.len();
    let mut g = Gosh {
        k,
        exact,
        words,
        k_sub: incl
            .chunks(words)
            .map(|m| m.iter().map(|x| x.count_ones() as usize).sum())
            .collect(),
        incl,
        estimate: Vec::with_capacity(n),
        tau2: Vec::with_capacity(n),
        qe: Vec::with_capacity(n),
        i2: Vec::with_capacity(n),
        h2: Vec::with_capacity(n),
    };
    for f in fits {
        g.estimate.push(f[0]);
        g.tau2.push(f[1]);
        g.qe.push(f[2]);
        g.i2.push(f[3]);
        g.h2.push(f[4]);
    }
    Ok(g)
}

/// `n` non-empty subsets of k studies, each study in with probability 1/2 (empty draws
/// rejected), as bit masks of ⌈k/64⌉ words each.
fn draw_subsets(k: usize, n: usize, seed: u64) -> Vec<u64> {
    let words = k.div_ceil(64);
    let mut rng = SplitMix64(seed);
    let mut out = Vec::with_capacity(n * words);
    let last_bits = k % 64;
    let mut drawn = 0;
    while drawn < n {
        let start = out.len();
        for w in 0..words {
            let mut x = rng.next();
            if w == words - 1 && last_bits != 0 {
                x &= (1u64 << last_bits) - 1;
            }
            out.push(x);
        }
        if out[start..].iter().all(|&x| x == 0) {
            out.truncate(start);
        } else {
            drawn += 1;
        }
    }
    out
}

/// estimate, τ², Q, I², H² of the intercept-only model, through the same τ² estimators and
/// heterogeneity code as `rma` (without what GOSH does not report).
fn fit_subset(y: &[f64], v: &[f64], opts: &RmaOptions) -> [f64; 5] {
    let d = Intercept { k: y.len() };
    let fixed = opts.method.is_fixed();
    let t2 = if fixed {
        0.0
    } else {
        match tau2::estimate(&d, y, v, opts.method, &opts.control) {
            Ok(e) => e.tau2,
            Err(_) => return [f64::NAN; 5],
        }
    };
    let (mut sw, mut swy) = (0.0, 0.0);
    for (&yi, &vi) in y.iter().zip(v) {
        let w = 1.0 / (vi + t2);
        sw += w;
        swy += w * yi;
    }
    let het = heterogeneity(&d, y, v, t2, fixed);
    [swy / sw, t2, het.q, het.i2, het.h2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::{Measure, Scale};
    use crate::model::rma;
    use crate::model::Method;

    fn set(k: usize) -> EffectSet {
        // A deterministic, heterogeneous toy data set.
        let yi = (0..k)
            .map(|i| ((i * 7919) % 13) as f64 / 10.0 - 0.5)
            .collect();
        let vi = (0..k)
            .map(|i| 0.02 + ((i * 104729) % 11) as f64 / 50.0)
            .collect();
        EffectSet::from_yi_vi(yi, vi, Measure::GEN, Scale::Identity)
    }

    // Every subset's numbers must equal a plain rma() on that subset.
    #[test]
    fn gosh_equals_naive_loop() {
        let s = set(10);
        for method in [Method::REML, Method::DL, Method::FE] {
            let o = RmaOptions {
                method,
                tau2_ci: false,
                ..RmaOptions::default()
            };
            let g = gosh(&s, &o, DEFAULT_MAX_SUBSETS, 1).unwrap();
            assert!(g.exact);
            assert_eq!(g.len(), 1023);
            let mut failed = 0;
            for r in 0..g.len() {
                let Ok(f) = rma(&s.subset(&g.members(r)), &o) else {
                    // A failed fit (e.g. Fisher scoring not converging) is NaN in GOSH.
                    assert!(g.estimate[r].is_nan() && g.tau2[r].is_nan());
                    failed += 1;
                    continue;
                };
                assert_eq!(g.k_sub[r], f.k);
                for (a, b) in [
                    (g.estimate[r], f.estimate),
                    (g.tau2[r], f.tau2),
                    (g.qe[r], f.het.q),
                    (g.i2[r], f.het.i2),
                    (g.h2[r], f.het.h2),
                ] {
                    // Values near 0 (QE, tau2 of homogeneous subsets) differ by rounding only.
                    assert!((a - b).abs() <= 1e-12 + 1e-13 * b.abs(), "{a} vs {b}");
                }
            }
            assert!(failed < 10, "{failed} subsets failed");
        }
    }

    #[test]
    fn huge_gosh_is_refused() {
        let s = set(5000);
        assert!(gosh(&s, &RmaOptions::default(), DEFAULT_MAX_SUBSETS, 1).is_err());
    }

    #[test]
    fn sampled_gosh_is_seeded_and_nonempty() {
        let s = set(12);
        let o = RmaOptions::default();
        let a = gosh(&s, &o, 500, 42).unwrap();
        let b = gosh(&s, &o, 500, 42).unwrap();
        assert!(!a.exact);
        assert_eq!(a.len(), 500);
        assert_eq!(a.incl, b.incl);
        assert!(a.k_sub.iter().all(|n| (1..=12).contains(n)));
        let c = gosh(&s, &o, 500, 43).unwrap();
        assert_ne!(a.incl, c.incl);
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use crate::measure::{Measure, Scale};

    // cargo test --release gosh_k20 -- --ignored --nocapture
    #[test]
    #[ignore]
    fn gosh_k20_all_subsets() {
        let yi = (0..20)
            .map(|i| ((i * 37) % 17) as f64 / 10.0 - 0.8)
            .collect();
        let vi = (0..20)
            .map(|i| 0.01 + ((i * 13) % 7) as f64 / 20.0)
            .collect();
        let s = EffectSet::from_yi_vi(yi, vi, Measure::GEN, Scale::Identity);
        let t = std::time::Instant::now();
        let g = gosh(&s, &RmaOptions::default(), DEFAULT_MAX_SUBSETS, 1).unwrap();
        println!("{} REML fits in {:?}", g.len(), t.elapsed());
        assert!(g.exact && g.len() == (1 << 20) - 1);
    }
}
