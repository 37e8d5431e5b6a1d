//! The command-line interface: argument parsing and printing only; every number comes from the
//! library.

mod aggregate;
mod anova;
mod args;
mod batch;
mod bias;
mod blup;
mod bubble;
mod check;
mod choices;
mod combine;
mod cumul;
mod effects;
mod forest;
mod fsn;
mod funnel;
mod glmm;
mod gosh;
mod hc;
mod hints;
mod influence;
mod interaction;
mod leave1out;
mod multilevel;
mod pool;
mod ranktest;
mod recompute;
mod regtest;
mod report;
mod review;
mod rma_input;
mod rob;
mod selmodel;
mod sensitivity;
mod signals;
mod svalue;
mod trimfill;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "evident",
    version,
    about = "Meta-analysis that matches metafor: effect sizes, pooling, heterogeneity, plots and reports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)]
// parsed once; boxing would only obscure the clap derive
// Each subcommand's arguments are built only when it runs (or for help and error suggestions
// that need them): building all 28 trees was most of a run's start-up instructions.
#[command(defer = true)]
enum Command {
    /// Per-study effect sizes and sampling variances (metafor's escalc).
    Effects(effects::EffectsArgs),
    /// One effect per cluster from dependent effects (metafor's aggregate.escalc).
    Aggregate(aggregate::AggregateArgs),
    /// Pool studies: fixed/random effects (FE, DL, HE, HS, SJ, ML, REML, EB, PM), Mantel–Haenszel, Peto.
    Pool(pool::PoolArgs),
    /// Many analyses from one long CSV (a column names the analysis), fitted in parallel.
    Batch(batch::BatchArgs),
    /// Egger's regression test for funnel-plot asymmetry (metafor's regtest).
    Regtest(regtest::RegtestArgs),
    /// Begg and Mazumdar's rank correlation test (metafor's ranktest).
    Ranktest(ranktest::RanktestArgs),
    /// Duval and Tweedie's trim-and-fill (metafor's trimfill).
    Trimfill(trimfill::TrimfillArgs),
    /// Leave-one-out analysis (metafor's leave1out).
    Leave1out(leave1out::Leave1outArgs),
    /// Cumulative meta-analysis (metafor's cumul).
    Cumul(cumul::CumulArgs),
    /// Influence diagnostics (metafor's influence).
    Influence(influence::InfluenceArgs),
    /// All publication-bias checks in one readable report.
    Bias(bias::BiasArgs),
    /// Likelihood-ratio test of nested meta-regressions, or of nested multilevel models with
    /// --random (metafor's anova(full, reduced)), fitted by ML unless --method REML.
    Anova(anova::AnovaArgs),
    /// Best linear unbiased predictions of the study effects (metafor's blup and ranef).
    Blup(blup::BlupArgs),
    /// Leave-one-out and influence diagnostics in one readable report.
    Sensitivity(sensitivity::SensitivityArgs),
    /// GOSH: the model fitted to every subset of studies (or a seeded random sample).
    Gosh(gosh::GoshArgs),
    /// Henmi–Copas: a CI for the fixed-effect estimate robust to publication bias (metafor's hc).
    Hc(hc::HcArgs),
    /// Selection models for publication bias: step, beta, half-normal, negative-exponential,
    /// logistic and power selection functions (metafor's selmodel).
    Selmodel(selmodel::SelmodelArgs),
    /// Fail-safe N: Rosenthal, Orwin or Rosenberg (metafor's fsn).
    Fsn(fsn::FsnArgs),
    /// S-values: how strongly publication must favour affirmative studies to explain the result
    /// away, the worst case, and the estimate corrected for a selection ratio (Mathur &
    /// VanderWeele 2020; the R package PublicationBias).
    Svalue(svalue::SvalueArgs),
    /// SE, CI and p from what papers report: estimates with CIs or p-values, counts, medians.
    Recompute(recompute::RecomputeArgs),
    /// Rounding-aware check that each row's estimate, CI and p-value agree.
    Check(check::CheckArgs),
    /// Combine p-values: Fisher, Stouffer, Tippett, Wilkinson, Edgington.
    Combine(combine::CombineArgs),
    /// Forest plot as SVG, PNG or PDF (by the output's extension).
    Forest(forest::ForestArgs),
    /// Risk-of-bias figures from the rob_* columns (robvis's traffic lights or summary bars).
    Rob(rob::RobArgs),
    /// Funnel plot (optionally contour-enhanced) as SVG, PNG or PDF.
    Funnel(funnel::FunnelArgs),
    /// Bubble plot of a meta-regression along a numeric moderator (any others at their means), as SVG, PNG or PDF.
    Bubble(bubble::BubbleArgs),
    /// A browsable report (HTML, Markdown, plots, JSON) of every analysis in a directory or manifest.
    Report(report::ReportArgs),
    /// Tests of interaction from reported results: ratio of ratios, RERI/AP/S.
    Interaction(interaction::InteractionArgs),
}

impl Command {
    /// `--digits` of the commands that print a text summary (4 for the others).
    fn digits(&self) -> evident::render::text::Digits {
        use interaction::Kind;
        let text = match self {
            Command::Effects(a) => a.text,
            Command::Pool(a) => a.text,
            Command::Regtest(a) => a.text,
            Command::Ranktest(a) => a.text,
            Command::Trimfill(a) => a.text,
            Command::Leave1out(a) => a.text,
            Command::Cumul(a) => a.text,
            Command::Influence(a) => a.text,
            Command::Bias(a) => a.text,
            Command::Anova(a) => a.text,
            Command::Blup(a) => a.text,
            Command::Sensitivity(a) => a.text,
            Command::Gosh(a) => a.text,
            Command::Hc(a) => a.text,
            Command::Selmodel(a) => a.text,
            Command::Fsn(a) => a.text,
            Command::Svalue(a) => a.text,
            Command::Interaction(a) => match &a.kind {
                Kind::Two(t) => t.text,
                Kind::Additive(t) => t.text,
            },
            _ => return Default::default(),
        };
        text.digits
    }
}

/// Draws a leave-one-out or cumulative series next to the model of all studies.
fn plot_refits(
    set: &evident::effect::EffectSet,
    opts: &evident::model::RmaOptions,
    series: &evident::sensitivity::RefitSeries,
    kind: evident::render::plot::refits::RefitKind,
    out: &std::path::Path,
    dpi: f64,
) -> anyhow::Result<()> {
    use evident::render::plot::refits::{refit_forest, RefitPlotOptions};
    let fit = evident::model::rma(set, opts)?;
    let po = RefitPlotOptions {
        kind,
        title: None,
        decimals: 2,
    };
    evident::app::save_figure(&refit_forest(series, &fit, &po)?, out, dpi)?;
    Ok(())
}

pub fn main() -> ExitCode {
    // First, before any thread exists (see signals.rs).
    signals::install();
    signals::quiet_broken_pipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match choices::library_message(&e) {
            Some(msg) => {
                eprintln!("error: {msg}");
                return ExitCode::FAILURE;
            }
            None => e.exit(),
        },
    };
    let result = evident::render::text::with_digits(cli.command.digits(), || run(&cli.command));
    match result {
        Ok(true) => ExitCode::SUCCESS,
        // Exit 2 when some analyses of a batch or report failed; the others are written.
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {}", hints::message(&e));
            ExitCode::FAILURE
        }
    }
}

/// Runs the command: `Ok(false)` when a batch or report wrote some analyses and not others.
fn run(command: &Command) -> anyhow::Result<bool> {
    let result = match command {
        Command::Effects(a) => effects::run(a),
        Command::Pool(a) => pool::run(a),
        Command::Aggregate(a) => aggregate::run(a),
        // Some analyses failed: their rows carry the error.
        Command::Batch(a) => return batch::run_batch(a),
        // Some analyses failed: the index lists their errors.
        Command::Report(a) => return report::run_report(a),
        Command::Regtest(a) => regtest::run(a),
        Command::Ranktest(a) => ranktest::run(a),
        Command::Trimfill(a) => trimfill::run(a),
        Command::Leave1out(a) => leave1out::run(a),
        Command::Cumul(a) => cumul::run(a),
        Command::Influence(a) => influence::run(a),
        Command::Bias(a) => bias::run(a),
        Command::Anova(a) => anova::run(a),
        Command::Blup(a) => blup::run(a),
        Command::Sensitivity(a) => sensitivity::run(a),
        Command::Gosh(a) => gosh::run(a),
        Command::Hc(a) => hc::run(a),
        Command::Selmodel(a) => selmodel::run(a),
        Command::Fsn(a) => fsn::run(a),
        Command::Svalue(a) => svalue::run(a),
        Command::Recompute(a) => recompute::run(a),
        Command::Check(a) => check::run(a),
        Command::Combine(a) => combine::run(a),
        Command::Forest(a) => forest::run(a),
        Command::Funnel(a) => funnel::run(a),
        Command::Rob(a) => rob::run(a),
        Command::Bubble(a) => bubble::run(a),
        Command::Interaction(a) => interaction::run(a),
    };
    result.map(|()| true)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use std::collections::BTreeSet;

    /// The subcommands' arguments are deferred, so they are added after the variant's doc comment
    /// set the help's about: an `Args` struct with a doc comment (or help attributes) would
    /// then replace it. Keep those structs' comments plain `//`.
    #[test]
    fn deferred_arguments_keep_each_subcommands_help_texts() {
        let texts = |c: &clap::Command| {
            [
                c.get_about(),
                c.get_long_about(),
                c.get_before_help(),
                c.get_before_long_help(),
                c.get_after_help(),
                c.get_after_long_help(),
            ]
            .map(|t| t.map(ToString::to_string))
        };
        let lazy = super::Cli::command();
        let mut built = lazy.clone();
        built.build();
        for (l, b) in lazy.get_subcommands().zip(built.get_subcommands()) {
            assert_eq!(texts(l), texts(b), "{}", l.get_name());
        }
    }

    /// clap checks for clashing flags only in debug builds of itself, and our tests run in
    /// release: a flattened argument group that adds a flag a subcommand already has (`--tol`)
    /// then fails every run with a puzzling "required argument" error. Check it here.
    #[test]
    fn no_subcommand_has_two_arguments_with_one_name() {
        let mut cli = super::Cli::command();
        cli.build(); // runs the deferred argument definitions
        for sub in cli.get_subcommands() {
            let (mut ids, mut longs, mut shorts) =
                (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
            for a in sub.get_arguments() {
                let name = sub.get_name();
                assert!(
                    ids.insert(a.get_id().to_string()),
                    "{name}: id {}",
                    a.get_id()
                );
                if let Some(l) = a.get_long() {
                    assert!(longs.insert(l.to_string()), "{name}: --{l} twice");
                }
                if let Some(c) = a.get_short() {
                    assert!(shorts.insert(c), "{name}: -{c} twice");
                }
            }
        }
    }
}
