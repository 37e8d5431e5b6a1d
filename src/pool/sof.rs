//! Summary-of-findings rows for binary outcomes (Cochrane Handbook ch. 14; Guyatt et al. 2011,
//! *J Clin Epidemiol* 64:383): a pooled OR, RR or RD turned into the risk with the intervention
//! and the absolute effect per 1,000 at an assumed control risk, and the number needed to treat
//! with Altman's (1998, *BMJ* 317:1309) interval.

use crate::data::{Data, Studies};
use crate::error::{Error, Result};
use crate::measure::Measure;

/// Where the assumed control risk comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlRiskSource {
    /// Given by the user (a population's baseline risk).
    Given,
    /// The median of the control arms' risks `ci / (ci + di)` of the pooled studies (the
    /// Handbook's default "assumed risk" when no better estimate is at hand).
    MedianOfStudies,
}

impl ControlRiskSource {
    /// Machine-readable name, as the JSON gives it.
    pub fn name(self) -> &'static str {
        match self {
            ControlRiskSource::Given => "given",
            ControlRiskSource::MedianOfStudies => "median control-arm risk",
        }
    }
}

/// A summary-of-findings row: the pooled effect on the absolute scale at one control risk.
#[derive(Debug, Clone, PartialEq)]
pub struct Sof {
    /// The pooled measure (Peto's odds ratio is converted as an odds ratio).
    pub measure: Measure,
    /// The assumed control risk (0 < risk < 1).
    pub control_risk: f64,
    /// Where the control risk comes from.
    pub source: ControlRiskSource,
    /// The confidence level of the intervals, in percent.
    pub level: f64,
    /// The risk with the intervention at the control risk, and its interval.
    pub intervention_risk: f64,
    /// Lower bound of `intervention_risk`.
    pub intervention_risk_ci_lb: f64,
    /// Upper bound of `intervention_risk`.
    pub intervention_risk_ci_ub: f64,
    /// The absolute effect per 1,000: events with the intervention minus events with control per
    /// 1,000 people (negative: fewer events).
    pub per_1000: f64,
    /// Lower bound of `per_1000`.
    pub per_1000_ci_lb: f64,
    /// Upper bound of `per_1000`.
    pub per_1000_ci_ub: f64,
    /// The number needed to treat.
    pub nnt: Nnt,
    /// The event is a desirable one (the NNT's sign is then the other way round).
    pub events_desirable: bool,
    /// Why the row needs care (a risk outside 0–1 from a risk difference), if it does.
    pub notes: Vec<String>,
}

/// The number needed to treat, signed as R meta's `nnt()`: positive for one more beneficial
/// outcome (NNTB), negative for one more harmful outcome (NNTH).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nnt {
    /// 1 / absolute risk change, signed (infinite when the risks are equal).
    pub nnt: f64,
    /// The limit from the interval's bound nearer benefit: 1 / the largest risk reduction.
    pub ci_lb: f64,
    /// The limit from the interval's bound nearer harm: 1 / the smallest risk reduction.
    pub ci_ub: f64,
    /// The interval of the risk difference includes 0, so the NNT's interval runs from `ci_lb`
    /// (NNTB) through infinity to `ci_ub` (NNTH): Altman's "NNTB a to ∞ to NNTH b".
    pub through_infinity: bool,
}

/// The assumed control risk: the one given (checked to lie strictly between 0 and 1), or the
/// median control-arm risk of the 2×2 tables in `rows` (all rows when `rows` is `None`).
pub fn control_risk(
    studies: &Studies,
    rows: Option<&[usize]>,
    given: Option<f64>,
) -> Result<(f64, ControlRiskSource)> {
    if let Some(r) = given {
        if !(r > 0.0 && r < 1.0) {
            return Err(Error::invalid(format!(
                "the assumed control risk must lie strictly between 0 and 1, got {r}"
            )));
        }
        return Ok((r, ControlRiskSource::Given));
    }
    let Data::TwoByTwo { ci, di, .. } = &studies.data else {
        return Err(Error::invalid(format!(
            "no control arms to take a risk from: the data are {}, not 2x2 tables; give the \
             assumed control risk",
            studies.data.kind_name()
        )));
    };
    let all: Vec<usize> = (0..ci.len()).collect();
    let mut risks: Vec<f64> = rows
        .unwrap_or(&all)
        .iter()
        .filter_map(|&i| match (ci.get(i).copied()?, di.get(i).copied()?) {
            (Some(c), Some(d)) if c + d > 0.0 => Some(c / (c + d)),
            _ => None,
        })
        .collect();
    if risks.is_empty() {
        return Err(Error::invalid(
            "no study has a control arm with participants: give the assumed control risk",
        ));
    }
    risks.sort_by(f64::total_cmp);
    let n = risks.len();
    let median = if n % 2 == 1 {
        risks[n / 2]
    } else {
        (risks[n / 2 - 1] + risks[n / 2]) / 2.0
    };
    if !(median > 0.0 && median < 1.0) {
        return Err(Error::invalid(format!(
            "the median control-arm risk is {median}: absolute effects are not defined at it; \
             give the assumed control risk"
        )));
    }
    Ok((median, ControlRiskSource::MedianOfStudies))
}

/// The risk with the intervention at control risk `acr` for a pooled effect `y` on the analysis
/// scale (log OR, log RR, RD), as the Handbook's section 14.1.5 converts it.
fn risk_at(measure: Measure, acr: f64, y: f64) -> f64 {
    match measure {
        Measure::RR => acr * y.exp(),
        Measure::RD => acr + y,
        _ => {
            let or = y.exp();
            acr * or / (1.0 - acr + acr * or)
        }
    }
}

/// The summary-of-findings row of a pooled binary effect: `estimate` and its interval on the
/// analysis scale (log OR or log RR, or RD), at control risk `acr`; `events_desirable` flips the
/// NNT's sign (more events are then the benefit).
pub fn sof(
    measure: Measure,
    (estimate, ci_lb, ci_ub): (f64, f64, f64),
    level: f64,
    (acr, source): (f64, ControlRiskSource),
    events_desirable: bool,
) -> Result<Sof> {
    if !applies(measure) {
        return Err(not_binary(measure));
    }
    if !(estimate.is_finite() && ci_lb.is_finite() && ci_ub.is_finite()) {
        return Err(Error::invalid(
            "the pooled estimate or its interval is not finite: no absolute effect",
        ));
    }
    let ir = risk_at(measure, acr, estimate);
    let (lb, ub) = (risk_at(measure, acr, ci_lb), risk_at(measure, acr, ci_ub));
    let mut notes = Vec::new();
    if [ir, lb, ub].iter().any(|r| !(0.0..=1.0).contains(r)) {
        notes.push(format!(
            "the risk difference puts the risk with the intervention outside 0–1 at a control \
             risk of {acr}: the absolute effect is not a possible one there"
        ));
    }
    let sign = if events_desirable { 1.0 } else { -1.0 };
    // The change in risk towards benefit; its interval's ends invert to the NNT's (Altman 1998).
    let (gain, gain_lb, gain_ub) = (sign * (ir - acr), sign * (lb - acr), sign * (ub - acr));
    let (gain_lo, gain_hi) = (gain_lb.min(gain_ub), gain_lb.max(gain_ub));
    let nnt = Nnt {
        nnt: 1.0 / gain,
        ci_lb: 1.0 / gain_hi,
        ci_ub: 1.0 / gain_lo,
        through_infinity: gain_lo <= 0.0 && gain_hi >= 0.0,
    };
    Ok(Sof {
        measure,
        control_risk: acr,
        source,
        level,
        intervention_risk: ir,
        intervention_risk_ci_lb: lb,
        intervention_risk_ci_ub: ub,
        per_1000: 1000.0 * (ir - acr),
        per_1000_ci_lb: 1000.0 * (lb - acr),
        per_1000_ci_ub: 1000.0 * (ub - acr),
        nnt,
        events_desirable,
        notes,
    })
}

fn not_binary(measure: Measure) -> Error {
    Error::invalid(format!(
        "absolute effects at a control risk are computed from an odds ratio, risk ratio or risk \
         difference; the measure is {measure}"
    ))
}

/// A given control risk must be usable; the default one may not be (all control arms without
/// events): then there is no row, rather than no pooled result.
fn default_or_given(
    acr: Result<(f64, ControlRiskSource)>,
    given: Option<f64>,
) -> Result<Option<(f64, ControlRiskSource)>> {
    match acr {
        Ok(a) => Ok(Some(a)),
        Err(_) if given.is_none() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether summary-of-findings rows apply to `measure` (OR, Peto's OR, RR, RD).
pub fn applies(measure: Measure) -> bool {
    matches!(
        measure,
        Measure::OR | Measure::PETO | Measure::RR | Measure::RD
    )
}

/// The row of an `rma` fit of `studies`: `None` when its measure is not a binary one and no
/// control risk is given, or when none is given and the data have no control arms or a median
/// control-arm risk of 0 or 1; an error when a risk is given for a measure that has none.
pub fn for_rma(
    fit: &crate::model::RmaFit,
    studies: &Studies,
    given: Option<f64>,
    events_desirable: bool,
) -> Result<Option<Sof>> {
    let measure = fit.effects.measure;
    if !applies(measure) {
        return given.map_or(Ok(None), |_| Err(not_binary(measure)));
    }
    if given.is_none() && !matches!(studies.data, Data::TwoByTwo { .. }) {
        return Ok(None);
    }
    let Some(acr) = default_or_given(control_risk(studies, Some(&fit.effects.rows), given), given)?
    else {
        return Ok(None);
    };
    sof(
        measure,
        (fit.estimate, fit.ci_lb, fit.ci_ub),
        fit.options.level.percent(),
        acr,
        events_desirable,
    )
    .map(Some)
}

/// The row of a Mantel–Haenszel or Peto fit of `studies` at `level` (percent); `None` for
/// incidence data (IRR, IRD) without a given risk, as [`for_rma`].
pub fn for_mh(
    fit: &crate::pool::mh::MhFit,
    studies: &Studies,
    level: f64,
    given: Option<f64>,
    events_desirable: bool,
) -> Result<Option<Sof>> {
    let measure = if fit.peto { Measure::PETO } else { fit.measure };
    if !applies(measure) {
        return given.map_or(Ok(None), |_| Err(not_binary(measure)));
    }
    let Some(acr) = default_or_given(control_risk(studies, None, given), given)? else {
        return Ok(None);
    };
    sof(
        measure,
        (fit.estimate, fit.ci_lb, fit.ci_ub),
        level,
        acr,
        events_desirable,
    )
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_odds_ratio_of_one_changes_nothing_and_needs_infinitely_many() {
        let s = sof(
            Measure::OR,
            (0.0, -0.5, 0.5),
            95.0,
            (0.2, ControlRiskSource::Given),
            false,
        )
        .unwrap();
        assert_eq!(s.intervention_risk, 0.2);
        assert_eq!(s.per_1000, 0.0);
        assert!(s.nnt.nnt.is_infinite());
        assert!(s.nnt.through_infinity);
        assert!(s.nnt.ci_lb > 0.0 && s.nnt.ci_ub < 0.0);
    }

    #[test]
    fn control_risks_outside_zero_to_one_are_refused() {
        let st = Studies {
            source: "t.csv".into(),
            labels: vec!["a".into()],
            lines: vec![2],
            data: Data::Precomputed {
                yi: vec![Some(0.1)],
                vi: vec![Some(0.01)],
            },
            moderators: Vec::new(),
            warnings: Vec::new(),
        };
        for r in [0.0, 1.0, -0.1, f64::NAN] {
            assert!(control_risk(&st, None, Some(r)).is_err());
        }
        assert!(control_risk(&st, None, None).is_err(), "not 2x2 tables");
    }

    #[test]
    fn the_median_control_risk_is_rs_median_of_the_arms_used() {
        let st = Studies {
            source: "t.csv".into(),
            labels: vec!["a".into(), "b".into(), "c".into()],
            lines: vec![2, 3, 4],
            data: Data::TwoByTwo {
                ai: vec![Some(1.0); 3],
                bi: vec![Some(9.0); 3],
                ci: vec![Some(1.0), Some(3.0), None],
                di: vec![Some(9.0), Some(7.0), Some(5.0)],
            },
            moderators: Vec::new(),
            warnings: Vec::new(),
        };
        let (r, src) = control_risk(&st, None, None).unwrap();
        assert!((r - 0.2).abs() < 1e-15, "{r}");
        assert_eq!(src, ControlRiskSource::MedianOfStudies);
        let (r, _) = control_risk(&st, Some(&[1]), None).unwrap();
        assert!((r - 0.3).abs() < 1e-15, "{r}");
    }

    #[test]
    fn a_risk_difference_past_one_is_flagged() {
        let s = sof(
            Measure::RD,
            (0.1, 0.05, 0.3),
            95.0,
            (0.8, ControlRiskSource::Given),
            false,
        )
        .unwrap();
        assert_eq!(s.notes.len(), 1);
        assert!(s.intervention_risk_ci_ub > 1.0);
        // More events: harm, on both sides of the interval.
        assert!(s.nnt.nnt < 0.0 && !s.nnt.through_infinity);
        assert!((s.nnt.ci_lb - -20.0).abs() < 1e-9 && (s.nnt.ci_ub - -1.0 / 0.3).abs() < 1e-9);
    }

    #[test]
    fn measures_without_a_risk_are_refused() {
        let e = sof(
            Measure::SMD,
            (0.1, 0.0, 0.2),
            95.0,
            (0.2, ControlRiskSource::Given),
            false,
        );
        assert!(e.is_err());
    }
}
