//! Benchmarks of the statistical core: effect sizes, τ² estimators at k = 10, 10³, 10⁶, the
//! Q-profile CI, CSV parsing, and the batch of 10,000 analyses × 10 studies.
//! Inputs come from a small seeded generator, so every run measures the same work.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use evident::app::batch::{write_row, Batch, BatchOptions};
use evident::data::{ColumnMap, CsvOptions, Studies, Table};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::design::Intercept;
use evident::model::heterogeneity::{q_profile, QProfileControl};
use evident::model::rma;
use evident::model::Method;
use evident::model::RmaOptions;
use evident::model::Test;
use evident::{Measure, Scale};
use std::hint::black_box;
use std::path::Path;

/// xorshift64*: a tiny seeded generator (no dependency, identical streams everywhere).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545F4914F6CDD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-300), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn effects(k: usize, seed: u64) -> EffectSet {
    let mut r = Rng(seed);
    let vi: Vec<f64> = (0..k).map(|_| 0.02 + 0.3 * r.next()).collect();
    let yi: Vec<f64> = vi
        .iter()
        .map(|v| -0.5 + 0.4 * r.normal() + v.sqrt() * r.normal())
        .collect();
    EffectSet::from_yi_vi(yi, vi, Measure::GEN, Scale::Log)
}

/// A long CSV of 2×2 tables: `analyses` × `k` rows.
pub fn long_csv(analyses: usize, k: usize, seed: u64) -> String {
    let mut r = Rng(seed);
    let mut s = String::from("analysis,study,ai,n1i,ci,n2i\n");
    for a in 0..analyses {
        for i in 0..k {
            let n1 = 40 + (r.next() * 200.0) as u32;
            let n2 = 40 + (r.next() * 200.0) as u32;
            let p2 = 0.1 + 0.3 * r.next();
            let p1 = (p2 * (0.4 + 0.8 * r.next())).min(0.95);
            s.push_str(&format!(
                "a{a},s{i},{},{n1},{},{n2}\n",
                (p1 * n1 as f64) as u32,
                (p2 * n2 as f64) as u32
            ));
        }
    }
    s
}

fn bench_tau2(c: &mut Criterion) {
    let mut g = c.benchmark_group("tau2");
    g.sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    for &k in &[10usize, 1_000, 1_000_000] {
        let set = effects(k, 7);
        for m in Method::ALL {
            let o = RmaOptions {
                method: m,
                test: Test::Z,
                tau2_ci: false,
                ..RmaOptions::default()
            };
            g.throughput(Throughput::Elements(k as u64));
            g.bench_with_input(BenchmarkId::new(m.name(), k), &set, |b, s| {
                b.iter(|| rma(black_box(s), &o).unwrap())
            });
        }
    }
    g.finish();
}

fn bench_qprofile(c: &mut Criterion) {
    let set = effects(10, 11);
    let fit = rma(&set, &RmaOptions::default()).unwrap();
    c.bench_function("qprofile_k10", |b| {
        b.iter(|| {
            q_profile(
                &Intercept { k: 10 },
                &set.yi,
                &set.vi,
                fit.tau2,
                fit.het.vt,
                95.0,
                &QProfileControl::default(),
            )
        })
    });
    c.bench_function("reml_knha_pi_qprofile_k10", |b| {
        b.iter(|| rma(black_box(&set), &RmaOptions::default()).unwrap())
    });
}

fn bench_escalc_and_csv(c: &mut Criterion) {
    let csv = long_csv(1, 1000, 3).replace("a0,", "");
    let csv = csv.replacen("analysis,", "", 1);
    c.bench_function("csv_parse_1000_rows", |b| {
        b.iter(|| {
            Table::from_bytes(
                Path::new("b.csv"),
                black_box(csv.as_bytes()),
                &CsvOptions::default(),
            )
            .unwrap()
        })
    });
    // 10⁵ columns: linear in the header (the pairwise duplicate check took 20 s).
    let mut wide = String::from("yi,vi");
    for i in 0..100_000 {
        wide.push_str(&format!(",c{i}"));
    }
    wide.push_str(&format!("\n0.1,0.2{}\n", ",1".repeat(100_000)));
    c.bench_function("csv_parse_100000_columns", |b| {
        b.iter(|| {
            Table::from_bytes(
                Path::new("w.csv"),
                black_box(wide.as_bytes()),
                &CsvOptions::default(),
            )
            .unwrap()
        })
    });
    let t = Table::from_bytes(Path::new("b.csv"), csv.as_bytes(), &CsvOptions::default()).unwrap();
    let st = Studies::from_table(&t, &ColumnMap::new()).unwrap();
    c.bench_function("escalc_or_1000", |b| {
        b.iter(|| {
            EffectSet::from_studies(black_box(&st), Measure::OR, &EscalcOptions::default()).unwrap()
        })
    });
}

/// Writes the benchmark's batch input, for comparing with metafor (benches/compare_metafor.sh).
pub fn write_batch_input(path: &Path) {
    std::fs::write(path, long_csv(10_000, 10, 5)).unwrap();
}

fn bench_forest(c: &mut Criterion) {
    use evident::render::plot::forest::{forest, ForestOptions};
    use evident::render::plot::render::svg_to_png;
    let mut g = c.benchmark_group("forest");
    g.sample_size(20);
    for &k in &[13usize, 50, 200] {
        let fit = rma(&effects(k, 13), &RmaOptions::default()).unwrap();
        let opts = ForestOptions::default();
        g.bench_with_input(BenchmarkId::new("svg", k), &fit, |b, f| {
            b.iter(|| forest(black_box(f), &opts).unwrap().to_svg().unwrap())
        });
        if k != 50 {
            let svg = forest(&fit, &opts).unwrap().to_svg().unwrap();
            g.bench_with_input(BenchmarkId::new("png", k), &svg, |b, s| {
                b.iter(|| svg_to_png(black_box(s), 96.0).unwrap())
            });
        }
    }
    g.finish();
}

fn bench_report(c: &mut Criterion) {
    use evident::app::report::{plan, run as report, ReportOptions};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("review.csv");
    std::fs::write(&input, long_csv(100, 10, 9)).unwrap();
    let p = plan(&[input]);
    let mut g = c.benchmark_group("report");
    g.sample_size(10);
    g.bench_function("100_analyses", |b| {
        b.iter(|| {
            let out = dir.path().join("out");
            let entries = report(&p, &out, &ReportOptions::default(), &|| {}, &|_| {}).unwrap();
            assert_eq!(entries.len(), 100);
        })
    });
    g.finish();
}

fn bench_batch(c: &mut Criterion) {
    if let Ok(p) = std::env::var("EVIDENT_WRITE_BATCH_INPUT") {
        write_batch_input(Path::new(&p));
    }
    let csv = long_csv(10_000, 10, 5);
    // What `evident batch --measure OR --method REML --test knha` does, output rows included.
    let opts = BatchOptions {
        analysis_column: "analysis".into(),
        measure: Some(Measure::OR),
        escalc: EscalcOptions::default(),
        rma: RmaOptions {
            method: Method::REML,
            test: Test::Knha,
            ..RmaOptions::default()
        },
        ..BatchOptions::default()
    };
    let mut g = c.benchmark_group("batch");
    g.sample_size(10);
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("10000x10_reml_knha_pi_qprofile", |b| {
        b.iter(|| {
            let (mut fitted, mut bytes) = (0usize, 0usize);
            let format = |r: evident::app::batch::BatchResult| {
                let mut line = String::with_capacity(400);
                write_row(&r, true, &mut line);
                (r.fit.is_ok(), line)
            };
            let batch = Batch::open(Path::new("b.csv"), csv.as_bytes(), &opts).unwrap();
            batch
                .run_map(format, |(ok, line)| {
                    fitted += ok as usize;
                    bytes += line.len();
                    Ok(())
                })
                .unwrap();
            // A few simulated analyses make Fisher scoring cycle (as metafor would); they give error rows.
            assert!(fitted >= 9_990, "{fitted} analyses fitted");
            black_box(bytes)
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_tau2,
    bench_qprofile,
    bench_escalc_and_csv,
    bench_forest,
    bench_report,
    bench_batch
);
criterion_main!(benches);
