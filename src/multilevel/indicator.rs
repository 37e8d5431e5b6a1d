//! The 0/1 indicator Z of a block's rows on its local cells (the levels of a factor, or the
//! (outer, inner) cells of an `~ inner | outer` term): every derivative matrix of M is
//! D = Z Λ Z' (Λ = I for a factor), so the products the likelihood needs shrink to sums of
//! W over cells, O(n²) per block instead of the O(n³) of dense n × n products.

use nalgebra::{DMatrix, DVector};
use std::borrow::Cow;

/// Row a of the block sits in cell `cell[a]` of `n_cells`.
#[derive(Debug, Clone)]
pub(crate) struct Indicator {
    pub cell: Vec<usize>,
    pub n_cells: usize,
    /// Every row in a cell of its own, in order (Z = I): the sums are copies.
    identity: bool,
}

impl Indicator {
    /// The local cells of `ids` (equal ids share a cell), in order of first occurrence, with
    /// each cell's id.
    pub fn new<T: PartialEq + Copy>(ids: impl IntoIterator<Item = T>) -> (Indicator, Vec<T>) {
        let mut seen: Vec<T> = Vec::new();
        let cell: Vec<usize> = ids
            .into_iter()
            .map(|id| match seen.iter().position(|&s| s == id) {
                Some(c) => c,
                None => {
                    seen.push(id);
                    seen.len() - 1
                }
            })
            .collect();
        let identity = cell.iter().enumerate().all(|(a, &c)| a == c);
        let z = Indicator {
            cell,
            n_cells: seen.len(),
            identity,
        };
        (z, seen)
    }

    /// Whether every row has a cell of its own (Z = I).
    pub fn is_identity(&self) -> bool {
        self.identity
    }

    /// Z'm: the rows of `m` summed by cell (`m` itself, borrowed, for Z = I).
    pub fn sum_rows<'m>(&self, m: &'m DMatrix<f64>) -> Cow<'m, DMatrix<f64>> {
        if self.is_identity() {
            return Cow::Borrowed(m);
        }
        let mut out = DMatrix::zeros(self.n_cells, m.ncols());
        for j in 0..m.ncols() {
            for (a, &c) in self.cell.iter().enumerate() {
                out[(c, j)] += m[(a, j)];
            }
        }
        Cow::Owned(out)
    }

    /// mZ: the columns of `m` summed by cell (`m` itself, borrowed, for Z = I).
    pub fn sum_cols<'m>(&self, m: &'m DMatrix<f64>) -> Cow<'m, DMatrix<f64>> {
        if self.is_identity() {
            return Cow::Borrowed(m);
        }
        let mut out = DMatrix::zeros(m.nrows(), self.n_cells);
        for (b, &c) in self.cell.iter().enumerate() {
            for i in 0..m.nrows() {
                out[(i, c)] += m[(i, b)];
            }
        }
        Cow::Owned(out)
    }

    /// Z'v.
    pub fn sum_vec(&self, v: &DVector<f64>) -> DVector<f64> {
        let mut out = DVector::zeros(self.n_cells);
        for (a, &c) in self.cell.iter().enumerate() {
            out[c] += v[a];
        }
        out
    }

    /// m += s·ZZ' (s on every pair of rows sharing a cell).
    pub fn add_scaled(&self, s: f64, m: &mut DMatrix<f64>) {
        for (b, &cb) in self.cell.iter().enumerate() {
            for (a, &ca) in self.cell.iter().enumerate() {
                if ca == cb {
                    m[(a, b)] += s;
                }
            }
        }
    }
}

/// A derivative matrix Z Λ Z' of one block: Λ = `None` is the identity.
pub(crate) struct LowRank<'a> {
    pub z: &'a Indicator,
    pub lambda: Option<DMatrix<f64>>,
}

impl LowRank<'_> {
    /// tr(Λ S) for a cells × cells S.
    pub fn trace_with(&self, s: &DMatrix<f64>) -> f64 {
        match &self.lambda {
            Some(l) => l.component_mul(&s.transpose()).sum(),
            None => s.trace(),
        }
    }
}

/// The Λ of an `~ inner | outer` term's derivative ∂G over the cells (outer id, inner position)
/// of a block: G's entry of the two positions where the outer ids agree, else 0.
pub(crate) fn cell_lambda(dg: &DMatrix<f64>, cells: &[(usize, usize)]) -> DMatrix<f64> {
    DMatrix::from_fn(cells.len(), cells.len(), |a, b| {
        let ((oa, pa), (ob, pb)) = (cells[a], cells[b]);
        if oa == ob {
            dg[(pa, pb)]
        } else {
            0.0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Z'm, mZ, Z'v and ZZ' agree with the dense products of the explicit indicator.
    #[test]
    fn sums_equal_the_dense_products() {
        let (z, ids) = Indicator::new([7, 3, 7, 9, 3]);
        assert_eq!(ids, vec![7, 3, 9]);
        assert_eq!(z.cell, vec![0, 1, 0, 2, 1]);
        let zd = DMatrix::from_fn(5, 3, |a, c| f64::from(u8::from(z.cell[a] == c)));
        let m = DMatrix::from_fn(5, 5, |a, b| (a * 5 + b) as f64 * 0.1 - 1.0);
        let v = DVector::from_fn(5, |a, _| a as f64 - 2.0);
        assert_eq!(*z.sum_rows(&m), zd.transpose() * &m);
        assert_eq!(*z.sum_cols(&m), &m * &zd);
        assert_eq!(z.sum_vec(&v), zd.transpose() * &v);
        let mut acc = DMatrix::zeros(5, 5);
        z.add_scaled(2.0, &mut acc);
        assert_eq!(acc, &zd * zd.transpose() * 2.0);
        assert!(Indicator::new([4, 5, 6]).0.is_identity());
        assert!(!z.is_identity());
    }
}
