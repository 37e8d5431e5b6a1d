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
    // lt = Lᵀ, so that row i of L is contiguous: lt[i * n + m] = L_im.
    let lt = l.transpose();
    let (l, lt) = (l.as_slice(), lt.as_slice());
    // li = L⁻¹, lower triangular, column-major: li[j * n + i] = (L⁻¹)_ij, by forward
    // substitution on each column of I (the sum over m in increasing order, on slices).
    let mut li = vec![0.0; n * n];
    for j in 0..n {
        let col = &mut li[j * n..(j + 1) * n];
        col[j] = 1.0 / l[j * n + j];
        for i in j + 1..n {
            let s: f64 = lt[i * n + j..i * n + i]
                .iter()
                .zip(&col[j..i])
                .map(|(a, b)| a * b)
                .sum();
            col[i] = -s / l[i * n + i];
        }
    }
    // (L⁻ᵀL⁻¹)_ij = Σ_{m ≥ max(i, j)} li_mi li_mj: columns i and j of li from row i on.
    let mut inv = vec![0.0; n * n];
    for j in 0..n {
        for i in j..n {
            let (ci, cj) = (&li[i * n + i..(i + 1) * n], &li[j * n + i..(j + 1) * n]);
            let s: f64 = ci.iter().zip(cj).map(|(a, b)| a * b).sum();
            inv[j * n + i] = s;
            inv[i * n + j] = s;
        }
    }
    DMatrix::from_vec(n, n, inv)
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
