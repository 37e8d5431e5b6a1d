//! The report manifest (`evident.toml`) parser: any text gives a manifest whose analyses all
//! name a file, or an `Error::Input` naming the manifest and a line inside the text, with a
//! one-line message. Never a panic, a hang or an unstructured error.
#![no_main]

use evident::app::manifest::Manifest;
use evident::Error;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("evident.toml");
    match Manifest::parse(&text, path) {
        Ok(m) => assert!(m.analysis.iter().all(|a| a.file.is_some())),
        Err(Error::Input { location, message }) => {
            assert_eq!(location.file.as_deref(), Some(path));
            let line = location.line.expect("a manifest error names its line");
            assert!(line >= 1 && line <= text.matches('\n').count() + 1, "line {line}");
            assert!(!message.contains('\n'), "{message:?}");
        }
        Err(e) => panic!("unstructured error: {e:?}"),
    }
});
