//! The report's pages: one analysis (HTML, Markdown, studies CSV) and the index.

use super::analysis::{Analysis, Entry, ReportOptions, Step};
use super::escape_md as md;
use super::prose::{self, brackets, level, shown_brackets};
pub use super::prose::{methods, results};
use super::{document, escape_html as esc, inline_svg, table};
use crate::bias::panel::{ADVICE_SOURCE, ADVISED_K};
use crate::error::{Error, Result};
use crate::model::RmaFit;
use crate::model::Test;
use crate::render::plot::format::num;
use crate::render::pvalue::{p_value, PStyle};

const VERSION: &str = env!("CARGO_PKG_VERSION");

pub(crate) fn page_title(a: &Analysis) -> String {
    a.spec
        .cfg
        .title
        .clone()
        .unwrap_or_else(|| a.spec.name.clone())
}

/// A value on the display scale, with [`prose::display_triple`]'s decimals for a single value.
pub(crate) fn show(fit: &RmaFit, x: f64) -> String {
    let [v, _, _] = prose::display_triple(fit, x, x, x);
    v
}

fn p_of(fit: &RmaFit) -> String {
    p_value(fit.pval, PStyle::Journal)
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

/// (label, estimate, lb, ub, weight) of each study in the fit, on the display scale
/// ([`RmaFit::study_display`]: x/n with its exact interval for proportions).
pub(crate) fn study_rows(a: &Analysis) -> Vec<(String, f64, f64, f64, f64)> {
    let fit = &a.fit;
    let set = &fit.effects;
    (0..set.k())
        .map(|i| {
            let (e, lb, ub) = fit.study_display(i);
            (set.labels[i].clone(), e, lb, ub, fit.weights[i])
        })
        .collect()
}

fn studies_table(a: &Analysis) -> String {
    let fit = &a.fit;
    // The arms named as the manifest names them over the forest plot's columns.
    let arms = a.spec.cfg.arms.clone().unwrap_or_default();
    let cols = crate::render::plot::forest::data_columns_for(
        &a.studies.data,
        &fit.effects.rows,
        arms.pair(),
    );
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
            r.push(shown_brackets(y, lb, ub));
            r.push(format!("{}%", num(w, 1)));
            r
        })
        .collect();
    let mut rows = rows;
    // A meta-regression has no pooled row (its coefficients are in the model's section).
    if fit.k == 1 || a.mv_metareg().is_some() {
        return table(&head, &rows, &[]);
    }
    let pooled = if fit.options.method.is_fixed() {
        "Pooled (fixed effect)"
    } else {
        "Pooled (random effects)"
    };
    if let Some((label, est)) = super::glmm::table_row(a).filter(|_| a.glmm_leads()) {
        let mut r = vec![format!("<strong>{}</strong>", esc(&label))];
        r.extend(cols.iter().map(|_| String::new()));
        r.push(format!("<strong>{est}</strong>"));
        r.push(String::new());
        rows.push(r);
    }
    let mut last = vec![format!(
        "<strong>{}</strong>",
        esc(&super::glmm::pooled_label(a, pooled))
    )];
    last.extend(cols.iter().map(|_| String::new()));
    last.push(format!(
        "<strong>{}</strong>",
        brackets(fit, fit.estimate, fit.ci_lb, fit.ci_ub)
    ));
    last.push("100%".into());
    rows.push(last);
    if let Some((label, est)) = super::glmm::table_row(a).filter(|_| !a.glmm_leads()) {
        let mut r = vec![esc(&label)];
        r.extend(cols.iter().map(|_| String::new()));
        r.push(est);
        r.push(String::new());
        rows.push(r);
    }
    if let Some(m) = &fit.modified_kh {
        let mut r =
            vec!["<em>Modified Knapp–Hartung</em> (Knapp–Hartung narrower than Wald)".to_string()];
        r.extend(cols.iter().map(|_| String::new()));
        r.push(brackets(fit, fit.estimate, m.ci_lb, m.ci_ub));
        r.push(String::new());
        rows.push(r);
    }
    table(&head, &rows, &[])
}

fn het_table(fit: &RmaFit) -> String {
    let h = &fit.het;
    // An empty Q-profile interval has no bounds to print: its rows say so instead.
    let ci = fit.tau2_ci.as_ref().filter(|c| !c.null);
    let empty = fit.tau2_ci.as_ref().is_some_and(|c| c.null);
    let rng = |lo: Option<f64>, hi: Option<f64>, d: usize, pct: bool| match (lo, hi) {
        (Some(l), Some(u)) => {
            let p = if pct { "%" } else { "" };
            format!("[{}{p}, {}{p}]", num(l, d), num(u, d))
        }
        _ if empty => "empty set".into(),
        _ => "<span class=\"na\">—</span>".into(),
    };
    let (t2, t2_ci) = prose::tau2_and_ci(fit);
    let t2_ci = match t2_ci {
        Some(c) if empty => format!("CI: {c} (Q at τ² = 0 is below its lower critical value: the studies vary less than chance alone predicts)"),
        Some(c) => format!("[{}]", c.replace(" to ", ", ")),
        None => "<span class=\"na\">—</span>".into(),
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
        vec!["τ²".into(), t2, t2_ci],
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

/// The pooled card's detail: the CI, the test where shown, the modified Knapp–Hartung CI where
/// the Knapp–Hartung one is narrower than Wald's.
pub(crate) fn pooled_detail(a: &Analysis) -> String {
    let fit = &a.fit;
    let [_, l, u] = prose::display_triple(fit, fit.estimate, fit.ci_lb, fit.ci_ub);
    let mut d = format!("{} CI {l} to {u}", level(fit));
    if prose::shows_null_test(a) && fit.k > 1 {
        d.push_str(&format!("; {}", p_of(fit)));
    }
    if let Some(m) = &fit.modified_kh {
        let [_, l, u] = prose::display_triple(fit, fit.estimate, m.ci_lb, m.ci_ub);
        d.push_str(&format!(
            "; Knapp–Hartung narrower than Wald: modified Knapp–Hartung CI {l} to {u}"
        ));
    }
    d
}

fn cards(a: &Analysis) -> String {
    let fit = &a.fit;
    let mut s = String::from("<div class=\"cards\">\n");
    let card = |k: &str, v: String, d: String| {
        format!("<div class=\"card\"><div class=\"k\">{k}</div><div class=\"v\">{v}</div><div class=\"d\">{d}</div></div>\n")
    };
    if fit.k == 1 && fit.effects.study_ci.is_some() {
        // The single study as its row shows it: x/n with its own interval.
        let [e, l, u] = {
            let (e, l, u) = fit.study_display(0);
            prose::shown_triple(e, l, u)
        };
        s.push_str(&card(
            &esc(&a.effect_name),
            e,
            esc(&format!("{} CI {l} to {u}", level(fit))),
        ));
    } else if fit.k == 1 {
        s.push_str(&card(
            &esc(&a.effect_name),
            show(fit, fit.estimate),
            esc(&pooled_detail(a)),
        ));
    }
    if fit.k == 1 {
        s.push_str(&card(
            "Studies",
            "1".into(),
            "single study: nothing pooled".into(),
        ));
        s.push_str("</div>\n");
        return s;
    }
    match a.glmm_fit().filter(|_| a.glmm_leads()) {
        Some((g, f)) => {
            let [e, l, u] = super::analysis::fit_display(f).map_or_else(
                || [String::new(), String::new(), String::new()],
                |(e, l, u)| prose::shown_triple(e, l, u),
            );
            s.push_str(&card(
                &format!("Pooled {}", esc(&a.effect_name)),
                e,
                esc(&format!(
                    "{} CI {l} to {u}; {}; inverse variance (sensitivity): {}",
                    level(fit),
                    g.name(),
                    brackets(fit, fit.estimate, fit.ci_lb, fit.ci_ub)
                )),
            ));
        }
        None => s.push_str(&card(
            &format!("Pooled {}", esc(&a.effect_name)),
            show(fit, fit.estimate),
            esc(&pooled_detail(a)),
        )),
    }
    if let (Some(pi), false) = (fit.prediction(), fit.options.method.is_fixed()) {
        let [_, l, u] = prose::display_triple(fit, fit.estimate, pi.lb, pi.ub);
        s.push_str(&card(
            "Prediction interval",
            format!("{l} to {u}"),
            "range of effects expected in a new study".into(),
        ));
    }
    let (t2, _) = prose::tau2_and_ci(fit);
    s.push_str(&card(
        "Heterogeneity I²",
        format!("{}%", num(fit.het.i2, 0)),
        match fit.tau2_ci.as_ref().filter(|c| !c.null) {
            Some(c) => format!(
                "{} CI {}% to {}%; τ² = {t2}",
                level(fit),
                num(c.i2_lb, 0),
                num(c.i2_ub, 0),
            ),
            None => format!("τ² = {t2}"),
        },
    ));
    s.push_str(&card(
        "Studies",
        fit.k.to_string(),
        format!(
            "{}, {}",
            crate::render::pooling::short_name(fit),
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
            if a.spec.cfg.common_tau2 {
                s.push_str(&super::extras::common_tau2_table(a, sg));
                s.push_str("<h3>Separate fits</h3>\n");
            }
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
            if let Some(t) = &a.subgroup_permutation {
                s.push_str(&super::extras::permutation_table(&sg.mixed, t));
            }
        }
    }
    s
}

fn metareg_section(a: &Analysis) -> String {
    super::metareg::section(a)
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
    if fit.k < ADVISED_K {
        s.push_str(&format!("<p class=\"na\">With k = {} (&lt; {ADVISED_K}) the funnel plot is shown for description only: Egger's and Begg's tests and trim-and-fill were not done, as tests for funnel-plot asymmetry need at least {ADVISED_K} studies ({ADVICE_SOURCE}).</p>\n", fit.k));
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
    let mut rows = rows;
    rows.push(vec![
        "PET-PEESE".into(),
        step(&a.pet_peese, |p| {
            format!(
                "{} estimate {} {}",
                p.choice.name(),
                esc(&a.effect_name),
                brackets(fit, p.estimate, p.ci_lb, p.ci_ub)
            )
        }),
    ]);
    rows.push(vec![
        "Selection model (3PSM)".into(),
        step(&a.three_psm, |m| {
            format!(
                "adjusted {} {}; test for selection LRT = {}, {}",
                esc(&a.effect_name),
                brackets(fit, m.estimate, m.ci_lb, m.ci_ub),
                num(m.lrt, 2),
                p_value(m.lrt_pval, PStyle::Journal)
            )
        }),
    ]);
    s.push_str(&table(&["Method".into(), "Result".into()], &rows, &[1]));
    if let Some(agree) = &a.adjusted_agreement {
        s.push_str(&format!("<p>{}</p>\n", esc(agree)));
    }
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
            let mut head = vec![
                "Study omitted".into(),
                format!("{} [{} CI]", esc(&a.effect_name), level(fit)),
                "p".into(),
                "I²".into(),
            ];
            let mut rows = rows;
            // A proportion's p tests p = 0.5 (or 0): shown only when asked for.
            if !prose::shows_null_test(a) {
                head.remove(2);
                rows.iter_mut().for_each(|r| {
                    r.remove(2);
                });
            }
            s.push_str(&table(&head, &rows, &[]));
        }
    }
    s
}

/// The sections of a univariate model: heterogeneity, further inference on the pooled estimate,
/// subgroups, meta-regression, small-study effects and leave-one-out.
fn univariate_sections(a: &Analysis) -> String {
    let fit = &a.fit;
    let mut b = String::new();
    if fit.k > 1 {
        b.push_str("<h2>Heterogeneity</h2>\n");
        b.push_str(&het_table(fit));
    }
    b.push_str(&super::glmm::section(a));
    b.push_str(&super::extras::pooled_section(a));
    b.push_str(&subgroup_section(a));
    b.push_str(&metareg_section(a));
    if fit.k > 1 {
        b.push_str(&bias_section(a));
        b.push_str(&sensitivity_section(a));
    }
    b
}

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
        esc(&a.studies.data.kind_name().replace("2x2", "2×2"))
    ));
    if !a.warnings.is_empty() {
        b.push_str("<div class=\"warn\"><strong>Read with care</strong><ul>\n");
        for w in &a.warnings {
            b.push_str(&format!("<li>{}</li>\n", esc(w)));
        }
        b.push_str("</ul></div>\n");
    }
    if a.multilevel.is_none() {
        b.push_str(&cards(a));
    }
    b.push_str("<h2>Results</h2>\n");
    b.push_str(&format!("<p class=\"paste\">{}</p>\n", esc(&results(a))));
    b.push_str(&forest_figure(a));
    b.push_str(&super::findings::sof_section(a));
    b.push_str("<h2>Studies</h2>\n");
    b.push_str(&studies_table(a));
    b.push_str(&super::findings::rob_section(a));
    match &a.multilevel {
        Some(mv) => b.push_str(&super::multilevel::section(mv)),
        None => b.push_str(&univariate_sections(a)),
    }
    b.push_str("<h2>Methods</h2>\n");
    b.push_str(&format!("<p class=\"paste\">{}</p>\n", esc(&methods(a))));
    b.push_str(&r_code_block(a));
    b.push_str(&files_list(ro));
    b.push_str("<h2>References</h2>\n<ol class=\"refs\">\n");
    for r in prose::references(a) {
        b.push_str(&format!("<li>{}</li>\n", esc(r)));
    }
    b.push_str("</ol>\n");
    b.push_str(&footer(ro));
    document(&t, &b)
}

/// The forest plot scaled to the page's width, linking to `forest.svg` at full size (on a phone
/// the scaled plot is small; the file zooms without loss).
/// The metafor code that reproduces the pooled model, folded (escaped: it quotes file and
/// column names).
fn r_code_block(a: &Analysis) -> String {
    match &a.r_code {
        None => String::new(),
        Some(Ok(code)) => format!(
            "<details class=\"r-code\"><summary>R code (metafor)</summary><pre><code>{}</code></pre></details>\n",
            esc(code)
        ),
        Some(Err(why)) => format!("<p class=\"note\">R code (metafor): {}</p>\n", esc(why)),
    }
}

fn forest_figure(a: &Analysis) -> String {
    format!(
        "<figure><a class=\"full\" href=\"forest.svg\" title=\"Open the forest plot at full size\">{}</a><figcaption>{} <a href=\"forest.svg\">Full size</a>.</figcaption></figure>\n",
        inline_svg(&a.forest_svg, "forest"),
        forest_caption(a)
    )
}

/// The files written beside the page (`forest.png` only when asked for).
fn files_list(ro: &ReportOptions) -> String {
    // Separated by newlines, so that a narrow page wraps between the links.
    let png = if ro.png {
        "<a href=\"forest.png\">forest.png</a>\n"
    } else {
        ""
    };
    format!("<h2>Files</h2>\n<p class=\"files\">\n<a href=\"forest.svg\">forest.svg</a>\n{png}<a href=\"results.json\">results.json</a>\n<a href=\"studies.csv\">studies.csv</a>\n<a href=\"summary.md\">summary.md</a>\n</p>\n")
}

/// The forest plot's caption: what its marks are, and for one study that nothing was pooled.
pub(crate) fn forest_caption(a: &Analysis) -> String {
    let fit = &a.fit;
    if a.mv_metareg().is_some() {
        return format!(
            "Forest plot of the multilevel meta-regression. Squares: estimates sized by weight, with {} CIs, grouped by cluster; grey diamonds: each estimate's fitted value with its {} CI (no pooled estimate).",
            level(fit),
            level(fit)
        );
    }
    if fit.k == 1 {
        return format!(
            "Forest plot of the single study: its estimate with its {} CI (nothing was pooled).",
            level(fit)
        );
    }
    format!(
        "Forest plot. Squares: study estimates sized by weight, with {} CIs; diamond: pooled estimate{}{}.",
        level(fit),
        if fit.options.method.is_fixed() { "" } else { "; bar: prediction interval" },
        if fit.modified_kh.is_some() {
            "; the note under the plot gives the modified Knapp–Hartung CI, as the Knapp–Hartung one is narrower than Wald's"
        } else {
            ""
        }
    )
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
    // yi, vi and their Wald interval on the analysis scale (metafor's summary.escalc); the
    // display columns as the tables show the study (x/n with its own interval for proportions).
    let set = &fit.effects;
    let z = fit.options.level.z();
    for (i, (l, y, lb, ub, wt)) in study_rows(a).into_iter().enumerate() {
        let (yi, half) = (set.yi[i], z * set.vi[i].sqrt());
        w.write_record([
            crate::render::csv_safe(&l),
            format!("{yi}"),
            format!("{}", set.vi[i]),
            format!("{}", yi - half),
            format!("{}", yi + half),
            format!("{y}"),
            format!("{lb}"),
            format!("{ub}"),
            format!("{wt}"),
        ])
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| Error::invalid(format!("cannot write studies.csv: {e}")))
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
            shown_brackets(y, lb, ub),
            num(w, 1)
        ));
    }
    if fit.k > 1 && a.mv_metareg().is_none() {
        let how = match fit.weighting {
            crate::model::fit::Weighting::InverseVariance => String::new(),
            _ => format!(" ({})", crate::render::pooling::model_label(fit)),
        };
        let glmm = super::glmm::table_row(a);
        if let Some((label, est)) = glmm.as_ref().filter(|_| a.glmm_leads()) {
            s.push_str(&format!("| **{}** | **{est}** | |\n", md(label)));
        }
        s.push_str(&format!(
            "| **{}** | **{}** | 100% |\n",
            md(&super::glmm::pooled_label(a, &format!("Pooled{how}"))),
            brackets(fit, fit.estimate, fit.ci_lb, fit.ci_ub)
        ));
        if let Some((label, est)) = glmm.as_ref().filter(|_| !a.glmm_leads()) {
            s.push_str(&format!("| {} | {est} | |\n", md(label)));
        }
    }
    if let Some(m) = &fit.modified_kh {
        s.push_str(&format!(
            "| *Modified Knapp–Hartung* (Knapp–Hartung narrower than Wald) | {} | |\n",
            brackets(fit, fit.estimate, m.ci_lb, m.ci_ub)
        ));
    }
    s.push_str(&super::metareg::markdown(a, md));
    if let Some(mv) = a.mv_metareg() {
        s.push_str(&super::multilevel::markdown(mv, md));
    }
    s
}

/// The index's estimate of an analysis: the GLMM's when it leads (single proportions), the
/// study's own x/n and interval for a single study, the pooled model's otherwise.
fn headline(a: &Analysis) -> String {
    let fit = &a.fit;
    if let Some((_, f)) = a.glmm_fit().filter(|_| a.glmm_leads()) {
        return super::glmm::brackets(f);
    }
    if fit.k == 1 && fit.effects.study_ci.is_some() {
        let (e, l, u) = fit.study_display(0);
        return shown_brackets(e, l, u);
    }
    brackets(fit, fit.estimate, fit.ci_lb, fit.ci_ub)
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
    // The page leaves out the note on the test a single study's "pooling" fell back to.
    if a.fit
        .notes
        .iter()
        .any(|n| a.fit.k > 1 || !n.starts_with("k = 1:"))
    {
        f.push(("warn-tag", "notes".into()));
    }
    if super::metareg::failed(a).is_some() {
        f.push(("warn-tag", "meta-regression not fitted".into()));
    }
    if a.fit.weighting != crate::model::fit::Weighting::InverseVariance {
        f.push(("", crate::render::pooling::model_label(&a.fit)));
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
                let (k, est, i2) = match super::metareg::index_cells(a) {
                    Some(c) => (esc(&c.k), esc(&c.estimate), esc(&c.i2)),
                    None => (fit.k.to_string(), headline(a), i2_text(a)),
                };
                rows.push(vec![
                    format!(
                        "<a href=\"{}/index.html\">{}</a>",
                        esc(&a.spec.dir),
                        esc(&page_title(a))
                    ),
                    k,
                    esc(&a.effect_name),
                    est,
                    i2,
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
                let (k, est, i2) = match super::metareg::index_cells(a) {
                    Some(c) => (md(&c.k), md(&c.estimate), md(&c.i2)),
                    None => (fit.k.to_string(), headline(a), i2_text(a)),
                };
                s.push_str(&format!(
                    "| [{}]({}/index.html) | {} | {} | {} | {} | {} |\n",
                    md(&page_title(a)),
                    a.spec.dir,
                    k,
                    md(&a.effect_name),
                    est,
                    i2,
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
