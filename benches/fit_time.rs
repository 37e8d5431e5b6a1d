//! In-process time of one fit, for the side-by-side scripts (`compare_metafor_mv.sh`,
//! `compare_metafor_glmm.sh`): R's times there are `rma.mv` / `rma.glmm` inside a running
//! session, so this measures the same thing on evident's side, the library call on data
//! already read, without process start-up or CSV parsing.
//!
//! Usage (after `cargo bench --bench fit_time --no-run`):
//!   fit_time mv FILE                    three-level REML (`~ 1 | cluster/esid`) + CR2 on `cluster`
//!   fit_time glmm FILE MEASURE MODEL    rma.glmm, ML, z (MEASURE OR or PLO; MODEL UM.FS, …)
//! Prints `median_seconds repetitions estimate se`, the median over repetitions filling at
//! least half a second (at least 5).

use evident::data::{ColumnMap, CsvOptions, Studies, Table};
use evident::glmm::{rma_glmm, GlmmModel, GlmmOptions};
use evident::multilevel::{rma_mv, MvOptions};
use evident::robust::{robust_mv, RobustType};
use evident::Measure;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let usage = "usage: fit_time mv FILE | fit_time glmm FILE MEASURE MODEL";
    let (kind, file) = match (args.first(), args.get(1)) {
        (Some(k), Some(f)) => (k.as_str(), Path::new(f)),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let table = Table::from_path(file, &CsvOptions::default()).expect("a readable CSV file");
    let fit: Box<dyn Fn() -> (f64, f64)> = match kind {
        "mv" => {
            let studies = Studies::from_table_for(&table, &ColumnMap::new(), Some(Measure::GEN))
                .expect("yi, vi, cluster and esid columns");
            let opts = MvOptions {
                random: vec!["~ 1 | cluster/esid".into()],
                ..MvOptions::default()
            };
            Box::new(move || {
                let m = rma_mv(&studies, &opts).expect("the model fits");
                let r = robust_mv(&m, &studies, "cluster", RobustType::CR2).expect("CR2");
                (m.coefficients[0].estimate, r.coefficients[0].se)
            })
        }
        "glmm" => {
            let measure: Measure = args[2].parse().expect("a measure");
            let model = match args[3].as_str() {
                "UM.FS" => GlmmModel::UmFs,
                "UM.RS" => GlmmModel::UmRs,
                "CM.EL" => GlmmModel::CmEl,
                "CM.AL" => GlmmModel::CmAl,
                m => panic!("unknown GLMM model {m}"),
            };
            let studies = Studies::from_table_for(&table, &ColumnMap::new(), Some(measure))
                .expect("the measure's columns");
            let opts = GlmmOptions {
                model,
                ..GlmmOptions::default()
            };
            Box::new(move || {
                let f = rma_glmm(&studies, measure, &opts).expect("the GLMM fits");
                (f.coefs[0].estimate, f.coefs[0].se)
            })
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let (estimate, se) = fit();
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || start.elapsed().as_secs_f64() < 0.5 {
        let t0 = Instant::now();
        black_box(fit());
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!("{median:.6e} {} {estimate:.12} {se:.12}", times.len());
}
