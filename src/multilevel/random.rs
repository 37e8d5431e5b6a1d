//! The random part of a multilevel model: metafor's `random = ~ 1 | a/b/c` formulas and the
//! grouping factors they define (Konstantopoulos 2011, *Res Synth Methods* 2:61–76).
//!
//! `~ 1 | a/b/c` gives three variance components, for the factors `a`, `a/b` (the combinations
//! of a and b that occur) and `a/b/c`; several formulas (a list in R) are crossed components.
//! `~ inner | outer` terms (at most two) take a covariance structure for the inner levels
//! (`structure.rs`).

use crate::data::{levels, Studies, Value};
use crate::error::{Error, Location, Result};
use std::collections::HashMap;

/// One random-effects formula, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RandomFormula {
    /// `~ 1 | a/b/c`: random intercepts for each level of the nesting, outermost first.
    Nested(Vec<String>),
    /// `~ inner | outer`: correlated effects of the inner levels within each outer level.
    Structured {
        /// The inner variable.
        inner: String,
        /// The outer (grouping) variable.
        outer: String,
    },
}

impl RandomFormula {
    /// Parses one formula as metafor's `random` argument spells it (`~ 1 | district/school`).
    pub fn parse(text: &str) -> Result<RandomFormula> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "random-effects formula '{text}': {why} (expected '~ 1 | factor', '~ 1 | outer/inner' or '~ inner | outer')"
            ))
        };
        let body = text.trim();
        let body = body
            .strip_prefix('~')
            .ok_or_else(|| bad("it must start with '~'"))?;
        let (lhs, rhs) = body.split_once('|').ok_or_else(|| bad("no '|'"))?;
        let (lhs, rhs) = (lhs.trim(), rhs.trim());
        let names: Vec<String> = rhs.split('/').map(|s| s.trim().to_string()).collect();
        if names.iter().any(|n| !is_name(n)) {
            return Err(bad("the grouping variables must be column names"));
        }
        if lhs == "1" {
            return Ok(RandomFormula::Nested(names));
        }
        if !is_name(lhs) {
            return Err(bad("the left of '|' must be 1 or a column name"));
        }
        if names.len() > 1 {
            return Err(Error::invalid(format!(
                "random-effects formula '{text}': a '~ inner | outer1/outer2' term cannot be used; give the outer grouping as one column"
            )));
        }
        Ok(RandomFormula::Structured {
            inner: lhs.to_string(),
            outer: names[0].clone(),
        })
    }

    /// The columns the formula reads.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            RandomFormula::Nested(n) => n.iter().map(String::as_str).collect(),
            RandomFormula::Structured { inner, outer } => vec![inner, outer],
        }
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// A grouping factor of a `~ 1 | f` component: which level each row of the fit belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    /// metafor's `s.names`: `district`, `district/school`.
    pub name: String,
    /// Number of levels among the rows of the fit (metafor's `s.nlevels`).
    pub nlevels: usize,
    /// Each row's level, 0-based in order of first appearance.
    pub level: Vec<usize>,
}

/// A grouping column by name, every row present: a missing value is an error naming the
/// column and the line (metafor: "No NAs allowed in variables specified in the 'random'
/// argument"), even on a row the fit would drop.
pub fn grouping_column<'a>(studies: &'a Studies, column: &str, what: &str) -> Result<&'a [Value]> {
    let m = studies
        .moderators
        .iter()
        .find(|m| m.name == column)
        .ok_or_else(|| Error::UnknownColumn {
            what: "grouping variable",
            column: column.to_string(),
            available: studies.moderators.iter().map(|m| m.name.clone()).collect(),
        })?;
    if let Some(i) = m.values.iter().position(Value::is_missing) {
        return Err(Error::input(
            Location {
                file: Some(studies.source.clone()),
                line: studies.lines.get(i).copied(),
                column: Some(column.to_string()),
                sheet: None,
            },
            format!("missing value in {what} '{column}': every row needs one"),
        ));
    }
    Ok(&m.values)
}

/// The factors of the `~ 1 | a/b/c` formulas over the input rows `rows`, in metafor's order.
pub fn factors(
    studies: &Studies,
    formulas: &[RandomFormula],
    rows: &[usize],
) -> Result<Vec<Factor>> {
    let mut out = Vec::new();
    for f in formulas {
        let RandomFormula::Nested(names) = f else {
            continue;
        };
        let cols: Vec<&[Value]> = names
            .iter()
            .map(|n| grouping_column(studies, n, "the random-effects variable"))
            .collect::<Result<_>>()?;
        // Each column coded once, then `a/b` as the pairs (level of a, code of b) that occur:
        // one hash lookup per row and depth.
        let mut level = vec![0; rows.len()];
        for (depth, col) in cols.iter().enumerate() {
            let (codes, _) = levels::first_appearance(rows.iter().map(|&i| &col[i]));
            let (nested, nlevels) = levels::nested(&level, &codes);
            level = nested;
            out.push(Factor {
                name: names[..=depth].join("/"),
                nlevels,
                level: level.clone(),
            });
        }
    }
    Ok(out)
}

/// Refuses components that the data cannot tell apart: two factors grouping the rows
/// identically have one variance between them.
pub fn check_identifiable(factors: &[Factor]) -> Result<()> {
    for (a, fa) in factors.iter().enumerate() {
        for fb in &factors[a + 1..] {
            if fa.nlevels > 1 && fa.nlevels == fb.nlevels && same_partition(&fa.level, &fb.level) {
                return Err(Error::invalid(format!(
                    "the random effects '{}' and '{}' group the rows identically ({} levels): their variance components cannot be told apart; drop one",
                    fa.name, fb.name, fa.nlevels
                )));
            }
        }
    }
    Ok(())
}

fn same_partition(a: &[usize], b: &[usize]) -> bool {
    let mut map: HashMap<usize, usize> = HashMap::new();
    a.iter()
        .zip(b)
        .all(|(x, y)| *map.entry(*x).or_insert(*y) == *y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_and_structured_terms() {
        assert_eq!(
            RandomFormula::parse("~ 1 | district/school").unwrap(),
            RandomFormula::Nested(vec!["district".into(), "school".into()])
        );
        assert_eq!(
            RandomFormula::parse("~ outcome | trial").unwrap(),
            RandomFormula::Structured {
                inner: "outcome".into(),
                outer: "trial".into()
            }
        );
        let e = RandomFormula::parse("~ esid | cluster/study").unwrap_err();
        assert!(e.to_string().contains("outer1/outer2"), "{e}");
        assert!(RandomFormula::parse("1 | a").is_err());
        assert!(RandomFormula::parse("~ 1 + a").is_err());
    }

    #[test]
    fn identical_groupings_are_refused() {
        let f = |name: &str, level: Vec<usize>| Factor {
            name: name.into(),
            nlevels: 2,
            level,
        };
        let e = check_identifiable(&[f("a", vec![0, 0, 1]), f("b", vec![1, 1, 0])]).unwrap_err();
        assert!(e.to_string().contains("'a' and 'b'"), "{e}");
        assert!(check_identifiable(&[f("a", vec![0, 0, 1]), f("b", vec![0, 1, 1])]).is_ok());
    }
}
