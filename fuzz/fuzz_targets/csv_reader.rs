//! Bytes → CSV table → studies: any input gives a table/studies or a typed error, never a panic.
#![no_main]

use evident::data::{ColumnMap, CsvOptions, Studies, Table};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the CSV options, so delimiter/decimal handling is explored too.
    let (opts, bytes) = match data.split_first() {
        Some((b, rest)) => (
            CsvOptions {
                delimiter: match b & 3 {
                    0 => None,
                    1 => Some(b','),
                    2 => Some(b';'),
                    _ => Some(b'\t'),
                },
                decimal_comma: match (b >> 2) & 3 {
                    0 => None,
                    1 => Some(false),
                    _ => Some(true),
                },
                sheet: None,
            },
            rest,
        ),
        None => (CsvOptions::default(), data),
    };
    if let Ok(table) = Table::from_bytes(Path::new("fuzz.csv"), bytes, &opts) {
        let _ = Studies::from_table(&table, &ColumnMap::new());
    }
});
