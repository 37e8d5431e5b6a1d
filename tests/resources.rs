//! Resource limits (issue 14): inputs that used to allocate without bound are either handled in
//! bounded memory (proved by construction: sizes whose old k × k or w × h allocation would abort)
//! or refused with a typed error.

use evident::bias::{Estimator, Predictor, RegModel};
use evident::data::{ColumnMap, CsvOptions, Studies, Table};
use evident::{metareg, regtest, trimfill, EffectSet, Measure, Method, RmaOptions, Test};
use std::path::Path;

/// A deterministic pseudo-random stream (SplitMix64), uniform on (0, 1).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 + 1e-17
    }

    fn normal(&mut self) -> f64 {
        let (a, b) = (self.uniform(), self.uniform());
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    }
}

/// k studies with yᵢ = 0.2 + slope·√vᵢ + 0.1·xᵢ + error (τ² = 0.04), as a CSV with a moderator x.
fn large_csv(k: usize, slope: f64) -> String {
    let mut rng = Rng(14);
    let mut csv = String::from("yi,vi,x\n");
    for _ in 0..k {
        let v = 0.01 + 0.3 * rng.uniform();
        let x = 10.0 * rng.uniform();
        let y = 0.2 + slope * v.sqrt() + 0.1 * x + (v + 0.04).sqrt() * rng.normal();
        csv.push_str(&format!("{y},{v},{x}\n"));
    }
    csv
}

fn effects(csv: &str) -> EffectSet {
    let t =
        Table::from_bytes(Path::new("big.csv"), csv.as_bytes(), &CsvOptions::default()).unwrap();
    let s = Studies::from_table(&t, &ColumnMap::new()).unwrap();
    EffectSet::from_studies(&s, Measure::GEN, &Default::default()).unwrap()
}

const BIG_K: usize = 100_000;

// With the k × k projection these three fits each needed an 80 GB matrix (and aborted); the
// factored algebra needs O(k·p) memory. The estimates must recover the generating values.
#[test]
fn regtest_metareg_and_trimfill_at_k_100000() {
    let set = effects(&large_csv(BIG_K, 0.8));
    assert_eq!(set.k(), BIG_K);
    let opts = RmaOptions {
        method: Method::REML,
        test: Test::Knha,
        ..Default::default()
    };
    let eg = regtest(&set, &opts, RegModel::Rma, Predictor::Sei, None).unwrap();
    // The moderator x (mean 5, slope 0.1) is left in the residual; the sei slope stays ≈ 0.8.
    assert!((eg.slope - 0.8).abs() < 0.2, "{eg:?}");
    assert!(eg.pval < 1e-10, "{eg:?}");
    let fit = metareg(&set, "x", &opts).unwrap();
    assert!(
        (fit.coefficients[1].estimate - 0.1).abs() < 0.01,
        "{:?}",
        fit.coefficients
    );
    assert!(fit.tau2 > 0.0 && fit.tau2_ci.is_some());
    assert_eq!(fit.fitted.len(), BIG_K);
    let tf = trimfill(&set, &RmaOptions::default(), Estimator::L0, None).unwrap();
    assert!(tf.fit.estimate.is_finite());
}

/// Width and height of a PNG from its IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[12..16], b"IHDR");
    let be = |a: usize| u32::from_be_bytes(png[a..a + 4].try_into().unwrap());
    (be(16), be(20))
}

// A 10,000-character label used to make a 282,000 px wide PNG (1.8 GB); plots cut it to
// MAX_TEXT_WIDTH with an ellipsis, while the fit (and so tables and JSON) keeps the full text.
#[test]
fn a_10000_character_label_gives_a_bounded_png() {
    use evident::render::plot::{fonts::MAX_TEXT_WIDTH, forest::forest, render::svg_to_png};
    let mut set = EffectSet::from_yi_vi(
        vec![-0.9, -1.6, -0.2],
        vec![0.36, 0.21, 0.05],
        Measure::GEN,
        evident::Scale::Identity,
    );
    let long = "x".repeat(10_000);
    set.labels[1] = long.clone();
    let fit = evident::rma(&set, &RmaOptions::default()).unwrap();
    assert_eq!(fit.effects.labels[1], long);
    let fig = forest(&fit, &Default::default()).unwrap();
    assert!(fig.width < MAX_TEXT_WIDTH + 1000.0, "{}", fig.width);
    let svg = fig.to_svg().unwrap();
    assert!(!svg.contains(&long) && svg.contains('…'));
    let (w, h) = png_size(&svg_to_png(&svg, 300.0).unwrap());
    assert!(w < 7000 && h < 2000, "{w}×{h}");
}

// A forest plot of 10,000 studies at 150 dpi needed a 6 GB pixel buffer; the PNG is refused with
// a message pointing to SVG and PDF, which are written.
#[test]
fn a_forest_of_10000_studies_is_refused_as_png_and_drawn_as_svg() {
    use evident::render::plot::{forest::forest, render::svg_to_png, render::MAX_PIXELS};
    let set = effects(&large_csv(10_000, 0.0));
    let fit = evident::rma(&set, &RmaOptions::default()).unwrap();
    let svg = forest(&fit, &Default::default()).unwrap().to_svg().unwrap();
    match svg_to_png(&svg, 150.0) {
        Err(evident::Error::ImageTooLarge {
            width,
            height,
            limit,
        }) => assert!(width * height > limit && limit == MAX_PIXELS),
        other => panic!("{:?}", other.map(|p| p.len())),
    }
    let dir = std::env::temp_dir().join(format!("evident-resources-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fig = forest(&fit, &Default::default()).unwrap();
    let e = evident::app::save_figure(&fig, &dir.join("f.png"), 150.0).unwrap_err();
    assert!(e.to_string().contains("SVG or PDF"), "{e}");
    assert!(!dir.join("f.png").exists());
    evident::app::save_figure(&fig, &dir.join("f.svg"), 150.0).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `rows` rows of analysis `a` then two of `b`, generated as read (never held in memory).
struct LongAnalysis {
    rows: usize,
    pending: Vec<u8>,
    done: usize,
}

impl std::io::Read for LongAnalysis {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.len() < buf.len() && self.done < self.rows + 2 {
            let line = if self.done < self.rows {
                format!("a,{},0.1\n", self.done % 7)
            } else {
                format!("b,{},0.2\n", self.done % 3)
            };
            self.pending.extend_from_slice(line.as_bytes());
            self.done += 1;
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

// One analysis with more rows than a batch keeps (an endless analysis used to grow until a 4 GB
// allocation aborted): it gets an error row, its rows are dropped, and the batch goes on.
#[test]
fn batch_refuses_an_analysis_beyond_the_row_cap_and_goes_on() {
    use evident::app::batch::{run, BatchOptions, MAX_ANALYSIS_ROWS};
    let input = LongAnalysis {
        rows: MAX_ANALYSIS_ROWS + 1,
        pending: b"analysis,yi,vi\n".to_vec(),
        done: 0,
    };
    let mut out = Vec::new();
    run(
        Path::new("endless.csv"),
        input,
        &BatchOptions::default(),
        |r| {
            out.push((r.analysis, r.fit.map(|f| f.k).map_err(|e| e.to_string())));
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(out.len(), 2);
    let (name, a) = &out[0];
    assert_eq!(name, "a");
    assert!(
        a.as_ref().unwrap_err().contains("more than 1000000 rows"),
        "{a:?}"
    );
    assert_eq!(out[1], ("b".to_string(), Ok(2)));
}

// A header of 10⁶ columns is read in linear time (the pairwise duplicate check was quadratic:
// 10⁵ columns took 20 s, 10⁶ did not finish); duplicates are still found, case-insensitively.
#[test]
fn a_million_column_header_is_read_and_checked_for_duplicates() {
    let n = 1_000_000;
    let mut csv = String::from("yi,vi");
    for i in 0..n {
        csv.push_str(&format!(",c{i}"));
    }
    csv.push('\n');
    let row = format!("0.1,0.2{}\n", ",1".repeat(n));
    csv.push_str(&row);
    csv.push_str(&row);
    let t = Table::from_bytes(
        Path::new("wide.csv"),
        csv.as_bytes(),
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(t.headers.len(), n + 2);
    let dup = csv.replacen(",c999999\n", ",C17\n", 1);
    let e = Table::from_bytes(
        Path::new("wide.csv"),
        dup.as_bytes(),
        &CsvOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("duplicate column 'C17' (columns 20 and 1000002)"),
        "{e}"
    );
}
