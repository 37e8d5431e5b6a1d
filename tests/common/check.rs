//! Comparing many numbers with a reference at once: every mismatch is collected, so that one
//! failing test lists them all, and the count of comparisons guards against a test that compares
//! nothing.

use super::tol::ATOL;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The folder of a generated reference, `tests/fixtures/<topic>` (its `gen.R` beside the output).
pub fn fixture(topic: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(topic)
}

/// The `expected.json` of a fixture folder.
pub fn fixture_expected(topic: &str) -> Value {
    let text = std::fs::read_to_string(fixture(topic).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Collects mismatches of values against their expected JSON numbers (null: not finite).
pub struct Check {
    /// What differed, one line each.
    pub misses: Vec<String>,
    /// How many values were compared.
    pub n: usize,
    /// The absolute part of the tolerance |got − expected| ≤ atol + rtol·|expected|.
    pub atol: f64,
}

impl Default for Check {
    fn default() -> Self {
        Check::with_atol(ATOL)
    }
}

impl Check {
    /// A check with its own absolute tolerance.
    pub fn with_atol(atol: f64) -> Self {
        Check {
            misses: Vec::new(),
            n: 0,
            atol,
        }
    }

    /// One value.
    pub fn num(&mut self, key: &str, e: &Value, g: f64, rtol: f64) {
        self.n += 1;
        match e.as_f64() {
            Some(e) if (g - e).abs() <= self.atol + rtol * e.abs() => {}
            None if e.is_null() && !g.is_finite() => {}
            _ => self.misses.push(format!("{key}: expected {e}, got {g}")),
        }
    }

    /// An array, entry by entry.
    pub fn arr(&mut self, key: &str, e: &Value, g: &[f64], rtol: f64) {
        let e = e.as_array().unwrap();
        if e.len() != g.len() {
            self.misses
                .push(format!("{key}: {} entries, got {}", e.len(), g.len()));
            return;
        }
        for (i, (ev, gv)) in e.iter().zip(g).enumerate() {
            self.num(&format!("{key}[{i}]"), ev, *gv, rtol);
        }
    }

    /// Norm-wise relative error: each entry within `rtol` of the largest |expected| of the
    /// array. For differences of nearly equal fits (DFFITS, DFBETAS), whose small entries carry
    /// rounding far below the array's scale.
    pub fn arr_normwise(&mut self, key: &str, e: &Value, g: &[f64], rtol: f64) {
        let e = e.as_array().unwrap();
        let scale = e
            .iter()
            .filter_map(Value::as_f64)
            .fold(0.0f64, |m, v| m.max(v.abs()));
        if e.len() != g.len() {
            self.misses
                .push(format!("{key}: {} entries, got {}", e.len(), g.len()));
            return;
        }
        for (i, (ev, gv)) in e.iter().zip(g).enumerate() {
            self.n += 1;
            let ok = match ev.as_f64() {
                Some(ev) => (gv - ev).abs() <= self.atol + rtol * scale,
                None => gv.is_nan(),
            };
            if !ok {
                self.misses
                    .push(format!("{key}[{i}]: expected {ev}, got {gv}"));
            }
        }
    }

    /// Fails listing every mismatch (the first 50 printed in full), or when fewer than `min`
    /// values were compared.
    pub fn done(self, min: usize) {
        let shown: Vec<&str> = self.misses.iter().take(50).map(String::as_str).collect();
        assert!(
            self.misses.is_empty(),
            "{} of {} values differ:\n{}",
            self.misses.len(),
            self.n,
            shown.join("\n")
        );
        assert!(self.n >= min, "only {} values compared", self.n);
    }
}
