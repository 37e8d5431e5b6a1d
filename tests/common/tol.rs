//! The named tolerances of the test suite. A number passes when
//! `|got - expected| <= atol + rtol * |expected|`; the corpus values are the "Suggested
//! tolerances" of `tests/conformance/README.md`.

/// A relative and an absolute tolerance.
#[derive(Debug, Clone, Copy)]
pub struct Tol {
    pub rtol: f64,
    pub atol: f64,
}

/// Relative tolerance for a number metafor computed: effect sizes, every fit and what derives
/// from it (CIs, PIs, Q, I², H², weights), MH, Peto, bias and sensitivity analyses (README: 1e-8).
pub const RTOL: f64 = 1e-8;

/// Absolute floor of every comparison, for expected values at or near zero (README: 1e-12
/// unless stated).
pub const ATOL: f64 = 1e-12;

/// Relative tolerance for p-values (README: 1e-6, with `ATOL`).
pub const PVAL_RTOL: f64 = 1e-6;

/// Relative tolerance for the `converged` block, the refit with a tight stopping rule that any
/// exact optimiser must reproduce (README: 1e-6, with `ATOL`).
pub const CONVERGED_RTOL: f64 = 1e-6;

/// Relative tolerance for the `*_precise` Q-profile CI keys, `confint(res, control =
/// list(tol = 1e-12))` (README: 1e-6).
pub const PRECISE_RTOL: f64 = 1e-6;

/// Absolute tolerance for the `*_precise` Q-profile CI keys (README: 1e-8).
pub const PRECISE_ATOL: f64 = 1e-8;

/// Every corpus key without a rule of its own.
pub const STRICT: Tol = Tol {
    rtol: RTOL,
    atol: ATOL,
};

/// Keys ending in `pval`.
pub const PVAL: Tol = Tol {
    rtol: PVAL_RTOL,
    atol: ATOL,
};

/// The keys of a `converged` block.
pub const CONVERGED: Tol = Tol {
    rtol: CONVERGED_RTOL,
    atol: ATOL,
};

/// The `*_precise` keys.
pub const PRECISE: Tol = Tol {
    rtol: PRECISE_RTOL,
    atol: PRECISE_ATOL,
};

/// The tolerance for `key` given the block's tolerance `base`: p-values are never held tighter
/// than `PVAL`.
pub fn key_tol(key: &str, base: Tol) -> Tol {
    if key.ends_with("pval") {
        Tol {
            rtol: base.rtol.max(PVAL.rtol),
            atol: PVAL.atol,
        }
    } else {
        base
    }
}

/// Multilevel (`rma.mv`) keys against metafor's default result, whose nlminb optimiser stops
/// short of the optimum (README_mv: rtol 1e-5, atol 1e-8).
pub const MV_DEFAULT: Tol = Tol {
    rtol: 1e-5,
    atol: 1e-8,
};

/// Multilevel keys against the `converged` block, the exact optimum (README_mv: rtol 1e-6,
/// atol 1e-9).
pub const MV_CONVERGED: Tol = Tol {
    rtol: 1e-6,
    atol: 1e-9,
};

/// Default profile-likelihood CI bounds, which carry uniroot's tolerance 1.2e-4 (README_mv:
/// atol 2e-4 + rtol 1e-4).
pub const MV_CI_DEFAULT: Tol = Tol {
    rtol: 1e-4,
    atol: 2e-4,
};
