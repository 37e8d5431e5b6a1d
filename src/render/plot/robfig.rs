//! Risk-of-bias figures as robvis draws them (McGuinness & Higgins 2021, *Res Synth Methods*
//! 12:55): the traffic-light grid of studies × domains and the summary bars of the share of
//! judgements per domain, weighted by the studies' weights or not.

use super::figure::{Anchor, Figure, Shape};
use super::fonts::text_width;
use super::parts;
use super::rob::{RobColumn, RobLevel};
use super::style::{FONT, MARGIN, MUTED, RULE, SMALL, TEXT};
use crate::error::{Error, Result};

/// The assessment tool, which names the domains and the judgements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobTool {
    /// Cochrane's RoB 2 for randomised trials (Sterne et al. 2019, *BMJ* 366:l4898): 5 domains.
    Rob2,
    /// ROBINS-I for non-randomised studies (Sterne et al. 2016, *BMJ* 355:i4919): 7 domains.
    RobinsI,
    /// Any other tool: the domains are named by their columns.
    Generic,
}

const ROB2_DOMAINS: [&str; 5] = [
    "Bias arising from the randomisation process",
    "Bias due to deviations from intended interventions",
    "Bias due to missing outcome data",
    "Bias in measurement of the outcome",
    "Bias in selection of the reported result",
];

const ROBINS_I_DOMAINS: [&str; 7] = [
    "Bias due to confounding",
    "Bias due to selection of participants",
    "Bias in classification of interventions",
    "Bias due to deviations from intended interventions",
    "Bias due to missing data",
    "Bias in measurement of outcomes",
    "Bias in selection of the reported result",
];

impl RobTool {
    /// The tool a table of `n` domains (besides the overall judgement) is most likely from, given
    /// its judgements: ROBINS-I's 7 domains or its "critical" level, RoB 2's 5 domains.
    pub fn detect(domains: &[RobColumn]) -> RobTool {
        let critical = domains
            .iter()
            .any(|c| c.values.contains(&Some(RobLevel::Critical)));
        match domains.len() {
            7 => RobTool::RobinsI,
            5 if !critical => RobTool::Rob2,
            _ => RobTool::Generic,
        }
    }

    /// The tool's name of domain `j` (0-based), if it has one.
    fn domain(self, j: usize) -> Option<&'static str> {
        match self {
            RobTool::Rob2 => ROB2_DOMAINS.get(j).copied(),
            RobTool::RobinsI => ROBINS_I_DOMAINS.get(j).copied(),
            RobTool::Generic => None,
        }
    }
}

/// A risk-of-bias table: the studies, their domain judgements and overall judgement, and the
/// weights of the summary bars.
#[derive(Debug, Clone)]
pub struct RobTable {
    /// Study labels.
    pub labels: Vec<String>,
    /// The domains, in column order.
    pub domains: Vec<RobColumn>,
    /// The overall judgement (the column `rob_overall`), if given.
    pub overall: Option<RobColumn>,
    /// The studies' weights for the summary bars (`None`: each study counts once).
    pub weights: Option<Vec<f64>>,
    /// What the weights are, for the caption ("the random-effects (REML) model's weights").
    pub weights_name: String,
    /// The tool naming the domains.
    pub tool: RobTool,
}

impl RobTable {
    /// Splits `columns` into domains and the overall judgement; `tool` `None` detects it.
    pub fn new(
        labels: Vec<String>,
        columns: Vec<RobColumn>,
        weights: Option<(Vec<f64>, String)>,
        tool: Option<RobTool>,
    ) -> Result<RobTable> {
        if columns.is_empty() {
            return Err(Error::invalid(
                "no risk-of-bias columns: name them rob_D1, rob_D2, ..., rob_overall",
            ));
        }
        let n = labels.len();
        if let Some(c) = columns.iter().find(|c| c.values.len() != n) {
            return Err(Error::invalid(format!(
                "risk-of-bias column '{}' has {} values for {n} studies",
                c.header,
                c.values.len()
            )));
        }
        if let Some((w, _)) = &weights {
            if w.len() != n || w.iter().any(|x| !(x.is_finite() && *x >= 0.0)) {
                return Err(Error::invalid(format!(
                    "the summary's weights are {} for {n} studies, or not all finite and \
                     non-negative",
                    w.len()
                )));
            }
        }
        let (overall, domains): (Vec<RobColumn>, Vec<RobColumn>) = columns
            .into_iter()
            .partition(|c| c.header.eq_ignore_ascii_case("overall"));
        let tool = tool.unwrap_or_else(|| RobTool::detect(&domains));
        let (weights, weights_name) = match weights {
            Some((w, name)) => (Some(w), name),
            None => (None, String::new()),
        };
        Ok(RobTable {
            labels,
            domains,
            overall: overall.into_iter().next(),
            weights,
            weights_name,
            tool,
        })
    }

    /// The short heading of domain `j` (the column's name: D1, D2, ...).
    fn short(&self, j: usize) -> String {
        self.domains[j].header.replace('_', " ")
    }

    /// The full name of domain `j`: the tool's when the column is named D1, D2, ... (or 1, 2,
    /// ...), else the column's own name.
    pub fn domain_name(&self, j: usize) -> String {
        let h = self.domains[j].header.trim();
        let digits = h.trim_start_matches(['D', 'd']);
        let numbered = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        match digits.parse::<usize>().ok().filter(|_| numbered) {
            Some(i) if i >= 1 => self
                .tool
                .domain(i - 1)
                .map_or_else(|| self.short(j), str::to_string),
            _ => self.short(j),
        }
    }

    /// The columns in drawing order: the domains, then the overall judgement.
    fn all_columns(&self) -> Vec<(String, &RobColumn)> {
        let mut v: Vec<(String, &RobColumn)> = self
            .domains
            .iter()
            .enumerate()
            .map(|(j, c)| (self.short(j), c))
            .collect();
        if let Some(o) = &self.overall {
            v.push(("Overall".into(), o));
        }
        v
    }

    /// The levels that occur, in legend order.
    fn levels(&self) -> Vec<RobLevel> {
        let cols = self.all_columns();
        RobLevel::ALL
            .into_iter()
            .filter(|l| cols.iter().any(|(_, c)| c.values.contains(&Some(*l))))
            .collect()
    }

    fn robins_i(&self) -> bool {
        self.tool == RobTool::RobinsI
    }
}

const LIGHT_R: f64 = 9.0;
const CELL_W: f64 = 40.0;
const CELL_H: f64 = 24.0;

/// One traffic light: the level's coloured disc with its symbol.
fn light(fig: &mut Figure, x: f64, y: f64, r: f64, level: RobLevel) {
    let (fill, ink) = level.colors();
    fig.shapes.push(Shape::Circle {
        x,
        y,
        r,
        color: fill,
        filled: true,
    });
    fig.text(x, y, level.symbol(), FONT, true, Anchor::Middle, ink);
}

/// The traffic-light plot: one row per study, one column per domain and the overall judgement.
pub fn traffic_light(t: &RobTable, title: Option<&str>) -> Result<Figure> {
    let cols = t.all_columns();
    let mut fig = Figure::default();
    let mut y = MARGIN;
    let mut width = fig.title(MARGIN, &mut y, title) + MARGIN;
    let label_w = t
        .labels
        .iter()
        .map(|l| text_width(l, FONT, false))
        .fold(text_width("Study", FONT, true), f64::max);
    let x0 = MARGIN + label_w + 16.0;
    let grid_w = cols.len() as f64 * CELL_W;
    fig.text(
        x0 + grid_w / 2.0,
        y + 6.0,
        "Risk of bias domains",
        FONT,
        true,
        Anchor::Middle,
        TEXT,
    );
    let hy = y + 28.0;
    fig.text(MARGIN, hy, "Study", FONT, true, Anchor::Start, TEXT);
    for (j, (h, _)) in cols.iter().enumerate() {
        let xc = x0 + (j as f64 + 0.5) * CELL_W;
        fig.text(xc, hy, h.as_str(), FONT, true, Anchor::Middle, TEXT);
    }
    let top = hy + 14.0;
    fig.line((MARGIN, top), (x0 + grid_w, top), RULE, 1.0);
    for (i, label) in t.labels.iter().enumerate() {
        let yc = top + (i as f64 + 0.5) * CELL_H;
        fig.text(MARGIN, yc, label.as_str(), FONT, false, Anchor::Start, TEXT);
        for (j, (_, c)) in cols.iter().enumerate() {
            let xc = x0 + (j as f64 + 0.5) * CELL_W;
            match c.values[i] {
                Some(level) => light(&mut fig, xc, yc, LIGHT_R, level),
                None => fig.text(xc, yc, "\u{2013}", FONT, false, Anchor::Middle, MUTED),
            }
        }
    }
    let bottom = top + t.labels.len() as f64 * CELL_H + 4.0;
    fig.line((MARGIN, bottom), (x0 + grid_w, bottom), RULE, 1.0);
    if t.overall.is_some() {
        // The overall column stands apart, as robvis draws it.
        let xs = x0 + t.domains.len() as f64 * CELL_W;
        fig.line((xs, top), (xs, bottom), RULE, 1.0);
    }
    width = width.max(x0 + grid_w + MARGIN);
    let mut notes: Vec<String> = (0..t.domains.len())
        .filter(|&j| t.domain_name(j) != t.short(j))
        .map(|j| format!("{}: {}.", t.short(j), t.domain_name(j)))
        .collect();
    notes.push(format!(
        "Judgement: {}",
        t.levels()
            .iter()
            .map(|l| format!("{} {}", l.symbol(), l.name(t.robins_i())))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    let y = parts::notes(
        &mut fig,
        MARGIN,
        bottom + 18.0,
        &notes,
        (TEXT, 16.0),
        &mut width,
    );
    parts::finish(&mut fig, width, y);
    Ok(fig)
}

const BAR_W: f64 = 420.0;
const BAR_H: f64 = 20.0;
const BAR_STEP: f64 = 30.0;

/// The shares of each level in one column: weight of the studies so judged over the weight of
/// the studies judged at all (a study without a judgement is left out of that domain's bar).
pub fn shares(t: &RobTable, c: &RobColumn) -> Vec<(RobLevel, f64)> {
    let w = |i: usize| t.weights.as_ref().map_or(1.0, |w| w[i]);
    let total: f64 = (0..c.values.len())
        .filter(|&i| c.values[i].is_some())
        .map(w)
        .sum();
    RobLevel::ALL
        .into_iter()
        .map(|l| {
            let s: f64 = (0..c.values.len())
                .filter(|&i| c.values[i] == Some(l))
                .map(w)
                .sum();
            (l, if total > 0.0 { s / total } else { 0.0 })
        })
        .filter(|(_, s)| *s > 0.0)
        .collect()
}

/// One stacked bar from `x0` at row centre `yc`, with the percentages that fit in their segment.
fn bar(fig: &mut Figure, x0: f64, yc: f64, parts: &[(RobLevel, f64)]) {
    let mut x = x0;
    for &(level, share) in parts {
        let w = share * BAR_W;
        let (fill, ink) = level.colors();
        fig.shapes.push(Shape::Rect {
            x0: x,
            y0: yc - BAR_H / 2.0,
            x1: x + w,
            y1: yc + BAR_H / 2.0,
            fill,
        });
        let pct = format!("{:.0}%", 100.0 * share);
        if text_width(&pct, SMALL, true) + 6.0 <= w {
            fig.text(x + w / 2.0, yc, pct, SMALL, true, Anchor::Middle, ink);
        }
        x += w;
    }
}

/// The summary plot: per domain (and overall), a bar of the shares of the judgements.
pub fn summary_bars(t: &RobTable, title: Option<&str>) -> Result<Figure> {
    let mut rows: Vec<(String, &RobColumn)> = (0..t.domains.len())
        .map(|j| (t.domain_name(j), &t.domains[j]))
        .collect();
    if let Some(o) = &t.overall {
        rows.push(("Overall risk of bias".into(), o));
    }
    let mut fig = Figure::default();
    let mut y = MARGIN;
    let mut width = fig.title(MARGIN, &mut y, title) + MARGIN;
    let label_w = rows
        .iter()
        .map(|(n, _)| text_width(n, FONT, false))
        .fold(0.0, f64::max);
    let x0 = MARGIN + label_w + 12.0;
    let top = y + 4.0;
    for (i, (name, c)) in rows.iter().enumerate() {
        let yc = top + (i as f64 + 0.5) * BAR_STEP;
        let bold = i + 1 == rows.len() && t.overall.is_some();
        fig.text(x0 - 12.0, yc, name.as_str(), FONT, bold, Anchor::End, TEXT);
        bar(&mut fig, x0, yc, &shares(t, c));
    }
    let bottom = top + rows.len() as f64 * BAR_STEP;
    fig.line((x0, bottom), (x0 + BAR_W, bottom), TEXT, 1.0);
    for k in 0..=4 {
        let x = x0 + BAR_W * k as f64 / 4.0;
        fig.line((x, bottom), (x, bottom + 4.0), TEXT, 1.0);
        let tick = format!("{}%", 25 * k);
        fig.text(x, bottom + 14.0, tick, SMALL, false, Anchor::Middle, TEXT);
    }
    width = width.max(x0 + BAR_W + MARGIN);
    let mut lx = x0;
    let ly = bottom + 40.0;
    for l in t.levels() {
        let (fill, _) = l.colors();
        fig.shapes.push(Shape::Rect {
            x0: lx,
            y0: ly - 6.0,
            x1: lx + 12.0,
            y1: ly + 6.0,
            fill,
        });
        let name = l.name(t.robins_i());
        fig.text(lx + 17.0, ly, name, SMALL, false, Anchor::Start, TEXT);
        lx += 17.0 + text_width(name, SMALL, false) + 18.0;
    }
    width = width.max(lx + MARGIN);
    let caption = match &t.weights {
        Some(_) => format!("Shares weighted by {}.", t.weights_name),
        None => "Shares of the studies, each counted once.".to_string(),
    };
    let y = parts::notes(
        &mut fig,
        MARGIN,
        ly + 26.0,
        &[caption],
        (MUTED, 16.0),
        &mut width,
    );
    parts::finish(&mut fig, width, y);
    Ok(fig)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(header: &str, v: &[Option<RobLevel>]) -> RobColumn {
        RobColumn {
            header: header.into(),
            values: v.to_vec(),
        }
    }

    fn table(weights: Option<Vec<f64>>) -> RobTable {
        use RobLevel::*;
        let d = |j: usize| {
            col(
                &format!("D{j}"),
                &[Some(Low), Some(High), Some(SomeConcerns)],
            )
        };
        let mut cols: Vec<RobColumn> = (1..=5).map(d).collect();
        cols.push(col("overall", &[Some(Low), Some(High), None]));
        RobTable::new(
            vec!["A".into(), "B".into(), "C".into()],
            cols,
            weights.map(|w| (w, "model weights".into())),
            None,
        )
        .unwrap()
    }

    #[test]
    fn five_numbered_domains_are_rob2s() {
        let t = table(None);
        assert_eq!(t.tool, RobTool::Rob2);
        assert_eq!(t.domain_name(0), ROB2_DOMAINS[0]);
        assert!(t.overall.is_some());
        assert_eq!(t.domains.len(), 5);
    }

    #[test]
    fn shares_are_weighted_and_leave_out_missing_judgements() {
        let t = table(Some(vec![1.0, 3.0, 4.0]));
        let o = t.overall.clone().unwrap();
        assert_eq!(
            shares(&t, &o),
            vec![(RobLevel::Low, 0.25), (RobLevel::High, 0.75)]
        );
        let u = table(None);
        let d = shares(&u, &u.domains[0]);
        assert_eq!(d.len(), 3);
        assert!(d.iter().all(|(_, s)| (s - 1.0 / 3.0).abs() < 1e-15));
    }

    #[test]
    fn the_figures_draw_one_light_per_judgement() {
        let t = table(None);
        let f = traffic_light(&t, Some("RoB")).unwrap();
        let discs = f
            .shapes
            .iter()
            .filter(|s| matches!(s, Shape::Circle { .. }))
            .count();
        assert_eq!(discs, 3 * 5 + 2);
        let s = summary_bars(&t, None).unwrap();
        assert!(s.labels().any(|l| l.text == "Overall risk of bias"));
    }
}
