//! Bytes → studies → escalc (the data type's default measure) → rma (REML/DL, z/knha) → JSON.
#![no_main]
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use evident::effect::{EffectSet, EscalcOptions};
use evident::data::{ColumnMap, CsvOptions, Studies, Table};
use evident::model::rma;
use evident::model::Method;
use evident::model::RmaOptions;
use evident::model::Test;
use evident::render::json::rma_json;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(table) = Table::from_bytes(Path::new("fuzz.csv"), data, &CsvOptions::default()) else {
        return;
    };
    let Ok(studies) = Studies::from_table(&table, &ColumnMap::new()) else {
        return;
    };
    let measure = studies.data.default_measure();
    let Ok(set) = EffectSet::from_studies(&studies, measure, &EscalcOptions::default()) else {
        return;
    };
    for method in [Method::REML, Method::DL] {
        for test in [Test::Z, Test::Knha] {
            let opts = RmaOptions {
                method,
                test,
                ..Default::default()
            };
            if let Ok(fit) = rma(&set, &opts) {
                // A fit is only returned with a finite estimate and a non-negative tau2.
                assert!(fit.estimate.is_finite(), "non-finite estimate {fit:?}");
                assert!(fit.tau2 >= 0.0, "negative tau2 {fit:?}");
                // Absurd results: a CI not containing its estimate, I² or p outside their range.
                assert!(
                    !(fit.ci_lb > fit.estimate || fit.ci_ub < fit.estimate),
                    "CI excludes the estimate {fit:?}"
                );
                assert!(!(fit.het.i2 < 0.0 || fit.het.i2 > 100.0), "I2 {fit:?}");
                assert!(!(fit.pval < 0.0 || fit.pval > 1.0), "p {fit:?}");
                let json = rma_json(&fit);
                let _ = serde_json::to_string(&json).expect("JSON serialises");
            }
        }
    }
});
