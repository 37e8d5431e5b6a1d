//! Numbers as text, fast: the shortest decimal that reads back as the same `f64`.

/// Appends `x` in the form `format!("{x}")` writes (never an exponent) with ryu's digits: the
/// shortest that read back as `x`, and of those the closest to it (Adams 2018, "Ryū: fast
/// float-to-string conversion", PLDI). Several times faster than `core::fmt`, whose shortest
/// digits are as short but, in rare ties, differ in the last digit. Non-finite values are written
/// as `NaN`, `inf`, `-inf`.
///
/// ```
/// let mut s = String::new();
/// evident::render::decimal::push_f64(&mut s, 1.5e-7);
/// assert_eq!(s, format!("{}", 1.5e-7));
/// ```
pub fn push_f64(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str(&format!("{x}"));
        return;
    }
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(x);
    // Byte scans: `str::find` sets up a searcher, costly on strings this short.
    let Some(e) = s.bytes().position(|b| b == b'e') else {
        // Plain decimal: ryu writes whole numbers with ".0", Display without.
        out.push_str(s.strip_suffix(".0").unwrap_or(s));
        return;
    };
    let (mantissa, exp) = (&s[..e], &s[e + 1..]);
    let exp: i32 = exp.parse().expect("ryu writes a decimal exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    out.push_str(sign);
    // mantissa is "d" or "d.ddd": the digits, with the point after the first.
    let (head, tail) = match mantissa.bytes().position(|b| b == b'.') {
        Some(p) => (&mantissa[..p], &mantissa[p + 1..]),
        None => (mantissa, ""),
    };
    let n = (head.len() + tail.len()) as i32;
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(head);
        out.push_str(tail);
    } else if point >= n {
        out.push_str(head);
        out.push_str(tail);
        out.extend(std::iter::repeat_n('0', (point - n) as usize));
    } else {
        let (int, frac) = tail.split_at(point as usize - 1);
        out.push_str(head);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
}

/// Decimals that show every non-zero value of a group with a significant digit once rounded:
/// `min`, or more for values that would round to 0 (0.003 with 3 decimals, not "0.00"), at
/// most `max`.
///
/// ```
/// use evident::render::decimal::decimals_for;
/// assert_eq!(decimals_for(&[0.49, 0.34, 0.70], 2, 6), 2);
/// assert_eq!(decimals_for(&[0.08, 0.0031, 2.1], 2, 6), 3);
/// assert_eq!(decimals_for(&[0.00098, 0.2], 2, 6), 3);
/// assert_eq!(decimals_for(&[0.0, 1e-12], 2, 6), 6);
/// ```
pub fn decimals_for(values: &[f64], min: usize, max: usize) -> usize {
    let needs = |v: f64| {
        (min..max)
            .find(|&d| v * 10f64.powi(d as i32) >= 0.5)
            .unwrap_or(max)
    };
    values
        .iter()
        .filter(|v| v.is_finite() && **v != 0.0)
        .map(|v| needs(v.abs()))
        .fold(min, usize::max)
}

#[cfg(test)]
mod tests {
    use super::push_f64;
    use proptest::prelude::*;

    fn text(x: f64) -> String {
        let mut s = String::new();
        push_f64(&mut s, x);
        s
    }

    #[test]
    fn same_as_display_at_the_edges() {
        for x in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            1e-5,
            1e-4,
            1.234e-7,
            123456789.0,
            1e15,
            1e16,
            1.5e16,
            1e17,
            1.2345e21,
            1e22,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            -2.5e-310,
            f64::EPSILON,
            std::f64::consts::PI,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(text(x), format!("{x}"), "{x:e}");
        }
    }

    /// Reads back as `x`, as short as Display's digits, and in Display's form.
    fn check(x: f64) -> Result<(), TestCaseError> {
        let (ours, display) = (text(x), format!("{x}"));
        prop_assert_eq!(
            ours.parse::<f64>().unwrap().to_bits(),
            x.to_bits(),
            "{}",
            ours
        );
        prop_assert_eq!(ours.len(), display.len(), "{} vs {}", ours, display);
        prop_assert!(!ours.contains('e'));
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn round_trips_for_any_bits(bits in any::<u64>()) {
            let x = f64::from_bits(bits);
            if x.is_finite() {
                check(x)?;
            }
        }

        #[test]
        fn round_trips_for_statistics(m in -1e6f64..1e6, e in -30i32..30) {
            check(m * 10f64.powi(e))?;
        }
    }
}
