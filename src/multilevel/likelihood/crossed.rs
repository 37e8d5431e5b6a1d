//! Crossed `~ 1 | f` factors without a dense k × k block (Henderson's mixed-model equations
//! with the Woodbury identity, as lme4 uses them: Bates et al. 2015, *J Stat Softw* 67(1)).
//!
//! A factor whose levels join many blocks of the partition made by V and the other factors
//! ("crossing") is kept out of the blocks: M = A + Z S Z', A block-diagonal (V and the nested
//! factors, the [`Block`]s), Z the 0/1 indicators of the crossing factors' q levels and
//! S = diag(σ²_j per level). With B = A⁻¹, G = BZ and C = S⁻¹ + Z'BZ (q × q, dense):
//! log|M| = log|A| + log|S| + log|C| and W = M⁻¹ = B − G C⁻¹ G'. Every D_j = Z_j Z_j', so
//! tr(W D_j) = tr(B D_j) − tr(C⁻¹ G'D_jG) and tr(W D_i W D_j) = ‖Z_i'WZ_j‖² =
//! ‖Z_i'BZ_j‖² − 2 tr(C⁻¹ G'D_iBD_jG) + tr(C⁻¹G'D_iG C⁻¹G'D_jG); the products with X and r
//! apply W and D_j to thin matrices. Each costs O(k·(q + p)·b) or O(q³), never k².
//!
//! The crossed path is used when the largest dense block has more than [`CROSSED_FROM`] rows
//! and leaving factors out shrinks it at least fourfold, with at most [`MAX_LEVELS`] levels in
//! the crossing factors (C is dense). Models with `~ inner | outer` terms stay dense.

use super::{invert, partition, Block, DerivSums, Eval, Likelihood, Model};
use crate::error::{Error, Result};
use crate::multilevel::random::Factor;
use crate::multilevel::sampling::VBlocks;
use crate::stats::linalg::{cholesky_inverse, trace_of_product};
use nalgebra::{DMatrix, DVector};

/// A model whose largest block has at most this many rows stays on the dense path.
const CROSSED_FROM: usize = 200;
/// The crossing factors are chosen until the largest block has at most this many rows.
const SMALL_BLOCK: usize = 64;
/// The most levels the crossing factors have together (C is q × q, 128 MB at 4,000).
pub(crate) const MAX_LEVELS: usize = 4_000;
/// The most rows of a crossed model's dense marginal covariance (for cluster-robust
/// inference, which reads M by cluster): 5,000 rows are 200 MB.
pub(crate) const MAX_DENSE_MARGINAL: usize = 5_000;

/// The crossing factors of a model and where their levels fall in its blocks.
#[derive(Debug, Clone)]
pub(crate) struct Crossed {
    /// The σ² index of each crossing factor.
    factors: Vec<usize>,
    /// Each crossing factor's number of levels and its first column among the q.
    nlevels: Vec<usize>,
    offset: Vec<usize>,
    q: usize,
    /// Per block: the columns (of the q) its rows touch, sorted.
    cols: Vec<Vec<usize>>,
    /// Per block, crossing factor and row of the block: the row's column in `cols`.
    local: Vec<Vec<Vec<usize>>>,
}

/// What W needs at one σ²: B_b = A_b⁻¹, G_b = B_b Z_b (on the block's columns), C⁻¹, log|M|.
struct Work {
    b: Vec<DMatrix<f64>>,
    g: Vec<DMatrix<f64>>,
    h: DMatrix<f64>,
    logdet: f64,
}

/// The factors (σ² indices) to keep out of the blocks: greedily the coupling factor whose
/// removal leaves the smallest largest block (fewer levels on a tie); none when the model's
/// blocks are small already or the crossed path would not shrink them.
pub(crate) fn choose(k: usize, v: &VBlocks, factors: &[Factor], couple: &[bool]) -> Vec<usize> {
    let largest = |out: &[usize]| {
        let cs: Vec<&Factor> = (0..factors.len())
            .filter(|j| couple[*j] && !out.contains(j))
            .map(|j| &factors[j])
            .collect();
        partition(k, v, &cs).iter().map(Vec::len).max().unwrap_or(0)
    };
    let mut chosen: Vec<usize> = Vec::new();
    let before = largest(&chosen);
    if before <= CROSSED_FROM {
        return chosen;
    }
    let (mut n_max, mut q) = (before, 0);
    while n_max > SMALL_BLOCK {
        let best = (0..factors.len())
            .filter(|&j| couple[j] && factors[j].nlevels >= 2 && !chosen.contains(&j))
            .filter(|&j| q + factors[j].nlevels <= MAX_LEVELS)
            .map(|j| {
                let mut out = chosen.clone();
                out.push(j);
                (largest(&out), factors[j].nlevels, j)
            })
            .filter(|(n, _, _)| *n < n_max)
            .min();
        let Some((n, l, j)) = best else { break };
        chosen.push(j);
        (n_max, q) = (n, q + l);
    }
    if n_max * 4 > before {
        chosen.clear();
    }
    chosen.sort_unstable();
    chosen
}

fn not_pd() -> Error {
    Error::invalid("the marginal variance matrix is not positive definite")
}

/// tr(AB) of A (m × n) and B (n × m).
fn tr_ab(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    a.component_mul(&b.transpose()).sum()
}

/// Adds the c × c `local` at the rows and columns `cols` of `to`.
fn scatter(to: &mut DMatrix<f64>, cols: &[usize], local: &DMatrix<f64>) {
    for (v, &cv) in cols.iter().enumerate() {
        for (u, &cu) in cols.iter().enumerate() {
            to[(cu, cv)] += local[(u, v)];
        }
    }
}

impl Crossed {
    /// The crossing factors `chosen` over the model's `blocks` (made without them).
    pub fn new(chosen: Vec<usize>, factors: &[Factor], blocks: &[Block]) -> Crossed {
        let nlevels: Vec<usize> = chosen.iter().map(|&j| factors[j].nlevels).collect();
        let offset: Vec<usize> = nlevels
            .iter()
            .scan(0, |acc, &n| {
                let o = *acc;
                *acc += n;
                Some(o)
            })
            .collect();
        let (mut cols, mut local) = (Vec::new(), Vec::new());
        for blk in blocks {
            let global = |c: usize, r: usize| offset[c] + factors[chosen[c]].level[r];
            let mut cs: Vec<usize> = (0..chosen.len())
                .flat_map(|c| blk.rows.iter().map(move |&r| (c, r)))
                .map(|(c, r)| global(c, r))
                .collect();
            cs.sort_unstable();
            cs.dedup();
            let loc: Vec<Vec<usize>> = (0..chosen.len())
                .map(|c| {
                    blk.rows
                        .iter()
                        .map(|&r| cs.binary_search(&global(c, r)).unwrap_or_else(|i| i))
                        .collect()
                })
                .collect();
            cols.push(cs);
            local.push(loc);
        }
        Crossed {
            q: nlevels.iter().sum(),
            factors: chosen,
            nlevels,
            offset,
            cols,
            local,
        }
    }

    /// The level of crossing factor `c` of row `a` of block `bi`.
    fn level(&self, bi: usize, c: usize, a: usize) -> usize {
        self.cols[bi][self.local[bi][c][a]] - self.offset[c]
    }

    /// Which crossing factor σ² index `j` is, if any.
    fn crossing(&self, j: usize) -> Option<usize> {
        self.factors.iter().position(|&f| f == j)
    }

    /// `s` with the crossing factors' σ² at 0: the σ² of A, the blocks' part of M.
    fn nested(&self, s: &[f64]) -> Vec<f64> {
        (0..s.len())
            .map(|j| {
                if self.crossing(j).is_some() {
                    0.0
                } else {
                    s[j]
                }
            })
            .collect()
    }

    /// B, G, C⁻¹ and log|M| at σ² = `s`; a crossing factor at σ² = 0 drops out (its columns
    /// of Z are zero and C is 1 there).
    fn prepare(&self, model: &Model, s: &[f64]) -> Result<Work> {
        if self.factors.iter().any(|&j| s[j] < 0.0) {
            return Err(not_pd());
        }
        let active: Vec<bool> = self.factors.iter().map(|&j| s[j] > 0.0).collect();
        let mut c = DMatrix::zeros(self.q, self.q);
        let mut logdet = 0.0;
        let (mut bs, mut gs) = (Vec::new(), Vec::new());
        let s_nested = self.nested(s);
        for (bi, blk) in model.blocks.iter().enumerate() {
            let m = blk.marginal(&s_nested, &[]);
            let ch = nalgebra::Cholesky::new(m).ok_or_else(not_pd)?;
            logdet += 2.0 * ch.l_dirty().diagonal().iter().map(|x| x.ln()).sum::<f64>();
            let b = cholesky_inverse(&ch);
            let mut z = DMatrix::zeros(blk.rows.len(), self.cols[bi].len());
            for (loc, _) in self.local[bi].iter().zip(&active).filter(|(_, a)| **a) {
                for (a, &l) in loc.iter().enumerate() {
                    z[(a, l)] = 1.0;
                }
            }
            let g = &b * &z;
            scatter(&mut c, &self.cols[bi], &(z.transpose() * &g));
            bs.push(b);
            gs.push(g);
        }
        for (ci, &j) in self.factors.iter().enumerate() {
            let range = self.offset[ci]..self.offset[ci] + self.nlevels[ci];
            if active[ci] {
                range.for_each(|l| c[(l, l)] += 1.0 / s[j]);
                logdet += self.nlevels[ci] as f64 * s[j].ln();
            } else {
                range.for_each(|l| c[(l, l)] = 1.0);
            }
        }
        let ch = nalgebra::Cholesky::new(c).ok_or_else(not_pd)?;
        logdet += 2.0 * ch.l_dirty().diagonal().iter().map(|x| x.ln()).sum::<f64>();
        Ok(Work {
            b: bs,
            g: gs,
            h: cholesky_inverse(&ch),
            logdet,
        })
    }

    /// W Y for Y given block by block (each n_b × m).
    fn apply_w(&self, w: &Work, ys: &[DMatrix<f64>]) -> Vec<DMatrix<f64>> {
        let m = ys.first().map_or(0, |y| y.ncols());
        let mut gty = DMatrix::zeros(self.q, m);
        let mut out = Vec::with_capacity(ys.len());
        for (bi, y) in ys.iter().enumerate() {
            let gy = w.g[bi].transpose() * y;
            for (u, &cu) in self.cols[bi].iter().enumerate() {
                for col in 0..m {
                    gty[(cu, col)] += gy[(u, col)];
                }
            }
            out.push(&w.b[bi] * y);
        }
        let t = &w.h * gty;
        for (bi, o) in out.iter_mut().enumerate() {
            let cols = &self.cols[bi];
            let tl = DMatrix::from_fn(cols.len(), m, |u, col| t[(cols[u], col)]);
            *o -= &w.g[bi] * tl;
        }
        out
    }

    /// D_j Y for Y given block by block: within the blocks for a nested factor, by summing
    /// over each level for a crossing one.
    fn apply_d(&self, model: &Model, j: usize, ys: &[DMatrix<f64>]) -> Vec<DMatrix<f64>> {
        let Some(c) = self.crossing(j) else {
            return model
                .blocks
                .iter()
                .zip(ys)
                .map(|(b, y)| b.dense_d(j) * y)
                .collect();
        };
        let m = ys.first().map_or(0, |y| y.ncols());
        let mut sums = DMatrix::zeros(self.nlevels[c], m);
        for (bi, y) in ys.iter().enumerate() {
            for a in 0..y.nrows() {
                let mut row = sums.row_mut(self.level(bi, c, a));
                row += y.row(a);
            }
        }
        ys.iter()
            .enumerate()
            .map(|(bi, y)| {
                DMatrix::from_fn(y.nrows(), m, |a, col| sums[(self.level(bi, c, a), col)])
            })
            .collect()
    }

    /// As [`Model::eval`] (no `~ inner | outer` term): the same likelihood and derivatives
    /// through the Woodbury identity. `w` holds the blocks' W only where it is their B (every
    /// crossing σ² at 0, as for QE and I²).
    pub fn eval(&self, model: &Model, s: &[f64], lik: Likelihood, derivs: bool) -> Result<Eval> {
        let w = self.prepare(model, s)?;
        let p = model.p;
        let xs: Vec<DMatrix<f64>> = model.blocks.iter().map(|b| b.x.clone()).collect();
        let wx = self.apply_w(&w, &xs);
        let mut xwx = DMatrix::zeros(p, p);
        let mut xwy = DVector::zeros(p);
        for (blk, wx) in model.blocks.iter().zip(&wx) {
            xwx += blk.x.transpose() * wx;
            xwy += wx.transpose() * &blk.y;
        }
        let vb = invert(&xwx)?;
        let b = &vb * xwy;
        let rs: Vec<DMatrix<f64>> = model
            .blocks
            .iter()
            .map(|blk| {
                let r = &blk.y - &blk.x * &b;
                DMatrix::from_column_slice(r.len(), 1, r.as_slice())
            })
            .collect();
        let wr = self.apply_w(&w, &rs);
        let rwr: f64 = rs.iter().zip(&wr).map(|(r, w)| r.dot(w)).sum();
        let ll = model.log_likelihood(lik, w.logdet, &xwx, rwr);
        let mut e = Eval::new(ll, b, vb);
        if derivs {
            let ys: Vec<DMatrix<f64>> = wx
                .iter()
                .zip(&wr)
                .map(|(wx, wr)| {
                    let mut y = wx.clone().insert_column(p, 0.0);
                    y.set_column(p, &wr.column(0));
                    y
                })
                .collect();
            self.derivatives(model, s.len(), &w, &ys, lik, &mut e);
        }
        if self.factors.iter().all(|&j| s[j] == 0.0) {
            e.w = w.b;
        }
        Ok(e)
    }

    /// The score, information and Hessian in the `ns` σ² from Y = [WX | Wr] by block.
    fn derivatives(
        &self,
        model: &Model,
        ns: usize,
        w: &Work,
        ys: &[DMatrix<f64>],
        lik: Likelihood,
        e: &mut Eval,
    ) {
        let p = model.p;
        let dy: Vec<Vec<DMatrix<f64>>> = (0..ns).map(|j| self.apply_d(model, j, ys)).collect();
        let wdy: Vec<Vec<DMatrix<f64>>> = dy.iter().map(|d| self.apply_w(w, d)).collect();
        let (tr_wd, t) = self.traces(model, ns, w);
        let mut sums = DerivSums {
            tr_wd,
            quad: vec![0.0; ns],
            f: vec![DMatrix::zeros(p, p); ns],
            t,
            h: vec![DMatrix::zeros(p, p); ns * ns],
            uwu: DMatrix::zeros(ns, ns),
            xwu: vec![DVector::zeros(p); ns],
        };
        for i in 0..ns {
            for (bi, blk) in model.blocks.iter().enumerate() {
                // Y'D_iY holds X'WD_iWX and r'WD_iWr; (D_iY)'W(D_jY) the second-order terms.
                let yd = ys[bi].transpose() * &dy[i][bi];
                sums.f[i] += yd.view((0, 0), (p, p));
                sums.quad[i] += yd[(p, p)];
                sums.xwu[i] += blk.x.transpose() * wdy[i][bi].column(p);
                for (j, wdy_j) in wdy.iter().enumerate().take(i + 1) {
                    let hh = dy[i][bi].transpose() * &wdy_j[bi];
                    sums.h[i * ns + j] += hh.view((0, 0), (p, p));
                    sums.uwu[(i, j)] += hh[(p, p)];
                }
            }
        }
        for i in 0..ns {
            for j in 0..i {
                sums.h[j * ns + i] = sums.h[i * ns + j].transpose();
                sums.uwu[(j, i)] = sums.uwu[(i, j)];
            }
        }
        sums.assemble(lik, e);
    }

    /// E_c = Z_c'G (levels × q) of crossing factor `c`.
    fn e_matrix(&self, c: usize, w: &Work) -> DMatrix<f64> {
        let mut e = DMatrix::zeros(self.nlevels[c], self.q);
        for (bi, g) in w.g.iter().enumerate() {
            for a in 0..g.nrows() {
                let l = self.level(bi, c, a);
                for (u, &cu) in self.cols[bi].iter().enumerate() {
                    e[(l, cu)] += g[(a, u)];
                }
            }
        }
        e
    }

    /// tr(W D_j) and tr(W D_i W D_j) over the `ns` σ² (see the module documentation).
    fn traces(&self, model: &Model, ns: usize, w: &Work) -> (Vec<f64>, DMatrix<f64>) {
        let blocks = &model.blocks;
        let q = self.q;
        let bd: Vec<Vec<DMatrix<f64>>> = blocks
            .iter()
            .zip(&w.b)
            .map(|(blk, b)| (0..ns).map(|j| b * blk.dense_d(j)).collect())
            .collect();
        // D_jG by block for the nested factors, Z_c'G for the crossing ones.
        let dg: Vec<Vec<DMatrix<f64>>> = blocks
            .iter()
            .zip(&w.g)
            .map(|(blk, g)| (0..ns).map(|j| blk.dense_d(j) * g).collect())
            .collect();
        let e: Vec<Option<DMatrix<f64>>> = (0..ns)
            .map(|j| self.crossing(j).map(|c| self.e_matrix(c, w)))
            .collect();
        let hq: Vec<DMatrix<f64>> = (0..ns)
            .map(|j| {
                let qj = match &e[j] {
                    Some(ej) => ej.transpose() * ej,
                    None => {
                        let mut qm = DMatrix::zeros(q, q);
                        for (bi, g) in w.g.iter().enumerate() {
                            scatter(&mut qm, &self.cols[bi], &(g.transpose() * &dg[bi][j]));
                        }
                        qm
                    }
                };
                &w.h * qj
            })
            .collect();
        // H E_c' (q × levels) of the crossing factors (empty for the nested ones).
        let he: Vec<DMatrix<f64>> = e
            .iter()
            .map(|e| {
                e.as_ref()
                    .map_or(DMatrix::zeros(0, 0), |e| &w.h * e.transpose())
            })
            .collect();
        let tr_wd = (0..ns)
            .map(|j| bd.iter().map(|b| b[j].trace()).sum::<f64>() - hq[j].trace())
            .collect();
        let mut t = DMatrix::zeros(ns, ns);
        for i in 0..ns {
            for j in 0..=i {
                let within = || {
                    bd.iter()
                        .map(|b| trace_of_product(&b[i], &b[j]))
                        .sum::<f64>()
                };
                let (knorm, trht) = match (&e[i], &e[j]) {
                    (Some(_), Some(ej)) => {
                        // tr(C⁻¹ E_i'K E_j) = tr(K E_j C⁻¹E_i').
                        let kij = self.k_matrix(i, j, w);
                        (kij.norm_squared(), tr_ab(&kij, &(ej * &he[i])))
                    }
                    (Some(_), None) | (None, Some(_)) => {
                        let (ic, jn) = if e[i].is_some() { (i, j) } else { (j, i) };
                        let m = self.z_b_dg(ic, jn, w, &dg);
                        (within(), tr_ab(&m, &he[ic]))
                    }
                    (None, None) => {
                        let mut tr = 0.0;
                        for (bi, b) in w.b.iter().enumerate() {
                            let cols = &self.cols[bi];
                            let tb = dg[bi][i].transpose() * b * &dg[bi][j];
                            let hl = DMatrix::from_fn(cols.len(), cols.len(), |u, v| {
                                w.h[(cols[u], cols[v])]
                            });
                            tr += tr_ab(&hl, &tb);
                        }
                        (within(), tr)
                    }
                };
                let val = knorm - 2.0 * trht + trace_of_product(&hq[i], &hq[j]);
                t[(i, j)] = val;
                t[(j, i)] = val;
            }
        }
        (tr_wd, t)
    }

    /// Z_i'BZ_j (levels of i × levels of j) of two crossing factors (σ² indices).
    fn k_matrix(&self, i: usize, j: usize, w: &Work) -> DMatrix<f64> {
        let (ci, cj) = (self.crossing(i).unwrap_or(0), self.crossing(j).unwrap_or(0));
        let mut k = DMatrix::zeros(self.nlevels[ci], self.nlevels[cj]);
        for (bi, b) in w.b.iter().enumerate() {
            for a in 0..b.nrows() {
                let li = self.level(bi, ci, a);
                for a2 in 0..b.ncols() {
                    k[(li, self.level(bi, cj, a2))] += b[(a, a2)];
                }
            }
        }
        k
    }

    /// Z_c'B D_jG (levels of c × q) of crossing factor σ² `i` and nested factor `j`.
    fn z_b_dg(&self, i: usize, j: usize, w: &Work, dg: &[Vec<DMatrix<f64>>]) -> DMatrix<f64> {
        let c = self.crossing(i).unwrap_or(0);
        let mut m = DMatrix::zeros(self.nlevels[c], self.q);
        for (bi, b) in w.b.iter().enumerate() {
            let bdg = b * &dg[bi][j];
            for a in 0..bdg.nrows() {
                let l = self.level(bi, c, a);
                for (u, &cu) in self.cols[bi].iter().enumerate() {
                    m[(l, cu)] += bdg[(a, u)];
                }
            }
        }
        m
    }

    /// diag(M⁻¹) at σ² = `s`, in model order (metafor's weights before scaling).
    pub fn diag_w(&self, model: &Model, s: &[f64]) -> Result<Vec<f64>> {
        let w = self.prepare(model, s)?;
        let mut out = vec![0.0; model.k];
        for (bi, blk) in model.blocks.iter().enumerate() {
            let cols = &self.cols[bi];
            let hl = DMatrix::from_fn(cols.len(), cols.len(), |u, v| w.h[(cols[u], cols[v])]);
            let gh = &w.g[bi] * hl;
            for (a, &r) in blk.rows.iter().enumerate() {
                out[r] = w.b[bi][(a, a)] - gh.row(a).dot(&w.g[bi].row(a));
            }
        }
        Ok(out)
    }

    /// The dense marginal covariance M at σ² = `s` (k × k, in model order), refused above
    /// [`MAX_DENSE_MARGINAL`] rows.
    pub fn dense_marginal(&self, model: &Model, s: &[f64]) -> Result<DMatrix<f64>> {
        let k = model.k;
        if k > MAX_DENSE_MARGINAL {
            return Err(Error::invalid(format!(
                "the crossed random effects correlate all {k} rows: their dense marginal covariance is formed for at most {MAX_DENSE_MARGINAL} rows"
            )));
        }
        let mut m = DMatrix::zeros(k, k);
        let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); self.q];
        let s_nested = self.nested(s);
        for (bi, blk) in model.blocks.iter().enumerate() {
            let mb = blk.marginal(&s_nested, &[]);
            for (a, &ra) in blk.rows.iter().enumerate() {
                for (b, &rb) in blk.rows.iter().enumerate() {
                    m[(ra, rb)] = mb[(a, b)];
                }
                for loc in &self.local[bi] {
                    rows_of[self.cols[bi][loc[a]]].push(ra);
                }
            }
        }
        for (c, &j) in self.factors.iter().enumerate() {
            for rows in &rows_of[self.offset[c]..self.offset[c] + self.nlevels[c]] {
                for &ra in rows {
                    for &rb in rows {
                        m[(ra, rb)] += s[j];
                    }
                }
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 24 rows: a (4 levels) crossed with b (3 levels), two rows per cell, a row-level factor
    /// and V with 2 × 2 blocks; a moderator.
    fn design() -> (Vec<f64>, DMatrix<f64>, VBlocks, Vec<Factor>) {
        let k = 24;
        let y: Vec<f64> = (0..k).map(|i| ((i * 7) % 11) as f64 / 10.0 - 0.3).collect();
        let x = DMatrix::from_fn(k, 2, |i, j| if j == 0 { 1.0 } else { (i % 5) as f64 });
        let v = VBlocks {
            blocks: (0..k / 2)
                .map(|b| {
                    let d = 0.02 + 0.01 * (b % 3) as f64;
                    let m = DMatrix::from_row_slice(2, 2, &[d, 0.3 * d, 0.3 * d, d + 0.01]);
                    (vec![2 * b, 2 * b + 1], m)
                })
                .collect(),
        };
        let f = |name: &str, n: usize, level: Vec<usize>| Factor {
            name: name.into(),
            nlevels: n,
            level,
        };
        let factors = vec![
            f("a", 4, (0..k).map(|i| (i / 2) % 4).collect()),
            f("b", 3, (0..k).map(|i| (i / 8) % 3).collect()),
            f("esid", k, (0..k).collect()),
        ];
        (y, x, v, factors)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-10 * (1.0 + a.abs().max(b.abs()))
    }

    fn same(what: &str, a: &DMatrix<f64>, b: &DMatrix<f64>) {
        assert_eq!(a.shape(), b.shape(), "{what}");
        for (x, y) in a.iter().zip(b) {
            assert!(close(*x, *y), "{what}: {a} vs {b}");
        }
    }

    /// The Woodbury path gives the dense path's log-likelihood, GLS fit, score, expected
    /// information, observed Hessian and diag(M⁻¹) at 1e-10, with one or two crossing
    /// factors, REML and ML, and with a crossing σ² at 0.
    #[test]
    fn woodbury_matches_the_dense_path() {
        let (y, x, v, factors) = design();
        let couple = [true; 3];
        let dense = Model::build(&y, &x, &v, &factors, &couple, &[], Vec::new()).unwrap();
        assert_eq!(dense.blocks.len(), 1);
        for chosen in [vec![0, 1], vec![0], vec![1]] {
            let m = Model::build(&y, &x, &v, &factors, &couple, &[], chosen.clone()).unwrap();
            assert!(m.blocks.len() > 1 && m.crossed.is_some());
            for s in [[0.05, 0.1, 0.03], [0.2, 0.0, 0.01], [0.0, 0.04, 0.0]] {
                for lik in [Likelihood::Reml, Likelihood::Ml] {
                    let (e, d) = (
                        m.eval(&s, lik, true).unwrap(),
                        dense.eval(&s, lik, true).unwrap(),
                    );
                    let what = format!("{chosen:?} {s:?} {lik:?}");
                    assert!(close(e.ll, d.ll), "{what} ll {} vs {}", e.ll, d.ll);
                    same(&what, &DMatrix::from_column_slice(2, 1, e.b.as_slice()), &{
                        DMatrix::from_column_slice(2, 1, d.b.as_slice())
                    });
                    same(&what, &e.vb, &d.vb);
                    for (g, h) in e.grad.iter().zip(&d.grad) {
                        assert!(close(*g, *h), "{what} grad {:?} vs {:?}", e.grad, d.grad);
                    }
                    same(&what, &e.info, &d.info);
                    same(&what, &e.hess, &d.hess);
                }
                let c = m.crossed.as_ref().unwrap();
                let mut full = DMatrix::zeros(24, 24);
                for blk in &dense.blocks {
                    let mb = blk.marginal(&s, &[]);
                    for (a, &ra) in blk.rows.iter().enumerate() {
                        for (b, &rb) in blk.rows.iter().enumerate() {
                            full[(ra, rb)] = mb[(a, b)];
                        }
                    }
                }
                same("dense M", &c.dense_marginal(&m, &s).unwrap(), &full);
                let inv = full.cholesky().unwrap().inverse();
                let dw = c.diag_w(&m, &s).unwrap();
                for (i, w) in dw.iter().enumerate() {
                    assert!(close(*w, inv[(i, i)]), "diag W {i}");
                }
            }
        }
    }

    /// Of two factors crossed over many rows, the one that leaves the smaller blocks is kept
    /// out (the other's blocks of 20 rows are small); a nested model stays dense.
    #[test]
    fn crossing_factors_are_chosen_only_for_large_crossed_blocks() {
        let k = 600;
        let f = |n: usize, level: Vec<usize>| Factor {
            name: String::new(),
            nlevels: n,
            level,
        };
        let v = VBlocks {
            blocks: (0..k)
                .map(|i| (vec![i], DMatrix::from_element(1, 1, 0.1)))
                .collect(),
        };
        let crossed = [
            f(20, (0..k).map(|i| i % 20).collect()),
            f(30, (0..k).map(|i| i / 20).collect()),
            f(k, (0..k).collect()),
        ];
        assert_eq!(choose(k, &v, &crossed, &[true; 3]), vec![0]);
        let nested = [
            f(30, (0..k).map(|i| i / 20).collect()),
            f(k, (0..k).collect()),
        ];
        assert!(choose(k, &v, &nested, &[true; 2]).is_empty());
    }
}
