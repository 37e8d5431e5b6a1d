//! The (restricted) log-likelihood of a multilevel model with its analytic gradient, expected
//! information and observed Hessian in the variance components (Harville 1977, *J Am Stat
//! Assoc* 72:320–338), computed block by block.
//!
//! M = V + Σ_j σ²_j Z_j Z_j'. The rows split into the connected components of "shares a level
//! of some factor or a block of V" (union-find), so M is block-diagonal and every product is a
//! sum over blocks: a nested model costs O(k) per evaluation. With P = W − WX(X'WX)⁻¹X'W,
//! D_j = Z_j Z_j' and W = M⁻¹, the score is −½ tr(P D_j) + ½ y'P D_j P y (REML; W for ML),
//! the expected information ½ tr(P D_i P D_j) and the observed Hessian
//! ½ tr(P D_i P D_j) − y'P D_i P D_j P y. Each `~ inner | outer` term (at most two: metafor's
//! G with tau2/rho and H with gamma2/phi) plugs in as more derivative matrices dM/dθ on the
//! same blocks.

mod crossed;

use super::random::Factor;
use super::sampling::VBlocks;
use super::structure::{add_g_block, GStructure};
use crate::error::{Error, Result};
use crate::stats::linalg::{cholesky_inverse, trace_of_product};
use crossed::Crossed;
use nalgebra::{DMatrix, DVector};

/// REML or ML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Likelihood {
    /// Maximum likelihood.
    Ml,
    /// Restricted maximum likelihood, with metafor's `+ ½ log|X'X|` term.
    Reml,
}

/// One block of rows that M couples.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// The fit's rows in the block (for cluster-robust inference on the same blocks).
    pub rows: Vec<usize>,
    pub v: DMatrix<f64>,
    pub x: DMatrix<f64>,
    pub y: DVector<f64>,
    /// D_j restricted to the block, one per factor.
    pub d: Vec<DMatrix<f64>>,
    /// For each `~ inner | outer` term (none without one): the inner-level positions and the
    /// outer ids of the block's rows.
    pub gpos: Vec<Vec<usize>>,
    pub gout: Vec<Vec<usize>>,
}

/// An `~ inner | outer` term over the fit's rows: its structure, each row's inner-level
/// position (in the levels of the full data) and a dense outer id.
#[derive(Debug, Clone)]
pub(crate) struct GTerm {
    pub structure: GStructure,
    pub pos: Vec<usize>,
    pub outer: Vec<usize>,
}

/// The data of a fit, split into blocks.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub k: usize,
    pub p: usize,
    pub blocks: Vec<Block>,
    /// ½ log|X'X| (metafor's REMLf term).
    pub half_logdet_xtx: f64,
    /// The structures of the `~ inner | outer` terms, in order (θ of the first, then the second).
    pub g: Vec<GStructure>,
    /// The crossed factors kept out of the blocks (Woodbury path), if any: then `blocks` are
    /// the blocks of V and the other factors only.
    pub crossed: Option<Crossed>,
}

/// The likelihood and what derives from it at one point.
#[derive(Debug, Clone)]
pub(crate) struct Eval {
    pub ll: f64,
    pub b: DVector<f64>,
    /// (X'WX)⁻¹.
    pub vb: DMatrix<f64>,
    /// Score in σ² (empty without derivatives).
    pub grad: Vec<f64>,
    /// Expected information in σ².
    pub info: DMatrix<f64>,
    /// Observed Hessian of the log-likelihood in σ².
    pub hess: DMatrix<f64>,
    /// W = M⁻¹ of each block, for the callers that need it again (QE and I² at M = V).
    pub w: Vec<DMatrix<f64>>,
}

fn find(parent: &mut [usize], mut a: usize) -> usize {
    while parent[a] != a {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    a
}

/// The largest block of rows the dense path factorises (a 10,000 × 10,000 matrix is 800 MB).
pub(crate) const MAX_DENSE_ROWS: usize = 10_000;

/// The connected components of "in one V block or sharing a level of a coupler", each in row
/// order, ordered by their first row.
pub(crate) fn partition(k: usize, v: &VBlocks, couplers: &[&Factor]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..k).collect();
    let union = |parent: &mut Vec<usize>, a: usize, b: usize| {
        let (ra, rb) = (find(parent, a), find(parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    };
    for (rows, _) in &v.blocks {
        for w in rows.windows(2) {
            union(&mut parent, w[0], w[1]);
        }
    }
    for f in couplers {
        let mut first = vec![usize::MAX; f.nlevels];
        for (i, &l) in f.level.iter().enumerate() {
            if first[l] == usize::MAX {
                first[l] = i;
            } else {
                union(&mut parent, first[l], i);
            }
        }
    }
    let mut block_id = vec![usize::MAX; k];
    let mut members: Vec<Vec<usize>> = Vec::new();
    for i in 0..k {
        let r = find(&mut parent, i);
        if block_id[r] == usize::MAX {
            block_id[r] = members.len();
            members.push(Vec::new());
        }
        members[block_id[r]].push(i);
    }
    members
}

impl Model {
    /// Splits the rows into blocks: rows sharing a level of a factor in `couple` or a V block.
    pub fn new(
        y: &[f64],
        x: &DMatrix<f64>,
        v: &VBlocks,
        factors: &[Factor],
        couple: &[bool],
    ) -> Result<Model> {
        Model::with_g(y, x, v, factors, couple, &[])
    }

    /// As [`Model::new`], with `~ inner | outer` terms whose outer levels also couple rows.
    /// Without such terms, `~ 1 | f` factors that cross the others are kept out of the blocks
    /// ([`Crossed`]); a block of more than [`MAX_DENSE_ROWS`] rows is refused.
    pub fn with_g(
        y: &[f64],
        x: &DMatrix<f64>,
        v: &VBlocks,
        factors: &[Factor],
        couple: &[bool],
        g: &[GTerm],
    ) -> Result<Model> {
        let chosen = match g.is_empty() {
            true => crossed::choose(y.len(), v, factors, couple),
            false => Vec::new(),
        };
        Model::build(y, x, v, factors, couple, g, chosen)
    }

    /// As [`Model::with_g`] with the factors `chosen` kept out of the blocks (empty: dense).
    pub(crate) fn build(
        y: &[f64],
        x: &DMatrix<f64>,
        v: &VBlocks,
        factors: &[Factor],
        couple: &[bool],
        g: &[GTerm],
        chosen: Vec<usize>,
    ) -> Result<Model> {
        let k = y.len();
        let outer: Vec<Factor> = g
            .iter()
            .map(|t| Factor {
                name: String::new(),
                nlevels: t.outer.iter().max().map_or(0, |m| m + 1),
                level: t.outer.clone(),
            })
            .collect();
        let mut couplers: Vec<&Factor> = factors
            .iter()
            .zip(couple)
            .filter(|(_, c)| **c)
            .map(|(f, _)| f)
            .chain(&outer)
            .collect();
        couplers.retain(|f| !chosen.iter().any(|&j| std::ptr::eq(*f, &factors[j])));
        let members = partition(k, v, &couplers);
        if let Some(n) = members.iter().map(Vec::len).find(|&n| n > MAX_DENSE_ROWS) {
            return Err(Error::invalid(format!(
                "the random effects couple {n} rows into one dense block (at most {MAX_DENSE_ROWS}): too large to fit"
            )));
        }
        let vb_of = v.block_of(k);
        let mut pos = vec![0; k];
        for (rows, _) in &v.blocks {
            for (a, &r) in rows.iter().enumerate() {
                pos[r] = a;
            }
        }
        let blocks: Vec<Block> = members
            .into_iter()
            .map(|rows| {
                let n = rows.len();
                let vm = DMatrix::from_fn(n, n, |a, b| {
                    let (ra, rb) = (rows[a], rows[b]);
                    if vb_of[ra] == vb_of[rb] {
                        v.blocks[vb_of[ra]].1[(pos[ra], pos[rb])]
                    } else {
                        0.0
                    }
                });
                let d = factors
                    .iter()
                    .map(|f| {
                        DMatrix::from_fn(n, n, |a, b| {
                            f64::from(u8::from(f.level[rows[a]] == f.level[rows[b]]))
                        })
                    })
                    .collect();
                Block {
                    x: DMatrix::from_fn(n, x.ncols(), |a, j| x[(rows[a], j)]),
                    y: DVector::from_fn(n, |a, _| y[rows[a]]),
                    v: vm,
                    d,
                    gpos: g
                        .iter()
                        .map(|t| rows.iter().map(|&r| t.pos[r]).collect())
                        .collect(),
                    gout: g
                        .iter()
                        .map(|t| rows.iter().map(|&r| t.outer[r]).collect())
                        .collect(),
                    rows,
                }
            })
            .collect();
        let xtx = x.transpose() * x;
        let half_logdet_xtx = 0.5 * logdet_spd(&xtx).unwrap_or(f64::NAN);
        let crossed = (!chosen.is_empty()).then(|| Crossed::new(chosen, factors, &blocks));
        Ok(Model {
            k,
            p: x.ncols(),
            blocks,
            half_logdet_xtx,
            g: g.iter().map(|t| t.structure).collect(),
            crossed,
        })
    }

    /// The (restricted) log-likelihood from log|M|, X'WX and r'Wr.
    pub(crate) fn log_likelihood(
        &self,
        lik: Likelihood,
        logdet: f64,
        xwx: &DMatrix<f64>,
        rwr: f64,
    ) -> f64 {
        let (k, pf) = (self.k as f64, self.p as f64);
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        match lik {
            Likelihood::Ml => -0.5 * k * ln2pi - 0.5 * logdet - 0.5 * rwr,
            Likelihood::Reml => {
                -0.5 * (k - pf) * ln2pi + self.half_logdet_xtx
                    - 0.5 * logdet
                    - 0.5 * logdet_spd(xwx).unwrap_or(f64::NAN)
                    - 0.5 * rwr
            }
        }
    }

    /// The GLS fit with M = V alone: b, (X'V⁻¹X)⁻¹, r'V⁻¹r, tr(V⁻¹) and X'V⁻²X (for QE and I²).
    pub fn gls_v(&self) -> Result<(DVector<f64>, f64, f64)> {
        let zero = vec![0.0; self.blocks.first().map_or(0, |b| b.d.len())];
        let e = self.eval(&zero, Likelihood::Ml, false)?;
        // tr(P_V) = tr(V⁻¹) − tr((X'V⁻¹X)⁻¹ X'V⁻²X).
        let (mut tr_w, mut xw2x) = (0.0, DMatrix::zeros(self.p, self.p));
        let mut qe = 0.0;
        // M = V at σ² = 0: e's weights are V⁻¹ per block.
        for (blk, w) in self.blocks.iter().zip(&e.w) {
            tr_w += w.trace();
            let wx = w * &blk.x;
            xw2x += wx.transpose() * &wx;
            let r = &blk.y - &blk.x * &e.b;
            qe += r.dot(&(w * &r));
        }
        let tr_p = tr_w - (&e.vb * xw2x).trace();
        Ok((e.b, qe, tr_p))
    }

    /// The log-likelihood at σ² = `s` and, with `derivs`, its score, expected information and
    /// observed Hessian.
    pub fn eval(&self, s: &[f64], lik: Likelihood, derivs: bool) -> Result<Eval> {
        self.eval_g(s, &[], lik, derivs)
    }

    /// The `~ inner | outer` terms' structures with their slices of `theta` (the terms' θ one
    /// after the other; empty = no term).
    fn split_theta<'t>(&self, theta: &'t [f64]) -> Vec<(GStructure, &'t [f64])> {
        if theta.is_empty() {
            return Vec::new();
        }
        let mut rest = theta;
        self.g
            .iter()
            .map(|gs| {
                let (mine, more) = rest.split_at(gs.n_params());
                rest = more;
                (*gs, mine)
            })
            .collect()
    }

    /// As [`Model::eval`] with the `~ inner | outer` terms' G at `theta` (metafor's scale: ln
    /// tau2, atanh rho; the first term's θ, then the second's; empty = no term); derivatives
    /// are in σ² and then in θ (θ after σ²).
    pub fn eval_g(&self, s: &[f64], theta: &[f64], lik: Likelihood, derivs: bool) -> Result<Eval> {
        if let Some(c) = &self.crossed {
            return c.eval(self, s, lik, derivs);
        }
        let p = self.p;
        let terms = self.split_theta(theta);
        let g: Vec<DMatrix<f64>> = terms.iter().map(|(gs, th)| gs.g(th)).collect();
        let mut logdet = 0.0;
        let mut xwx = DMatrix::zeros(p, p);
        let mut xwy = DVector::zeros(p);
        let mut ws = Vec::with_capacity(self.blocks.len());
        for blk in &self.blocks {
            let mut m = blk.v.clone();
            for (j, d) in blk.d.iter().enumerate() {
                if s[j] != 0.0 {
                    m += d * s[j];
                }
            }
            for (t, g) in g.iter().enumerate() {
                add_g_block(g, &blk.gpos[t], &blk.gout[t], &mut m);
            }
            let ch = nalgebra::Cholesky::new(m).ok_or_else(|| {
                Error::invalid("the marginal variance matrix is not positive definite")
            })?;
            logdet += 2.0 * ch.l_dirty().diagonal().iter().map(|x| x.ln()).sum::<f64>();
            let w = cholesky_inverse(&ch);
            let wx = &w * &blk.x;
            xwx += blk.x.transpose() * &wx;
            xwy += wx.transpose() * &blk.y;
            ws.push((w, wx));
        }
        let vb = invert(&xwx)?;
        let b = &vb * xwy;
        let mut rwr = 0.0;
        let mut wrs = Vec::with_capacity(self.blocks.len());
        for (blk, (w, _)) in self.blocks.iter().zip(&ws) {
            let r = &blk.y - &blk.x * &b;
            let wr = w * r;
            rwr += wr.dot(&(&blk.y - &blk.x * &b));
            wrs.push(wr);
        }
        let ll = self.log_likelihood(lik, logdet, &xwx, rwr);
        let mut e = Eval {
            ll,
            b,
            vb,
            grad: Vec::new(),
            info: DMatrix::zeros(0, 0),
            hess: DMatrix::zeros(0, 0),
            w: Vec::new(),
        };
        if derivs {
            let dg: Vec<(usize, DMatrix<f64>)> = terms
                .iter()
                .enumerate()
                .flat_map(|(t, (gs, th))| (0..th.len()).map(move |j| (t, gs.dg(th, j))))
                .collect();
            self.derivatives(s.len(), &dg, lik, &ws, &wrs, &mut e);
            let mut offset = s.len();
            for (t, (gs, th)) in terms.iter().enumerate() {
                self.second_order((t, *gs), th, offset, lik, &ws, &wrs, &mut e);
                offset += th.len();
            }
        }
        e.w = ws.into_iter().map(|(w, _)| w).collect();
        Ok(e)
    }

    /// Score, expected information and observed Hessian from the blocks' W, WX and Wr, over
    /// the `ns` σ² and then the θ whose ∂G/∂θ_j are `dg` (with the index of their term).
    fn derivatives(
        &self,
        ns: usize,
        dg: &[(usize, DMatrix<f64>)],
        lik: Likelihood,
        ws: &[(DMatrix<f64>, DMatrix<f64>)],
        wrs: &[DVector<f64>],
        e: &mut Eval,
    ) {
        let p = self.p;
        let q = ns + dg.len();
        let mut tr_wd = vec![0.0; q];
        let mut quad = vec![0.0; q];
        let mut f = vec![DMatrix::zeros(p, p); q];
        let mut t = DMatrix::<f64>::zeros(q, q);
        let mut h = vec![DMatrix::zeros(p, p); q * q];
        let mut uwu = DMatrix::<f64>::zeros(q, q);
        let mut xwu = vec![DVector::zeros(p); q];
        for ((blk, (w, wx)), wr) in self.blocks.iter().zip(ws).zip(wrs) {
            let n = blk.rows.len();
            let gd: Vec<DMatrix<f64>> = dg
                .iter()
                .map(|(t, g)| {
                    let mut m = DMatrix::zeros(n, n);
                    add_g_block(g, &blk.gpos[*t], &blk.gout[*t], &mut m);
                    m
                })
                .collect();
            // The factors' D_j are borrowed, not copied, at every evaluation.
            let dm: Vec<&DMatrix<f64>> = blk.d[..ns].iter().chain(&gd).collect();
            let wd: Vec<DMatrix<f64>> = dm.iter().map(|&d| w * d).collect();
            let u: Vec<DVector<f64>> = dm.iter().map(|&d| d * wr).collect();
            let wu: Vec<DVector<f64>> = u.iter().map(|u| w * u).collect();
            let dwx: Vec<DMatrix<f64>> = dm.iter().map(|&d| d * wx).collect();
            let wdwx: Vec<DMatrix<f64>> = dwx.iter().map(|m| w * m).collect();
            for i in 0..q {
                tr_wd[i] += wd[i].trace();
                quad[i] += wr.dot(&u[i]);
                f[i] += wx.transpose() * &dwx[i];
                xwu[i] += blk.x.transpose() * &wu[i];
                // The q × q sums are symmetric (tr(AB) = tr(BA), h_ji = h_ij'): the lower
                // triangle is computed and mirrored.
                for j in 0..=i {
                    t[(i, j)] += trace_of_product(&wd[i], &wd[j]);
                    h[i * q + j] += dwx[i].transpose() * &wdwx[j];
                    uwu[(i, j)] += u[i].dot(&wu[j]);
                }
            }
        }
        for i in 0..q {
            for j in 0..i {
                t[(j, i)] = t[(i, j)];
                h[j * q + i] = h[i * q + j].transpose();
                uwu[(j, i)] = uwu[(i, j)];
            }
        }
        let sums = DerivSums {
            tr_wd,
            quad,
            f,
            t,
            h,
            uwu,
            xwu,
        };
        sums.assemble(lik, e);
    }

    /// The observed Hessian's term in ∂²M/∂θ_i∂θ_j of term `t` (G is not linear in θ; the
    /// terms add, so there is none across terms): −½ tr(P ∂²M) + ½ r'W ∂²M W r, added to the
    /// block of `e.hess` of the term's θ, which start at `ns`.
    #[allow(clippy::too_many_arguments)]
    fn second_order(
        &self,
        (t, gs): (usize, GStructure),
        theta: &[f64],
        ns: usize,
        lik: Likelihood,
        ws: &[(DMatrix<f64>, DMatrix<f64>)],
        wrs: &[DVector<f64>],
        e: &mut Eval,
    ) {
        let nt = theta.len();
        for i in 0..nt {
            for j in 0..=i {
                let d2 = gs.d2g(theta, i, j);
                if d2.iter().all(|x| *x == 0.0) {
                    continue;
                }
                let (mut tr, mut quad) = (0.0, 0.0);
                let mut f = DMatrix::zeros(self.p, self.p);
                for ((blk, (w, wx)), wr) in self.blocks.iter().zip(ws).zip(wrs) {
                    let n = blk.rows.len();
                    let mut m = DMatrix::zeros(n, n);
                    add_g_block(&d2, &blk.gpos[t], &blk.gout[t], &mut m);
                    tr += (w * &m).trace();
                    quad += wr.dot(&(&m * wr));
                    if lik == Likelihood::Reml {
                        f += wx.transpose() * &m * wx;
                    }
                }
                if lik == Likelihood::Reml {
                    tr -= (&e.vb * f).trace();
                }
                let add = -0.5 * tr + 0.5 * quad;
                e.hess[(ns + i, ns + j)] += add;
                if i != j {
                    e.hess[(ns + j, ns + i)] += add;
                }
            }
        }
    }
}

/// The sums over blocks from which the score, expected information and observed Hessian
/// follow (one derivative direction per entry): tr(W D_i), r'W D_i W r, X'W D_i W X,
/// tr(W D_i W D_j), X'W D_i W D_j W X (row-major q × q), r'W D_i W D_j W r and X'W D_i W r.
pub(crate) struct DerivSums {
    pub tr_wd: Vec<f64>,
    pub quad: Vec<f64>,
    pub f: Vec<DMatrix<f64>>,
    pub t: DMatrix<f64>,
    pub h: Vec<DMatrix<f64>>,
    pub uwu: DMatrix<f64>,
    pub xwu: Vec<DVector<f64>>,
}

impl DerivSums {
    /// P = W − WX(X'WX)⁻¹X'W turns the sums into the score, information and Hessian of `e`.
    pub fn assemble(self, lik: Likelihood, e: &mut Eval) {
        let DerivSums {
            tr_wd,
            quad,
            f,
            t,
            h,
            uwu,
            xwu,
        } = self;
        let q = tr_wd.len();
        let a = &e.vb;
        let mut grad = vec![0.0; q];
        let mut trpp = DMatrix::zeros(q, q);
        for i in 0..q {
            let tr_pd = match lik {
                Likelihood::Ml => tr_wd[i],
                Likelihood::Reml => tr_wd[i] - (a * &f[i]).trace(),
            };
            grad[i] = -0.5 * tr_pd + 0.5 * quad[i];
            for j in 0..q {
                trpp[(i, j)] = match lik {
                    Likelihood::Ml => t[(i, j)],
                    Likelihood::Reml => {
                        t[(i, j)] - 2.0 * (a * &h[i * q + j]).trace()
                            + (a * &f[i] * a * &f[j]).trace()
                    }
                };
            }
        }
        let info = &trpp * 0.5;
        let qpq = DMatrix::from_fn(q, q, |i, j| uwu[(i, j)] - xwu[i].dot(&(a * &xwu[j])));
        e.hess = &info - qpq;
        e.info = info;
        e.grad = grad;
    }
}

/// The inverse of a symmetric positive definite matrix.
pub(crate) fn invert(m: &DMatrix<f64>) -> Result<DMatrix<f64>> {
    nalgebra::Cholesky::new(m.clone())
        .map(|c| cholesky_inverse(&c))
        .ok_or_else(|| Error::invalid("a weighted cross-product matrix is singular"))
}

/// log det of a symmetric positive definite matrix.
pub(crate) fn logdet_spd(m: &DMatrix<f64>) -> Option<f64> {
    nalgebra::Cholesky::new(m.clone())
        .map(|c| 2.0 * c.l_dirty().diagonal().iter().map(|x| x.ln()).sum::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multilevel::structure::Structure;

    /// With two `~ inner | outer` terms (CS on one grouping, AR on another), the score and the
    /// observed Hessian in θ agree with finite differences, including the cross-term entries.
    #[test]
    fn two_term_derivatives_match_finite_differences() {
        let y = [0.1, 0.5, -0.2, 0.4, 0.9, 0.3, 0.0, 0.6, 0.2];
        let x = DMatrix::from_fn(9, 2, |i, j| if j == 0 { 1.0 } else { (i % 3) as f64 });
        let v = VBlocks {
            blocks: (0..9)
                .map(|i| {
                    (
                        vec![i],
                        DMatrix::from_element(1, 1, 0.02 + 0.005 * i as f64),
                    )
                })
                .collect(),
        };
        let cs = GTerm {
            structure: GStructure::new(Structure::CS, 3).unwrap(),
            pos: vec![0, 1, 2, 0, 1, 2, 0, 1, 2],
            outer: vec![0, 0, 0, 1, 1, 1, 2, 2, 2],
        };
        let ar = GTerm {
            structure: GStructure::new(Structure::AR, 3).unwrap(),
            pos: vec![0, 1, 2, 1, 2, 0, 2, 0, 1],
            outer: vec![0, 0, 1, 1, 2, 2, 0, 1, 2],
        };
        let m = Model::with_g(&y, &x, &v, &[], &[], &[cs, ar]).unwrap();
        let theta = [0.04f64.ln(), 0.3f64.atanh(), 0.02f64.ln(), 0.6f64.atanh()];
        for lik in [Likelihood::Ml, Likelihood::Reml] {
            let e = m.eval_g(&[], &theta, lik, true).unwrap();
            let h = 1e-5;
            for i in 0..4 {
                let (mut tp, mut tm) = (theta, theta);
                tp[i] += h;
                tm[i] -= h;
                let ep = m.eval_g(&[], &tp, lik, true).unwrap();
                let em = m.eval_g(&[], &tm, lik, true).unwrap();
                let g = (ep.ll - em.ll) / (2.0 * h);
                assert!(
                    (g - e.grad[i]).abs() < 1e-6 * (1.0 + g.abs()),
                    "{lik:?} grad {i}"
                );
                for j in 0..4 {
                    let hd = (ep.grad[j] - em.grad[j]) / (2.0 * h);
                    assert!(
                        (hd - e.hess[(i, j)]).abs() < 1e-5 * (1.0 + hd.abs()),
                        "{lik:?} hess {i},{j}: {hd} vs {}",
                        e.hess[(i, j)]
                    );
                }
            }
        }
    }

    /// Score and Hessian agree with finite differences of the log-likelihood.
    #[test]
    fn derivatives_match_finite_differences() {
        let y = [0.1, 0.5, -0.2, 0.4, 0.9, 0.3, 0.0];
        let vi = [0.02, 0.03, 0.05, 0.04, 0.02, 0.06, 0.03];
        let x = DMatrix::from_fn(7, 2, |i, j| if j == 0 { 1.0 } else { i as f64 });
        let v = VBlocks {
            blocks: (0..7)
                .map(|i| (vec![i], DMatrix::from_element(1, 1, vi[i])))
                .collect(),
        };
        let f1 = Factor {
            name: "a".into(),
            nlevels: 3,
            level: vec![0, 0, 1, 1, 1, 2, 2],
        };
        let f2 = Factor {
            name: "a/b".into(),
            nlevels: 7,
            level: (0..7).collect(),
        };
        let m = Model::new(&y, &x, &v, &[f1, f2], &[true, true]).unwrap();
        for lik in [Likelihood::Ml, Likelihood::Reml] {
            let s = [0.05, 0.02];
            let e = m.eval(&s, lik, true).unwrap();
            let h = 1e-6;
            for i in 0..2 {
                let mut sp = s;
                sp[i] += h;
                let mut sm = s;
                sm[i] -= h;
                let (ep, em) = (
                    m.eval(&sp, lik, true).unwrap(),
                    m.eval(&sm, lik, true).unwrap(),
                );
                let g = (ep.ll - em.ll) / (2.0 * h);
                assert!(
                    (g - e.grad[i]).abs() < 1e-6 * (1.0 + g.abs()),
                    "{lik:?} grad {i}"
                );
                for j in 0..2 {
                    let hd = (ep.grad[j] - em.grad[j]) / (2.0 * h);
                    assert!(
                        (hd - e.hess[(i, j)]).abs() < 1e-5 * (1.0 + hd.abs()),
                        "{lik:?} hess {i},{j}: {hd} vs {}",
                        e.hess[(i, j)]
                    );
                }
            }
        }
    }
}
