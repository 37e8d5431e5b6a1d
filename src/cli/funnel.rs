//! `evident funnel`: a funnel plot as SVG, PNG or PDF.

use super::args::{InputArgs, ModelArgs};
use super::choices::EstimatorArg;
use super::forest::{fit_for_plot, parse_xlim, print_model_json, PlotOutput};
use anyhow::Result;
use clap::Args;
use evident::bias::{pet_peese, three_psm, trimfill, Estimator, TrimFill};
use evident::render::plot::funnel::{funnel, AdjustedLine, FunnelOptions};

#[derive(Args, Debug)]
pub struct FunnelArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub out: PlotOutput,
    /// Shade where studies would be significant (p < 0.01, 0.05, 0.10) instead of the pseudo CI region.
    #[arg(long)]
    pub contours: bool,
    /// Add the studies imputed by trim-and-fill (hollow) and the adjusted estimate.
    #[arg(long)]
    pub trimfill: bool,
    /// With --trimfill: estimator of the number of missing studies.
    #[arg(long, value_enum, ignore_case = true, default_value = "L0")]
    pub estimator: EstimatorArg,
    /// Mark the estimate of the three-parameter selection model (one step at one-sided
    /// p = 0.025, on the ML random-effects model; as `selmodel --type stepfun --steps 0.025`).
    #[arg(long = "3psm")]
    pub three_psm: bool,
    /// Mark the PET-PEESE estimate (as `bias` reports it: PEESE when PET's intercept differs
    /// from 0 at 0.10).
    #[arg(long)]
    pub pet_peese: bool,
}

/// The trim-and-fill additions to a funnel plot: imputed studies and the adjusted estimate.
pub fn trimfill_layer(t: &TrimFill, opts: &mut FunnelOptions) {
    opts.filled = t
        .filled_yi
        .iter()
        .copied()
        .zip(t.filled_vi.iter().copied())
        .collect();
    opts.adjusted = Some(t.fit.estimate);
}

pub fn run(args: &FunnelArgs) -> Result<()> {
    let (_, fit, tables) = fit_for_plot(&args.input, &args.model, None)?;
    let mut opts = FunnelOptions {
        title: args.out.title.clone(),
        contours: args.contours,
        xlim: args.out.xlim.as_deref().map(parse_xlim).transpose()?,
        ..Default::default()
    };
    if args.trimfill {
        super::forest::refuse_for_tables(&fit, "--trimfill")?;
        let estimator = Estimator::from(args.estimator);
        let t = trimfill(&fit.effects, &fit.options, estimator, None)?;
        trimfill_layer(&t, &mut opts);
    }
    if args.three_psm || args.pet_peese {
        let flag = if args.three_psm {
            "--3psm"
        } else {
            "--pet-peese"
        };
        super::forest::refuse_for_tables(&fit, flag)?;
    }
    if args.three_psm {
        let s = three_psm(&fit.effects, &fit.options)?;
        for w in &s.warnings {
            eprintln!("warning: 3PSM: {w}");
        }
        opts.lines.push(AdjustedLine {
            label: "3PSM".into(),
            estimate: s.estimate,
        });
    }
    if args.pet_peese {
        let p = pet_peese(&fit.effects, &fit.options, 0.10)?;
        opts.lines.push(AdjustedLine {
            label: format!("PET-PEESE ({})", p.choice.name()),
            estimate: p.estimate,
        });
    }
    let fig = funnel(&fit, &opts)?;
    args.out.save_scaled(fig, "funnel plot")?;
    if args.out.json {
        print_model_json(&fit, tables.as_ref());
    }
    Ok(())
}
