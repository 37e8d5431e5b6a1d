//! Library errors name parameters and concepts; here they gain the command-line flag that sets
//! them (`stepadj` → `--stepadj`, a column mapping → `--col`).

use evident::Error;

/// The error chain as `{:#}` prints it (`outer: inner: …`), each library error in its CLI wording.
pub fn message(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in e.chain() {
        let text = match c.downcast_ref::<Error>() {
            Some(le) => cli_wording(le),
            None => c.to_string(),
        };
        // An error whose message already ends with its cause (Error::Io) is not repeated.
        if !parts.last().is_some_and(|p| p.ends_with(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// A library error from the checks of the pooling options in the command line's words: an
/// option's message starts with its key in backticks, which becomes the flag (`` `seed` `` →
/// `--seed`); any other error keeps its type, for [`message`] to word.
pub fn option_error(e: Error) -> anyhow::Error {
    match &e {
        Error::Invalid(m) if m.starts_with('`') => {
            anyhow::anyhow!(evident::app::options::as_flags(m))
        }
        _ => e.into(),
    }
}

/// One library error as the command line words it.
pub fn cli_wording(e: &Error) -> String {
    match e {
        Error::IterationLimit {
            method,
            iterations,
            last_change,
            ..
        } => format!(
            "{method} estimation did not converge: Fisher scoring did not converge in \
             {iterations} iterations (last change {last_change:.3e}); try a step adjustment \
             (--stepadj 0.5), the safeguarded solver (--solver newton), or another estimator"
        ),
        Error::UnknownField { field, .. } => format!("--col {field}=...: {e}"),
        Error::MappedColumnMissing {
            file,
            field,
            column,
        } => format!(
            "{}: --col {field}={column}: the file has no column '{column}'",
            file.display()
        ),
        Error::UnknownLayout { file, headers } => format!(
            "{}: cannot tell the data type from the columns [{}]: expected one of {} (or map \
             columns with --col NAME=COLUMN)",
            file.display(),
            headers.join(", "),
            evident::error::LAYOUTS
        ),
        Error::MissingMeasure { location } => format!(
            "{location}: no measure: add a 'measure' column (OR, RR, HR, MD, ...) or pass --measure"
        ),
        Error::MixedRatios { .. } => {
            format!("{e} (pass --allow-mixed-ratios to pool them anyway)")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_added_to_library_wording() {
        let e = Error::IterationLimit {
            method: "REML",
            iterations: 100,
            threshold: 1e-5,
            last_change: 9.526e-3,
        };
        assert!(e.to_string().contains("(stepadj = 0.5)"));
        assert!(cli_wording(&e).contains("(--stepadj 0.5)"));
        let e = Error::UnknownLayout {
            file: "a.csv".into(),
            headers: vec!["x".into()],
        };
        assert!(cli_wording(&e).ends_with("(or map columns with --col NAME=COLUMN)"));
        let chained = anyhow::Error::from(e).context("reading");
        assert!(message(&chained).starts_with("reading: a.csv: cannot tell"));
    }
}
