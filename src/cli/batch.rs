//! `evident batch`: one pooled row per analysis of a long CSV, fitted in parallel.

use super::args::{ModelArgs, Pooling};
use anyhow::{bail, Context, Result};
use clap::Args;
use evident::batch::{header, run_map, write_row, BatchOptions};
use evident::effect::{EscalcOptions, VType};
use evident::io::atomic::AtomicFile;
use evident::io::ColumnMap;
use evident::Measure;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct BatchArgs {
    /// Long CSV: one row per study, a column naming the analysis; rows of one analysis contiguous.
    pub file: PathBuf,
    /// The column naming the analysis.
    #[arg(long, default_value = "analysis")]
    pub analysis: String,
    /// Effect measure for every analysis (default: by data type).
    #[arg(long)]
    pub measure: Option<String>,
    #[arg(long, default_value_t = 0.5)]
    pub add: f64,
    #[arg(long, default_value = "only0")]
    pub to: String,
    #[arg(long)]
    pub drop00: bool,
    #[arg(long, default_value = "LS")]
    pub vtype: String,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output CSV (default: standard output). Written atomically.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

pub fn run_batch(args: &BatchArgs) -> Result<bool> {
    let measure = args
        .measure
        .as_deref()
        .map(str::parse::<Measure>)
        .transpose()?;
    let escalc = EscalcOptions {
        add: args.add,
        to: args.to.parse()?,
        drop00: args.drop00,
        vtype: args.vtype.parse::<VType>()?,
    };
    // Resolve the model options through the same preset logic as `pool` (on a dummy load).
    let rma = match args.model.pooling_for_batch()? {
        Pooling::Rma(o) => o,
        _ => bail!("evident batch fits rma models; Mantel–Haenszel and Peto are available in `evident pool`"),
    };
    let opts = BatchOptions {
        analysis_column: args.analysis.clone(),
        measure,
        escalc,
        rma,
        columns: ColumnMap::new(),
        delimiter: b',',
    };
    let log_scale = measure.is_some_and(|m| m.scale() == evident::Scale::Log);
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    // Written to a registered temporary file: an error, a panic or Ctrl-C deletes it.
    let mut tmp = args.output.as_deref().map(AtomicFile::create).transpose()?;
    let mut failed = false;
    {
        let mut out: Box<dyn Write> = match tmp.as_mut() {
            Some(t) => Box::new(std::io::BufWriter::with_capacity(1 << 16, t.file_mut())),
            None => Box::new(std::io::BufWriter::with_capacity(
                1 << 16,
                std::io::stdout().lock(),
            )),
        };
        writeln!(out, "{}", header(log_scale).join(","))?;
        // Rows are formatted on the worker threads; this thread only writes them in order.
        let format = |r: evident::batch::BatchResult| {
            let mut line = String::with_capacity(400);
            write_row(&r, log_scale, &mut line);
            (r.fit.is_err(), line)
        };
        run_map(
            &args.file,
            std::io::BufReader::new(file),
            &opts,
            format,
            |(err, line)| {
                failed |= err;
                out.write_all(line.as_bytes())
                    .map_err(|e| evident::Error::invalid(format!("cannot write the output: {e}")))
            },
        )?;
        out.flush()?;
    }
    if let Some(t) = tmp {
        t.commit()?;
    }
    Ok(!failed)
}
