//! `evident batch` gives, for each analysis, exactly the numbers of `evident pool` on it alone.

mod common;

use common::cli::{evident, Cli};

const BCG: &str = include_str!("conformance/cases/bcg_or/input.csv");

#[test]
fn batch_rows_equal_single_pool_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = BCG.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    // Three analyses: rows 0..5, 5..9, 9..13; and one whose only row has no data.
    let mut long = format!("analysis,{header}\n");
    let mut singles = Vec::new();
    for (name, range) in [("first", 0..5), ("second", 5..9), ("third", 9..13)] {
        let mut single = format!("{header}\n");
        for r in &rows[range] {
            long.push_str(&format!("{name},{r}\n"));
            single.push_str(&format!("{r}\n"));
        }
        let p = dir.path().join(format!("{name}.csv"));
        std::fs::write(&p, single).unwrap();
        singles.push((name, p));
    }
    long.push_str("broken,Nobody,,,,,1,1,x\n");
    let lp = dir.path().join("long.csv");
    std::fs::write(&lp, &long).unwrap();
    let out = dir.path().join("out.csv");
    let st = evident([
        "batch",
        lp.to_str().unwrap(),
        "--measure",
        "OR",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(st.code, Some(2), "one analysis fails, so exit code 2");
    let text = std::fs::read_to_string(&out).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let hdr = rdr.headers().unwrap().clone();
    let recs: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 4);
    let col = |name: &str| hdr.iter().position(|h| h == name).unwrap();
    for (i, (name, p)) in singles.iter().enumerate() {
        let o = evident(["pool", p.to_str().unwrap(), "--measure", "OR", "--json"]);
        assert!(o.ok);
        let j: serde_json::Value = serde_json::from_slice(&o.stdout_bytes).unwrap();
        let r = &recs[i];
        assert_eq!(&r[col("analysis")], *name);
        for (key, jkey) in [
            ("estimate", "estimate"),
            ("se", "se"),
            ("pval", "pval"),
            ("ci_lb", "ci_lb"),
            ("pi_ub", "pi_ub"),
            ("tau2", "tau2"),
            ("tau2_ci_ub", "tau2_ci_ub"),
            ("I2", "I2"),
            ("Q_pval", "Q_pval"),
            ("estimate_exp", "estimate_exp"),
        ] {
            let got: f64 = r[col(key)].parse().unwrap();
            let want = j[jkey].as_f64().unwrap();
            assert_eq!(got, want, "{name} {key}");
        }
    }
    assert!(
        recs[3][col("error")].contains("no studies"),
        "{:?}",
        &recs[3]
    );
}

#[test]
fn non_contiguous_analysis_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let lp = dir.path().join("long.csv");
    std::fs::write(
        &lp,
        "analysis,study,yi,vi\na,1,0.1,0.1\na,2,0.3,0.1\nb,1,0.2,0.1\na,3,0.5,0.1\n",
    )
    .unwrap();
    let o = evident(["batch", lp.to_str().unwrap()]);
    let text = String::from_utf8(o.stdout_bytes).unwrap();
    assert!(text.contains("not contiguous"), "{text}");
    assert_eq!(o.code, Some(2));
}

/// Many analyses of varying size, so that analyses straddle every chunk boundary of the
/// pipeline: each result must equal `rma` on that analysis read as a file of its own.
#[test]
fn every_analysis_across_chunk_boundaries_equals_its_own_fit() {
    use evident::app::batch::{run, BatchOptions, CHUNK, CHUNK_ROWS};
    use evident::data::{ColumnMap, CsvOptions, Studies, Table};
    use evident::effect::{EffectSet, EscalcOptions};
    use evident::model::rma;
    use evident::model::Method;
    use evident::model::RmaOptions;
    use evident::model::Test;
    use evident::Measure;
    use std::path::Path;

    let mut seed = 7u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let header = "study,ai,n1i,ci,n2i";
    let mut long = format!("analysis,{header}\n");
    let mut singles: Vec<(String, String)> = Vec::new();
    let n = 2 * CHUNK + 37;
    for a in 0..n {
        // Mostly small analyses, a few k = 1, and one larger than a chunk's row budget.
        let k = match a {
            100 => CHUNK_ROWS + 5,
            _ if a % 97 == 0 => 1,
            _ => 2 + (next() % 14) as usize,
        };
        let name = format!("a{a}");
        let mut single = format!("{header}\n");
        for i in 0..k {
            let n1 = 20 + next() % 200;
            let n2 = 20 + next() % 200;
            let row = format!("s{i},{},{n1},{},{n2}", next() % (n1 + 1), next() % (n2 + 1));
            long.push_str(&format!("{name},{row}\n"));
            single.push_str(&format!("{row}\n"));
        }
        singles.push((name, single));
    }
    let opts = RmaOptions {
        method: Method::REML,
        test: Test::Knha,
        ..RmaOptions::default()
    };
    let batch = BatchOptions {
        analysis_column: "analysis".into(),
        measure: Some(Measure::OR),
        escalc: EscalcOptions::default(),
        rma: opts,
        ..BatchOptions::default()
    };
    let mut results = Vec::new();
    run(Path::new("long.csv"), long.as_bytes(), &batch, |r| {
        results.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(results.len(), n);
    for (r, (name, single)) in results.iter().zip(&singles) {
        assert_eq!(&r.analysis, name);
        let table = Table::from_bytes(
            Path::new("one.csv"),
            single.as_bytes(),
            &CsvOptions::default(),
        )
        .unwrap();
        let studies = Studies::from_table(&table, &ColumnMap::new()).unwrap();
        let alone = EffectSet::from_studies(&studies, Measure::OR, &EscalcOptions::default())
            .and_then(|set| rma(&set, &opts));
        match (&r.fit, alone) {
            (Ok(b), Ok(a)) => {
                assert_eq!(b.k, a.k, "{name}");
                for (x, y) in [
                    (b.estimate, a.estimate),
                    (b.se, a.se),
                    (b.tau2, a.tau2),
                    (b.het.q, a.het.q),
                    (b.pval, a.pval),
                ] {
                    assert_eq!(x.to_bits(), y.to_bits(), "{name}");
                }
                assert_eq!(b.tau2_ci, a.tau2_ci, "{name}");
                assert_eq!(b.effects.labels, a.effects.labels, "{name}");
            }
            (Err(b), Err(a)) => assert_eq!(b.to_string(), a.to_string(), "{name}"),
            (b, a) => panic!("{name}: batch {b:?} but alone {a:?}"),
        }
    }
}

/// The data type is a property of the header: a header that fits none stops the run with the
/// file's name, before any analysis.
#[test]
fn unrecognised_header_is_one_clear_error() {
    use evident::app::batch::{run, BatchOptions};
    let opts = BatchOptions::default();
    let mut calls = 0;
    let e = run(
        std::path::Path::new("odd.csv"),
        "analysis,study,foo\na,1,2\n".as_bytes(),
        &opts,
        |_| {
            calls += 1;
            Ok(())
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("odd.csv") && e.contains("cannot tell the data type"),
        "{e}"
    );
    assert_eq!(calls, 0);
}

/// Latin-1 text (as spreadsheets export it) is read, not refused, as `Table` reads it.
#[test]
fn latin1_cells_are_read() {
    use evident::app::batch::{run, BatchOptions};
    let opts = BatchOptions::default();
    let mut input = b"analysis,study,yi,vi\n".to_vec();
    input.extend_from_slice(b"Z\xfcrich,M\xfcller,0.1,0.1\nZ\xfcrich,B,0.4,0.2\n");
    let mut got = Vec::new();
    run(std::path::Path::new("l1.csv"), &input[..], &opts, |r| {
        got.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].analysis, "Zürich");
    let fit = got[0].fit.as_ref().unwrap();
    assert_eq!(fit.effects.labels, vec!["Müller", "B"]);
}

fn batch_cli(dir: &std::path::Path, name: &str, csv: &str, args: &[&str]) -> Vec<Vec<String>> {
    let p = dir.join(name);
    std::fs::write(&p, csv).unwrap();
    let o = Cli::new(["batch"]).arg(&p).args(args).run_ok();
    csv::Reader::from_reader(&o.stdout_bytes[..])
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// European spreadsheets: `;` between fields and decimal commas, detected from the header as
/// `evident pool` does; `--col` maps columns with other names.
#[test]
fn semicolons_decimal_commas_and_column_maps() {
    let dir = tempfile::tempdir().unwrap();
    let plain = batch_cli(
        dir.path(),
        "plain.csv",
        "analysis,study,yi,vi\na,1,0.1,0.1\na,2,0.35,0.2\na,3,-0.2,0.15\n",
        &[],
    );
    let euro = batch_cli(
        dir.path(),
        "euro.csv",
        "analysis;study;yi;vi\na;1;0,1;0,1\na;2;0,35;0,2\na;3;-0,2;0,15\n",
        &[],
    );
    let mapped = batch_cli(
        dir.path(),
        "mapped.csv",
        "outcome,trial,logor,varlogor\na,1,0.1,0.1\na,2,0.35,0.2\na,3,-0.2,0.15\n",
        &[
            "--analysis",
            "outcome",
            "--col",
            "yi=logor",
            "--col",
            "vi=varlogor",
        ],
    );
    assert_eq!(plain.len(), 1);
    assert_eq!(euro, plain);
    assert_eq!(mapped, plain);
}

/// Ratios reported with CIs are pooled on the log scale, and the ratio-scale columns are written.
#[test]
fn reported_ratios_get_ratio_scale_columns() {
    let dir = tempfile::tempdir().unwrap();
    let single = "study,or,lower,upper\nA,0.5,0.3,0.9\nB,0.8,0.5,1.3\nC,0.6,0.35,1.05\n";
    let long: String = std::iter::once("analysis,study,or,lower,upper\n".to_owned())
        .chain(single.lines().skip(1).map(|l| format!("x,{l}\n")))
        .collect();
    let p = dir.path().join("single.csv");
    std::fs::write(&p, single).unwrap();
    let o = evident(["pool", p.to_str().unwrap(), "--json"]);
    assert!(o.ok);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout_bytes).unwrap();
    let lp = dir.path().join("long.csv");
    std::fs::write(&lp, long).unwrap();
    let o = evident(["batch", lp.to_str().unwrap()]);
    assert!(o.ok);
    let mut rdr = csv::Reader::from_reader(&o.stdout_bytes[..]);
    let hdr = rdr.headers().unwrap().clone();
    let row = rdr.records().next().unwrap().unwrap();
    let get = |k: &str| -> f64 {
        row[hdr.iter().position(|h| h == k).unwrap()]
            .parse()
            .unwrap()
    };
    assert_eq!(get("estimate"), j["estimate"].as_f64().unwrap());
    assert_eq!(get("estimate_exp"), j["estimate_exp"].as_f64().unwrap());
    assert_eq!(get("ci_ub_exp"), j["ci_ub_exp"].as_f64().unwrap());
}

/// A header with no rows is an error (as for `evident pool`), not an empty result.
#[test]
fn header_without_rows_is_an_error() {
    let e = evident::app::batch::run(
        std::path::Path::new("empty.csv"),
        "analysis,study,yi,vi\n\n".as_bytes(),
        &evident::app::batch::BatchOptions::default(),
        |_| Ok(()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("empty.csv") && e.contains("no study rows"),
        "{e}"
    );
}

/// The batch reads a file's rows as `Table` + `Studies` read them: error lines are the lines an
/// editor shows (CRLF, blank and white-space lines, quoted line breaks, no final newline),
/// trailing delimiters are ignored, and bad headers are refused alike.
#[test]
fn batch_reads_rows_as_a_table_does() {
    use evident::app::batch::{run, BatchOptions};
    use evident::data::{ColumnMap, CsvOptions, Studies, Table};
    use std::path::Path;
    let variants = [
        "analysis,study,yi,vi\na,A,1,0.1\na,B,2,-0.2\n",
        "analysis,study,yi,vi\r\na,A,1,0.1\r\na,B,2,-0.2\r\n",
        "\n\nanalysis,study,yi,vi\n\na,A,1,0.1\n   \n\na,B,2,-0.2",
        "analysis,study,yi,vi\r\n\r\na,\"A\r\nsecond line\",1,0.1\r\n\r\na,B,2,-0.2\r\n",
        "analysis,study,yi,vi,\na,A,1,0.1,\n , , , \na,B,2,-0.2,\n",
        "\r\nanalysis;study;yi;vi\r\na;A;1;0,1\r\na;B;2;-0,2\r\n",
    ];
    for v in variants {
        let table =
            Table::from_bytes(Path::new("f.csv"), v.as_bytes(), &CsvOptions::default()).unwrap();
        let want = Studies::from_table(&table, &ColumnMap::new())
            .unwrap_err()
            .to_string();
        let mut got = Vec::new();
        run(
            Path::new("f.csv"),
            v.as_bytes(),
            &BatchOptions::default(),
            |r| {
                got.push(r);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(got.len(), 1, "{v:?}");
        let e = got[0].fit.as_ref().unwrap_err().to_string();
        assert_eq!(e, want, "{v:?}");
    }
    for bad in [
        "analysis,study,yi,YI\na,1,1,1\n",
        "analysis,,yi,vi\na,1,1,1\n",
    ] {
        let table_err =
            Table::from_bytes(Path::new("f.csv"), bad.as_bytes(), &CsvOptions::default())
                .unwrap_err()
                .to_string();
        let batch_err = run(
            Path::new("f.csv"),
            bad.as_bytes(),
            &BatchOptions::default(),
            |_| Ok(()),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(batch_err, table_err, "{bad:?}");
    }
}

/// Latin-1 bytes that would form a UTF-8 character across a field boundary are still read
/// field by field as Latin-1, not spliced (this panicked once).
#[test]
fn latin1_bytes_across_a_field_boundary() {
    let input = b"analysis,study,yi,vi\nx\xC3,\xA9y,1,0.1\nx\xC3,z,2,0.2\n";
    let mut got = Vec::new();
    evident::app::batch::run(
        std::path::Path::new("l.csv"),
        &input[..],
        &evident::app::batch::BatchOptions::default(),
        |r| {
            got.push(r);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].analysis, "x\u{c3}");
    assert_eq!(
        got[0].fit.as_ref().unwrap().effects.labels,
        vec!["\u{a9}y", "z"]
    );
}

/// `-` reads the long CSV from standard input; errors name it.
#[test]
fn standard_input() {
    let run = |input: &str| Cli::new(["batch", "-"]).stdin(input).run();
    let o = run("analysis,study,yi,vi\na,1,0.1,0.1\na,2,0.3,0.2\n");
    assert!(o.ok);
    let out = String::from_utf8(o.stdout_bytes).unwrap();
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.lines().nth(1).unwrap().starts_with("a,2,"), "{out}");
    let o = run("analysis,study,yi,vi\na,1,0.1\n");
    assert!(!o.ok);
    let err = String::from_utf8(o.stderr_bytes).unwrap();
    assert!(err.contains("<stdin>") && err.contains("line 2"), "{err}");
}

/// The preset's rules reach the batch as they reach `pool`: RevMan 5 drops double-zero studies
/// (it used to keep them in `batch` alone, silently giving other numbers than `pool`).
#[test]
fn revman5_preset_drops_double_zero_studies_as_pool_does() {
    const HAHN: &str = include_str!("conformance/cases/hahn2001_double_zero/input.csv");
    let dir = tempfile::tempdir().unwrap();
    let single = dir.path().join("hahn.csv");
    std::fs::write(&single, HAHN).unwrap();
    let mut lines = HAHN.lines();
    let mut long = format!("analysis,{}\n", lines.next().unwrap());
    for l in lines {
        long.push_str(&format!("hahn,{l}\n"));
    }
    let rows = batch_cli(
        dir.path(),
        "long.csv",
        &long,
        &["--measure", "OR", "--preset", "revman5"],
    );
    let o = evident([
        "pool",
        single.to_str().unwrap(),
        "--measure",
        "OR",
        "--preset",
        "revman5",
        "--method",
        "DL",
        "--json",
    ]);
    assert!(o.ok, "{}", o.stderr);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout_bytes).unwrap();
    // Columns: analysis, k, estimate, se, ...
    assert_eq!(rows[0][1], j["k"].to_string(), "{rows:?}");
    assert_eq!(
        rows[0][2].parse::<f64>().unwrap(),
        j["estimate"].as_f64().unwrap()
    );
    assert_eq!(
        rows[0][3].parse::<f64>().unwrap(),
        j["se"].as_f64().unwrap()
    );
    // And the double-zero study was there to drop.
    let all = batch_cli(
        dir.path(),
        "long2.csv",
        &long,
        &["--measure", "OR", "--method", "DL", "--test", "z"],
    );
    assert!(
        all[0][1].parse::<usize>().unwrap() > rows[0][1].parse::<usize>().unwrap(),
        "{all:?}"
    );
}

/// Issue 14 item 12: names that differ only in surrounding white space are not merged silently:
/// the analysis gets an error row naming both lines.
#[test]
fn names_differing_in_white_space_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let lp = dir.path().join("long.csv");
    std::fs::write(
        &lp,
        "analysis,study,yi,vi\na,1,0.1,0.1\n\"a \",2,0.3,0.1\nb,1,0.2,0.1\nb,2,0.4,0.1\n",
    )
    .unwrap();
    let o = evident(["batch", lp.to_str().unwrap()]);
    let text = String::from_utf8(o.stdout_bytes).unwrap();
    assert!(
        text.contains("differ only in surrounding white space: 'a' at line 2 and 'a ' at line 3"),
        "{text}"
    );
    assert_eq!(o.code, Some(2));
}
