//! Issue 15 item 2: the report draws the forest layout of each analysis's preset and manifest
//! keys with the builder `evident forest` uses, so a report's `forest.svg` is byte for byte the
//! command line's for the same data and options (RevMan 5's layout under `preset = "revman5"`,
//! "Not estimable" rows for double-zero studies, arms, both models, sizes), and the page, PNG
//! and Word document carry that figure.

mod common;

use common::cli::{evident, Cli};
use common::svg::text_content;
use std::io::Read;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const DOUBLE_ZERO: &str = "tests/snapshots/inputs/revman_double_zero.csv";

/// The analyses of the manifest and the `evident forest` arguments that draw the same figure.
const ANALYSES: &[(&str, &str, &[&str])] = &[
    (
        "mh",
        "method = \"MH\"\npreset = \"revman5\"\narms = [\"Tacrolimus\", \"Control\"]",
        &["--preset", "revman5", "--method", "MH", "--arms", "Tacrolimus,Control"],
    ),
    (
        "mh_random",
        "method = \"DL\"\npreset = \"revman5\"\narms = \"Tacrolimus,Control\"\nwidth = \"170mm\"",
        &["--preset", "revman5", "--method", "DL", "--arms", "Tacrolimus,Control", "--width", "170mm"],
    ),
    (
        "iv_by",
        "method = \"DL\"\npreset = \"metafor\"\nlayout = \"revman\"\nby = \"setting\"\nboth_models = true\nfont_size = 8",
        &["--preset", "metafor", "--method", "DL", "--layout", "revman", "--by", "setting", "--both-models", "--font-size", "8"],
    ),
    (
        "standard",
        "method = \"MH\"\npreset = \"revman5\"\nlayout = \"standard\"",
        &["--preset", "revman5", "--method", "MH", "--layout", "standard"],
    ),
];

/// A report of the double-zero data with [`ANALYSES`] (and `--png --docx`), into `dir/out`.
fn report(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(root().join(DOUBLE_ZERO), input.join("dz.csv")).unwrap();
    let manifest: String = ANALYSES
        .iter()
        .map(|(name, keys, _)| {
            format!("[[analysis]]\nname = \"{name}\"\nfile = \"dz.csv\"\n{keys}\n\n")
        })
        .collect();
    std::fs::write(input.join("evident.toml"), manifest).unwrap();
    let out = dir.join("out");
    let r = evident([
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--png",
        "--docx",
    ]);
    assert!(r.ok, "{}", r.stderr);
    out
}

/// `evident forest` of the double-zero data with `args`, as SVG text.
fn cli_forest(dir: &Path, name: &str, args: &[&str]) -> String {
    let svg = dir.join(format!("{name}.svg"));
    let r = Cli::new(["forest", DOUBLE_ZERO])
        .args(args)
        .args(["-o", svg.to_str().unwrap()])
        .current_dir(root())
        .run();
    assert!(r.ok, "{args:?}: {}", r.stderr);
    std::fs::read_to_string(svg).unwrap()
}

#[test]
fn the_report_draws_the_command_lines_forest_in_the_presets_layout() {
    let dir = tempfile::tempdir().unwrap();
    let out = report(dir.path());
    for (name, _, args) in ANALYSES {
        let got = std::fs::read_to_string(out.join(name).join("forest.svg")).unwrap();
        let want = cli_forest(dir.path(), name, args);
        assert_eq!(
            text_content(&got),
            text_content(&want),
            "{name}: the texts differ"
        );
        assert!(
            got == want,
            "{name}: the report's forest.svg is not `evident forest`'s"
        );
        assert!(out.join(name).join("forest.png").is_file(), "{name}");
    }
    let texts = |name: &str| {
        text_content(&std::fs::read_to_string(out.join(name).join("forest.svg")).unwrap())
    };
    let has = |t: &[String], s: &str| t.iter().any(|x| x == s);
    // RevMan 5's layout under preset = "revman5": arms over Events/Total, the method in the
    // headers, the Total row with its events, and the double-zero studies not estimable.
    let mh = texts("mh");
    for s in [
        "Tacrolimus",
        "Control",
        "Events",
        "Total",
        "M-H, Fixed, 95% CI",
        "Total (95% CI)",
        "Total events",
        "Baker 2003",
        "Evans 2010",
        "Not estimable",
        // Total participants and events per arm, the double-zero studies counted.
        "465",
        "464",
        "45",
        "75",
    ] {
        assert!(has(&mh, s), "mh: no {s:?} in {mh:?}");
    }
    assert_eq!(mh.iter().filter(|s| *s == "Not estimable").count(), 2);
    let re = texts("mh_random");
    assert!(has(&re, "M-H, Random, 95% CI"), "{re:?}");
    let by = texts("iv_by");
    assert!(has(&by, "Subtotal (95% CI)"), "{by:?}");
    assert!(has(&by, "Total (fixed, 95% CI)"), "{by:?}");
    // layout = "standard" under revman5: evident's own figure.
    let st = texts("standard");
    assert!(
        !has(&st, "Total (95% CI)") && !has(&st, "M-H, Fixed, 95% CI"),
        "{st:?}"
    );
    assert!(has(&st, "Events/Total"), "{st:?}");
    // The page inlines that figure; the Word document carries its PNG.
    let page = std::fs::read_to_string(out.join("mh/index.html")).unwrap();
    assert!(page.contains("M-H, Fixed, 95% CI"), "the page's figure");
    // Its study table names the arms as the manifest does.
    assert!(
        page.contains(">Tacrolimus Events/Total</th>"),
        "study table"
    );
    assert!(!page.contains("Experimental"), "study table");
    let docx = std::fs::File::open(out.join("mh.docx")).unwrap();
    let mut z = zip::ZipArchive::new(docx).unwrap();
    let mut png = Vec::new();
    z.by_name("word/media/forest.png")
        .unwrap()
        .read_to_end(&mut png)
        .unwrap();
    let svg = std::fs::read_to_string(out.join("mh/forest.svg")).unwrap();
    let want =
        evident::render::plot::render::svg_to_png(&svg, evident::app::report::DOCX_DPI).unwrap();
    assert!(png == want, "the docx's picture is not the report's forest");
}

/// The top-level `preset` applies to the analyses that set none, and with it RevMan's layout.
#[test]
fn a_manifest_wide_preset_gives_revmans_layout() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(root().join(DOUBLE_ZERO), input.join("dz.csv")).unwrap();
    std::fs::copy(root().join(DOUBLE_ZERO), input.join("unlisted.csv")).unwrap();
    std::fs::write(
        input.join("evident.toml"),
        "preset = \"revman5\"\n\n[[analysis]]\nname = \"listed\"\nfile = \"dz.csv\"\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let r = evident([
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(r.ok, "{}", r.stderr);
    let want = cli_forest(dir.path(), "want", &["--preset", "revman5"]);
    for name in ["listed", "unlisted"] {
        let got = std::fs::read_to_string(out.join(name).join("forest.svg")).unwrap();
        assert!(got == want, "{name}: not the revman5 figure");
    }
}

/// A bad forest key stops the manifest with its line and the key's reason.
#[test]
fn a_bad_forest_key_names_the_manifest_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(root().join(DOUBLE_ZERO), input.join("dz.csv")).unwrap();
    let manifest = input.join("evident.toml");
    for (keys, line, want) in [
        (
            "width = \"17furlongs\"",
            4,
            "width: '17furlongs': unknown unit",
        ),
        ("arms = [\"Tacrolimus\"]", 4, "a list of 1 names"),
        ("layout = \"revman6\"", 4, "unknown forest layout"),
        (
            "font_size = 100",
            4,
            "font_size: a font size of 100 pt is out of range",
        ),
    ] {
        std::fs::write(
            &manifest,
            format!("[[analysis]]\nfile = \"dz.csv\"\npreset = \"revman5\"\n{keys}\n"),
        )
        .unwrap();
        let r = evident([
            "report",
            input.to_str().unwrap(),
            "-o",
            dir.path().join("out").to_str().unwrap(),
        ]);
        let at = format!("{}, line {line}: not a valid manifest", manifest.display());
        assert!(
            r.stderr
                .lines()
                .any(|l| l.contains(&at) && l.contains(want)),
            "{keys}: {}",
            r.stderr
        );
    }
}
