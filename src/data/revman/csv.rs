//! RevMan Web's CSV export of analysis data (`…-data-rows.csv`, with the settings in
//! `…-overall-estimates-and-settings.csv` beside it), as R's `meta::read.cdir` (Schwarzer)
//! documents the columns. Without the settings file, the data type is read from the columns
//! that are filled and the method and model are RevMan's defaults for a new analysis (see
//! [`defaults`]), for the caller to override.

use super::{at, measure_code, outcome_error, DataType, Outcome, Review, RevmanMethod, Stored};
use crate::data::table::{is_missing, Table};
use crate::data::Studies;
use crate::error::{Error, Result};

/// The data-rows columns evident reads, by RevMan Web's names, and metafor's name for each.
const DATA_COLUMNS: &[(&str, &str)] = &[
    ("Experimental cases", "ai"),
    ("Experimental N", "n1i"),
    ("Control cases", "ci"),
    ("Control N", "n2i"),
    ("Experimental mean", "m1i"),
    ("Experimental SD", "sd1i"),
    ("Control mean", "m2i"),
    ("Control SD", "sd2i"),
    ("GIV Mean", "yi"),
    ("GIV SE", "sei"),
    ("O-E", "oe"),
    ("Variance", "var"),
];

/// A column's cell in row `r`, by RevMan's name ("" when the column is absent).
fn cell<'a>(t: &'a Table, r: usize, name: &str) -> &'a str {
    t.column(name).map_or("", |c| t.rows[r][c].trim())
}

/// The fields of a data type, as (metafor name, RevMan column).
fn fields(dt: DataType) -> Vec<(&'static str, &'static str)> {
    let names: &[&str] = match dt {
        DataType::Dichotomous => &["ai", "n1i", "ci", "n2i"],
        DataType::Continuous => &["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"],
        DataType::GenericIv => &["yi", "sei"],
        DataType::OeVariance => &["oe", "var"],
    };
    names
        .iter()
        .map(|n| {
            let col = DATA_COLUMNS.iter().find(|c| c.1 == *n).map_or("", |c| c.0);
            (*n, col)
        })
        .collect()
}

/// The data type of an analysis from the columns its rows fill.
fn infer_type(t: &Table, rows: &[usize]) -> DataType {
    let filled = |name: &str| rows.iter().any(|&r| !is_missing(cell(t, r, name)));
    if filled("Experimental cases") {
        DataType::Dichotomous
    } else if filled("Experimental mean") {
        DataType::Continuous
    } else if filled("O-E") {
        DataType::OeVariance
    } else {
        DataType::GenericIv
    }
}

/// RevMan's defaults for a new analysis of a data type: (method, measure).
pub fn defaults(dt: DataType) -> (RevmanMethod, &'static str) {
    match dt {
        DataType::Dichotomous => (RevmanMethod::MantelHaenszel, "OR"),
        DataType::Continuous => (RevmanMethod::InverseVariance, "MD"),
        DataType::GenericIv => (RevmanMethod::InverseVariance, "GEN"),
        DataType::OeVariance => (RevmanMethod::Peto, "PETO_OR"),
    }
}

/// The settings row of analysis `(group, number)`, if the settings file has one.
fn settings_row(s: Option<&Table>, key: &(String, String)) -> Option<usize> {
    let s = s?;
    (0..s.rows.len())
        .find(|&r| cell(s, r, "Analysis group") == key.0 && cell(s, r, "Analysis number") == key.1)
}

/// Parses the data rows (and settings) into a review.
pub fn parse(t: &Table, settings: Option<&Table>) -> Result<Review> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in 0..t.rows.len() {
        let k = (
            cell(t, r, "Analysis group").to_string(),
            cell(t, r, "Analysis number").to_string(),
        );
        if k.0.is_empty() || k.1.is_empty() {
            return Err(Error::input(
                at(&t.source, Some(t.lines[r])),
                "'Analysis group' and 'Analysis number' must both be given",
            ));
        }
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let outcomes = keys
        .iter()
        .map(|k| outcome(t, settings, k))
        .collect::<Result<Vec<_>>>()?;
    Ok(Review {
        source: t.source.clone(),
        title: None,
        outcomes,
    })
}

/// The type, method, measure, model and levels of an analysis: from the settings row, else
/// inferred and defaulted.
fn analysis_settings(
    s: Option<&Table>,
    key: &(String, String),
    inferred: DataType,
) -> Result<Settings> {
    let Some(r) = settings_row(s, key) else {
        let (method, measure) = defaults(inferred);
        return Ok(Settings {
            dt: inferred,
            method,
            measure: measure.into(),
            random: false,
            ci_study: 95.0,
            ci_total: 95.0,
            comparison: String::new(),
        });
    };
    let s = s.expect("a settings row");
    let line = Some(s.lines[r]);
    let dt = match cell(s, r, "Data type").to_ascii_lowercase().as_str() {
        "dichotomous" => DataType::Dichotomous,
        "continuous" => DataType::Continuous,
        "contrast level" | "generic inverse variance" => DataType::GenericIv,
        "o-e and variance" => DataType::OeVariance,
        "" => inferred,
        other => {
            return Err(Error::input(
                at(&s.source, line),
                format!("'Data type' {other:?} is not Dichotomous, Continuous, Contrast level or O-E and variance"),
            ))
        }
    };
    let method = match cell(s, r, "Statistical method")
        .to_ascii_uppercase()
        .as_str()
    {
        "MH" => RevmanMethod::MantelHaenszel,
        "IV" => RevmanMethod::InverseVariance,
        "PETO" | "EXP_O_E_VAR" => RevmanMethod::Peto,
        "" => defaults(dt).0,
        other => {
            return Err(Error::input(
                at(&s.source, line),
                format!("'Statistical method' {other:?} is not MH, IV, Peto or EXP_O_E_VAR"),
            ))
        }
    };
    let measure = match cell(s, r, "Effect measure") {
        "" => defaults(dt).1.to_string(),
        m => measure_code(m),
    };
    let random = cell(s, r, "Analysis model")
        .to_ascii_lowercase()
        .starts_with("random");
    let level = |name: &str| -> Result<f64> {
        let v = cell(s, r, name).trim_end_matches('%').trim();
        if v.is_empty() {
            return Ok(95.0);
        }
        v.parse().map_err(|_| {
            Error::input(
                at(&s.source, line),
                format!("'{name}' {v:?} is not a percentage"),
            )
        })
    };
    Ok(Settings {
        dt,
        method,
        measure,
        random,
        ci_study: level("Study CI")?,
        ci_total: level("Estimate CI")?,
        comparison: cell(s, r, "Analysis group name").to_string(),
    })
}

/// An analysis's settings.
struct Settings {
    dt: DataType,
    method: RevmanMethod,
    measure: String,
    random: bool,
    ci_study: f64,
    ci_total: f64,
    comparison: String,
}

/// One analysis of the export.
fn outcome(t: &Table, s: Option<&Table>, key: &(String, String)) -> Result<Outcome> {
    let id = format!("{}.{}", key.0, key.1);
    let rows: Vec<usize> = (0..t.rows.len())
        .filter(|&r| {
            cell(t, r, "Analysis group") == key.0 && cell(t, r, "Analysis number") == key.1
        })
        .collect();
    let Settings {
        dt,
        method,
        measure,
        random,
        ci_study,
        ci_total,
        comparison: cname,
    } = analysis_settings(s, key, infer_type(t, &rows))?;
    let log_data =
        dt == DataType::GenericIv && !matches!(measure.as_str(), "MD" | "SMD" | "RD" | "GEN");
    let mut subgroups: Vec<String> = Vec::new();
    for &r in &rows {
        let g = cell(t, r, "Subgroup");
        if !g.is_empty() && !subgroups.iter().any(|s| s == g) {
            subgroups.push(g.to_string());
        }
    }
    let f = fields(dt);
    let mut headers: Vec<String> = vec!["study".into()];
    let oe = dt == DataType::OeVariance;
    headers.extend(if oe {
        vec!["yi".to_string(), "vi".to_string()]
    } else {
        f.iter().map(|x| x.0.to_string()).collect()
    });
    if !subgroups.is_empty() {
        headers.push("subgroup".into());
    }
    let mut cells = Vec::new();
    for &r in &rows {
        let mut row = vec![cell(t, r, "Study").to_string()];
        if oe {
            row.extend(oe_cells(t, r)?);
        } else {
            row.extend(f.iter().map(|x| cell(t, r, x.1).to_string()));
        }
        if !subgroups.is_empty() {
            row.push(cell(t, r, "Subgroup").to_string());
        }
        cells.push(row);
    }
    let table = Table {
        source: t.source.clone(),
        headers,
        rows: cells,
        lines: rows.iter().map(|&r| t.lines[r]).collect(),
        decimal_comma: t.decimal_comma,
        warnings: Vec::new(),
        sheet: t.sheet.clone(),
        delimiter: t.delimiter,
    };
    let studies =
        Studies::from_table(&table, &Default::default()).map_err(|e| outcome_error(&id, e))?;
    let name = rows
        .first()
        .map_or("", |&r| cell(t, r, "Analysis name"))
        .to_string();
    Ok(Outcome {
        comparison: if cname.is_empty() {
            format!("Comparison {}", key.0)
        } else {
            cname
        },
        name,
        id,
        data_type: dt,
        method,
        measure,
        random,
        ci_study,
        ci_total,
        log_data,
        studies,
        subgroups,
        group_labels: None,
        graph_labels: None,
        stored: Stored::default(),
        line: rows.first().map_or(1, |&r| t.lines[r]),
    })
}

/// O−E and variance as Peto's log ratio (O−E)/V with variance 1/V.
fn oe_cells(t: &Table, r: usize) -> Result<Vec<String>> {
    let num = |name: &str| -> Result<Option<f64>> {
        let v = cell(t, r, name);
        if is_missing(v) {
            return Ok(None);
        }
        v.parse().map(Some).map_err(|_| {
            Error::input(
                at(&t.source, Some(t.lines[r])),
                format!("'{name}' {v:?} is not a number"),
            )
        })
    };
    match (num("O-E")?, num("Variance")?) {
        (Some(oe), Some(v)) if v > 0.0 => Ok(vec![(oe / v).to_string(), (1.0 / v).to_string()]),
        (_, Some(v)) => Err(Error::input(
            at(&t.source, Some(t.lines[r])),
            format!("'Variance' {v} must be positive"),
        )),
        _ => Ok(vec![String::new(), String::new()]),
    }
}
