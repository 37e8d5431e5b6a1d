//! `evident report`: a browsable report of every analysis in the inputs.

use anyhow::Result;
use clap::Args;
use evident::app::report::{plan, run, Entry, ReportOptions};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Directories of CSVs (with an optional evident.toml), manifests, or CSV files (a long CSV
    /// with an `analysis` column gives one analysis per value).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output directory, replaced as a whole when the run ends. A directory that is not empty
    /// and was not written by `evident report` is refused, and so is a second run into a
    /// directory that a running one is writing.
    #[arg(short = 'o', long = "output", default_value = "reports")]
    pub output: PathBuf,
    /// Print the generation time (UTC) on every page; without it the output is reproducible.
    #[arg(long)]
    pub timestamp: bool,
    /// Also write each forest plot as forest.png (150 dpi). Off by default: the pages inline
    /// SVG and link forest.svg, and rasterising is most of a report's time.
    #[arg(long)]
    pub png: bool,
    /// Also write each analysis as a Word document, OUTPUT/<analysis>.docx: title, forest plot
    /// (300 dpi), pooled results, study table, Results and Methods text.
    #[arg(long)]
    pub docx: bool,
}

/// The current UTC time as "YYYY-MM-DD HH:MM UTC".
fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Runs the report; `Ok(false)` when some analyses failed (the others are written).
pub fn run_report(args: &ReportArgs) -> Result<bool> {
    let p = plan(&args.inputs);
    if !p.invalid_manifests.is_empty() {
        anyhow::bail!("{}", p.invalid_manifests.join("\nerror: "));
    }
    let ro = ReportOptions {
        timestamp: args.timestamp.then(now_utc),
        png: args.png,
        docx: args.docx,
    };
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(p.specs.len() as u64);
        if let Ok(s) = indicatif::ProgressStyle::with_template(
            "{spinner} {bar:40} {pos}/{len} analyses ({elapsed})",
        ) {
            b.set_style(s);
        }
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let entries = run(&p, &args.output, &ro, &|| bar.inc(1), &|n| {
        bar.suspend(|| eprintln!("note: {n}"))
    })?;
    bar.finish_and_clear();
    let mut ok = true;
    for e in &entries {
        match e {
            Entry::Failed { name, error, .. } => {
                ok = false;
                eprintln!("error: analysis '{name}': {error}");
            }
            Entry::Skipped { name, reason } => eprintln!("note: '{name}' skipped: {reason}"),
            Entry::Done(_) => {}
        }
    }
    let done = entries
        .iter()
        .filter(|e| matches!(e, Entry::Done(_)))
        .count();
    eprintln!(
        "{done} of {} analyses reported in {}",
        entries.len(),
        args.output.join("index.html").display()
    );
    Ok(ok)
}
