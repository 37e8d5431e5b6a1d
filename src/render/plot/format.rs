//! Number formatting for plot text, in the style journals print (p-values: [`crate::render::pvalue`]).

use crate::measure::Scale;

/// A number with `d` decimals and a typographic minus sign.
pub fn num(x: f64, d: usize) -> String {
    if x.is_nan() {
        return "NA".into();
    }
    let s = format!("{x:.d$}");
    // "-0.00" is zero.
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        return s[1..].to_string();
    }
    s.replacen('-', "\u{2212}", 1)
}

/// "2.82 [1.89, 4.22]".
pub fn estimate_ci(est: f64, lb: f64, ub: f64, d: usize) -> String {
    format!("{} [{}, {}]", num(est, d), num(lb, d), num(ub, d))
}

/// [`estimate_ci`] of analysis-scale values, shown on the display scale.
pub(crate) fn display_ci(scale: Scale, est: f64, lb: f64, ub: f64, d: usize) -> String {
    estimate_ci(scale.back(est), scale.back(lb), scale.back(ub), d)
}

/// τ² with two decimals, or two significant digits when it is small.
pub fn tau2(t: f64) -> String {
    if t == 0.0 {
        "0".into()
    } else if t < 0.01 {
        let d = (-(t.log10().floor()) as usize + 1).min(8);
        num(t, d)
    } else {
        num(t, 2)
    }
}

/// "F(2, 10) = 4.96" or "QM(2) = 9.93" with `d` decimals.
pub fn omnibus_stat(t: &crate::moderators::metareg::OmnibusTest, d: usize) -> String {
    match t.ddf {
        Some(ddf) => format!("F({}, {}) = {}", t.df, num(ddf, 0), num(t.stat, d)),
        None => format!("QM({}) = {}", t.df, num(t.stat, d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(estimate_ci(0.4894, 0.3441, 0.6962, 2), "0.49 [0.34, 0.70]");
        assert_eq!(num(-0.004, 2), "0.00");
        assert_eq!(num(-1.5, 2), "\u{2212}1.50");
        assert_eq!(tau2(0.3132), "0.31");
        assert_eq!(tau2(0.00123), "0.0012");
        assert_eq!(tau2(0.0), "0");
    }
}
