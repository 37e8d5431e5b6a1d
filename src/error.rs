//! The library's error type.

use std::fmt;
use std::path::PathBuf;

/// Where in an input file a problem sits: file, 1-based line number, column name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Location {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub column: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(file) = &self.file {
            parts.push(file.display().to_string());
        }
        if let Some(line) = self.line {
            parts.push(format!("line {line}"));
        }
        if let Some(col) = &self.column {
            parts.push(format!("column '{col}'"));
        }
        if parts.is_empty() {
            write!(f, "input")
        } else {
            write!(f, "{}", parts.join(", "))
        }
    }
}

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input data are malformed; the location says where.
    #[error("{location}: {message}")]
    Input { location: Location, message: String },

    /// Reading or writing a file failed.
    // The source is shown by whoever prints the error chain; repeating it here printed it twice.
    #[error("cannot read or write {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The requested analysis does not fit the data (wrong measure for the columns, too few studies, ...).
    #[error("{0}")]
    Invalid(String),

    /// An iterative estimator failed to converge.
    #[error("{method} estimation did not converge: {detail}")]
    NotConverged {
        method: &'static str,
        detail: String,
    },
}

impl Error {
    /// An input error at a location.
    pub fn input(location: Location, message: impl Into<String>) -> Self {
        Error::Input {
            location,
            message: message.into(),
        }
    }

    /// An analysis that cannot be run on these data.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
