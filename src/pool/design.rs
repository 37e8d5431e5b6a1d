//! The weighted-least-squares quantities every τ² estimator and model fit needs.
//!
//! Estimators are written once against [`Design`]; the intercept-only model implements it with
//! O(k) closed forms (no k×k matrices), and meta-regression implements it with matrices.

/// Quantities of the projection P = W − WX(X'WX)⁻¹X'W for a weight vector w.
#[derive(Debug, Clone, Copy, Default)]
pub struct PQuantities {
    /// y'Py: the weighted residual sum of squares.
    pub ypy: f64,
    /// y'PPy.
    pub yppy: f64,
    /// tr(P).
    pub tr_p: f64,
    /// tr(PP) = Σ P²ᵢⱼ.
    pub tr_pp: f64,
}

/// Quantities involving the sampling variances V as well: tr(PV), tr(PVPV), Σ(PV∘P).
#[derive(Debug, Clone, Copy, Default)]
pub struct PvQuantities {
    pub tr_pv: f64,
    pub tr_pvpv: f64,
    pub sum_pv_p: f64,
    pub tr_pp: f64,
    pub tr_p: f64,
}

/// A weighted least-squares fit.
#[derive(Debug, Clone)]
pub struct WlsFit {
    pub beta: Vec<f64>,
    /// (X'WX)⁻¹, row-major p×p.
    pub vb: Vec<f64>,
    /// Σ w (y − Xb)².
    pub rss: f64,
}

/// A model design (the X matrix): what the estimators need from it.
pub trait Design {
    /// Number of studies.
    fn k(&self) -> usize;
    /// Number of coefficients.
    fn p(&self) -> usize;
    /// P quantities for weights `w`.
    fn p_quantities(&self, y: &[f64], w: &[f64]) -> PQuantities;
    /// PV quantities for weights `w` and variances `v`.
    fn pv_quantities(&self, w: &[f64], v: &[f64]) -> PvQuantities;
    /// Weighted least squares with weights `w`; `None` when X'WX is singular.
    fn wls(&self, y: &[f64], w: &[f64]) -> Option<WlsFit>;
    /// log det(X'WX).
    fn log_det_xwx(&self, w: &[f64]) -> f64;
    /// log det(X'X).
    fn log_det_xx(&self) -> f64;
}

/// The intercept-only model (X = 1): every quantity in closed form, O(k).
#[derive(Debug, Clone, Copy)]
pub struct Intercept {
    pub k: usize,
}

impl Design for Intercept {
    fn k(&self) -> usize {
        self.k
    }
    fn p(&self) -> usize {
        1
    }

    fn p_quantities(&self, y: &[f64], w: &[f64]) -> PQuantities {
        // P = W − w wᵀ/S, so Py = w ∘ (y − b) with b the weighted mean.
        let (mut s, mut s2, mut s3, mut swy) = (0.0, 0.0, 0.0, 0.0);
        for (&wi, &yi) in w.iter().zip(y) {
            s += wi;
            s2 += wi * wi;
            s3 += wi * wi * wi;
            swy += wi * yi;
        }
        let b = swy / s;
        let (mut ypy, mut yppy) = (0.0, 0.0);
        for (&wi, &yi) in w.iter().zip(y) {
            let r = yi - b;
            ypy += wi * r * r;
            yppy += wi * wi * r * r;
        }
        PQuantities {
            ypy,
            yppy,
            tr_p: s - s2 / s,
            tr_pp: s2 - 2.0 * s3 / s + s2 * s2 / (s * s),
        }
    }

    fn pv_quantities(&self, w: &[f64], v: &[f64]) -> PvQuantities {
        // With Pᵢⱼ = wᵢδᵢⱼ − wᵢwⱼ/S: Pᵢⱼ² = δᵢⱼ(wᵢ² − 2wᵢ³/S) + wᵢ²wⱼ²/S².
        let (mut s, mut s2, mut s3) = (0.0, 0.0, 0.0);
        let (mut w1v, mut w2v, mut w3v, mut w2v2, mut w3v2) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&wi, &vi) in w.iter().zip(v) {
            let w2 = wi * wi;
            let w3 = w2 * wi;
            s += wi;
            s2 += w2;
            s3 += w3;
            w1v += wi * vi;
            w2v += w2 * vi;
            w3v += w3 * vi;
            w2v2 += w2 * vi * vi;
            w3v2 += w3 * vi * vi;
        }
        PvQuantities {
            tr_pv: w1v - w2v / s,
            tr_pvpv: w2v2 - 2.0 * w3v2 / s + w2v * w2v / (s * s),
            sum_pv_p: w2v - 2.0 * w3v / s + s2 * w2v / (s * s),
            tr_pp: s2 - 2.0 * s3 / s + s2 * s2 / (s * s),
            tr_p: s - s2 / s,
        }
    }

    fn wls(&self, y: &[f64], w: &[f64]) -> Option<WlsFit> {
        let (mut s, mut swy) = (0.0, 0.0);
        for (&wi, &yi) in w.iter().zip(y) {
            s += wi;
            swy += wi * yi;
        }
        if !(s > 0.0) || !s.is_finite() {
            return None;
        }
        let b = swy / s;
        let rss = w
            .iter()
            .zip(y)
            .map(|(&wi, &yi)| wi * (yi - b) * (yi - b))
            .sum();
        Some(WlsFit {
            beta: vec![b],
            vb: vec![1.0 / s],
            rss,
        })
    }

    fn log_det_xwx(&self, w: &[f64]) -> f64 {
        w.iter().sum::<f64>().ln()
    }

    fn log_det_xx(&self) -> f64 {
        (self.k as f64).ln()
    }
}
