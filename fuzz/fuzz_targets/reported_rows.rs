//! Bytes → table of reported statistics → per-row conversion, consistency check, mixed pooling.
#![no_main]

use evident::data::{CsvOptions, Table};
use evident::reported::check::check;
use evident::reported::{to_effects, ReportedTable};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(table) = Table::from_bytes(Path::new("fuzz.csv"), data, &CsvOptions::default()) else {
        return;
    };
    for measure in [None, Some("OR")] {
        let rt = ReportedTable::new(&table, measure);
        for r in 0..rt.len() {
            let _ = rt.convert(r);
            if let Ok(input) = rt.check_input(r) {
                let _ = check(&input);
            }
        }
        let _ = to_effects(&table, measure);
    }
});
