//! Bytes → `evident batch` (header, streaming reader, parallel fits, output rows): any input gives
//! rows or a typed error, never a panic or a hang.
#![no_main]

use evident::app::batch::{write_row, Batch, BatchOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the delimiter (or detection) and the decimal mark.
    let (opts, bytes) = match data.split_first() {
        Some((b, rest)) => (
            BatchOptions {
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
                ..BatchOptions::default()
            },
            rest,
        ),
        None => (BatchOptions::default(), data),
    };
    if let Ok(batch) = Batch::open(Path::new("fuzz.csv"), bytes, &opts) {
        let log_scale = batch.scale() == evident::Scale::Log;
        let _ = batch.run_map(
            |r| {
                let mut line = String::new();
                write_row(&r, log_scale, &mut line);
                line
            },
            |_| Ok(()),
        );
    }
});
