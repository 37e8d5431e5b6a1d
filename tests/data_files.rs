#![allow(clippy::excessive_precision)]
//! The bundled data in `data/`: every CSV reads, every poolable one pools (REML, z) to metafor's
//! numbers, reported ratios round-trip, and every row names its source.
//!
//! A new CSV in `data/` fails this test until it is added to `REFERENCE` (poolable) or
//! `NOT_POOLABLE` (p-value-only), so the README and the data cannot drift apart.

mod common;

use common::RTOL;
use evident::data::{read_studies, ColumnMap, CsvOptions, Data, Table};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::rma;
use evident::model::Method;
use evident::model::RmaOptions;
use std::path::{Path, PathBuf};

/// metafor 3.8-1 REML fits with z tests: (file, k, estimate, se, tau2).
///
/// Reported ratios: `d <- read.csv(f); rma(yi = log(d$estimate),
///   sei = (log(d$ci_ub) - log(d$ci_lb)) / (2 * qnorm(0.975)), method = "REML")`;
/// proportions: `rma(measure = "PLO", xi = xi, ni = ni, data = read.csv(f), method = "REML")`;
/// BCG: `rma(measure = "OR", ai = ai, bi = bi, ci = ci, di = di, data = read.csv(f), method = "REML")`.
const REFERENCE: &[(&str, usize, f64, f64, f64)] = &[
    (
        "lupus_tacrolimus_vs_nonuse.csv",
        1,
        1.03673688495002,
        0.204916596762075,
        0.0,
    ),
    (
        "lupus_tacrolimus_dose.csv",
        1,
        1.73165554515835,
        0.446939646082522,
        0.0,
    ),
    (
        "lupus_tacrolimus_duration.csv",
        1,
        1.28093384546206,
        0.294587494624411,
        0.0,
    ),
    (
        "lupus_tacrolimus_addon.csv",
        2,
        0.967146966202621,
        0.246389014032987,
        0.0,
    ),
    (
        "lupus_combination_vs_other_mono.csv",
        2,
        1.00870935115313,
        0.261718902932807,
        0.0,
    ),
    (
        "pilots_completion.csv",
        3,
        0.901137739800742,
        0.410745183628648,
        0.236436073101178,
    ),
    (
        "als_responders.csv",
        1,
        -4.14313472639153,
        1.4253932901996,
        0.0,
    ),
    (
        "ms_mitoxantrone_rescue.csv",
        1,
        0.847297860387203,
        0.690065559342354,
        0.0,
    ),
    (
        "bcg.csv",
        13,
        -0.745177771837063,
        0.186027915414979,
        0.337772045077251,
    ),
];

/// Files without poolable columns (outcomes reported only as p-values), for `evident combine`/`check`.
const NOT_POOLABLE: &[&str] = &["pvalues.csv"];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn csv_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .expect("data/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    files
}

fn name(p: &Path) -> &str {
    p.file_name().unwrap().to_str().unwrap()
}

fn table(p: &Path) -> Table {
    Table::from_path(p, &CsvOptions::default()).unwrap()
}

fn close(got: f64, want: f64, what: &str) {
    let tol = RTOL * want.abs().max(1e-8);
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.15}, metafor {want:.15}"
    );
}

#[test]
fn every_csv_is_listed() {
    let files = csv_files();
    assert!(files.len() >= REFERENCE.len() + NOT_POOLABLE.len());
    for f in &files {
        let n = name(f);
        assert!(
            REFERENCE.iter().any(|r| r.0 == n) || NOT_POOLABLE.contains(&n),
            "data/{n} is in neither REFERENCE nor NOT_POOLABLE"
        );
    }
    for (n, ..) in REFERENCE {
        assert!(data_dir().join(n).exists(), "data/{n} is missing");
    }
}

#[test]
fn poolable_files_match_metafor_reml() {
    for &(file, k, b, se, tau2) in REFERENCE {
        let path = data_dir().join(file);
        let studies = read_studies(&path, &CsvOptions::default(), &ColumnMap::new())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let measure = studies.data.default_measure();
        let set = EffectSet::from_studies(&studies, measure, &EscalcOptions::default()).unwrap();
        assert!(set.omitted.is_empty(), "{file}: rows omitted");
        let opts = RmaOptions {
            method: Method::REML,
            ..RmaOptions::default()
        };
        let fit = rma(&set, &opts).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(fit.k, k, "{file}: k");
        close(fit.estimate, b, &format!("{file}: estimate"));
        close(fit.se, se, &format!("{file}: se"));
        close(fit.tau2, tau2, &format!("{file}: tau2"));
    }
}

#[test]
fn reported_ratios_round_trip() {
    let mut checked = 0;
    for &(file, ..) in REFERENCE {
        let path = data_dir().join(file);
        let studies = read_studies(&path, &CsvOptions::default(), &ColumnMap::new()).unwrap();
        let Data::ReportedRatio {
            estimate,
            ci_lb,
            ci_ub,
            level,
        } = &studies.data
        else {
            continue;
        };
        let set = EffectSet::from_studies(
            &studies,
            studies.data.default_measure(),
            &EscalcOptions::default(),
        )
        .unwrap();
        for (j, &row) in set.rows.iter().enumerate() {
            let (e, l, u) = (
                estimate[row].unwrap(),
                ci_lb[row].unwrap(),
                ci_ub[row].unwrap(),
            );
            assert_eq!(
                level[row],
                Some(95.0),
                "{file} row {row}: the sources give 95% CIs"
            );
            close(set.yi[j].exp(), e, &format!("{file} row {row}: exp(yi)"));
            // The SE comes from the CI width: exp(2·1.96·se) gives back upper / lower.
            let z = evident::stats::qnorm_upper(0.025);
            close(
                (2.0 * z * set.vi[j].sqrt()).exp(),
                u / l,
                &format!("{file} row {row}: CI width"),
            );
            // The sources' estimates sit at the geometric centre of their CIs, up to rounding.
            let centre = (l * u).sqrt();
            assert!(
                (centre / e - 1.0).abs() < 0.01,
                "{file} row {row}: estimate {e} is not at the centre {centre} of [{l}, {u}]"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 7, "the seeds give seven adjusted ORs with CIs");
}

#[test]
fn every_row_names_its_source() {
    for f in csv_files() {
        let t = table(&f);
        let n = name(&f);
        let src = t
            .column("source")
            .unwrap_or_else(|| panic!("{n}: no source column"));
        for (r, row) in t.rows.iter().enumerate() {
            assert!(!row[src].trim().is_empty(), "{n} row {r}: empty source");
        }
        // Seed-derived files also carry the sentence each number came from.
        if n != "bcg.csv" {
            let q = t
                .column("quote")
                .unwrap_or_else(|| panic!("{n}: no quote column"));
            for (r, row) in t.rows.iter().enumerate() {
                assert!(row[q].trim().len() > 20, "{n} row {r}: missing quote");
            }
        }
    }
}

#[test]
fn pvalue_file_is_well_formed() {
    for n in NOT_POOLABLE {
        let t = table(&data_dir().join(n));
        for col in [
            "study",
            "outcome",
            "pval",
            "direction",
            "n",
            "source",
            "quote",
        ] {
            assert!(t.column(col).is_some(), "{n}: no column {col}");
        }
        // Not poolable on purpose: reading it as studies must fail, not guess a data type.
        assert!(read_studies(
            &data_dir().join(n),
            &CsvOptions::default(),
            &ColumnMap::new()
        )
        .is_err());
        let p = t.column("pval").unwrap();
        let d = t.column("direction").unwrap();
        for (r, row) in t.rows.iter().enumerate() {
            let cell = row[p].trim();
            // Empty (the source gives none), exact, or a bound such as "<0.001".
            let num = cell.strip_prefix('<').unwrap_or(cell);
            if !cell.is_empty() {
                let x: f64 = num
                    .parse()
                    .unwrap_or_else(|_| panic!("{n} row {r}: pval '{cell}'"));
                assert!((0.0..=1.0).contains(&x), "{n} row {r}: pval {x}");
            }
            assert!(
                [
                    "",
                    "increase",
                    "decrease",
                    "improvement",
                    "none",
                    "synergistic"
                ]
                .contains(&row[d].trim()),
                "{n} row {r}: direction '{}'",
                row[d]
            );
        }
    }
}
