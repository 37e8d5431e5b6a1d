//! Cochrane reviews as RevMan writes them: RevMan 5 `.rm5` files (XML, the `ANALYSES_AND_DATA`
//! part of the RevMan 5 schema) and RevMan Web's CSV export of analysis data rows. Every
//! comparison × outcome becomes an [`Outcome`]: its studies (read through [`Studies`], so every
//! cell is validated as in a CSV), subgroups, the review's effect measure, pooling method and
//! model, and the results RevMan stored. Which element carries what follows the RevMan 5 file
//! format as R's `meta::read.rm5` and `meta::read.cdir` (Schwarzer) read it.

use super::table::{is_missing, Table};
use super::Studies;
use crate::error::{Error, Location, Result};
use roxmltree::{Document, Node};
use std::path::{Path, PathBuf};

pub mod csv;

/// The kind of data an outcome holds (RevMan's data types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// Events and totals per arm (`DICH_OUTCOME`).
    Dichotomous,
    /// Means, SDs and totals per arm (`CONT_OUTCOME`).
    Continuous,
    /// An effect estimate and its standard error per study (`IV_OUTCOME`).
    GenericIv,
    /// Observed minus expected events and their variance per study (`IPD_OUTCOME`).
    OeVariance,
}

impl DataType {
    /// RevMan's name of the data type.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Dichotomous => "dichotomous",
            DataType::Continuous => "continuous",
            DataType::GenericIv => "generic inverse variance",
            DataType::OeVariance => "O-E and variance",
        }
    }
}

/// RevMan's statistical method of an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevmanMethod {
    /// Mantel–Haenszel (`MH`).
    MantelHaenszel,
    /// Inverse variance (`IV`).
    InverseVariance,
    /// Peto's odds ratio (`PETO`), or the exp((O−E)/V) method of O−E data.
    Peto,
}

/// The results RevMan stored for an outcome's total (attributes of the outcome element; `None`
/// where empty). `effect`, `ci_start` and `ci_end` are on the measure's natural scale (ratios as
/// ratios); `z` is RevMan's |z|.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stored {
    /// `EFFECT_SIZE`.
    pub effect: Option<f64>,
    /// `CI_START`.
    pub ci_start: Option<f64>,
    /// `CI_END`.
    pub ci_end: Option<f64>,
    /// `CHI2`: the heterogeneity statistic Q.
    pub chi2: Option<f64>,
    /// `DF`.
    pub df: Option<f64>,
    /// `P_CHI2`.
    pub p_chi2: Option<f64>,
    /// `I2`, in percent.
    pub i2: Option<f64>,
    /// `TAU2`.
    pub tau2: Option<f64>,
    /// `Z`.
    pub z: Option<f64>,
    /// `P_Z`.
    pub p_z: Option<f64>,
}

/// One analysis of a review: comparison `c`, outcome `o` (id "c.o").
#[derive(Debug, Clone)]
pub struct Outcome {
    /// "1.2": comparison number, outcome number.
    pub id: String,
    /// The comparison's name.
    pub comparison: String,
    /// The outcome's name.
    pub name: String,
    /// The data type.
    pub data_type: DataType,
    /// The statistical method.
    pub method: RevmanMethod,
    /// RevMan's effect measure code: OR, RR, RD, PETO_OR, MD, SMD, HR, … (generic outcomes may
    /// name any measure).
    pub measure: String,
    /// Random effects (`RANDOM="YES"`), else fixed effect.
    pub random: bool,
    /// Confidence level of the studies' intervals, in percent (`CI_STUDY`).
    pub ci_study: f64,
    /// Confidence level of the pooled interval, in percent (`CI_TOTAL`).
    pub ci_total: f64,
    /// Generic outcome of a ratio, analysed on the log scale (`LOG_DATA="YES"`).
    pub log_data: bool,
    /// The studies, with a `subgroup` column when the outcome has subgroups.
    pub studies: Studies,
    /// Subgroup names in the review's order (empty without subgroups).
    pub subgroups: Vec<String>,
    /// Labels of the two arms (`GROUP_LABEL_1`, `GROUP_LABEL_2`), when given.
    pub group_labels: Option<[String; 2]>,
    /// Labels under the forest plot (`GRAPH_LABEL_1`, `GRAPH_LABEL_2`), when given.
    pub graph_labels: Option<[String; 2]>,
    /// RevMan's stored results for the total.
    pub stored: Stored,
    /// The line of the outcome element in the file.
    pub line: usize,
}

/// A review's analyses, in the review's order.
#[derive(Debug, Clone)]
pub struct Review {
    /// The file read.
    pub source: PathBuf,
    /// The review's title, when given.
    pub title: Option<String>,
    /// The analyses.
    pub outcomes: Vec<Outcome>,
}

impl Review {
    /// The outcome with id `id` ("1.1"); the error lists the ids there are, with their names.
    pub fn outcome(&self, id: &str) -> Result<&Outcome> {
        self.outcomes
            .iter()
            .find(|o| o.id == id.trim())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{}: no outcome '{id}'; the review has {}",
                    self.source.display(),
                    self.listing()
                ))
            })
    }

    /// "1.1 (Comparison: Outcome), 1.2 (…)": the outcomes there are, for messages.
    pub fn listing(&self) -> String {
        if self.outcomes.is_empty() {
            return "no outcomes with study data".into();
        }
        self.outcomes
            .iter()
            .map(|o| format!("{} ({}: {})", o.id, o.comparison, o.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether `path` names a RevMan 5 file (extension `.rm5`).
pub fn is_rm5(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("rm5"))
}

/// Whether `path` is a review: a `.rm5` file, or a CSV file whose header is RevMan Web's.
pub fn is_review_file(path: &Path) -> bool {
    if is_rm5(path) {
        return true;
    }
    is_csv_name(path)
        && Table::from_path(path, &super::CsvOptions::default())
            .is_ok_and(|t| is_revman_csv(&t.headers))
}

/// Whether `path` has the extension `.csv` (a RevMan Web export is one).
pub fn is_csv_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// Whether the table read (with the default options) from `path` is a RevMan Web CSV export:
/// a `.csv` file with RevMan's header.
pub fn is_review_table(path: &Path, table: &Table) -> bool {
    is_csv_name(path) && is_revman_csv(&table.headers)
}

/// Reads a review: a `.rm5` file, or a RevMan Web CSV export recognised by its header.
pub fn read_review(path: &Path) -> Result<Review> {
    let bytes = super::source::read_bytes(path)?;
    if is_rm5(path) {
        return parse_rm5(path, &bytes);
    }
    let table = Table::from_bytes(path, &bytes, &super::CsvOptions::default())?;
    if !is_revman_csv(&table.headers) {
        return Err(Error::input(
            at(path, Some(1)),
            "not a RevMan export: expected the columns 'Analysis group', 'Analysis number' and \
             'Study' of RevMan Web's data rows",
        ));
    }
    let settings = settings_table(path)?;
    csv::parse(&table, settings.as_ref())
}

/// The settings file exported beside RevMan Web's data rows (`…-data-rows.csv` →
/// `…-overall-estimates-and-settings.csv`), when there is one.
fn settings_table(path: &Path) -> Result<Option<Table>> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    let Some(stem) = name.strip_suffix("data-rows.csv") else {
        return Ok(None);
    };
    let sibling = path.with_file_name(format!("{stem}overall-estimates-and-settings.csv"));
    if !sibling.is_file() {
        return Ok(None);
    }
    Ok(Some(Table::from_path(
        &sibling,
        &super::CsvOptions::default(),
    )?))
}

/// Whether `path` is the settings file RevMan Web exports beside its data rows (read with them,
/// no analysis of its own).
pub fn is_revman_settings(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("overall-estimates-and-settings.csv"))
}

/// Whether a CSV header is RevMan Web's export of analysis data rows.
pub fn is_revman_csv(headers: &[String]) -> bool {
    ["Analysis group", "Analysis number", "Study"]
        .iter()
        .all(|c| headers.iter().any(|h| h.trim().eq_ignore_ascii_case(c)))
}

pub(crate) fn at(path: &Path, line: Option<usize>) -> Location {
    Location {
        file: Some(path.to_path_buf()),
        line,
        column: None,
        sheet: None,
    }
}

/// Parses the text of a `.rm5` file (bytes decoded as every input is: UTF-8, else
/// Windows-1252, which covers the ISO-8859-1 RevMan 5 declares).
pub fn parse_rm5(path: &Path, bytes: &[u8]) -> Result<Review> {
    let text = super::source::decode(bytes);
    let doc = Document::parse(&text).map_err(|e| {
        let pos = e.pos();
        Error::input(
            at(path, Some(pos.row as usize)),
            format!("not a RevMan 5 file: the XML is malformed: {e}"),
        )
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "COCHRANE_REVIEW" {
        return Err(Error::input(
            at(path, Some(line_of(&doc, root))),
            format!(
                "not a RevMan 5 file: the root element is <{}>, expected <COCHRANE_REVIEW>",
                root.tag_name().name()
            ),
        ));
    }
    let r = Rm5 { path, doc: &doc };
    let names = r.study_names();
    let mut outcomes = Vec::new();
    let analyses = root
        .descendants()
        .find(|n| n.has_tag_name("ANALYSES_AND_DATA"));
    for cmp in analyses
        .iter()
        .flat_map(|a| a.children())
        .filter(|n| n.has_tag_name("COMPARISON"))
    {
        let cno = r.attr_req(cmp, "NO")?;
        let cname = child_text(cmp, "NAME").unwrap_or_default();
        for out in cmp.children().filter(|n| n.is_element()) {
            let Some(dt) = outcome_type(out.tag_name().name()) else {
                continue;
            };
            outcomes.push(r.outcome(out, dt, &cno, &cname, &names)?);
        }
    }
    let title = root
        .descendants()
        .find(|n| n.has_tag_name("TITLE"))
        .and_then(|t| t.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    Ok(Review {
        source: path.to_path_buf(),
        title,
        outcomes,
    })
}

/// The data type of an outcome element name, and its data and subgroup elements' prefix.
fn outcome_type(tag: &str) -> Option<DataType> {
    match tag {
        "DICH_OUTCOME" => Some(DataType::Dichotomous),
        "CONT_OUTCOME" => Some(DataType::Continuous),
        "IV_OUTCOME" => Some(DataType::GenericIv),
        "IPD_OUTCOME" => Some(DataType::OeVariance),
        _ => None,
    }
}

fn prefix(dt: DataType) -> &'static str {
    match dt {
        DataType::Dichotomous => "DICH",
        DataType::Continuous => "CONT",
        DataType::GenericIv => "IV",
        DataType::OeVariance => "IPD",
    }
}

fn line_of(doc: &Document, n: Node) -> usize {
    doc.text_pos_at(n.range().start).row as usize
}

fn child_text(n: Node, tag: &str) -> Option<String> {
    n.children()
        .find(|c| c.has_tag_name(tag))
        .map(|c| c.text().unwrap_or("").trim().to_string())
}

/// A parsed `.rm5` document with its path, for errors that name the element and line.
struct Rm5<'a, 'i> {
    path: &'a Path,
    doc: &'a Document<'i>,
}

impl Rm5<'_, '_> {
    fn err(&self, n: Node, msg: String) -> Error {
        Error::input(
            at(self.path, Some(line_of(self.doc, n))),
            format!("<{}>: {msg}", n.tag_name().name()),
        )
    }

    /// A required attribute's text.
    fn attr_req(&self, n: Node, name: &str) -> Result<String> {
        match n.attribute(name) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
            _ => Err(self.err(n, format!("attribute {name} is missing"))),
        }
    }

    /// An optional number: `None` when absent or empty.
    fn num(&self, n: Node, name: &str) -> Result<Option<f64>> {
        match n.attribute(name).map(str::trim) {
            None => Ok(None),
            Some(v) if is_missing(v) => Ok(None),
            Some(v) => v
                .parse::<f64>()
                .map(Some)
                .map_err(|_| self.err(n, format!("attribute {name}=\"{v}\" is not a number"))),
        }
    }

    /// Study ID → study name, from the review's `STUDY` elements (`NAME`, else the ID).
    fn study_names(&self) -> std::collections::HashMap<String, String> {
        self.doc
            .descendants()
            .filter(|n| n.has_tag_name("STUDY"))
            .filter_map(|n| {
                let id = n.attribute("ID")?.to_string();
                let name = n
                    .attribute("NAME")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .unwrap_or(&id)
                    .to_string();
                Some((id, name))
            })
            .collect()
    }

    fn stored(&self, n: Node) -> Result<Stored> {
        Ok(Stored {
            effect: self.num(n, "EFFECT_SIZE")?,
            ci_start: self.num(n, "CI_START")?,
            ci_end: self.num(n, "CI_END")?,
            chi2: self.num(n, "CHI2")?,
            df: self.num(n, "DF")?,
            p_chi2: self.num(n, "P_CHI2")?,
            i2: self.num(n, "I2")?,
            tau2: self.num(n, "TAU2")?,
            z: self.num(n, "Z")?,
            p_z: self.num(n, "P_Z")?,
        })
    }

    /// The method, measure and model of an outcome element.
    fn settings(&self, n: Node, dt: DataType) -> Result<(RevmanMethod, String, bool, bool)> {
        let measure = match n.attribute("EFFECT_MEASURE") {
            Some(m) if !m.trim().is_empty() => m.trim().to_string(),
            _ => match child_text(n, "EFFECT_MEASURE") {
                Some(m) if !m.is_empty() => measure_code(&m),
                _ if dt == DataType::OeVariance => "PETO_OR".into(),
                _ => return Err(self.err(n, "attribute EFFECT_MEASURE is missing".into())),
            },
        };
        let method = match n.attribute("METHOD").map(|m| m.trim().to_ascii_uppercase()) {
            Some(m) if m == "MH" => RevmanMethod::MantelHaenszel,
            Some(m) if m == "IV" => RevmanMethod::InverseVariance,
            Some(m) if m == "PETO" || m == "EXP_O_E_VAR" => RevmanMethod::Peto,
            None if dt == DataType::OeVariance => RevmanMethod::Peto,
            None if dt != DataType::Dichotomous => RevmanMethod::InverseVariance,
            Some(m) => {
                return Err(self.err(
                    n,
                    format!("METHOD=\"{m}\" is not one of MH, IV, PETO, EXP_O_E_VAR"),
                ))
            }
            None => return Err(self.err(n, "attribute METHOD is missing".into())),
        };
        let yes = |name: &str| n.attribute(name).is_some_and(|v| v.trim() == "YES");
        Ok((method, measure, yes("RANDOM"), yes("LOG_DATA")))
    }

    /// One outcome element with its studies.
    fn outcome(
        &self,
        n: Node,
        dt: DataType,
        cno: &str,
        cname: &str,
        names: &std::collections::HashMap<String, String>,
    ) -> Result<Outcome> {
        let id = format!("{cno}.{}", self.attr_req(n, "NO")?);
        let (method, measure, random, log_data) = self.settings(n, dt)?;
        let pre = prefix(dt);
        let data_tag = format!("{pre}_DATA");
        let sub_tag = format!("{pre}_SUBGROUP");
        let mut rows: Vec<(Node, Option<String>)> = Vec::new();
        let mut subgroups = Vec::new();
        for c in n.children().filter(|c| c.is_element()) {
            if c.has_tag_name(data_tag.as_str()) {
                rows.push((c, None));
            } else if c.has_tag_name(sub_tag.as_str()) {
                let name = child_text(c, "NAME").unwrap_or_default();
                subgroups.push(name.clone());
                for d in c.children().filter(|d| d.has_tag_name(data_tag.as_str())) {
                    rows.push((d, Some(name.clone())));
                }
            }
        }
        let level = |name: &str| -> Result<f64> { Ok(self.num(n, name)?.unwrap_or(95.0)) };
        let pair = |a: &str, b: &str| Some([child_text(n, a)?, child_text(n, b)?]);
        Ok(Outcome {
            comparison: cname.to_string(),
            name: child_text(n, "NAME").unwrap_or_default(),
            studies: self.studies(&id, dt, log_data, &rows, names, !subgroups.is_empty())?,
            id,
            data_type: dt,
            method,
            measure,
            random,
            ci_study: level("CI_STUDY")?,
            ci_total: level("CI_TOTAL")?,
            log_data,
            subgroups,
            group_labels: pair("GROUP_LABEL_1", "GROUP_LABEL_2"),
            graph_labels: pair("GRAPH_LABEL_1", "GRAPH_LABEL_2"),
            stored: self.stored(n)?,
            line: line_of(self.doc, n),
        })
    }

    /// The studies of an outcome, as a table of metafor's columns read by [`Studies`].
    fn studies(
        &self,
        id: &str,
        dt: DataType,
        log_data: bool,
        rows: &[(Node, Option<String>)],
        names: &std::collections::HashMap<String, String>,
        with_subgroups: bool,
    ) -> Result<Studies> {
        let (mut headers, attrs): (Vec<&str>, &[&str]) = match dt {
            DataType::Dichotomous => (
                vec!["study", "ai", "n1i", "ci", "n2i"],
                &["EVENTS_1", "TOTAL_1", "EVENTS_2", "TOTAL_2"],
            ),
            DataType::Continuous => (
                vec!["study", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"],
                &["MEAN_1", "SD_1", "TOTAL_1", "MEAN_2", "SD_2", "TOTAL_2"],
            ),
            DataType::GenericIv => (vec!["study", "yi", "sei"], &["EFFECT_SIZE", "SE"]),
            DataType::OeVariance => (vec!["study", "yi", "vi"], &["O_E", "VAR"]),
        };
        if with_subgroups {
            headers.push("subgroup");
        }
        let mut cells = Vec::with_capacity(rows.len());
        let mut lines = Vec::with_capacity(rows.len());
        for (d, sub) in rows {
            let sid = self.attr_req(*d, "STUDY_ID")?;
            let mut row = vec![names.get(&sid).cloned().unwrap_or(sid)];
            row.extend(self.data_cells(*d, dt, log_data, attrs)?);
            if let Some(s) = sub {
                row.push(s.clone());
            }
            cells.push(row);
            lines.push(line_of(self.doc, *d));
        }
        let table = Table {
            source: self.path.to_path_buf(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: cells,
            lines,
            decimal_comma: false,
            warnings: Vec::new(),
            sheet: None,
            delimiter: b',',
        };
        Studies::from_table(&table, &Default::default()).map_err(|e| outcome_error(id, e))
    }

    /// The data cells of one study element: the attributes' text; generic effects of ratios on
    /// the log scale; O−E data as Peto's log ratio (O−E)/V with variance 1/V.
    fn data_cells(
        &self,
        d: Node,
        dt: DataType,
        log_data: bool,
        attrs: &[&str],
    ) -> Result<Vec<String>> {
        let text = |a: &str| d.attribute(a).unwrap_or("").trim().to_string();
        match dt {
            DataType::GenericIv if log_data => {
                let y = match self.num(d, "LOG_EFFECT_SIZE")? {
                    Some(l) => l,
                    None => match self.num(d, "EFFECT_SIZE")? {
                        Some(e) if e > 0.0 => e.ln(),
                        Some(e) => {
                            return Err(self.err(
                                d,
                                format!("EFFECT_SIZE=\"{e}\" of a ratio must be positive"),
                            ))
                        }
                        None => return Ok(vec![String::new(), text("SE")]),
                    },
                };
                Ok(vec![y.to_string(), text("SE")])
            }
            DataType::OeVariance => match (self.num(d, "O_E")?, self.num(d, "VAR")?) {
                (Some(oe), Some(v)) if v > 0.0 => {
                    Ok(vec![(oe / v).to_string(), (1.0 / v).to_string()])
                }
                (_, Some(v)) if v <= 0.0 => {
                    Err(self.err(d, format!("VAR=\"{v}\" must be positive")))
                }
                _ => Ok(vec![String::new(), String::new()]),
            },
            _ => Ok(attrs.iter().map(|a| text(a)).collect()),
        }
    }
}

/// An error reading an outcome's studies, naming the outcome.
pub(crate) fn outcome_error(id: &str, e: Error) -> Error {
    match e {
        Error::Input { location, message } => Error::Input {
            location,
            message: format!("outcome {id}: {message}"),
        },
        other => Error::invalid(format!("outcome {id}: {other}")),
    }
}

/// RevMan's code for an effect measure written out ("Odds Ratio" → OR).
pub fn measure_code(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    match n.as_str() {
        "odds ratio" | "odds ratio (non-event)" => "OR".into(),
        "peto odds ratio" | "peto_or" => "PETO_OR".into(),
        "risk ratio" => "RR".into(),
        "risk difference" => "RD".into(),
        "mean difference" => "MD".into(),
        "standardized mean difference"
        | "std. mean difference"
        | "standardised mean difference" => "SMD".into(),
        "hazard ratio" => "HR".into(),
        _ => name.trim().to_string(),
    }
}
