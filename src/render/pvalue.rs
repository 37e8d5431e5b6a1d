//! P-values as the renderers print them: one formatter with named styles, so that every output
//! of a kind prints p the same way.

/// How a p-value is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PStyle {
    /// As metafor's `print.rma` does (`fmtp` with four digits): "< .0001" below 0.0001, otherwise
    /// four decimals ("0.0123"). The text summaries use it, to read like R's output.
    Metafor,
    /// As journals print it (e.g. the BMJ's and APA's rules): "< 0.001", three decimals below
    /// 0.01 ("0.004"), otherwise two ("0.38"). Plots and report pages use it.
    Journal,
}

/// The p-value alone: "< .0001", "0.0123" ([`PStyle::Metafor`]); "< 0.001", "0.004", "0.38"
/// ([`PStyle::Journal`]); "NA" when it is not a number.
pub fn p_number(p: f64, style: PStyle) -> String {
    if p.is_nan() {
        return "NA".into();
    }
    match style {
        PStyle::Metafor if p < 0.0001 => "< .0001".into(),
        PStyle::Metafor => format!("{p:.4}"),
        PStyle::Journal if p < 0.001 => "< 0.001".into(),
        PStyle::Journal if p < 0.01 => format!("{p:.3}"),
        PStyle::Journal => format!("{p:.2}"),
    }
}

/// The p-value as a clause: "p < .0001", "p = 0.0123", "p < 0.001", "p = 0.38", "p = NA".
pub fn p_value(p: f64, style: PStyle) -> String {
    let n = p_number(p, style);
    if n.starts_with('<') {
        format!("p {n}")
    } else {
        format!("p = {n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The formatters this one replaced, verbatim: `render::text::{fmt_p, p_clause}` and the
    /// plots' `p_clause`.
    fn text_fmt_p(p: f64) -> String {
        if p.is_nan() {
            "NA".into()
        } else if p < 0.0001 {
            "< .0001".into()
        } else {
            format!("{p:.4}")
        }
    }
    fn text_p_clause(p: f64) -> String {
        let f = text_fmt_p(p);
        if f.starts_with('<') {
            format!("p {f}")
        } else {
            format!("p = {f}")
        }
    }
    fn plot_p_clause(p: f64) -> String {
        if p.is_nan() {
            "p = NA".into()
        } else if p < 0.001 {
            "p < 0.001".into()
        } else if p < 0.01 {
            format!("p = {p:.3}")
        } else {
            format!("p = {p:.2}")
        }
    }

    #[test]
    fn styles_print_as_before() {
        assert_eq!(p_value(0.0004, PStyle::Journal), "p < 0.001");
        assert_eq!(p_value(0.0042, PStyle::Journal), "p = 0.004");
        assert_eq!(p_value(0.384, PStyle::Journal), "p = 0.38");
        assert_eq!(p_value(0.00004, PStyle::Metafor), "p < .0001");
        assert_eq!(p_value(0.01234, PStyle::Metafor), "p = 0.0123");
        assert_eq!(p_number(0.01234, PStyle::Metafor), "0.0123");
        assert_eq!(p_value(f64::NAN, PStyle::Journal), "p = NA");
        assert_eq!(p_value(f64::NAN, PStyle::Metafor), "p = NA");
        let mut ps = vec![
            0.0,
            -0.0,
            1e-300,
            0.00009999,
            0.0001,
            0.00099995,
            0.000999,
            0.001,
            0.0099951,
            0.00995,
            0.01,
            0.049999,
            0.05,
            0.995,
            0.99996,
            1.0,
            f64::NAN,
            f64::INFINITY,
            -1.0,
        ];
        ps.extend((0..=20_000).map(|i| i as f64 / 20_000.0));
        ps.extend((0..=400).map(|i| 10f64.powf(-(i as f64) / 50.0)));
        for p in ps {
            assert_eq!(p_value(p, PStyle::Metafor), text_p_clause(p), "{p}");
            assert_eq!(p_number(p, PStyle::Metafor), text_fmt_p(p), "{p}");
            assert_eq!(p_value(p, PStyle::Journal), plot_p_clause(p), "{p}");
        }
    }
}
