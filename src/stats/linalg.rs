//! Small dense linear algebra the fits repeat on many small blocks, in plain loops where
//! nalgebra's general routines cost several times more at these sizes (Golub & Van Loan 2013,
//! *Matrix Computations*, 4th ed., §4.2 for the Cholesky inverse).

use nalgebra::DMatrix;

/// M⁻¹ = L⁻ᵀL⁻¹ from the Cholesky factor M = LLᵀ, in plain loops: nalgebra's `inverse`
/// solves against the identity column by column, several times slower on the small blocks
/// a multilevel fit inverts at every iteration.
pub fn cholesky_inverse(ch: &nalgebra::Cholesky<f64, nalgebra::Dyn>) -> DMatrix<f64> {
    let l = ch.l_dirty();
    let n = l.nrows();
    // L⁻¹ by forward substitution on each column of I; plain indexed loops, as the iterator
    // versions' set-up costs more than the few products of these short rows.
    let mut li = DMatrix::<f64>::zeros(n, n);
    for j in 0..n {
        li[(j, j)] = 1.0 / l[(j, j)];
        for i in j + 1..n {
            let mut s = 0.0;
            for m in j..i {
                s += l[(i, m)] * li[(m, j)];
            }
            li[(i, j)] = -s / l[(i, i)];
        }
    }
    // (L⁻ᵀL⁻¹)_ij = Σ_{m ≥ max(i, j)} li_mi li_mj.
    let mut w = DMatrix::<f64>::zeros(n, n);
    for j in 0..n {
        for i in j..n {
            let mut s = 0.0;
            for m in i..n {
                s += li[(m, i)] * li[(m, j)];
            }
            w[(i, j)] = s;
            w[(j, i)] = s;
        }
    }
    w
}

/// tr(AB) of two n × n matrices without forming AB: Σ_ab A_ab B_ba.
pub fn trace_of_product(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let n = a.nrows();
    let mut tr = 0.0;
    for i in 0..n {
        for j in 0..n {
            tr += a[(i, j)] * b[(j, i)];
        }
    }
    tr
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loop inverse agrees with nalgebra's on an SPD matrix to rounding, and the trace of
    /// a product with forming it.
    #[test]
    fn cholesky_inverse_matches_nalgebra() {
        let a = DMatrix::from_fn(7, 7, |i, j| ((i * 7 + j) as f64 * 0.37).sin());
        let m = &a * a.transpose() + DMatrix::identity(7, 7) * 0.5;
        let ch = nalgebra::Cholesky::new(m.clone()).unwrap();
        let ours = cholesky_inverse(&ch);
        let theirs = ch.inverse();
        for (x, y) in ours.iter().zip(theirs.iter()) {
            assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()), "{x} vs {y}");
        }
        let b = DMatrix::from_fn(7, 7, |i, j| ((i + 2 * j) as f64).cos());
        let direct = (&m * &b).trace();
        assert!((trace_of_product(&m, &b) - direct).abs() <= 1e-12 * direct.abs().max(1.0));
        let id = &m * &ours;
        for i in 0..7 {
            for j in 0..7 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((id[(i, j)] - want).abs() < 1e-12);
            }
        }
    }
}
