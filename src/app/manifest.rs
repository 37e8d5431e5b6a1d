//! The `evident.toml` manifest: which analyses a report holds and how each is run.
//!
//! ```toml
//! title = "Combination immunosuppression"     # optional title of the report's index
//!
//! [[analysis]]
//! name = "bcg_or"                              # directory name (sanitised); default: file stem
//! file = "bcg.csv"                             # relative to the manifest's directory
//! measure = "OR"                               # default: by data type
//! method = "REML"                              # τ² estimator (FE, DL, REML, PM, ...)
//! test = "knha"                                # z, knha or adhoc
//! by = "alloc"                                 # subgroup column
//! mods = ["ablat"]                             # meta-regression moderators
//! labels = ["Favours vaccine", "Favours control"]
//! title = "BCG vaccine and tuberculosis"
//! direction = "lower"                          # which side of no effect is favourable
//! note = "A caution shown on the page"
//! exclude = "reason"                           # list as skipped with this reason
//! ```

use crate::error::{Error, Result};
use serde::Deserialize;

pub use crate::render::html::analysis::{AnalysisConfig, Direction};
use std::path::Path;

/// The file name a directory's manifest has.
pub const MANIFEST_NAME: &str = "evident.toml";

/// A whole manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Title of the report's index page.
    pub title: Option<String>,
    /// The analyses, in the order they are listed.
    #[serde(default)]
    pub analysis: Vec<AnalysisConfig>,
}

impl Manifest {
    /// Parses a manifest's text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest> {
        let m: Manifest = toml::from_str(text).map_err(|e| {
            Error::invalid(format!("{}: not a valid manifest: {e}", path.display()))
        })?;
        for (i, a) in m.analysis.iter().enumerate() {
            if a.file.is_none() {
                return Err(Error::invalid(format!(
                    "{}: analysis {} has no `file`",
                    path.display(),
                    i + 1
                )));
            }
        }
        Ok(m)
    }

    /// Reads and parses a manifest file.
    pub fn read(path: &Path) -> Result<Manifest> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            Error::invalid(format!(
                "{}: not a valid manifest: not UTF-8 text (invalid byte at offset {}); TOML \
                 files are UTF-8",
                path.display(),
                e.utf8_error().valid_up_to()
            ))
        })?;
        Manifest::parse(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_field_and_refuses_unknown_ones() {
        let m = Manifest::parse(
            r#"
title = "T"
[[analysis]]
name = "a"
file = "x.csv"
measure = "RR"
method = "DL"
test = "z"
level = 90
by = "g"
mods = ["ablat"]
labels = ["Favours A", "Favours B"]
direction = "lower"
note = "careful"
"#,
            Path::new("evident.toml"),
        )
        .unwrap();
        let a = &m.analysis[0];
        assert_eq!(a.direction, Some(Direction::Lower));
        assert_eq!(a.labels.as_ref().unwrap()[1], "Favours B");
        assert_eq!(a.level, Some(90.0));
        assert!(Manifest::parse("[[analysis]]\nfile='a'\nbogus=1", Path::new("m")).is_err());
        assert!(Manifest::parse("[[analysis]]\nname='a'", Path::new("m")).is_err());
    }
}
