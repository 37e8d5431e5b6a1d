//! The report's pages: one analysis (HTML, Markdown, studies CSV) and the index.

use super::analysis::Direction;
use super::analysis::{Analysis, Entry, ReportOptions, Step};
use super::{document, escape_html as esc, inline_svg, table};
use crate::bias::panel::{ADVICE_SOURCE, ADVISED_K, MIN_K};
use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::model::Method;
use crate::model::RmaFit;
use crate::model::Test;
use crate::render::plot::format::num;
use crate::render::pvalue::{p_value, PStyle};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Decimals shown for estimates.
const D: usize = 2;

fn page_title(a: &Analysis) -> String {
    a.spec
        .cfg
        .title
        .clone()
        .unwrap_or_else(|| a.spec.name.clone())
}

fn level(fit: &RmaFit) -> String {
    let l = fit.options.level.percent();
    if l.fract() == 0.0 {
        format!("{l:.0}%")
    } else {
        format!("{l}%")
    }
}

/// A value on the display scale.
fn show(fit: &RmaFit, x: f64) -> String {
    num(fit.effects.scale.back(x), D)
}

/// "0.49 (95% CI 0.34 to 0.70)".
fn est_ci(fit: &RmaFit, est: f64, lb: f64, ub: f64) -> String {
    format!(
        "{} ({} CI {} to {})",
        show(fit, est),
        level(fit),
        show(fit, lb),
        show(fit, ub)
    )
}

fn brackets(fit: &RmaFit, est: f64, lb: f64, ub: f64) -> String {
    format!("{} [{}, {}]", show(fit, est), show(fit, lb), show(fit, ub))
}

fn scale_words(s: Scale) -> &'static str {
    match s {
        Scale::Identity => "",
        Scale::Log => " on the log scale and back-transformed for display",
        Scale::Logit => " on the logit scale and back-transformed to proportions for display",
        Scale::FisherZ => " as Fisher's z and back-transformed to correlations for display",
    }
}

fn method_ref(m: Method) -> &'static str {
    match m {
        Method::FE => "",
        Method::DL => " (DerSimonian & Laird 1986)",
        Method::HE => " (Hedges & Olkin 1985)",
        Method::HS => " (Hunter & Schmidt 2004)",
        Method::SJ => " (Sidik & Jonkman 2005)",
        Method::ML => " (Hardy & Thompson 1996)",
        Method::REML => " (Viechtbauer 2005)",
        Method::EB => " (Morris 1983)",
        Method::PM => " (Paule & Mandel 1982)",
    }
}

/// The Methods paragraph (plain text).
pub fn methods(a: &Analysis) -> String {
    let fit = &a.fit;
    let m = fit.options.method;
    let set = &fit.effects;
    let source = match a.studies.data {
        crate::data::Data::ReportedRatio { .. } => format!(
            "The reported {}s and their confidence intervals were converted to log ratios, with standard errors from the width of each interval",
            a.effect_name
        ),
        _ => format!(
            "Effect sizes were computed as the {} ({}) from the {}",
            set.measure.description(),
            set.measure.name(),
            a.studies.data.kind_name()
        ),
    };
    let mut s = format!("{source}{}. ", scale_words(set.scale));
    if m.is_fixed() {
        s.push_str("They were pooled with a fixed-effect (inverse-variance) model. ");
    } else {
        s.push_str(&format!(
            "They were pooled with an inverse-variance random-effects model, with the between-study variance τ² estimated by the {}{}. ",
            m.description(),
            method_ref(m)
        ));
    }
    s.push_str(&match fit.test {
        Test::Z => format!("The {} confidence interval of the pooled estimate is a Wald-type interval from the normal distribution. ", level(fit)),
        Test::Knha => format!("The {} confidence interval and the test of the pooled estimate use the Hartung–Knapp–Sidik–Jonkman method, with the t distribution on k − 1 degrees of freedom (Knapp & Hartung 2003). ", level(fit)),
        Test::Adhoc => format!("The {} confidence interval uses the Hartung–Knapp method with its variance scale truncated at 1, so that it is never narrower than the Wald interval (Röver, Knapp & Friede 2015). ", level(fit)),
        Test::T => format!("The {} confidence interval and the test of the pooled estimate use the t distribution on k − 1 degrees of freedom with the unadjusted (Wald) standard error. ", level(fit)),
    });
    s.push_str("Heterogeneity was assessed with Cochran's Q and I² (Higgins & Thompson 2002)");
    if fit.tau2_ci.is_some() {
        s.push_str(", with confidence intervals for τ² and I² from the Q-profile method (Viechtbauer 2007)");
    }
    if !m.is_fixed() {
        s.push_str(&format!(
            "; a {} prediction interval gives the range of effects expected in a new study (Higgins, Thompson & Spiegelhalter 2009)",
            level(fit)
        ));
    }
    s.push_str(". ");
    if let Some(by) = &a.spec.cfg.by {
        s.push_str(&format!("Subgroups defined by '{by}' were pooled separately and compared with the test for subgroup differences (Q between subgroups). "));
    }
    if !a.spec.cfg.mods.is_empty() {
        s.push_str(&format!(
            "A meta-regression on {} was fitted with the same estimator. ",
            a.spec.cfg.mods.join(", ")
        ));
    }
    if a.fit.k >= MIN_K {
        s.push_str("Small-study effects were examined with a funnel plot, Egger's regression test (Egger et al. 1997), Begg's rank correlation test (Begg & Mazumdar 1994) and trim-and-fill (Duval & Tweedie 2000); robustness with leave-one-out analysis. ");
    }
    s.push_str(&format!(
        "Analyses were run with evident {VERSION}, which reproduces the R package metafor (Viechtbauer 2010)."
    ));
    s
}

fn p_of(fit: &RmaFit) -> String {
    p_value(fit.pval, PStyle::Journal)
}

/// The Results sentence (plain text).
pub fn results(a: &Analysis) -> String {
    let fit = &a.fit;
    let k = fit.k;
    if k == 1 {
        return format!(
            "One study: {} {}.",
            a.effect_name,
            est_ci(fit, fit.estimate, fit.ci_lb, fit.ci_ub)
        );
    }
    let model = if fit.options.method.is_fixed() {
        "fixed-effect"
    } else {
        "random-effects"
    };
    let mut s = format!(
        "Across {k} studies, the pooled {model} {} was {}; {}.",
        a.effect_name,
        est_ci(fit, fit.estimate, fit.ci_lb, fit.ci_ub),
        p_of(fit)
    );
    if let Some(m) = &fit.modified_kh {
        let why = if fit.s2w <= 0.0 {
            "The Knapp–Hartung scale factor is 0 (the studies agree exactly), so this interval has zero width and the p-value is meaningless"
        } else {
            "The Knapp–Hartung interval is narrower than the Wald interval"
        };
        s.push_str(&format!(
            " {why}; the modified Knapp–Hartung result (never narrower than Wald) is {}; {}.",
            est_ci(fit, fit.estimate, m.ci_lb, m.ci_ub),
            p_value(m.pval, PStyle::Journal)
        ));
    }
    s.push_str(&ci_side(a));
    s.push_str(&heterogeneity_sentence(fit));
    if let Some(pi) = fit.prediction() {
        if !fit.options.method.is_fixed() {
            s.push_str(&format!(
                " The {} prediction interval was {} to {}.",
                level(fit),
                show(fit, pi.lb),
                show(fit, pi.ub)
            ));
        }
    }
    s
}

/// On which side of no effect the confidence interval lies, named by the user's labels or
/// direction; empty where neither is given or no effect has no meaningful value on the scale.
fn ci_side(a: &Analysis) -> String {
    let fit = &a.fit;
    let null = fit.effects.scale.null_value();
    let lo_disp = fit.effects.scale.back(fit.ci_lb);
    let hi_disp = fit.effects.scale.back(fit.ci_ub);
    let meaningful_null = matches!(fit.effects.scale, Scale::Log)
        || matches!(
            fit.effects.measure,
            crate::measure::Measure::MD
                | crate::measure::Measure::SMD
                | crate::measure::Measure::RD
                | crate::measure::Measure::IRD
                | crate::measure::Measure::GEN
        );
    if !meaningful_null {
        return String::new();
    }
    if let Some([left, right]) = &a.spec.cfg.labels {
        if hi_disp < null {
            format!(" The confidence interval lies entirely on the side of “{left}”.")
        } else if lo_disp > null {
            format!(" The confidence interval lies entirely on the side of “{right}”.")
        } else {
            " The confidence interval includes no effect.".into()
        }
    } else if let Some(d) = a.spec.cfg.direction {
        let favourable = match d {
            Direction::Higher => lo_disp > null,
            Direction::Lower => hi_disp < null,
        };
        let unfavourable = match d {
            Direction::Higher => hi_disp < null,
            Direction::Lower => lo_disp > null,
        };
        if favourable {
            " The whole confidence interval is on the favourable side of no effect.".into()
        } else if unfavourable {
            " The whole confidence interval is on the unfavourable side of no effect.".into()
        } else {
            " The confidence interval includes no effect.".into()
        }
    } else {
        String::new()
    }
}

/// " Heterogeneity: I² = …, τ² = …, Q = … (df = …, p …)."
fn heterogeneity_sentence(fit: &RmaFit) -> String {
    let h = &fit.het;
    if let Some(why) = h.undefined_reason() {
        return format!(" Heterogeneity: {why}.");
    }
    let mut het = format!(" Heterogeneity: I² = {:.0}%", h.i2);
    if let Some(ci) = &fit.tau2_ci {
        het.push_str(&format!(
            " ({} CI {:.0}% to {:.0}%)",
            level(fit),
            ci.i2_lb,
            ci.i2_ub
        ));
    }
    if !fit.options.method.is_fixed() {
        het.push_str(&format!(
            ", τ² = {}",
            crate::render::plot::format::tau2(fit.tau2)
        ));
    }
    het.push_str(&format!(
        ", Q = {:.2} (df = {}, {}).",
        h.q,
        h.q_df,
        p_value(h.q_pval, PStyle::Journal)
    ));
    het
}

fn step<T>(r: &Step<T>, f: impl Fn(&T) -> String) -> String {
    match r {
        Ok(t) => f(t),
        Err(why) => format!("<span class=\"na\">{}</span>", esc(why)),
    }
}

fn stat_text(stat: f64, df: Option<f64>) -> String {
    match df {
        Some(df) => format!("t = {} (df = {})", num(stat, 2), num(df, 0)),
        None => format!("z = {}", num(stat, 2)),
    }
}

/// (label, display estimate, lb, ub, weight) of each study in the fit.
fn study_rows(a: &Analysis) -> Vec<(String, f64, f64, f64, f64)> {
    let fit = &a.fit;
    let set = &fit.effects;
    (0..set.k())
        .map(|i| {
            let (lb, ub) = fit.study_ci(i);
            (set.labels[i].clone(), set.yi[i], lb, ub, fit.weights[i])
        })
        .collect()
}

fn studies_table(a: &Analysis) -> String {
    let fit = &a.fit;
    let cols = crate::render::plot::forest::data_columns(&a.studies.data, &fit.effects);
    let mut head = vec!["Study".to_string()];
    for c in &cols {
        head.push(esc(&c
            .header
            .iter()
            .filter(|h| !h.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")));
    }
    head.push(format!("{} [{} CI]", esc(&a.effect_name), level(fit)));
    head.push("Weight".into());
    let rows: Vec<Vec<String>> = study_rows(a)
        .into_iter()
        .enumerate()
        .map(|(i, (l, y, lb, ub, w))| {
            let mut r = vec![esc(&l)];
            for c in &cols {
                r.push(esc(&c.values[i]));
            }
            r.push(brackets(fit, y, lb, ub));
            r.push(format!("{}%", num(w, 1)));
            r
        })
        .collect();
    let mut rows = rows;
    let pooled = if fit.options.method.is_fixed() {
        "Pooled (fixed effect)"
    } else {
        "Pooled (random effects)"
    };
    let mut last = vec![format!("<strong>{pooled}</strong>")];
    last.extend(cols.iter().map(|_| String::new()));
    last.push(format!(
        "<strong>{}</strong>",
        brackets(fit, fit.estimate, fit.ci_lb, fit.ci_ub)
    ));
    last.push("100%".into());
    rows.push(last);
    table(&head, &rows, &[])
}

fn het_table(fit: &RmaFit) -> String {
    let h = &fit.het;
    let ci = fit.tau2_ci.as_ref();
    let rng = |lo: Option<f64>, hi: Option<f64>, d: usize, pct: bool| match (lo, hi) {
        (Some(l), Some(u)) => {
            let p = if pct { "%" } else { "" };
            format!("[{}{p}, {}{p}]", num(l, d), num(u, d))
        }
        _ => "<span class=\"na\">—</span>".into(),
    };
    let rows = vec![
        vec![
            "Q".into(),
            match h.undefined_reason() {
                Some(why) => why.to_string(),
                None => format!("{} (df = {})", num(h.q, 2), h.q_df),
            },
            p_value(h.q_pval, PStyle::Journal),
        ],
        vec![
            "τ²".into(),
            crate::render::plot::format::tau2(fit.tau2),
            rng(ci.map(|c| c.tau2_lb), ci.map(|c| c.tau2_ub), 4, false),
        ],
        vec![
            "τ".into(),
            num(fit.tau(), 4),
            rng(ci.map(|c| c.tau_lb), ci.map(|c| c.tau_ub), 4, false),
        ],
        vec![
            "I²".into(),
            format!("{}%", num(h.i2, 1)),
            rng(ci.map(|c| c.i2_lb), ci.map(|c| c.i2_ub), 1, true),
        ],
        vec![
            "H²".into(),
            num(h.h2, 2),
            rng(ci.map(|c| c.h2_lb), ci.map(|c| c.h2_ub), 2, false),
        ],
    ];
    table(
        &[
            "Statistic".into(),
            "Estimate".into(),
            format!("{} CI / p", level(fit)),
        ],
        &rows,
        &[],
    )
}

fn cards(a: &Analysis) -> String {
    let fit = &a.fit;
    let mut s = String::from("<div class=\"cards\">\n");
    let card = |k: &str, v: String, d: String| {
        format!("<div class=\"card\"><div class=\"k\">{k}</div><div class=\"v\">{v}</div><div class=\"d\">{d}</div></div>\n")
    };
    s.push_str(&card(
        &format!("Pooled {}", esc(&a.effect_name)),
        show(fit, fit.estimate),
        format!(
            "{} CI {} to {}; {}",
            level(fit),
            show(fit, fit.ci_lb),
            show(fit, fit.ci_ub),
            p_of(fit)
        ),
    ));
    if let (Some(pi), false) = (fit.prediction(), fit.options.method.is_fixed() || fit.k < 2) {
        s.push_str(&card(
            "Prediction interval",
            format!("{} to {}", show(fit, pi.lb), show(fit, pi.ub)),
            "range of effects expected in a new study".into(),
        ));
    }
    s.push_str(&card(
        "Heterogeneity I²",
        format!("{}%", num(fit.het.i2, 0)),
        match &fit.tau2_ci {
            Some(c) => format!(
                "{} CI {}% to {}%; τ² = {}",
                level(fit),
                num(c.i2_lb, 0),
                num(c.i2_ub, 0),
                crate::render::plot::format::tau2(fit.tau2)
            ),
            None => format!("τ² = {}", crate::render::plot::format::tau2(fit.tau2)),
        },
    ));
    s.push_str(&card(
        "Studies",
        fit.k.to_string(),
        format!(
            "{}, {}",
            fit.options.method.name(),
            match fit.test {
                Test::Z => "z test",
                Test::Knha => "Knapp–Hartung",
                Test::Adhoc => "Knapp–Hartung (ad hoc)",
                Test::T => "t test",
            }
        ),
    ));
    s.push_str("</div>\n");
    s
}

fn subgroup_section(a: &Analysis) -> String {
    let Some(sg) = &a.subgroup else {
        return String::new();
    };
    let by = a.spec.cfg.by.as_deref().unwrap_or("");
    let mut s = format!("<h2>Subgroups by {}</h2>\n", esc(by));
    match sg {
        Err(why) => s.push_str(&format!("<p class=\"na\">{}</p>\n", esc(why))),
        Ok(sg) => {
            let rows: Vec<Vec<String>> = sg
                .groups
                .iter()
                .map(|g| {
                    let f = &g.fit;
                    vec![
                        esc(&g.level),
                        f.k.to_string(),
                        brackets(f, f.estimate, f.ci_lb, f.ci_ub),
                        format!("{}%", num(f.het.i2, 0)),
                    ]
                })
                .collect();
            s.push_str(&table(
                &[
                    esc(by),
                    "k".into(),
                    format!("{} [{} CI]", esc(&a.effect_name), level(&a.fit)),
                    "I²".into(),
                ],
                &rows,
                &[],
            ));
            let q = &sg.q_between;
            s.push_str(&format!(
                "<p>Test for subgroup differences: Q = {} (df = {}), {}.</p>\n",
                num(q.q, 2),
                q.df,
                p_value(q.pval, PStyle::Journal)
            ));
        }
    }
    s
}

fn metareg_section(a: &Analysis) -> String {
    let Some(mr) = &a.metareg else {
        return String::new();
    };
    let mut s = format!(
        "<h2>Meta-regression on {}</h2>\n",
        esc(&a.spec.cfg.mods.join(", "))
    );
    match mr {
        Err(why) => s.push_str(&format!("<p class=\"na\">{}</p>\n", esc(why))),
        Ok(m) => s.push_str(&format!(
            "<pre>{}</pre>\n",
            esc(&crate::render::text::metareg_summary(m))
        )),
    }
    s
}

fn bias_section(a: &Analysis) -> String {
    let fit = &a.fit;
    let mut s = String::from("<h2>Small-study effects</h2>\n");
    match &a.funnel_svg {
        Ok(svg) => s.push_str(&format!(
            "<figure>{}<figcaption>Funnel plot: effect against its standard error, with the pseudo {} confidence region.{}</figcaption></figure>\n",
            inline_svg(svg, "funnel"),
            level(fit),
            if a.trimfill.as_ref().is_ok_and(|t| t.k0 > 0) { " Hollow points: studies imputed by trim-and-fill." } else { "" }
        )),
        Err(why) => s.push_str(&format!("<p class=\"na\">Funnel plot {}</p>\n", esc(why.trim_start_matches("not drawn: ")).replace("a funnel", "not drawn: a funnel"))),
    }
    if fit.k >= MIN_K && fit.k < ADVISED_K {
        s.push_str(&format!("<p class=\"na\">With k = {} (&lt; {ADVISED_K}), these tests have low power; read them as descriptive ({ADVICE_SOURCE}).</p>\n", fit.k));
    }
    let rows = vec![
        vec![
            "Egger's regression test".into(),
            step(&a.regtest, |r| {
                let lim = r.limit.map_or(String::new(), |l| {
                    format!(
                        "; limit estimate {}",
                        brackets(fit, l.estimate, l.ci_lb, l.ci_ub)
                    )
                });
                format!(
                    "{}, {}{lim}",
                    stat_text(r.stat, r.df),
                    p_value(r.pval, PStyle::Journal)
                )
            }),
        ],
        vec![
            "Begg's rank correlation".into(),
            step(&a.ranktest, |r| {
                format!(
                    "Kendall's τ = {}, {}",
                    num(r.tau, 3),
                    p_value(r.pval, PStyle::Journal)
                )
            }),
        ],
        vec![
            "Trim-and-fill".into(),
            step(&a.trimfill, |t| {
                if t.k0 == 0 {
                    format!("no studies imputed ({} side)", t.side.name())
                } else {
                    format!(
                        "{} {} imputed on the {} side; adjusted {} {}",
                        t.k0,
                        if t.k0 == 1 { "study" } else { "studies" },
                        t.side.name(),
                        esc(&a.effect_name),
                        brackets(&t.fit, t.fit.estimate, t.fit.ci_lb, t.fit.ci_ub)
                    )
                }
            }),
        ],
    ];
    s.push_str(&table(&["Method".into(), "Result".into()], &rows, &[1]));
    s
}

fn sensitivity_section(a: &Analysis) -> String {
    let fit = &a.fit;
    let mut s = String::from("<h2>Sensitivity: leave one out</h2>\n");
    match &a.leave1out {
        Err(why) => s.push_str(&format!("<p class=\"na\">{}</p>\n", esc(why))),
        Ok(l) => {
            let rows: Vec<Vec<String>> = l
                .labels
                .iter()
                .zip(&l.fits)
                .map(|(lab, f)| match f {
                    Some(f) => vec![
                        esc(lab),
                        brackets(fit, f.estimate, f.ci_lb, f.ci_ub),
                        p_value(f.pval, PStyle::Journal),
                        format!("{}%", num(f.i2, 0)),
                    ],
                    None => vec![
                        esc(lab),
                        "<span class=\"na\">refit failed</span>".into(),
                        String::new(),
                        String::new(),
                    ],
                })
                .collect();
            s.push_str(&table(
                &[
                    "Study omitted".into(),
                    format!("{} [{} CI]", esc(&a.effect_name), level(fit)),
                    "p".into(),
                    "I²".into(),
                ],
                &rows,
                &[],
            ));
        }
    }
    s
}

const REFERENCES: &[&str] = &[
    "Begg CB, Mazumdar M (1994). Operating characteristics of a rank correlation test for publication bias. Biometrics 50:1088–1101.",
    "DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Controlled Clinical Trials 7:177–188.",
    "Duval S, Tweedie R (2000). Trim and fill: a simple funnel-plot-based method of testing and adjusting for publication bias in meta-analysis. Biometrics 56:455–463.",
    "Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis detected by a simple, graphical test. BMJ 315:629–634.",
    "Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Statistics in Medicine 21:1539–1558.",
    "Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of random-effects meta-analysis. Journal of the Royal Statistical Society A 172:137–159.",
    "Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a single covariate. Statistics in Medicine 22:2693–2710.",
    "Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the random-effects model. Journal of Educational and Behavioral Statistics 30:261–293.",
    "Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in meta-analysis. Statistics in Medicine 26:37–52.",
    "Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. Journal of Statistical Software 36(3):1–48.",
];

/// The self-contained HTML page of one analysis.
pub fn analysis_html(a: &Analysis, ro: &ReportOptions) -> String {
    let fit = &a.fit;
    let t = page_title(a);
    let mut b = String::new();
    b.push_str("<p class=\"crumb\"><a href=\"../index.html\">← All analyses</a></p>\n");
    b.push_str(&format!("<h1>{}</h1>\n", esc(&t)));
    b.push_str(&format!(
        "<p class=\"sub\">Analysis <code>{}</code> · data: {} · {} stud{} · {}</p>\n",
        esc(&a.spec.name),
        esc(&file_name(&a.spec.file)),
        fit.k,
        if fit.k == 1 { "y" } else { "ies" },
        esc(a.studies.data.kind_name())
    ));
    if !a.warnings.is_empty() {
        b.push_str("<div class=\"warn\"><strong>Read with care</strong><ul>\n");
        for w in &a.warnings {
            b.push_str(&format!("<li>{}</li>\n", esc(w)));
        }
        b.push_str("</ul></div>\n");
    }
    b.push_str(&cards(a));
    b.push_str("<h2>Results</h2>\n");
    b.push_str(&format!("<p class=\"paste\">{}</p>\n", esc(&results(a))));
    b.push_str(&format!(
        "<figure>{}<figcaption>Forest plot. Squares: study estimates sized by weight, with {} CIs; diamond: pooled estimate{}.</figcaption></figure>\n",
        inline_svg(&a.forest_svg, "forest"),
        level(fit),
        if fit.options.method.is_fixed() || fit.k < 2 { "" } else { "; bar: prediction interval" }
    ));
    b.push_str(&super::findings::sof_section(a));
    b.push_str("<h2>Studies</h2>\n");
    b.push_str(&studies_table(a));
    b.push_str(&super::findings::rob_section(a));
    b.push_str("<h2>Heterogeneity</h2>\n");
    b.push_str(&het_table(fit));
    b.push_str(&subgroup_section(a));
    b.push_str(&metareg_section(a));
    b.push_str(&bias_section(a));
    b.push_str(&sensitivity_section(a));
    b.push_str("<h2>Methods</h2>\n");
    b.push_str(&format!("<p class=\"paste\">{}</p>\n", esc(&methods(a))));
    b.push_str("<h2>Files</h2>\n<p class=\"files\"><a href=\"forest.svg\">forest.svg</a><a href=\"forest.png\">forest.png</a><a href=\"results.json\">results.json</a><a href=\"studies.csv\">studies.csv</a><a href=\"summary.md\">summary.md</a></p>\n");
    b.push_str("<h2>References</h2>\n<ol class=\"refs\">\n");
    for r in REFERENCES {
        b.push_str(&format!("<li>{}</li>\n", esc(r)));
    }
    b.push_str("</ol>\n");
    b.push_str(&footer(ro));
    document(&t, &b)
}

fn footer(ro: &ReportOptions) -> String {
    let when = ro
        .timestamp
        .as_ref()
        .map_or(String::new(), |t| format!(" on {}", esc(t)));
    format!("<footer>Generated by evident {VERSION}{when}. Self-contained: no external resources.</footer>\n")
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `studies.csv`: one row per study with its effect, CI (model and display scale) and weight.
pub fn studies_csv(a: &Analysis) -> Result<Vec<u8>> {
    let fit = &a.fit;
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::invalid(format!("cannot write studies.csv: {e}"));
    let disp = crate::render::slug(&a.effect_name).to_lowercase();
    w.write_record([
        "study".to_string(),
        "yi".into(),
        "vi".into(),
        "ci_lb".into(),
        "ci_ub".into(),
        disp.clone(),
        format!("{disp}_ci_lb"),
        format!("{disp}_ci_ub"),
        "weight_percent".into(),
    ])
    .map_err(err)?;
    let b = |x: f64| format!("{}", fit.effects.scale.back(x));
    for (i, (l, y, lb, ub, wt)) in study_rows(a).into_iter().enumerate() {
        w.write_record([
            crate::render::csv_safe(&l),
            format!("{y}"),
            format!("{}", fit.effects.vi[i]),
            format!("{lb}"),
            format!("{ub}"),
            b(y),
            b(lb),
            b(ub),
            format!("{wt}"),
        ])
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| Error::invalid(format!("cannot write studies.csv: {e}")))
}

/// Markdown text with the characters that would start markup escaped.
fn md(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            o.push('\\');
        }
        if c == '\n' {
            o.push(' ');
        } else {
            o.push(c);
        }
    }
    o
}

/// `summary.md`: the Results and Methods text, the pooled result and the study table.
pub fn summary_md(a: &Analysis) -> String {
    let fit = &a.fit;
    let mut s = format!("# {}\n\n", md(&page_title(a)));
    if !a.warnings.is_empty() {
        for w in &a.warnings {
            s.push_str(&format!("> **Caution.** {}\n>\n", md(w)));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "## Results\n\n{}\n\n## Methods\n\n{}\n\n",
        md(&results(a)),
        md(&methods(a))
    ));
    s.push_str(&super::findings::sof_md(a));
    s.push_str(&format!(
        "## Studies\n\n| Study | {} [{} CI] | Weight |\n|---|---:|---:|\n",
        md(&a.effect_name),
        level(fit)
    ));
    for (l, y, lb, ub, w) in study_rows(a) {
        s.push_str(&format!(
            "| {} | {} | {}% |\n",
            md(&l),
            brackets(fit, y, lb, ub),
            num(w, 1)
        ));
    }
    s.push_str(&format!(
        "| **Pooled** | **{}** | 100% |\n",
        brackets(fit, fit.estimate, fit.ci_lb, fit.ci_ub)
    ));
    s
}

fn flags(a: &Analysis) -> Vec<(&'static str, String)> {
    let mut f = Vec::new();
    if a.spec.cfg.note.is_some() {
        f.push(("warn-tag", "caution".to_string()));
    }
    if a.fit.k == 1 {
        f.push(("", "single study".into()));
    } else if a.fit.k < ADVISED_K {
        f.push(("", format!("k < {ADVISED_K}")));
    }
    if a.fit.effects.n_corrected > 0 {
        f.push(("", "zero cells".into()));
    }
    if !a.fit.effects.omitted.is_empty() {
        f.push(("warn-tag", "rows omitted".into()));
    }
    if !a.fit.notes.is_empty() {
        f.push(("warn-tag", "notes".into()));
    }
    f
}

fn i2_text(a: &Analysis) -> String {
    if a.fit.k < 2 {
        "—".into()
    } else {
        format!("{}%", num(a.fit.het.i2, 0))
    }
}

/// The index page listing every analysis.
pub fn index_html(title: Option<&str>, entries: &[Entry], ro: &ReportOptions) -> String {
    let t = title.unwrap_or("Meta-analysis report");
    let mut b = format!("<h1>{}</h1>\n", esc(t));
    let done = entries
        .iter()
        .filter(|e| matches!(e, Entry::Done(_)))
        .count();
    let failed = entries.iter().filter(|e| e.is_failed()).count();
    let skipped = entries.len() - done - failed;
    b.push_str(&format!(
        "<p class=\"sub\">{done} analys{} reported{}{}. Estimates are on the display scale (ratios, proportions) with {} confidence intervals.</p>\n",
        if done == 1 { "is" } else { "es" },
        if skipped > 0 { format!(", {skipped} skipped") } else { String::new() },
        if failed > 0 { format!(", {failed} failed") } else { String::new() },
        "their"
    ));
    let mut rows = Vec::new();
    for e in entries {
        match e {
            Entry::Done(a) => {
                let fit = &a.fit;
                let tags: String = flags(a)
                    .iter()
                    .map(|(c, t)| format!("<span class=\"tag {c}\">{}</span>", esc(t)))
                    .collect();
                rows.push(vec![
                    format!(
                        "<a href=\"{}/index.html\">{}</a>",
                        esc(&a.spec.dir),
                        esc(&page_title(a))
                    ),
                    fit.k.to_string(),
                    esc(&a.effect_name),
                    brackets(fit, fit.estimate, fit.ci_lb, fit.ci_ub),
                    i2_text(a),
                    tags,
                ]);
            }
            Entry::Skipped { name, reason } => rows.push(vec![
                esc(name),
                String::new(),
                String::new(),
                "<span class=\"na\">skipped</span>".into(),
                String::new(),
                format!("<span class=\"tag\">skipped</span> {}", esc(reason)),
            ]),
            Entry::Failed { name, error, .. } => rows.push(vec![
                esc(name),
                String::new(),
                String::new(),
                "<span class=\"err\">failed</span>".into(),
                String::new(),
                format!(
                    "<span class=\"tag bad\">error</span> <span class=\"err\">{}</span>",
                    esc(error)
                ),
            ]),
        }
    }
    b.push_str(&table(
        &[
            "Analysis".into(),
            "k".into(),
            "Effect".into(),
            "Estimate [CI]".into(),
            "I²".into(),
            "Flags".into(),
        ],
        &rows,
        &[2, 5],
    ));
    b.push_str("<p class=\"na\">Default settings unless the manifest says otherwise: random effects (REML), Knapp–Hartung CI, 95% level. Each analysis page has its forest and funnel plots, study table, heterogeneity, small-study and sensitivity analyses, and pasteable Methods and Results text.</p>\n");
    b.push_str(&footer(ro));
    document(t, &b)
}

/// The index as Markdown.
pub fn index_md(title: Option<&str>, entries: &[Entry], ro: &ReportOptions) -> String {
    let mut s = format!("# {}\n\n", md(title.unwrap_or("Meta-analysis report")));
    if let Some(t) = &ro.timestamp {
        s.push_str(&format!("Generated {}.\n\n", md(t)));
    }
    s.push_str(
        "| Analysis | k | Effect | Estimate [CI] | I² | Flags |\n|---|---:|---|---:|---:|---|\n",
    );
    for e in entries {
        match e {
            Entry::Done(a) => {
                let fit = &a.fit;
                let tags: Vec<String> = flags(a).into_iter().map(|(_, t)| t).collect();
                s.push_str(&format!(
                    "| [{}]({}/index.html) | {} | {} | {} | {} | {} |\n",
                    md(&page_title(a)),
                    a.spec.dir,
                    fit.k,
                    md(&a.effect_name),
                    brackets(fit, fit.estimate, fit.ci_lb, fit.ci_ub),
                    i2_text(a),
                    tags.join(", ")
                ));
            }
            Entry::Skipped { name, reason } => s.push_str(&format!(
                "| {} | | | skipped | | {} |\n",
                md(name),
                md(reason)
            )),
            Entry::Failed { name, error, .. } => s.push_str(&format!(
                "| {} | | | **failed** | | {} |\n",
                md(name),
                md(error)
            )),
        }
    }
    s
}
