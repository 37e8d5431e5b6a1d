//! Bytes → studies → escalc (the data type's default measure) → rma (REML/DL, z/knha) → JSON.
#![no_main]

use evident::effect::{EffectSet, EscalcOptions};
use evident::io::{ColumnMap, CsvOptions, Studies, Table};
use evident::pool::{rma, Method, RmaOptions, Test};
use evident::report::json::rma_json;
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
                let json = rma_json(&fit);
                let _ = serde_json::to_string(&json).expect("JSON serialises");
            }
        }
    }
});
