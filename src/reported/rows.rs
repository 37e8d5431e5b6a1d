//! A CSV of whatever each paper reported, one study per row: every row is converted by the rule its
//! filled-in columns call for.
//!
//! Columns (case-insensitive, with the aliases of [`crate::data::studies::ALIASES`]): `study`,
//! `measure` (OR, RR, HR, IRR, MD, RD, SMD, …; or `--measure` for all rows), `estimate`, `ci_lb`,
//! `ci_ub`, `level` (percent, default 95), `pval` (two-sided, as printed), `se` (analysis scale);
//! 2×2 counts `ai, bi, ci, di` or `ai, n1i, ci, n2i`; incidence `x1i, t1i, x2i, t2i`; and
//! `median, q1, q3, min, max, n` for the median conversions.

use super::check::{CheckInput, Printed};
use super::ci::{self, FromP, Sides};
use super::counts::{self, Table2x2};
use super::effect::{scale_of, Effect};
use super::median::{self, FiveNum, MeanSd, MedianMethod};
use super::pvalue::PValue;
use super::rates;
use crate::data::studies::ALIASES;
use crate::data::table::{parse_number, Cell};
use crate::data::{Grid, Table};
use crate::effect::{EffectSet, Omitted};
use crate::error::{Error, Result};
use crate::measure::{Measure, Scale};
use crate::stats::level::Level;

/// Which conversion a row used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// 2×2 counts → Woolf log OR.
    CountsOrWoolf,
    /// 2×2 counts → Katz log RR.
    CountsRrKatz,
    /// 2×2 counts → Wald RD.
    CountsRdWald,
    /// Events over person-time → Wald log rate ratio.
    RatesIrrWald,
    /// Estimate with its CI.
    EstimateCi,
    /// CI alone: estimate at its centre.
    CiOnly,
    /// Estimate with its SE.
    EstimateSe,
    /// Estimate with an exact p-value.
    EstimateP,
    /// Estimate with a p-value bound: only a bound on the SE.
    EstimatePBound,
    /// A p-value alone: nothing to pool.
    POnly,
    /// Median with quartiles and/or range → mean and SD.
    Median,
}

impl Rule {
    /// The rule's snake_case name, as in the `rule` column of the output.
    pub fn name(self) -> &'static str {
        match self {
            Rule::CountsOrWoolf => "counts_or_woolf",
            Rule::CountsRrKatz => "counts_rr_katz",
            Rule::CountsRdWald => "counts_rd_wald",
            Rule::RatesIrrWald => "rates_irr_wald",
            Rule::EstimateCi => "estimate_ci",
            Rule::CiOnly => "ci_only",
            Rule::EstimateSe => "estimate_se",
            Rule::EstimateP => "estimate_p",
            Rule::EstimatePBound => "estimate_p_bound",
            Rule::POnly => "p_only",
            Rule::Median => "median",
        }
    }
}

/// One converted row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RowResult {
    /// The study label of the row.
    pub study: String,
    /// 1-based line in the file.
    pub line: usize,
    /// The measure named by the row or the default (OR, MD, ...); `None` when neither names one.
    measure: Option<String>,
    /// The analysis scale of `effect`: log for ratio measures, identity otherwise.
    pub scale: Scale,
    /// The conversion the row's filled-in columns called for.
    pub rule: Rule,
    /// The effect on the analysis scale, when the row gives one with an SE.
    pub effect: Option<Effect>,
    /// For a p-value bound: what it says about the SE.
    pub se_bound: Option<FromP>,
    /// The reported p-value, as printed.
    pub pval: Option<PValue>,
    /// For median rows.
    pub mean_sd: Option<MeanSd>,
    /// Caveats of the conversion (a p-value bound, a skewed median), one sentence each.
    pub notes: Vec<String>,
}

/// The columns of a reported-statistics table, located once.
pub struct ReportedTable<'a> {
    table: &'a Table,
    default_measure: Option<String>,
    /// Formulas for median rows (Luo/Wan/Shi unless Hozo is asked for).
    pub median_method: MedianMethod,
    cols: Vec<(&'static str, usize)>,
}

/// The fields a reported row may carry (what a column mapping can map onto).
pub const FIELDS: &[&str] = &[
    "study", "measure", "estimate", "ci_lb", "ci_ub", "level", "pval", "sei", "ai", "bi", "ci",
    "di", "n1i", "n2i", "x1i", "t1i", "x2i", "t2i", "median", "q1", "q3", "min", "max", "ni",
];

fn aliases(field: &'static str) -> Vec<&'static str> {
    let mut v = vec![field];
    if let Some((_, a)) = ALIASES.iter().find(|(c, _)| *c == field) {
        v.extend(a.iter().copied());
    }
    match field {
        "pval" => v.extend(["p", "p_value", "pvalue", "p.value"]),
        "median" => v.push("med"),
        "min" => v.push("minimum"),
        "max" => v.push("maximum"),
        "measure" => v.push("sm"),
        _ => {}
    }
    v
}

impl<'a> ReportedTable<'a> {
    /// Locates the columns; `default_measure` applies to rows without a `measure` cell.
    pub fn new(table: &'a Table, default_measure: Option<&str>) -> ReportedTable<'a> {
        let mut cols = Vec::new();
        for &f in FIELDS {
            // An alias already taken by another field (e.g. `n` for both ni and n) is not reused.
            if let Some(ix) = aliases(f)
                .iter()
                .filter_map(|a| table.column(a))
                .find(|ix| !cols.iter().any(|(_, c)| c == ix))
            {
                cols.push((f, ix));
            }
        }
        ReportedTable {
            table,
            default_measure: default_measure.map(str::to_owned),
            median_method: MedianMethod::default(),
            cols,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.table.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.table.rows.is_empty()
    }

    fn col(&self, f: &str) -> Option<usize> {
        self.cols.iter().find(|(n, _)| *n == f).map(|(_, c)| *c)
    }

    /// Whether a column for `field` exists.
    pub fn has(&self, field: &str) -> bool {
        self.col(field).is_some()
    }

    fn text(&self, r: usize, f: &str) -> Option<&str> {
        let c = self.col(f)?;
        let s = self.table.rows[r][c].trim();
        (!crate::data::table::is_missing(s)).then_some(s)
    }

    fn err(&self, r: usize, f: &str, msg: impl Into<String>) -> Error {
        // Without such a column the location names the line only.
        let loc = self.table.location(r, self.col(f).unwrap_or(usize::MAX));
        Error::input(loc, msg)
    }

    fn num(&self, r: usize, f: &str) -> Result<Option<f64>> {
        let Some(c) = self.col(f) else {
            return Ok(None);
        };
        match parse_number(&self.table.rows[r][c], self.table.decimal_comma) {
            Ok(Cell::Missing) => Ok(None),
            Ok(Cell::Number(x)) => Ok(Some(x)),
            Err(m) => Err(self.err(r, f, m)),
        }
    }

    fn printed(&self, r: usize, f: &str) -> Result<Option<Printed>> {
        match self.text(r, f) {
            None => Ok(None),
            Some(t) => {
                let t = if self.table.decimal_comma {
                    t.replace(',', ".")
                } else {
                    t.to_owned()
                };
                Printed::parse(&t)
                    .map(Some)
                    .map_err(|e| self.err(r, f, e.to_string()))
            }
        }
    }

    /// The study label of a row.
    pub fn study(&self, r: usize) -> String {
        self.text(r, "study")
            .map_or_else(|| format!("Study {}", r + 1), str::to_owned)
    }

    /// 1-based line of a row.
    pub fn line(&self, r: usize) -> usize {
        self.table.lines[r]
    }

    fn level(&self, r: usize) -> Result<f64> {
        let lev = self.num(r, "level")?.unwrap_or(95.0);
        // The percent as validated: a proportion below 1 becomes its percent, as in metafor.
        Level::new(lev)
            .map(Level::percent)
            .map_err(|e| self.err(r, "level", e.to_string()))
    }

    fn pvalue(&self, r: usize) -> Result<Option<PValue>> {
        match self.text(r, "pval") {
            None => Ok(None),
            Some(t) => PValue::parse(t)
                .map(Some)
                .map_err(|e| self.err(r, "pval", e.to_string())),
        }
    }

    fn measure(&self, r: usize) -> Option<String> {
        self.text(r, "measure")
            .map(|s| s.trim().to_ascii_uppercase())
            .or_else(|| {
                self.default_measure
                    .as_ref()
                    .map(|m| m.to_ascii_uppercase())
            })
    }

    /// The consistency-check input of a row (estimate, CI, p as printed).
    pub fn check_input(&self, r: usize) -> Result<CheckInput> {
        let measure = self.measure(r);
        let est = self.printed(r, "estimate")?;
        let lb = self.printed(r, "ci_lb")?;
        let ub = self.printed(r, "ci_ub")?;
        if measure.is_none() && (est.is_some() || lb.is_some()) {
            return Err(self.no_measure(r));
        }
        Ok(CheckInput {
            estimate: est,
            ci_lb: lb,
            ci_ub: ub,
            level: self.level(r)?,
            pval: self.pvalue(r)?,
            scale: measure.as_deref().map_or(Scale::Identity, scale_of),
        })
    }

    /// Converts row `r` by the rule its columns call for. Bad input is a located error.
    pub fn convert(&self, r: usize) -> Result<RowResult> {
        let measure = self.measure(r);
        let level = Level::new(self.level(r)?)?;
        let pval = self.pvalue(r)?;
        let mut out = RowResult {
            study: self.study(r),
            line: self.line(r),
            measure: measure.clone(),
            scale: measure.as_deref().map_or(Scale::Identity, scale_of),
            rule: Rule::POnly,
            effect: None,
            se_bound: None,
            pval,
            mean_sd: None,
            notes: Vec::new(),
        };
        if self.convert_counts(r, level, &mut out)?
            || self.convert_rates(r, level, &mut out)?
            || self.convert_median(r, &mut out)?
        {
            return Ok(out);
        }
        self.convert_reported(r, level, &mut out)?;
        Ok(out)
    }

    /// The error of a row that reports an effect without saying which measure it is.
    fn no_measure(&self, r: usize) -> Error {
        Error::MissingMeasure {
            location: self
                .table
                .location(r, self.col("measure").unwrap_or(usize::MAX)),
        }
    }

    /// 2×2 counts (events with non-events or totals in both arms) → OR, RR or RD; false without.
    fn convert_counts(&self, r: usize, level: Level, out: &mut RowResult) -> Result<bool> {
        let g = |f: &str| self.num(r, f);
        let (ai, ci_) = (g("ai")?, g("ci")?);
        let group = |events: Option<f64>, non: &str, total: &str| -> Result<Option<(f64, f64)>> {
            Ok(match (events, g(non)?, g(total)?) {
                (Some(e), Some(b), _) => Some((e, e + b)),
                (Some(e), None, Some(n)) => Some((e, n)),
                _ => None,
            })
        };
        let (Some((a, n1)), Some((c, n2))) = (group(ai, "bi", "n1i")?, group(ci_, "di", "n2i")?)
        else {
            return Ok(false);
        };
        let wrap = |e: Error| self.err(r, "ai", e.to_string());
        let t = Table2x2::from_events(a, n1, c, n2).map_err(wrap)?;
        let m = out.measure.clone().unwrap_or_else(|| "OR".into());
        let (rule, eff) = match m.as_str() {
            "OR" => (Rule::CountsOrWoolf, counts::or_woolf(&t, level)),
            "RR" => (Rule::CountsRrKatz, counts::rr_katz(&t, level)),
            "RD" => (Rule::CountsRdWald, counts::rd_wald(&t, level)),
            other => {
                return Err(self.err(
                    r,
                    "measure",
                    format!("2×2 counts give OR, RR or RD, not {other}"),
                ))
            }
        };
        out.scale = scale_of(&m);
        out.measure = Some(m);
        out.rule = rule;
        out.effect = Some(eff.map_err(wrap)?);
        Ok(true)
    }

    /// Events over person-time in both groups → Wald log rate ratio; false without.
    fn convert_rates(&self, r: usize, level: Level, out: &mut RowResult) -> Result<bool> {
        let g = |f: &str| self.num(r, f);
        let (Some(x1), Some(t1), Some(x2), Some(t2)) = (g("x1i")?, g("t1i")?, g("x2i")?, g("t2i")?)
        else {
            return Ok(false);
        };
        let e = rates::rate_ratio_wald(x1, t1, x2, t2, level)
            .map_err(|e| self.err(r, "x1i", e.to_string()))?;
        out.measure = Some("IRR".into());
        out.scale = Scale::Log;
        out.rule = Rule::RatesIrrWald;
        out.effect = Some(e);
        Ok(true)
    }

    /// A median with quartiles and/or range → mean and SD; false without a median.
    fn convert_median(&self, r: usize, out: &mut RowResult) -> Result<bool> {
        let g = |f: &str| self.num(r, f);
        let Some(med) = g("median")? else {
            return Ok(false);
        };
        let f = FiveNum {
            median: med,
            q1: g("q1")?,
            q3: g("q3")?,
            min: g("min")?,
            max: g("max")?,
            n: g("ni")?.ok_or_else(|| self.err(r, "ni", "a median row needs n"))?,
        };
        let ms = median::mean_sd(&f, self.median_method)
            .map_err(|e| self.err(r, "median", e.to_string()))?;
        if let Some(w) = &ms.skew_warning {
            out.notes.push(w.clone());
        }
        out.rule = Rule::Median;
        out.mean_sd = Some(ms);
        Ok(true)
    }

    /// An estimate with a CI, an SE or a p-value; a CI alone; or a p-value alone.
    fn convert_reported(&self, r: usize, level: Level, out: &mut RowResult) -> Result<()> {
        let g = |f: &str| self.num(r, f);
        let wrap = |f: &str, e: Error| self.err(r, f, e.to_string());
        let est = g("estimate")?;
        let (lb, ub) = (g("ci_lb")?, g("ci_ub")?);
        let se = g("sei")?;
        if lb.is_some() != ub.is_some() {
            return Err(self.err(r, "ci_lb", "give both CI bounds, ci_lb and ci_ub"));
        }
        if out.measure.is_none() && (est.is_some() || lb.is_some()) {
            return Err(self.no_measure(r));
        }
        let scale = out.scale;
        match (est, lb.zip(ub), se) {
            (Some(e), Some((l, u)), _) => {
                out.rule = Rule::EstimateCi;
                out.effect =
                    Some(ci::from_ci(e, l, u, level, scale).map_err(|x| wrap("estimate", x))?);
            }
            (Some(e), None, Some(s)) => {
                out.rule = Rule::EstimateSe;
                out.effect = Some(ci::from_se(e, s, level, scale).map_err(|x| wrap("sei", x))?);
            }
            (None, Some((l, u)), _) => {
                out.rule = Rule::CiOnly;
                out.effect =
                    Some(ci::from_ci_only(l, u, level, scale).map_err(|x| wrap("ci_lb", x))?);
            }
            (Some(e), None, None) => self.convert_estimate_p(r, e, level, out)?,
            (None, None, _) => {
                if out.pval.is_none() {
                    return Err(self.err(
                        r,
                        "estimate",
                        "nothing to convert: expected counts, an estimate with a CI, SE or p-value, \
                         a CI, a p-value, or a median with quartiles/range",
                    ));
                }
                out.rule = Rule::POnly;
                out.notes
                    .push("p-value only: no effect size to pool".to_string());
            }
        }
        Ok(())
    }

    /// An estimate with only a p-value: an exact p gives the SE, a bound (`p < 0.05`) only a
    /// bound on it, which keeps the row out of inverse-variance pooling.
    fn convert_estimate_p(
        &self,
        r: usize,
        e: f64,
        level: Level,
        out: &mut RowResult,
    ) -> Result<()> {
        let Some(p) = out.pval else {
            return Err(self.err(
                r,
                "estimate",
                "an estimate needs a CI, an SE or a p-value to give its uncertainty",
            ));
        };
        let bound = ci::from_p(e, p, Sides::Two, level, out.scale)
            .map_err(|x| self.err(r, "pval", x.to_string()))?;
        let note = match bound {
            FromP::Exact(eff) => {
                out.rule = Rule::EstimateP;
                out.effect = Some(eff);
                return Ok(());
            }
            FromP::SeAtMost { se, .. } => {
                format!("p {p} gives only SE <= {se:.6}: excluded from inverse-variance pooling")
            }
            FromP::SeAtLeast { se, .. } => {
                format!("p {p} gives only SE >= {se:.6}: excluded from inverse-variance pooling")
            }
        };
        out.rule = Rule::EstimatePBound;
        out.notes.push(note);
        out.se_bound = Some(bound);
        Ok(())
    }
}

/// The effect set of a mixed table for inverse-variance pooling, with the rule of every input row
/// and the rows left out (p-value only or a p-value bound, medians).
///
/// All pooled rows must share one analysis scale (all ratios or all differences) and ratios one
/// measure (an HR with an OR is refused, [`Error::MixedRatios`]); the set's measure is the common
/// measure when there is one (e.g. all OR), else GEN on that scale.
pub fn to_effects(
    table: &Table,
    measure: Option<&str>,
) -> Result<(EffectSet, Vec<RowResult>, Vec<Omitted>)> {
    to_effects_with(table, measure, PoolRows::default())
}

/// How [`to_effects_with`] treats rows that [`to_effects`] leaves out or refuses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolRows {
    /// A row whose p-value bound gives SE <= s (`p < b`) enters with SE = s, the largest SE it
    /// admits (conservative: its weight can only be too small). Rows with SE >= s (`p > b`) are
    /// always left out: they admit any weight down to zero.
    pub include_se_bounds: bool,
    /// Ratios of different measures (OR with HR, ...) are pooled as one generic ratio, and the
    /// set records them in [`EffectSet::mixed_ratios`].
    pub allow_mixed_ratios: bool,
}

/// As [`to_effects`], with the choices of [`PoolRows`].
pub fn to_effects_with(
    table: &Table,
    measure: Option<&str>,
    how: PoolRows,
) -> Result<(EffectSet, Vec<RowResult>, Vec<Omitted>)> {
    let include_se_bounds = how.include_se_bounds;
    let rt = ReportedTable::new(table, measure);
    let mut results = Vec::with_capacity(rt.len());
    for r in 0..rt.len() {
        results.push(rt.convert(r)?);
    }
    let mut yi = Vec::new();
    let mut vi = Vec::new();
    let mut labels = Vec::new();
    let mut rows = Vec::new();
    let mut omitted = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut scale: Option<Scale> = None;
    for (r, res) in results.iter().enumerate() {
        let usable = match (res.effect, res.se_bound) {
            (Some(e), _) => Some((e.yi, e.vi())),
            (None, Some(FromP::SeAtMost { yi, se })) if include_se_bounds => Some((yi, se * se)),
            _ => None,
        };
        match usable {
            Some((y, v)) => {
                if let Some(s) = scale {
                    if s != res.scale {
                        return Err(Error::input(
                            table.location(r, usize::MAX),
                            format!(
                                "{}: a {} cannot be pooled with the ratio/difference rows before it",
                                res.study,
                                res.measure.as_deref().unwrap_or("difference")
                            ),
                        ));
                    }
                }
                scale = Some(res.scale);
                yi.push(y);
                vi.push(v);
                labels.push(res.study.clone());
                rows.push(r);
                if let Some(m) = &res.measure {
                    if !names.contains(m) {
                        names.push(m.clone());
                    }
                }
            }
            None => omitted.push(Omitted {
                row: r,
                label: res.study.clone(),
                reason: format!(
                    "{}: {}",
                    res.rule.name(),
                    res.notes.first().map_or("no effect size with an SE", |s| s)
                ),
            }),
        }
    }
    if yi.is_empty() {
        return Err(Error::invalid(
            "no row gives an effect size with a standard error: nothing to pool",
        ));
    }
    let scale = scale.unwrap_or(Scale::Identity);
    let groups = if scale == Scale::Log {
        crate::effect::group_measures(rows.iter().map(|&r| {
            let res = &results[r];
            (
                res.measure.clone().unwrap_or_default(),
                res.line,
                res.study.clone(),
            )
        }))
    } else {
        Vec::new()
    };
    if !how.allow_mixed_ratios {
        crate::effect::refuse_mixed_ratios(&table.source, &groups)?;
    }
    let m = match names.as_slice() {
        [one] => one.parse::<Measure>().ok().filter(|m| m.scale() == scale),
        _ => None,
    }
    .unwrap_or(Measure::GEN);
    let mut set = EffectSet::from_yi_vi(yi, vi, m, scale);
    set.labels = labels;
    set.rows = rows;
    set.omitted = omitted.clone();
    set.escalc.allow_mixed_ratios = how.allow_mixed_ratios;
    set.mixed_ratios = groups.into_iter().map(|(m, _)| m).collect();
    Ok((set, results, omitted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::CsvOptions;
    use std::path::Path;

    fn table(text: &str) -> Table {
        Table::from_bytes(Path::new("t.csv"), text.as_bytes(), &CsvOptions::default()).unwrap()
    }

    #[test]
    fn ratios_of_different_kinds_are_refused_unless_allowed() {
        let t = table("study,measure,estimate,ci_lb,ci_ub\nA,OR,2,1,4\nB,HR,1.5,1.1,2.1\n");
        let e = to_effects(&t, None).unwrap_err().to_string();
        assert!(e.contains("OR (line 2 'A'); HR (line 3 'B')"), "{e}");
        let how = PoolRows {
            allow_mixed_ratios: true,
            ..PoolRows::default()
        };
        let (set, _, _) = to_effects_with(&t, None, how).unwrap();
        assert_eq!((set.measure, set.scale), (Measure::GEN, Scale::Log));
        assert_eq!(set.k(), 2);
        assert_eq!(set.mixed_ratios, ["OR", "HR"]);
    }

    #[test]
    fn ratios_and_differences_do_not_mix() {
        let t = table("study,measure,estimate,ci_lb,ci_ub\nA,OR,2,1,4\nB,MD,1.5,1.1,2.1\n");
        let e = to_effects(&t, None).unwrap_err().to_string();
        assert!(
            e.contains("line 3") && e.contains("cannot be pooled"),
            "{e}"
        );
    }

    #[test]
    fn rules_follow_the_filled_in_columns() {
        let t = table(
            "study,estimate,ci_lb,ci_ub,se,pval,x1i,t1i,x2i,t2i\n\
             A,1.2,0.3,2.1,,,,,,\n\
             B,,0.3,2.1,,,,,,\n\
             C,1.2,,,0.4,,,,,\n\
             D,,,,,,6,9,12,9\n",
        );
        let rt = ReportedTable::new(&t, Some("MD"));
        let rules: Vec<Rule> = (0..4).map(|r| rt.convert(r).unwrap().rule).collect();
        assert_eq!(
            rules,
            [
                Rule::EstimateCi,
                Rule::CiOnly,
                Rule::EstimateSe,
                Rule::RatesIrrWald
            ]
        );
        // escalc("IRR", x1i=6, t1i=9, x2i=12, t2i=9): vi = 0.25
        assert_eq!(rt.convert(3).unwrap().effect.unwrap().vi(), 0.25);
        let e = rt.convert(0).unwrap().effect.unwrap();
        // R: (2.1 - 0.3) / (2 * qnorm(0.975)) = 0.45919211123218867
        assert!((e.sei - 0.45919211123218867).abs() < 1e-14);
    }
}
