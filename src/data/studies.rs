//! Recognising what kind of study data a table holds, from its column names.

use super::sheet::Sheet;
use super::table::{
    check_ambiguous_dots, column_index, is_missing, parse_number, Cell, DotUse, Table,
};
use crate::error::{Error, Location, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Canonical (metafor) column names and the human aliases accepted for each, case-insensitively.
pub const ALIASES: &[(&str, &[&str])] = &[
    (
        "study",
        &[
            "study", "studlab", "slab", "label", "author", "name", "trial",
        ],
    ),
    (
        "ai",
        &[
            "ai",
            "tpos",
            "events1",
            "event1",
            "e1",
            "events_t",
            "treat_events",
            "events_exp",
        ],
    ),
    ("bi", &["bi", "tneg", "nonevents1", "b"]),
    (
        "ci",
        &[
            "ci",
            "cpos",
            "events2",
            "event2",
            "e2",
            "events_c",
            "control_events",
            "events_ctrl",
        ],
    ),
    ("di", &["di", "cneg", "nonevents2", "d"]),
    ("n1i", &["n1i", "n1", "total1", "n_t", "treat_n", "n_exp"]),
    (
        "n2i",
        &["n2i", "n2", "total2", "n_c", "control_n", "n_ctrl"],
    ),
    ("m1i", &["m1i", "mean1", "m1", "mean_t"]),
    ("sd1i", &["sd1i", "sd1", "sd_t"]),
    ("m2i", &["m2i", "mean2", "m2", "mean_c"]),
    ("sd2i", &["sd2i", "sd2", "sd_c"]),
    ("x1i", &["x1i", "x1"]),
    ("t1i", &["t1i", "t1", "time1", "pt1", "persontime1"]),
    ("x2i", &["x2i", "x2"]),
    ("t2i", &["t2i", "t2", "time2", "pt2", "persontime2"]),
    ("xi", &["xi", "events", "x", "cases", "responders"]),
    ("ni", &["ni", "n", "total", "size"]),
    ("mi", &["mi", "nonevents"]),
    ("sdi", &["sdi"]),
    ("ti", &["ti"]),
    ("ri", &["ri", "r", "cor", "correlation"]),
    ("yi", &["yi", "y", "effect", "es"]),
    ("vi", &["vi", "v", "var", "variance"]),
    ("sei", &["sei", "se", "stderr", "std_err"]),
    (
        "estimate",
        &["estimate", "est", "ratio", "or", "rr", "hr", "irr"],
    ),
    (
        "ci_lb",
        &["ci_lb", "lower", "lcl", "ci_lower", "lb", "ci.lb"],
    ),
    (
        "ci_ub",
        &["ci_ub", "upper", "ucl", "ci_upper", "ub", "ci.ub"],
    ),
    ("level", &["level", "ci_level", "conf_level"]),
];

/// A column holding per-study data, one optional number per row.
pub type Values = Vec<Option<f64>>;

/// The study data, by the form it came in.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// 2×2 tables: events and non-events in group 1 (`ai`, `bi`) and group 2 (`ci`, `di`).
    TwoByTwo {
        /// `ai`: events in group 1.
        ai: Values,
        /// `bi`: non-events in group 1 (`n1i − ai` when the file gives totals).
        bi: Values,
        /// `ci`: events in group 2.
        ci: Values,
        /// `di`: non-events in group 2 (`n2i − ci` when the file gives totals).
        di: Values,
    },
    /// Means, SDs and sizes of two groups.
    Means {
        /// `m1i`: mean of group 1.
        m1i: Values,
        /// `sd1i`: standard deviation of group 1.
        sd1i: Values,
        /// `n1i`: size of group 1.
        n1i: Values,
        /// `m2i`: mean of group 2.
        m2i: Values,
        /// `sd2i`: standard deviation of group 2.
        sd2i: Values,
        /// `n2i`: size of group 2.
        n2i: Values,
    },
    /// Events over person-time in two groups.
    Incidence {
        /// `x1i`: events in group 1.
        x1i: Values,
        /// `t1i`: person-time at risk in group 1.
        t1i: Values,
        /// `x2i`: events in group 2.
        x2i: Values,
        /// `t2i`: person-time at risk in group 2.
        t2i: Values,
    },
    /// Events out of a total in a single group.
    Proportion {
        /// `xi`: events.
        xi: Values,
        /// `ni`: sample size (`xi + mi` when the file gives non-events).
        ni: Values,
    },
    /// Correlations with sample sizes.
    Correlation {
        /// `ri`: the correlation coefficient.
        ri: Values,
        /// `ni`: sample size.
        ni: Values,
    },
    /// Events over person-time in a single group.
    Rate {
        /// `xi`: events.
        xi: Values,
        /// `ti`: person-time at risk.
        ti: Values,
    },
    /// Mean, standard deviation and size of a single group.
    Mean {
        /// `mi`: the mean.
        mi: Values,
        /// `sdi`: the standard deviation.
        sdi: Values,
        /// `ni`: sample size.
        ni: Values,
    },
    /// One group measured twice (or matched pairs): the means and SDs of both occasions and
    /// the correlation between them.
    PrePost {
        /// `m1i`: mean at occasion 1.
        m1i: Values,
        /// `m2i`: mean at occasion 2.
        m2i: Values,
        /// `sd1i`: standard deviation at occasion 1.
        sd1i: Values,
        /// `sd2i`: standard deviation at occasion 2.
        sd2i: Values,
        /// `ni`: sample size.
        ni: Values,
        /// `ri`: correlation between the occasions.
        ri: Values,
    },
    /// A regression coefficient's t statistic: partial correlations.
    Regression {
        /// `ti`: the t statistic of the coefficient.
        ti: Values,
        /// `ni`: sample size.
        ni: Values,
        /// `mi`: number of predictors in the model.
        mi: Values,
    },
    /// Effect sizes with sampling variances.
    Precomputed {
        /// `yi`: the effect size.
        yi: Values,
        /// `vi`: its sampling variance (`sei²` when the file gives standard errors).
        vi: Values,
    },
    /// A ratio (OR, RR, HR, ...) with its confidence interval on the ratio scale.
    ReportedRatio {
        /// The reported ratio, not logged.
        estimate: Values,
        /// Lower confidence limit, on the ratio scale.
        ci_lb: Values,
        /// Upper confidence limit, on the ratio scale.
        ci_ub: Values,
        /// Confidence level of the interval in percent; missing means 95.
        level: Values,
    },
}

/// The kinds of study data, whatever columns they came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 2×2 tables ([`Data::TwoByTwo`]).
    TwoByTwo,
    /// Means and SDs of two groups ([`Data::Means`]).
    Means,
    /// Events over person-time ([`Data::Incidence`]).
    Incidence,
    /// Single proportions ([`Data::Proportion`]).
    Proportion,
    /// Correlations ([`Data::Correlation`]).
    Correlation,
    /// Events over person-time in one group ([`Data::Rate`]).
    Rate,
    /// Mean and SD of one group ([`Data::Mean`]).
    Mean,
    /// One group at two occasions ([`Data::PrePost`]).
    PrePost,
    /// Regression t statistics ([`Data::Regression`]).
    Regression,
    /// Effect sizes with variances ([`Data::Precomputed`]).
    Precomputed,
    /// Ratios with confidence intervals ([`Data::ReportedRatio`]).
    ReportedRatio,
}

impl Kind {
    /// The readable name of the data type.
    pub fn name(self) -> &'static str {
        match self {
            Kind::TwoByTwo => "2x2 tables",
            Kind::Means => "means and SDs",
            Kind::Incidence => "incidence counts",
            Kind::Proportion => "single proportions",
            Kind::Correlation => "correlations",
            Kind::Rate => "single-group incidence counts",
            Kind::Mean => "single-group means and SDs",
            Kind::PrePost => "pre-post means and SDs",
            Kind::Regression => "regression t statistics",
            Kind::Precomputed => "pre-computed effects",
            Kind::ReportedRatio => "reported ratios with CIs",
        }
    }

    /// The measure used when none is given.
    pub fn default_measure(self) -> crate::measure::Measure {
        use crate::measure::Measure;
        match self {
            Kind::TwoByTwo => Measure::OR,
            Kind::Means => Measure::MD,
            Kind::Incidence => Measure::IRR,
            Kind::Proportion => Measure::PLO,
            Kind::Correlation => Measure::ZCOR,
            Kind::Rate => Measure::IRLN,
            Kind::Mean => Measure::MN,
            Kind::PrePost => Measure::MC,
            Kind::Regression => Measure::ZPCOR,
            Kind::Precomputed | Kind::ReportedRatio => Measure::GEN,
        }
    }

    /// The measures computed from this kind of data.
    pub fn measures(self) -> &'static [crate::measure::Measure] {
        use crate::measure::Measure::*;
        match self {
            Kind::TwoByTwo => &[OR, RR, RD, PETO, AS, PHI, YUQ, YUY, OR2DN, OR2DL],
            Kind::Means => &[MD, SMD, SMDH, ROM, VR, CVR],
            Kind::Incidence => &[IRR, IRD],
            Kind::Proportion => &[PR, PLO, PLN, PAS, PFT],
            Kind::Correlation => &[ZCOR, COR, UCOR],
            Kind::Rate => &[IR, IRLN, IRS, IRFT],
            Kind::Mean => &[MN, MNLN, CVLN, SDLN],
            Kind::PrePost => &[MC, SMCC, SMCR, SMCRH, ROMC],
            Kind::Regression => &[PCOR, ZPCOR],
            Kind::Precomputed | Kind::ReportedRatio => &[GEN],
        }
    }

    /// The measures that fit this kind of data, comma-separated (for error messages).
    pub fn fitting_measures(self) -> String {
        let names: Vec<&str> = self.measures().iter().map(|m| m.name()).collect();
        names.join(", ")
    }

    /// The scale of the effects `measure` computes from this kind of data: `given` for
    /// pre-computed effects (GEN) when the user names one, else the measure's own, but reported
    /// ratios are pooled as log ratios.
    pub fn scale(
        self,
        measure: crate::measure::Measure,
        given: Option<crate::measure::Scale>,
    ) -> crate::measure::Scale {
        match (self, measure, given) {
            (_, crate::measure::Measure::GEN, Some(s)) => s,
            (Kind::ReportedRatio, _, _) => crate::measure::Scale::Log,
            _ => measure.scale(),
        }
    }
}

impl Data {
    /// The kind of data, without the values.
    pub fn kind(&self) -> Kind {
        match self {
            Data::TwoByTwo { .. } => Kind::TwoByTwo,
            Data::Means { .. } => Kind::Means,
            Data::Incidence { .. } => Kind::Incidence,
            Data::Proportion { .. } => Kind::Proportion,
            Data::Correlation { .. } => Kind::Correlation,
            Data::Rate { .. } => Kind::Rate,
            Data::Mean { .. } => Kind::Mean,
            Data::PrePost { .. } => Kind::PrePost,
            Data::Regression { .. } => Kind::Regression,
            Data::Precomputed { .. } => Kind::Precomputed,
            Data::ReportedRatio { .. } => Kind::ReportedRatio,
        }
    }

    /// The readable name of the data type.
    pub fn kind_name(&self) -> &'static str {
        self.kind().name()
    }

    /// The measure used when none is given.
    pub fn default_measure(&self) -> crate::measure::Measure {
        self.kind().default_measure()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Data::TwoByTwo { ai, .. } => ai.len(),
            Data::Means { m1i, .. } => m1i.len(),
            Data::Incidence { x1i, .. } => x1i.len(),
            Data::Proportion { xi, .. } => xi.len(),
            Data::Correlation { ri, .. } => ri.len(),
            Data::Rate { xi, .. } => xi.len(),
            Data::Mean { ni, .. } | Data::PrePost { ni, .. } | Data::Regression { ni, .. } => {
                ni.len()
            }
            Data::Precomputed { yi, .. } => yi.len(),
            Data::ReportedRatio { estimate, .. } => estimate.len(),
        }
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A moderator value: number, text, or missing.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    /// A number, in a column where every non-missing cell is one.
    Number(f64),
    /// A cell of a column that is not all numbers, as written.
    Text(String),
    /// An empty or NA cell.
    Missing,
}

impl Value {
    /// The cell was empty or NA.
    pub fn is_missing(&self) -> bool {
        matches!(self, Value::Missing)
    }
    /// The value as text: numbers as Rust prints them (`1`, `0.5`), missing as the empty string.
    pub fn as_text(&self) -> String {
        match self {
            Value::Number(x) => format!("{x}"),
            Value::Text(s) => s.clone(),
            Value::Missing => String::new(),
        }
    }
}

/// A study-level column that is not part of the effect data (moderators, grouping, risk of bias, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Moderator {
    /// The column header, as written in the file.
    pub name: String,
    /// One value per row.
    pub values: Vec<Value>,
    /// Every non-missing value is a number.
    pub numeric: bool,
}

impl Moderator {
    /// The column restricted to the rows at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Moderator {
        Moderator {
            name: self.name.clone(),
            values: idx.iter().map(|&i| self.values[i].clone()).collect(),
            numeric: self.numeric,
        }
    }
}

/// The studies of one analysis: labels, the effect data, and the other columns.
#[derive(Debug, Clone)]
pub struct Studies {
    /// The file the studies were read from (named in error messages).
    pub source: std::path::PathBuf,
    /// Study labels (metafor's `slab`): the label column, else `Study i`; duplicates get ` (1)`, ` (2)`, ...
    pub labels: Vec<String>,
    /// 1-based line of each row in the source file.
    pub lines: Vec<usize>,
    /// The effect data.
    pub data: Data,
    /// The remaining columns: moderators, grouping, risk of bias, ...
    pub moderators: Vec<Moderator>,
    /// What reading changed (characters XML refuses replaced in a label, ...), one sentence each
    /// naming the file, line and column; the caller shows them.
    pub warnings: Vec<String>,
}

/// Explicit mapping of canonical names to columns (`--col ai=events_treated`).
pub type ColumnMap = BTreeMap<String, String>;

/// Which data type a header describes, with the column of every field it needs.
///
/// Recognised once from the header; a batch run reads every analysis of a long file with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    form: Form,
    /// Columns of the fields, in the order [`Form::fields`] names them.
    cols: Vec<usize>,
    /// The optional `level` column of reported ratios.
    level: Option<usize>,
    /// The study-label column named by an alias or `--col study=...`.
    label: Option<usize>,
}

/// The column sets a data type can come in, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    TwoByTwo,
    TwoByTwoTotals,
    Means,
    Incidence,
    PrePost,
    Correlation,
    ProportionTotals,
    ProportionNonEvents,
    Rate,
    Mean,
    Regression,
    Precomputed,
    PrecomputedSe,
    ReportedRatio,
}

impl Form {
    // Pre-post before correlations: its columns include ri and ni.
    const ALL: [Form; 14] = [
        Form::TwoByTwo,
        Form::TwoByTwoTotals,
        Form::Means,
        Form::Incidence,
        Form::PrePost,
        Form::Correlation,
        Form::ProportionTotals,
        Form::ProportionNonEvents,
        Form::Rate,
        Form::Mean,
        Form::Regression,
        Form::Precomputed,
        Form::PrecomputedSe,
        Form::ReportedRatio,
    ];

    fn fields(self) -> &'static [&'static str] {
        match self {
            Form::TwoByTwo => &["ai", "bi", "ci", "di"],
            Form::TwoByTwoTotals => &["ai", "n1i", "ci", "n2i"],
            Form::Means => &["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"],
            Form::Incidence => &["x1i", "t1i", "x2i", "t2i"],
            Form::PrePost => &["m1i", "m2i", "sd1i", "sd2i", "ni", "ri"],
            Form::Correlation => &["ri", "ni"],
            Form::Rate => &["xi", "ti"],
            Form::Mean => &["mi", "sdi", "ni"],
            Form::Regression => &["ti", "ni", "mi"],
            Form::ProportionTotals => &["xi", "ni"],
            Form::ProportionNonEvents => &["xi", "mi"],
            Form::Precomputed => &["yi", "vi"],
            Form::PrecomputedSe => &["yi", "sei"],
            Form::ReportedRatio => &["estimate", "ci_lb", "ci_ub"],
        }
    }

    fn kind(self) -> Kind {
        match self {
            Form::TwoByTwo | Form::TwoByTwoTotals => Kind::TwoByTwo,
            Form::Means => Kind::Means,
            Form::Incidence => Kind::Incidence,
            Form::Correlation => Kind::Correlation,
            Form::Rate => Kind::Rate,
            Form::Mean => Kind::Mean,
            Form::PrePost => Kind::PrePost,
            Form::Regression => Kind::Regression,
            Form::ProportionTotals | Form::ProportionNonEvents => Kind::Proportion,
            Form::Precomputed | Form::PrecomputedSe => Kind::Precomputed,
            Form::ReportedRatio => Kind::ReportedRatio,
        }
    }
}

impl Layout {
    /// Recognises the data type from column names (metafor's, or an alias), or from `map`.
    pub fn detect(headers: &[String], source: &Path, map: &ColumnMap) -> Result<Layout> {
        Layout::detect_for(headers, source, map, None)
    }

    /// [`Layout::detect`], trying first the column sets `measure` is computed from: a file with
    /// both 2×2 counts and means is read as means for an SMD.
    pub fn detect_for(
        headers: &[String],
        source: &Path,
        map: &ColumnMap,
        measure: Option<crate::measure::Measure>,
    ) -> Result<Layout> {
        for canonical in map.keys() {
            if !ALIASES
                .iter()
                .any(|(c, _)| c.eq_ignore_ascii_case(canonical))
            {
                return Err(Error::UnknownField {
                    field: canonical.clone(),
                    known: ALIASES.iter().map(|(c, _)| *c).collect(),
                });
            }
        }
        let column = |name: &str| column_index(headers, name);
        let find = |canonical: &str| -> Result<Option<usize>> {
            if let Some((_, col)) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case(canonical)) {
                return column(col)
                    .map(Some)
                    .ok_or_else(|| Error::MappedColumnMissing {
                        file: source.to_path_buf(),
                        field: canonical.to_string(),
                        column: col.clone(),
                    });
            }
            let aliases = ALIASES
                .iter()
                .find(|(c, _)| *c == canonical)
                .map_or(&[][..], |(_, a)| a);
            Ok(aliases.iter().find_map(|a| column(a)))
        };
        let mut forms = Form::ALL;
        if let Some(m) = measure {
            // Stable: within each group the usual order still decides.
            forms.sort_by_key(|f| !f.kind().measures().contains(&m));
        }
        for form in forms {
            let mut cols = Vec::with_capacity(form.fields().len());
            for field in form.fields() {
                match find(field)? {
                    Some(c) => cols.push(c),
                    None => break,
                }
            }
            if cols.len() == form.fields().len() {
                let level = match form {
                    Form::ReportedRatio => find("level")?,
                    _ => None,
                };
                return Ok(Layout {
                    form,
                    cols,
                    level,
                    label: find("study")?,
                });
            }
        }
        Err(Error::UnknownLayout {
            file: source.to_path_buf(),
            headers: headers.to_vec(),
        })
    }

    /// The kind of data this header holds.
    pub fn kind(&self) -> Kind {
        self.form.kind()
    }

    /// The header of each field this layout reads (the optional `level` and `study` too), as
    /// (metafor's argument name, column name): what an equivalent `escalc` call maps.
    pub fn field_columns(&self, headers: &[String]) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = self
            .form
            .fields()
            .iter()
            .zip(&self.cols)
            .map(|(f, &c)| (*f, headers[c].clone()))
            .collect();
        out.extend(self.level.map(|c| ("level", headers[c].clone())));
        out.extend(self.label.map(|c| ("study", headers[c].clone())));
        out
    }

    /// The columns holding effect data.
    fn data_columns(&self) -> impl Iterator<Item = usize> + '_ {
        self.cols.iter().copied().chain(self.level)
    }

    /// Reads and validates the effect data of every row.
    pub fn read_data<G: Grid + ?Sized>(&self, grid: &G) -> Result<Data> {
        let c = &self.cols;
        let take = |i: usize| read_numeric(grid, c[i], self.form.fields()[i]);
        Ok(match self.form {
            Form::TwoByTwo => Data::TwoByTwo {
                ai: take(0)?,
                bi: take(1)?,
                ci: take(2)?,
                di: take(3)?,
            },
            Form::TwoByTwoTotals => {
                let ai = take(0)?;
                let n1 = take(1)?;
                let ci = take(2)?;
                let n2 = take(3)?;
                check_events_le_total(grid, &ai, &n1, c[0], "n1i")?;
                check_events_le_total(grid, &ci, &n2, c[2], "n2i")?;
                let diff = |e: &Values, n: &Values| -> Values {
                    e.iter().zip(n).map(|(e, n)| Some((*n)? - (*e)?)).collect()
                };
                Data::TwoByTwo {
                    bi: diff(&ai, &n1),
                    di: diff(&ci, &n2),
                    ai,
                    ci,
                }
            }
            Form::Means => Data::Means {
                m1i: take(0)?,
                sd1i: take(1)?,
                n1i: take(2)?,
                m2i: take(3)?,
                sd2i: take(4)?,
                n2i: take(5)?,
            },
            Form::Incidence => Data::Incidence {
                x1i: take(0)?,
                t1i: take(1)?,
                x2i: take(2)?,
                t2i: take(3)?,
            },
            Form::Correlation => Data::Correlation {
                ri: take(0)?,
                ni: take(1)?,
            },
            Form::PrePost => Data::PrePost {
                m1i: take(0)?,
                m2i: take(1)?,
                sd1i: take(2)?,
                sd2i: take(3)?,
                ni: take(4)?,
                ri: take(5)?,
            },
            Form::Rate => Data::Rate {
                xi: take(0)?,
                ti: take(1)?,
            },
            // Here mi is a mean and ti a t statistic: either sign.
            Form::Mean => Data::Mean {
                mi: read_numeric(grid, c[0], "mean")?,
                sdi: take(1)?,
                ni: take(2)?,
            },
            Form::Regression => Data::Regression {
                ti: read_numeric(grid, c[0], "tstat")?,
                ni: take(1)?,
                mi: take(2)?,
            },
            Form::ProportionTotals => {
                let xi = take(0)?;
                let ni = take(1)?;
                check_events_le_total(grid, &xi, &ni, c[0], "ni")?;
                Data::Proportion { xi, ni }
            }
            Form::ProportionNonEvents => {
                let xi = take(0)?;
                let mi = take(1)?;
                let ni = xi
                    .iter()
                    .zip(&mi)
                    .map(|(x, m)| Some((*x)? + (*m)?))
                    .collect();
                Data::Proportion { xi, ni }
            }
            Form::Precomputed => Data::Precomputed {
                yi: take(0)?,
                vi: take(1)?,
            },
            Form::PrecomputedSe => {
                let yi = take(0)?;
                let sei = take(1)?;
                Data::Precomputed {
                    yi,
                    vi: sei.iter().map(|s| s.map(|s| s * s)).collect(),
                }
            }
            Form::ReportedRatio => {
                let estimate = take(0)?;
                let ci_lb = take(1)?;
                let ci_ub = take(2)?;
                let level = match self.level {
                    Some(l) => read_numeric(grid, l, "level")?,
                    None => vec![None; estimate.len()],
                };
                check_reported_ratios(grid, &estimate, &ci_lb, &ci_ub, c)?;
                Data::ReportedRatio {
                    estimate,
                    ci_lb,
                    ci_ub,
                    level,
                }
            }
        })
    }

    /// Sample sizes (`n1i`, `n2i`, `ni`) that are not whole numbers are an error naming the
    /// cell; event and cell counts may legitimately be fractional (continuity-corrected or
    /// imputed tables), so those get a warning naming the cell instead.
    fn check_whole_numbers<G: Grid + ?Sized>(
        &self,
        grid: &G,
        warnings: &mut Vec<String>,
    ) -> Result<()> {
        for (&col, &field) in self.cols.iter().zip(self.form.fields()) {
            let sample_size = matches!(field, "n1i" | "n2i" | "ni");
            let count = matches!(
                field,
                "ai" | "bi" | "ci" | "di" | "x1i" | "x2i" | "xi" | "mi"
            ) && self.form != Form::Mean;
            if !(sample_size || count) {
                continue;
            }
            for r in 0..grid.n_rows() {
                let Ok(Cell::Number(x)) = parse_number(grid.cell(r, col), grid.decimal_comma())
                else {
                    continue;
                };
                if x.fract() == 0.0 {
                    continue;
                }
                if sample_size {
                    return Err(Error::input(
                        grid.location(r, col),
                        format!("{x} is not a whole number of participants"),
                    ));
                }
                warnings.push(format!(
                    "{}: {x} is not a whole number of events (read as given: a continuity-corrected \
                     or imputed count?)",
                    grid.location(r, col)
                ));
            }
        }
        Ok(())
    }

    /// The label column: the named one, else the first other column holding text.
    fn label_column<G: Grid + ?Sized>(&self, grid: &G) -> Option<usize> {
        self.label.or_else(|| {
            (0..grid.headers().len()).find(|&c| {
                !self.data_columns().any(|d| d == c)
                    && (0..grid.n_rows())
                        .any(|r| parse_number(grid.cell(r, c), grid.decimal_comma()).is_err())
            })
        })
    }
}

/// Rows of text cells under a header, with where each row came from: what [`Studies`] are read from.
pub trait Grid {
    /// The file the cells came from.
    fn source(&self) -> &Path;
    /// Column names.
    fn headers(&self) -> &[String];
    /// Number of data rows.
    fn n_rows(&self) -> usize;
    /// The text of a cell, by 0-based row and column.
    fn cell(&self, row: usize, col: usize) -> &str;
    /// 1-based line of a row in the source file.
    fn line(&self, row: usize) -> Option<usize>;
    /// Numbers in the cells use a decimal comma.
    fn decimal_comma(&self) -> bool;
    /// What reading the cells changed, one sentence each (none unless the grid says).
    fn warnings(&self) -> &[String] {
        &[]
    }
    /// The workbook sheet the cells came from (none for a text file).
    fn sheet(&self) -> Option<&Sheet> {
        None
    }

    /// Location of a cell, for error messages (`Sheet1!C4` in a workbook).
    fn location(&self, row: usize, col: usize) -> Location {
        let headers = self.headers();
        Location {
            file: Some(self.source().to_path_buf()),
            line: self.line(row),
            column: headers.get(col).cloned(),
            sheet: self
                .sheet()
                .map(|s| s.cell((col < headers.len()).then_some(col))),
        }
    }
}

impl Grid for Table {
    fn source(&self) -> &Path {
        &self.source
    }
    fn headers(&self) -> &[String] {
        &self.headers
    }
    fn n_rows(&self) -> usize {
        self.rows.len()
    }
    fn cell(&self, row: usize, col: usize) -> &str {
        &self.rows[row][col]
    }
    fn line(&self, row: usize) -> Option<usize> {
        self.lines.get(row).copied()
    }
    fn decimal_comma(&self) -> bool {
        self.decimal_comma
    }
    fn warnings(&self) -> &[String] {
        &self.warnings
    }
    fn sheet(&self) -> Option<&Sheet> {
        self.sheet.as_ref()
    }
}

impl Studies {
    /// Recognises the data type of a table and reads and validates its columns.
    pub fn from_table(table: &Table, map: &ColumnMap) -> Result<Studies> {
        Studies::from_table_for(table, map, None)
    }

    /// [`Studies::from_table`] for `measure`: its column sets are tried first
    /// ([`Layout::detect_for`]).
    pub fn from_table_for(
        table: &Table,
        map: &ColumnMap,
        measure: Option<crate::measure::Measure>,
    ) -> Result<Studies> {
        let layout = Layout::detect_for(&table.headers, &table.source, map, measure)?;
        Studies::read(table, &layout, true)
    }

    /// Reads the studies of `grid` laid out as `layout`; the remaining columns become moderators
    /// when `moderators` is set (a batch of intercept-only models has no use for them).
    pub fn read<G: Grid + ?Sized>(grid: &G, layout: &Layout, moderators: bool) -> Result<Studies> {
        let label_col = layout.label_column(grid);
        check_thousands(grid, label_col)?;
        let data = layout.read_data(grid)?;
        let mut warnings = grid.warnings().to_vec();
        layout.check_whole_numbers(grid, &mut warnings)?;
        let labels = unique_labels(
            (0..grid.n_rows())
                .map(|r| match label_col.map(|c| grid.cell(r, c).trim()) {
                    Some(l) if !l.is_empty() => l.to_owned(),
                    _ => format!("Study {}", r + 1),
                })
                .collect(),
        );
        let moderators = if moderators {
            (0..grid.headers().len())
                .filter(|&c| Some(c) != label_col && !layout.data_columns().any(|d| d == c))
                .map(|c| read_moderator(grid, c))
                .collect()
        } else {
            Vec::new()
        };
        Ok(Studies {
            source: grid.source().to_path_buf(),
            labels,
            lines: (0..grid.n_rows())
                .map(|r| grid.line(r).unwrap_or(0))
                .collect(),
            data,
            moderators,
            warnings,
        })
    }

    /// A moderator column by case-insensitive name.
    pub fn moderator(&self, name: &str) -> Option<&Moderator> {
        self.moderators
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }

    /// Location of a row, for messages.
    pub fn location(&self, row: usize, column: Option<&str>) -> Location {
        Location {
            file: Some(self.source.clone()),
            line: self.lines.get(row).copied(),
            column: column.map(str::to_owned),
            sheet: None,
        }
    }
}

/// In a decimal-comma grid, refuses a cell such as `1.234` that could be 1234 or 1.234 (see
/// [`check_ambiguous_dots`]), naming it; every column but the labels is looked at.
fn check_thousands<G: Grid + ?Sized>(grid: &G, label_col: Option<usize>) -> Result<()> {
    if !grid.decimal_comma() {
        return Ok(());
    }
    let uses: Vec<(usize, DotUse)> = (0..grid.headers().len())
        .filter(|&c| Some(c) != label_col)
        .map(|c| {
            (
                c,
                DotUse::of((0..grid.n_rows()).map(|r| (r, grid.cell(r, c)))),
            )
        })
        .collect();
    let file_has_points = uses.iter().any(|(_, u)| u.point);
    for (c, u) in &uses {
        check_ambiguous_dots(u, file_has_points, |r| grid.cell(r, *c).to_owned())
            .map_err(|(r, message)| Error::input(grid.location(r, *c), message))?;
    }
    Ok(())
}

/// Makes labels unique the way metafor does: repeats get " (1)", " (2)", ... appended... to all copies.
fn unique_labels(labels: Vec<String>) -> Vec<String> {
    // One hash insert per label (sorting them took 460 instructions a label at k = 1,000).
    let mut distinct = std::collections::HashSet::with_capacity(labels.len());
    if labels.iter().all(|l| distinct.insert(l.as_str())) {
        return labels; // the usual case: nothing to rename
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in &labels {
        *counts.entry(l.as_str()).or_default() += 1;
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    labels
        .iter()
        .map(|l| {
            if counts[l.as_str()] > 1 {
                let n = seen.entry(l.clone()).or_default();
                *n += 1;
                format!("{l} ({n})")
            } else {
                l.clone()
            }
        })
        .collect()
}

fn read_numeric<G: Grid + ?Sized>(table: &G, col: usize, canonical: &str) -> Result<Values> {
    let nonneg = !matches!(
        canonical,
        "yi" | "m1i" | "m2i" | "ri" | "estimate" | "ci_lb" | "ci_ub" | "mean" | "tstat"
    );
    let mut out = Vec::with_capacity(table.n_rows());
    for r in 0..table.n_rows() {
        let v = match parse_number(table.cell(r, col), table.decimal_comma()) {
            Ok(Cell::Missing) => None,
            Ok(Cell::Number(x)) => Some(x),
            Err(msg) => return Err(Error::input(table.location(r, col), msg)),
        };
        if let Some(x) = v {
            if nonneg && x < 0.0 {
                let what = match canonical {
                    "vi" => "a sampling variance",
                    "sei" => "a standard error",
                    "sd1i" | "sd2i" | "sdi" => "a standard deviation",
                    "t1i" | "t2i" | "ti" => "a person-time",
                    "ni" | "n1i" | "n2i" => "a sample size",
                    "level" => "a confidence level",
                    _ => "a count",
                };
                return Err(Error::input(
                    table.location(r, col),
                    format!("{what} cannot be negative, found {x}"),
                ));
            }
            if canonical == "ri" && !(-1.0..=1.0).contains(&x) {
                return Err(Error::input(
                    table.location(r, col),
                    format!("a correlation must lie in [-1, 1], found {x}"),
                ));
            }
            if canonical == "level" {
                if let Err(e) = crate::stats::level::Level::new(x) {
                    return Err(Error::input(table.location(r, col), e.to_string()));
                }
            }
        }
        out.push(v);
    }
    Ok(out)
}

fn check_events_le_total<G: Grid + ?Sized>(
    table: &G,
    ev: &Values,
    n: &Values,
    ev_col: usize,
    n_name: &str,
) -> Result<()> {
    for (r, (e, t)) in ev.iter().zip(n).enumerate() {
        if let (Some(e), Some(t)) = (e, t) {
            if e > t {
                return Err(Error::input(
                    table.location(r, ev_col),
                    format!("{e} events exceed the group size {n_name} = {t}"),
                ));
            }
        }
    }
    Ok(())
}

fn check_reported_ratios<G: Grid + ?Sized>(
    table: &G,
    est: &Values,
    lb: &Values,
    ub: &Values,
    ix: &[usize],
) -> Result<()> {
    for r in 0..est.len() {
        for (v, c) in [(est[r], ix[0]), (lb[r], ix[1]), (ub[r], ix[2])] {
            if let Some(x) = v {
                if x <= 0.0 {
                    return Err(Error::input(
                        table.location(r, c),
                        format!("a ratio and its CI bounds must be positive, found {x}"),
                    ));
                }
            }
        }
        if let (Some(e), Some(l), Some(u)) = (est[r], lb[r], ub[r]) {
            if l > u {
                return Err(Error::input(
                    table.location(r, ix[1]),
                    format!("CI bounds are reversed: lower {l} > upper {u}"),
                ));
            }
            if e < l || e > u {
                return Err(Error::input(
                    table.location(r, ix[0]),
                    format!("the estimate {e} lies outside its CI [{l}, {u}]"),
                ));
            }
        }
    }
    Ok(())
}

fn read_moderator<G: Grid + ?Sized>(grid: &G, col: usize) -> Moderator {
    let parsed: Vec<std::result::Result<Cell, String>> = (0..grid.n_rows())
        .map(|r| parse_number(grid.cell(r, col), grid.decimal_comma()))
        .collect();
    let numeric = parsed.iter().all(|p| p.is_ok());
    let values = parsed
        .iter()
        .enumerate()
        .map(|(r, p)| match p {
            Ok(Cell::Number(x)) if numeric => Value::Number(*x),
            _ if is_missing(grid.cell(r, col)) => Value::Missing,
            _ => Value::Text(grid.cell(r, col).to_owned()),
        })
        .collect();
    Moderator {
        name: grid.headers()[col].clone(),
        values,
        numeric,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::table::CsvOptions;
    use std::path::Path;

    fn studies(s: &str) -> Result<Studies> {
        let t = Table::from_bytes(Path::new("x.csv"), s.as_bytes(), &CsvOptions::default())?;
        Studies::from_table(&t, &ColumnMap::new())
    }

    #[test]
    fn detects_two_by_two_from_totals() {
        let s = studies("study,ai,n1i,ci,n2i,year\nA,1,10,2,12,1990\n").unwrap();
        match &s.data {
            Data::TwoByTwo { bi, di, .. } => {
                assert_eq!(bi[0], Some(9.0));
                assert_eq!(di[0], Some(10.0));
            }
            d => panic!("{d:?}"),
        }
        assert_eq!(s.moderators[0].name, "year");
        assert!(s.moderators[0].numeric);
    }

    #[test]
    fn metadat_column_names() {
        // dat.bcg as metadat ships it.
        let s = studies("trial,author,year,tpos,tneg,cpos,cneg,ablat,alloc\n1,Aronson,1948,4,119,11,128,44,random\n").unwrap();
        assert!(matches!(s.data, Data::TwoByTwo { .. }));
        let s = studies("study,xi,mi\nA,3,7\n").unwrap();
        assert_eq!(
            s.data,
            Data::Proportion {
                xi: vec![Some(3.0)],
                ni: vec![Some(10.0)]
            }
        );
    }

    #[test]
    fn aliases_are_case_insensitive() {
        let s = studies("Study,Y,SE\nA,1,0.5\n").unwrap();
        assert_eq!(
            s.data,
            Data::Precomputed {
                yi: vec![Some(1.0)],
                vi: vec![Some(0.25)]
            }
        );
    }

    #[test]
    fn bad_cells_are_located() {
        let e = studies("study,ai,n1i,ci,n2i\nA,11,10,2,12\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("'ai'") && e.contains("exceed"),
            "{e}"
        );
        let e = studies("study,yi,vi\nA,1,-0.1\n").unwrap_err().to_string();
        assert!(e.contains("'vi'") && e.contains("negative"), "{e}");
        let e = studies("study,yi,vi\nA,x1,0.1\n").unwrap_err().to_string();
        assert!(e.contains("expected a number"), "{e}");
        let e = studies("study,estimate,ci_lb,ci_ub\nA,2,3,1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("reversed"), "{e}");
        let e = studies("study,foo\nA,1\n").unwrap_err().to_string();
        assert!(e.contains("cannot tell the data type"), "{e}");
    }

    #[test]
    fn duplicate_labels_made_unique() {
        let s = studies("study,yi,vi\nA,1,1\nA,2,1\nB,1,1\n").unwrap();
        assert_eq!(s.labels, vec!["A (1)", "A (2)", "B"]);
    }
}
