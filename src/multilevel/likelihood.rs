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

use super::indicator::{cell_lambda, Indicator, LowRank};
mod crossed;

use super::random::Factor;
use super::sampling::VBlocks;
use super::structure::{add_g_block, GStructure};
use crate::error::{Error, Result};
use crate::stats::linalg::cholesky_inverse;
use crossed::Crossed;
use nalgebra::{DMatrix, DVector};
use std::borrow::Cow;

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
    /// Whether V's block is diagonal (checked once: [`Block::inverse`] asks at every evaluation).
    pub v_diagonal: bool,
    pub x: DMatrix<f64>,
    pub y: DVector<f64>,
    /// D_j = Z_j Z_j' restricted to the block, one per factor: the rows' cells.
    pub z: Vec<Indicator>,
    /// For each `~ inner | outer` term (none without one): the inner-level positions and the
    /// outer ids of the block's rows, and the rows' (outer, inner) cells with each cell's ids.
    pub gpos: Vec<Vec<usize>>,
    pub gout: Vec<Vec<usize>>,
    pub gz: Vec<Indicator>,
    pub gcells: Vec<Vec<(usize, usize)>>,
}

impl Block {
    /// log|M| and W = M⁻¹ of the block. A block whose M is a diagonal plus one constant
    /// (V diagonal; each factor one cell of its own per row or one cell for all rows: the
    /// three-level model) is inverted by Sherman–Morrison in O(n²); any other by Cholesky.
    pub fn inverse(&self, s: &[f64], g: &[DMatrix<f64>]) -> Result<(f64, DMatrix<f64>)> {
        if let Some(d) = self.diagonal_plus_constant(s, g) {
            if let Some(out) = diagonal_plus_constant_inverse(&d.0, d.1) {
                return Ok(out);
            }
        }
        let ch = nalgebra::Cholesky::new(self.marginal(s, g)).ok_or_else(|| {
            Error::invalid("the marginal variance matrix is not positive definite")
        })?;
        let logdet = 2.0 * ch.l_dirty().diagonal().iter().map(|x| x.ln()).sum::<f64>();
        Ok((logdet, cholesky_inverse(&ch)))
    }

    /// M = diag(d) + c·11' when the block has that form (see [`Block::inverse`]).
    fn diagonal_plus_constant(&self, s: &[f64], g: &[DMatrix<f64>]) -> Option<(Vec<f64>, f64)> {
        let n = self.rows.len();
        if !g.is_empty() || n < 2 || !self.v_diagonal {
            return None;
        }
        let mut d: Vec<f64> = (0..n).map(|a| self.v[(a, a)]).collect();
        let mut c = 0.0;
        for (z, &sj) in self.z.iter().zip(s) {
            if z.is_identity() {
                d.iter_mut().for_each(|x| *x += sj);
            } else if z.n_cells == 1 {
                c += sj;
            } else {
                return None;
            }
        }
        Some((d, c))
    }

    /// D_j = Z_j Z_j' of factor j restricted to the block, as a dense matrix.
    pub fn dense_d(&self, j: usize) -> DMatrix<f64> {
        let mut d = DMatrix::zeros(self.rows.len(), self.rows.len());
        self.z[j].add_scaled(1.0, &mut d);
        d
    }

    /// M = V + Σ σ²_j D_j + the terms' G, restricted to the block.
    pub fn marginal(&self, s: &[f64], g: &[DMatrix<f64>]) -> DMatrix<f64> {
        let mut m = self.v.clone();
        for (z, &sj) in self.z.iter().zip(s) {
            if sj != 0.0 {
                z.add_scaled(sj, &mut m);
            }
        }
        for (t, g) in g.iter().enumerate() {
            add_g_block(g, &self.gpos[t], &self.gout[t], &mut m);
        }
        m
    }
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
    /// [`Model::gls_v`], computed once: the start values and the fit statistics both need it.
    pub gls_v: std::cell::OnceCell<(DVector<f64>, f64, f64)>,
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

impl Eval {
    /// The likelihood and GLS fit at a point, before any derivatives.
    pub fn new(ll: f64, b: DVector<f64>, vb: DMatrix<f64>) -> Eval {
        Eval {
            ll,
            b,
            vb,
            grad: Vec::new(),
            info: DMatrix::zeros(0, 0),
            hess: DMatrix::zeros(0, 0),
            w: Vec::new(),
        }
    }
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
                let z = factors
                    .iter()
                    .map(|f| Indicator::new(rows.iter().map(|&r| f.level[r])).0)
                    .collect();
                let (gz, gcells) = g
                    .iter()
                    .map(|t| Indicator::new(rows.iter().map(|&r| (t.outer[r], t.pos[r]))))
                    .unzip();
                Block {
                    x: DMatrix::from_fn(n, x.ncols(), |a, j| x[(rows[a], j)]),
                    y: DVector::from_fn(n, |a, _| y[rows[a]]),
                    v_diagonal: (0..n).all(|a| (0..a).all(|b| vm[(a, b)] == 0.0)),
                    v: vm,
                    z,
                    gz,
                    gcells,
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
            gls_v: std::cell::OnceCell::new(),
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
        if let Some(done) = self.gls_v.get() {
            return Ok(done.clone());
        }
        let zero = vec![0.0; self.blocks.first().map_or(0, |b| b.z.len())];
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
        Ok(self.gls_v.get_or_init(|| (e.b, qe, tr_p)).clone())
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
            let (ld, w) = blk.inverse(s, &g)?;
            logdet += ld;
            let wx = &w * &blk.x;
            xwx.gemm_tr(1.0, &blk.x, &wx, 1.0);
            xwy.gemv_tr(1.0, &wx, &blk.y, 1.0);
            ws.push((w, wx));
        }
        let vb = invert(&xwx)?;
        let b = &vb * xwy;
        let mut rwr = 0.0;
        let mut wrs = Vec::with_capacity(self.blocks.len());
        for (blk, (w, _)) in self.blocks.iter().zip(&ws) {
            let r = &blk.y - &blk.x * &b;
            let wr = w * &r;
            rwr += wr.dot(&r);
            wrs.push(wr);
        }
        let ll = self.log_likelihood(lik, logdet, &xwx, rwr);
        let mut e = Eval::new(ll, b, vb);
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
    /// Each derivative matrix is D_i = Z_i Λ_i Z_i' on the block's cells, so with
    /// S_ij = Z_i'WZ_j every trace and quadratic form is a product of cell-sized matrices:
    /// tr(W D_i) = tr(Λ_i S_ii), tr(W D_i W D_j) = tr(Λ_i S_ij Λ_j S_ji),
    /// X'W D_i W D_j W X = (Λ_i Z_i'WX)' S_ij (Λ_j Z_j'WX), and the same with Wr for WX.
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
            let dm: Vec<LowRank> = blk.z[..ns]
                .iter()
                .map(|z| LowRank { z, lambda: None })
                .chain(dg.iter().map(|(t, g)| LowRank {
                    z: &blk.gz[*t],
                    lambda: Some(cell_lambda(g, &blk.gcells[*t])),
                }))
                .collect();
            // Z_i'W, Z_i'WX and Z_i'Wr, then Λ_i applied to the last two (borrowed for Λ = I).
            let zw: Vec<Cow<DMatrix<f64>>> = dm.iter().map(|d| d.z.sum_rows(w)).collect();
            let zwx: Vec<Cow<DMatrix<f64>>> = dm.iter().map(|d| d.z.sum_rows(wx)).collect();
            let zr: Vec<DVector<f64>> = dm.iter().map(|d| d.z.sum_vec(wr)).collect();
            let lzwx_own: Vec<Option<DMatrix<f64>>> = dm
                .iter()
                .zip(&zwx)
                .map(|(d, m)| d.lambda.as_ref().map(|l| l * m.as_ref()))
                .collect();
            let lzr_own: Vec<Option<DVector<f64>>> = dm
                .iter()
                .zip(&zr)
                .map(|(d, v)| d.lambda.as_ref().map(|l| l * v))
                .collect();
            let lzwx = |i: usize| lzwx_own[i].as_ref().unwrap_or(zwx[i].as_ref());
            let lzr = |i: usize| lzr_own[i].as_ref().unwrap_or(&zr[i]);
            let mut tmp = DMatrix::zeros(0, 0);
            for i in 0..q {
                quad[i] += zr[i].dot(lzr(i));
                f[i].gemm_tr(1.0, &zwx[i], lzwx(i), 1.0);
                xwu[i].gemv_tr(1.0, &zwx[i], lzr(i), 1.0);
                // The q × q sums are symmetric (tr(AB) = tr(BA), h_ji = h_ij'): the lower
                // triangle is computed and mirrored.
                for j in 0..=i {
                    let sij = dm[j].z.sum_cols(zw[i].as_ref());
                    if i == j {
                        tr_wd[i] += dm[i].trace_with(&sij);
                    }
                    // tr(Λ_i S_ij Λ_j S_ji) = Σ (Λ_i S_ij Λ_j) ∘ S_ij.
                    t[(i, j)] += match (&dm[i].lambda, &dm[j].lambda) {
                        (None, None) => sij.norm_squared(),
                        (li, lj) => {
                            let mut m = sij.clone().into_owned();
                            if let Some(l) = li {
                                m = l * m;
                            }
                            if let Some(l) = lj {
                                m *= l;
                            }
                            m.component_mul(&sij).sum()
                        }
                    };
                    tmp.resize_mut(sij.nrows(), p, 0.0);
                    tmp.gemm(1.0, &sij, lzwx(j), 0.0);
                    h[i * q + j].gemm_tr(1.0, lzwx(i), &tmp, 1.0);
                    uwu[(i, j)] += quadratic(lzr(i), &sij, lzr(j));
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
                    let z = &blk.gz[t];
                    let lambda = cell_lambda(&d2, &blk.gcells[t]);
                    tr += lambda.component_mul(&z.sum_cols(&z.sum_rows(w))).sum();
                    let zr = z.sum_vec(wr);
                    quad += zr.dot(&(&lambda * &zr));
                    if lik == Likelihood::Reml {
                        let zwx = z.sum_rows(wx);
                        f += zwx.transpose() * &lambda * zwx.as_ref();
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

/// log|M| and M⁻¹ = D⁻¹ − κ uu' (u = D⁻¹1, κ = c / (1 + c·Σu)) of M = diag(d) + c·11'
/// (Sherman & Morrison 1950, *Ann Math Stat* 21:124–127); `None` unless d > 0 and c ≥ 0.
fn diagonal_plus_constant_inverse(d: &[f64], c: f64) -> Option<(f64, DMatrix<f64>)> {
    if c < 0.0
        || d.iter()
            .any(|&x| x.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater))
    {
        return None;
    }
    let u: Vec<f64> = d.iter().map(|x| 1.0 / x).collect();
    let denom = 1.0 + c * u.iter().sum::<f64>();
    let kappa = c / denom;
    let logdet = d.iter().map(|x| x.ln()).sum::<f64>() + denom.ln();
    let n = d.len();
    let mut w = DMatrix::from_fn(n, n, |a, b| -kappa * u[a] * u[b]);
    for a in 0..n {
        w[(a, a)] += u[a];
    }
    Some((logdet, w))
}

/// a'Sb without a temporary.
fn quadratic(a: &DVector<f64>, s: &DMatrix<f64>, b: &DVector<f64>) -> f64 {
    let mut sum = 0.0;
    for (c, &bc) in b.iter().enumerate() {
        sum += bc * s.column(c).dot(a);
    }
    sum
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

    /// The Sherman–Morrison inverse of diag(d) + c·11' and its log-determinant equal the
    /// Cholesky ones, and a block of that form takes it.
    #[test]
    fn diagonal_plus_constant_equals_cholesky() {
        let d = [0.02, 0.5, 0.07, 1.3, 0.04];
        let c = 0.3;
        let m = DMatrix::from_fn(5, 5, |a, b| c + if a == b { d[a] } else { 0.0 });
        let (ld, w) = diagonal_plus_constant_inverse(&d, c).unwrap();
        let ch = nalgebra::Cholesky::new(m.clone()).unwrap();
        assert!((ld - logdet_spd(&m).unwrap()).abs() < 1e-12);
        assert!((&w - cholesky_inverse(&ch)).amax() < 1e-10);
        assert!(diagonal_plus_constant_inverse(&[0.1, 0.0], 0.2).is_none());
        assert!(diagonal_plus_constant_inverse(&[0.1, 0.2], -0.01).is_none());
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
