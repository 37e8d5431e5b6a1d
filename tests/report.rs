//! `evident report`: determinism, escaping, one broken analysis not stopping the batch, safe
//! output names, and a real-browser load of the pages (headless Chromium, when installed).

mod common;

use common::cli::{evident, Run};
use std::path::{Path, PathBuf};
use std::process::Command;

const BCG: &str = include_str!("conformance/cases/bcg_or/input.csv");

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn data_dir() -> String {
    format!("{}/data", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn two_runs_give_identical_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for d in [&a, &b] {
        let Run {
            code, stderr: err, ..
        } = evident(["report", &data_dir(), "-o", d.path().to_str().unwrap()]);
        assert_eq!(code, Some(0), "{err}");
    }
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert!(
        fa.len() > 20,
        "a report of the bundled data writes many files"
    );
    assert_eq!(fa.len(), fb.len());
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(
            x.strip_prefix(a.path()).unwrap(),
            y.strip_prefix(b.path()).unwrap()
        );
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{} differs between runs",
            x.display()
        );
    }
    // Self-contained: no external resources in any page.
    for f in fa
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "html"))
    {
        // XML namespace declarations are names, not resources; nor are the fonts the inline SVGs
        // carry as data: URLs.
        let html = std::fs::read_to_string(f)
            .unwrap()
            .replace("xmlns=\"http://www.w3.org/2000/svg\"", "")
            .replace("url(\ndata:font/ttf;base64,", "");
        for needle in [
            "http://",
            "https://",
            "<link",
            "<script src",
            "@import",
            "url(",
        ] {
            assert!(
                !html.contains(needle),
                "{} refers to an external resource ({needle})",
                f.display()
            );
        }
    }
}

#[test]
fn study_names_are_inert_in_html_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let evil = "<img src=x onerror=alert(1)>";
    let csv = BCG.replacen("Aronson 1948", &format!("\"{evil}\""), 1);
    std::fs::write(input.join("evil.csv"), csv).unwrap();
    let out = dir.path().join("out");
    let Run {
        code, stderr: err, ..
    } = evident([
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let mut seen = 0;
    for f in files(&out) {
        // The marker file `.evident-report` has no extension.
        let ext = f
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        if ["html", "svg", "md"].contains(&ext.as_str()) {
            let text = std::fs::read_to_string(&f).unwrap();
            // Markdown escapes markup with a backslash (`\<img`), which renders as text.
            let live = text
                .match_indices("<img")
                .any(|(i, _)| ext != "md" || !text[..i].ends_with('\\'));
            assert!(!live, "{} contains a live <img> tag", f.display());
            if text.contains("&lt;img src=x onerror=alert(1)&gt;") {
                seen += 1;
            }
        }
    }
    assert!(
        seen >= 2,
        "the escaped name appears in the page and the plot ({seen} files)"
    );
}

#[test]
fn one_broken_analysis_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("good.csv"), BCG).unwrap();
    std::fs::write(
        input.join("broken.csv"),
        "study,yi,vi\nA,abc,0.1\nB,0.2,0.1\n",
    )
    .unwrap();
    std::fs::write(input.join("notes.txt"), "not a CSV: ignored").unwrap();
    let out = dir.path().join("out");
    let Run {
        code, stderr: err, ..
    } = evident([
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_ne!(
        code,
        Some(0),
        "a failed analysis makes the exit code non-zero"
    );
    assert!(err.contains("broken"), "{err}");
    assert!(out.join("good/index.html").exists());
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        index.contains("broken") && index.contains("expected a number"),
        "the index lists the failure with its error"
    );
    assert!(!out.join("notes").exists());
}

#[test]
fn analysis_names_cannot_escape_the_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut long = String::new();
    let mut lines = BCG.lines();
    long.push_str(&format!("analysis,{}\n", lines.next().unwrap()));
    for (i, r) in lines.enumerate() {
        let name = if i < 6 { "../../escape" } else { "/abs/olute" };
        long.push_str(&format!("{name},{r}\n"));
    }
    let input = dir.path().join("long.csv");
    std::fs::write(&input, long).unwrap();
    let out = dir.path().join("deep/out");
    let Run {
        code, stderr: err, ..
    } = evident([
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    for f in files(dir.path()) {
        assert!(
            f.starts_with(&out) || f == input,
            "{} was written outside the output directory",
            f.display()
        );
    }
    assert!(!dir.path().join("escape").exists() && !Path::new("/abs/olute").exists());
}

/// Loads the index and one analysis page in headless Chromium: the page renders, the console has
/// no errors, and the forest plot's SVG has a size. Skipped (with a message) without Chromium;
/// `.ci/run` installs it.
#[test]
fn pages_load_in_a_real_browser() {
    let Some(chromium) = common::chromium::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let Run {
        code, stderr: err, ..
    } = evident(["report", &data_dir(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    for page in ["index.html", "bcg/index.html"] {
        let profile = tempfile::tempdir().unwrap();
        let shot = dir.path().join(format!("{}.png", page.replace('/', "_")));
        let url = format!("file://{}", out.join(page).display());
        let logging = ["--enable-logging=stderr", "--v=0"];
        let base: Vec<&str> = common::chromium::HEADLESS
            .into_iter()
            .chain(logging)
            .collect();
        let udd = format!("--user-data-dir={}", profile.path().display());
        let o = Command::new(chromium)
            .args(&base)
            .arg(&udd)
            .arg(format!("--screenshot={}", shot.display()))
            .arg("--window-size=1280,2000")
            .arg(&url)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&o.stderr);
        assert!(
            shot.exists() && std::fs::metadata(&shot).unwrap().len() > 10_000,
            "{page}: no screenshot: {log}"
        );
        let console_errors: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("CONSOLE") && l.contains("ERROR"))
            .collect();
        assert!(
            console_errors.is_empty(),
            "{page}: console errors: {console_errors:?}"
        );
        // The rendered DOM: the forest plot's SVG element with its size.
        let profile2 = tempfile::tempdir().unwrap();
        let dom = Command::new(chromium)
            .args(&base)
            .arg(format!("--user-data-dir={}", profile2.path().display()))
            .arg("--dump-dom")
            .arg(&url)
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert!(dom.contains("</html>"), "{page}: the page did not load");
        if page.starts_with("bcg") {
            let svg = dom
                .find("<svg")
                .map(|i| &dom[i..(i + 400).min(dom.len())])
                .unwrap_or("");
            let num = |attr: &str| -> f64 {
                let k = svg
                    .find(&format!("{attr}=\""))
                    .map(|i| i + attr.len() + 2)
                    .unwrap_or(0);
                svg[k..]
                    .split('"')
                    .next()
                    .unwrap_or("0")
                    .trim_end_matches("px")
                    .parse()
                    .unwrap_or(0.0)
            };
            assert!(
                num("width") > 100.0 && num("height") > 100.0,
                "{page}: forest SVG without size: {svg}"
            );
        }
    }
}

/// The script injected into a copy of each page for [`pages_fit_a_phone_and_a_desktop`]: it
/// measures the page once loaded and posts one line to the harness page. No `<`, `>` or `&` in
/// the line, so that it reads back unchanged from the dumped DOM.
const WIDTH_PROBE: &str = r#"<script>
(function () {
  function run() {
    var d = document.documentElement, cw = d.clientWidth, bad = [];
    function right(e) { return e.getBoundingClientRect().right; }
    function name(e) { return e.tagName.toLowerCase() + (e.getAttribute('class') ? '.' + e.getAttribute('class') : ''); }
    if (d.scrollWidth - cw > 0) {
      var wide = [];
      document.querySelectorAll('body *').forEach(function (e) {
        if (right(e) - cw > 0.5 && right(e.parentElement) - cw <= 0.5) wide.push(name(e) + ' ends at ' + Math.round(right(e)));
      });
      bad.push('the page scrolls sideways: scrollWidth ' + d.scrollWidth + ' exceeds ' + cw + ' (' + wide.slice(0, 5).join(', ') + ')');
    }
    document.querySelectorAll('figure svg').forEach(function (s) {
      if (right(s) - cw > 0.5) bad.push('figure ' + name(s) + ' does not scale: ends at ' + Math.round(right(s)));
    });
    document.querySelectorAll('table').forEach(function (t) {
      var box = t.parentElement;
      if (!box.classList.contains('tbl') || getComputedStyle(box).overflowX !== 'auto') bad.push('a table not in a box of its own that scrolls');
      else if (right(box) - cw > 0.5) bad.push('a table box ends at ' + Math.round(right(box)));
    });
    var forest = document.querySelector('figure a[href="forest.svg"] svg.forest');
    parent.postMessage(location.hash.slice(1) + ' width=' + innerWidth + ' forest=' + (forest ? 'linked' : 'none') + ' tables=' + document.querySelectorAll('table').length + ' ' + (bad.length ? 'BAD ' + bad.join('; ') : 'OK'), '*');
  }
  if (document.readyState === 'complete') run(); else addEventListener('load', run);
})();
</script>"#;

/// Issue 15 item 8: the index and every analysis page of the bundled data, at a phone's width
/// (400 px) and a desktop's (1400 px), have no horizontal page overflow; every figure scales to
/// the width, every table scrolls inside its own box, and the forest plot links to its
/// full-size image. Each page is copied beside itself with [`WIDTH_PROBE`] added and loaded in
/// an iframe of that width (headless Chromium's window is at least 500 px wide), all in one
/// harness page that collects the results. Skipped (with a message) without Chromium.
#[test]
fn pages_fit_a_phone_and_a_desktop() {
    let Some(chromium) = common::chromium::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // RevMan 5's wider forest layout too (issue 15 item 2).
    let revman = dir.path().join("revman");
    std::fs::create_dir(&revman).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/inputs/revman_double_zero.csv"),
        revman.join("dz.csv"),
    )
    .unwrap();
    std::fs::write(
        revman.join("evident.toml"),
        "[[analysis]]\nname = \"revman_layout\"\nfile = \"dz.csv\"\npreset = \"revman5\"\n\
         arms = \"Tacrolimus,Control\"\nboth_models = true\n",
    )
    .unwrap();
    let Run {
        code, stderr: err, ..
    } = evident([
        "report",
        &data_dir(),
        revman.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let mut pages = vec!["index.html".to_string()];
    for f in files(&out) {
        let rel = f.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        if rel.ends_with("/index.html") {
            pages.push(rel);
        }
    }
    assert!(
        pages.len() > 5 && pages.iter().any(|p| p.starts_with("revman_layout/")),
        "the bundled data gives many pages: {pages:?}"
    );
    let mut frames = String::new();
    for page in &pages {
        let html = std::fs::read_to_string(out.join(page)).unwrap();
        let at = html.rfind("</body>").expect("a page ends its body");
        let probe = page.replace("index.html", "width-probe.html");
        std::fs::write(
            out.join(&probe),
            format!("{}{WIDTH_PROBE}{}", &html[..at], &html[at..]),
        )
        .unwrap();
        for w in [400, 1400] {
            frames.push_str(&format!(
                "<iframe src=\"{probe}#{w}:{page}\" width=\"{w}\" height=\"700\" style=\"display:block;border:0\"></iframe>\n"
            ));
        }
    }
    std::fs::write(
        out.join("width-harness.html"),
        format!(
            "<!DOCTYPE html><html><head><script>addEventListener('message', function (m) {{ \
             document.getElementById('out').textContent += 'RESULT ' + m.data + '\\n'; }});\
             </script></head><body style=\"margin:0\"><pre id=\"out\"></pre>\n{frames}</body></html>\n"
        ),
    )
    .unwrap();
    let o = common::chromium::dump_dom(
        chromium,
        &out.join("width-harness.html"),
        300,
        &[
            "--disable-quic",
            "--window-size=1500,1000",
            "--virtual-time-budget=20000",
        ],
    );
    let dom = String::from_utf8_lossy(&o.stdout);
    let collected = dom
        .split_once("<pre id=\"out\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map_or("", |(pre, _)| pre);
    let results: Vec<&str> = collected
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .collect();
    for page in &pages {
        for w in [400, 1400] {
            let key = format!("{w}:{page} ");
            let r = results
                .iter()
                .find(|r| r.starts_with(&key))
                .unwrap_or_else(|| {
                    panic!(
                        "{page} at {w} px did not report: {results:?}\n{}",
                        String::from_utf8_lossy(&o.stderr)
                    )
                });
            assert!(r.contains(&format!(" width={w} ")), "{r}");
            assert!(r.ends_with(" OK"), "{r}");
            assert!(!r.contains(" tables=0 "), "{r}");
            let analysis = page != "index.html";
            assert_eq!(r.contains(" forest=linked "), analysis, "{r}");
        }
    }
}

/// Issue 15 item 12: `forest.png` is written only with `--png` (rasterising was most of a
/// report's time), and the page's list of files links it only then; `forest.svg` always.
#[test]
fn forest_png_only_with_the_png_flag() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("bcg.csv"), BCG).unwrap();
    for png in [false, true] {
        let out = dir.path().join(format!("out-{png}"));
        let mut args = vec![
            "report".to_string(),
            input.to_string_lossy().into_owned(),
            "-o".into(),
            out.to_string_lossy().into_owned(),
        ];
        if png {
            args.push("--png".into());
        }
        let Run {
            code, stderr: err, ..
        } = evident(&args);
        assert_eq!(code, Some(0), "{err}");
        let page = std::fs::read_to_string(out.join("bcg/index.html")).unwrap();
        assert!(page.contains("<a href=\"forest.svg\">forest.svg</a>"));
        assert!(out.join("bcg/forest.svg").is_file());
        assert_eq!(page.contains("href=\"forest.png\""), png);
        match std::fs::read(out.join("bcg/forest.png")) {
            Err(_) => assert!(!png, "--png wrote no forest.png"),
            Ok(b) => {
                assert!(png, "forest.png written without --png");
                assert!(b.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
                // 150 dpi: wider than the SVG's declared width in CSS pixels (96 dpi).
                let svg = std::fs::read_to_string(out.join("bcg/forest.svg")).unwrap();
                let w: f64 = svg
                    .split("width=\"")
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .unwrap()
                    .parse()
                    .unwrap();
                let png_w = f64::from(u32::from_be_bytes(b[16..20].try_into().unwrap()));
                assert!((png_w - w * 150.0 / 96.0).abs() <= 1.0, "{png_w} vs {w}");
            }
        }
    }
}

/// Runs `evident report INPUT -o OUT`.
fn report(input: &Path, out: &Path) -> Run {
    evident([
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ])
}

/// Issue 14 item 20: a rerun replaces the report as a whole, so an analysis removed from the
/// inputs loses its page and the index lists exactly the pages there are.
#[test]
fn a_rerun_drops_the_pages_of_removed_analyses() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("one.csv"), BCG).unwrap();
    std::fs::write(input.join("two.csv"), BCG).unwrap();
    let out = dir.path().join("out");
    let r = report(&input, &out);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(out.join("two/index.html").exists());
    std::fs::remove_file(input.join("two.csv")).unwrap();
    let r = report(&input, &out);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        !out.join("two").exists(),
        "the removed analysis's page is gone"
    );
    assert!(out.join("one/index.html").exists());
    let index = std::fs::read_to_string(out.join("index.md")).unwrap();
    assert!(
        index.contains("one/index.html") && !index.contains("two/"),
        "{index}"
    );
    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        beside.len(),
        2,
        "no lock or build directory left: {beside:?}"
    );
}

/// A directory that evident did not write is never replaced: refused with the reason, untouched.
#[test]
fn a_foreign_output_directory_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bcg.csv");
    std::fs::write(&input, BCG).unwrap();
    let out = dir.path().join("thesis");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("chapter1.tex"), "precious").unwrap();
    let r = report(&input, &out);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("is not an evident report") && r.stderr.contains(".evident-report"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        1,
        "nothing written into it"
    );
    assert_eq!(
        std::fs::read(out.join("chapter1.tex")).unwrap(),
        b"precious"
    );
}

/// A second run into a directory being written fails with a clear message; a lock left by a
/// process that is gone is taken over with a note.
#[test]
fn a_second_run_into_one_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bcg.csv");
    std::fs::write(&input, BCG).unwrap();
    let out = dir.path().join("out");
    let lock = dir.path().join(".out.evident-lock");
    // This test process stands in for a running evident.
    std::fs::write(&lock, format!("{}\n", std::process::id())).unwrap();
    let r = report(&input, &out);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("another evident run")
            && r.stderr
                .contains(&format!("process {}", std::process::id()))
            && r.stderr.contains(".out.evident-lock"),
        "{}",
        r.stderr
    );
    assert!(
        !out.exists() && lock.exists(),
        "the other run's lock is kept"
    );
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    std::fs::write(&lock, format!("{dead}\n")).unwrap();
    let r = report(&input, &out);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("note: took over the lock {}", lock.display())),
        "{}",
        r.stderr
    );
    assert!(out.join("bcg/index.html").exists() && !lock.exists());
}

/// Two runs started together into one directory: one writes the report, the other fails on the
/// lock (or, when the first has already ended, replaces the report); never a mix.
#[test]
fn concurrent_runs_do_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let spawn = || {
        common::cli::Cli::new(["report", &data_dir(), "-o", out.to_str().unwrap()])
            .command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let codes = [a.status.code(), b.status.code()];
    assert!(codes.contains(&Some(0)), "{codes:?}");
    for o in [&a, &b] {
        if o.status.code() != Some(0) {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains("another evident run"), "{err}");
        }
    }
    let fresh = dir.path().join("fresh");
    assert_eq!(report(Path::new(&data_dir()), &fresh).code, Some(0));
    let (x, y) = (files(&out), files(&fresh));
    assert_eq!(x.len(), y.len());
    for (p, q) in x.iter().zip(&y) {
        assert_eq!(
            std::fs::read(p).unwrap(),
            std::fs::read(q).unwrap(),
            "{p:?}"
        );
    }
}

/// Issue 14 item 12: a manifest that is not UTF-8, and a `file` that is a directory, are errors
/// naming the file and saying why (the operating system's reason kept).
#[test]
fn manifest_errors_name_the_file_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let m1 = dir.path().join("m1");
    std::fs::create_dir(&m1).unwrap();
    std::fs::write(
        m1.join("evident.toml"),
        b"[[analysis]]\nname = \"x\xff\"\nfile = \"a.csv\"\n",
    )
    .unwrap();
    let r = evident([
        "report",
        m1.to_str().unwrap(),
        "-o",
        dir.path().join("o1").to_str().unwrap(),
    ]);
    assert!(!r.ok);
    assert!(
        r.stderr
            .contains("evident.toml: not a valid manifest: not UTF-8"),
        "{}",
        r.stderr
    );
    let m2 = dir.path().join("m2");
    std::fs::create_dir(&m2).unwrap();
    std::fs::write(
        m2.join("evident.toml"),
        "[[analysis]]\nname = \"dot\"\nfile = \".\"\n",
    )
    .unwrap();
    let out = dir.path().join("o2");
    let r = evident(["report", m2.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(!r.ok);
    let index = std::fs::read_to_string(out.join("index.html")).unwrap_or_default();
    let all = format!("{}{index}", r.stderr);
    assert!(all.contains("is a directory"), "{all}");
}

/// A broken manifest stops the run (issue 16 item 10: not the directory's files with default
/// settings), naming the manifest and the line, in one line.
#[test]
fn a_broken_manifest_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("bcg.csv"), BCG).unwrap();
    let manifest = input.join("evident.toml");
    std::fs::write(
        &manifest,
        "title = \"t\"\n\n[[analysis]]\nfile = \"bcg.csv\"\nmeasure = [\n",
    )
    .unwrap();
    let r = report(&input, &dir.path().join("out"));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(!dir.path().join("out/bcg").exists(), "run with defaults");
    let want = format!("{}, line 5: not a valid manifest", manifest.display());
    let line = r.stderr.lines().find(|l| l.contains(&want));
    assert!(line.is_some(), "{}", r.stderr);
}

/// The coefficient rows `evident pool --mods FORMULA` prints: (name, [estimate, se, stat, pval,
/// ci.lb, ci.ub]) as text, and the whole output.
fn pool_mods(csv: &Path, formula: &str) -> (Vec<(String, Vec<String>)>, String) {
    let r = evident([
        "pool",
        csv.to_str().unwrap(),
        "--measure",
        "RR",
        "--method",
        "REML",
        "--test",
        "knha",
        "--mods",
        formula,
    ]);
    assert!(r.ok, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.trim_start().starts_with("estimate"))
        .expect("a coefficient table");
    let rows = lines[head + 1..]
        .iter()
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let mut w = l.split_whitespace().map(str::to_string);
            let name = w.next().unwrap();
            let mut v: Vec<String> = w.collect();
            // "< .0001" is two words.
            if v.len() == 7 {
                let p = format!("{} {}", v[3], v[4]);
                v.splice(3..5, [p]);
            }
            (name, v)
        })
        .collect();
    (rows, r.stdout)
}

/// Issue 15 item 5: a meta-regression in the report is a coefficient table with the numbers of
/// `evident pool --mods` (checked against metafor by the corpus), the QM and QE tests, R², a
/// bubble plot per numeric moderator, a Results sentence; the index shows the model's summary.
#[test]
fn a_meta_regression_gets_tables_bubble_plots_and_its_own_index_row() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let bcg = format!("{}/bcg.csv", data_dir());
    std::fs::copy(&bcg, input.join("bcg.csv")).unwrap();
    let mut manifest = String::new();
    for (name, mods, extra) in [
        (
            "lat",
            "\"ablat\"",
            "xlab = { ablat = \"Absolute <latitude>\" }\n",
        ),
        ("latyear", "\"ablat\", \"year\"", ""),
        ("alloc", "\"alloc\"", "xlab = { ablat = \"x\" }\n"),
        ("missing", "\"no_such_column\"", ""),
    ] {
        manifest.push_str(&format!(
            "[[analysis]]\nname = \"{name}\"\nfile = \"bcg.csv\"\nmeasure = \"RR\"\nmods = [{mods}]\n{extra}\n"
        ));
    }
    std::fs::write(input.join("evident.toml"), manifest).unwrap();
    let out = dir.path().join("out");
    let r = report(&input, &out);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
    let minus = |s: &str| s.replace('-', "−").replace('<', "&lt;");
    for (dir, formula, bubbles) in [
        ("lat", "ablat", &["ablat"][..]),
        ("latyear", "ablat + year", &["ablat", "year"][..]),
        ("alloc", "alloc", &[][..]),
    ] {
        let page = read(&format!("{dir}/index.html"));
        let (rows, text) = pool_mods(Path::new(&bcg), formula);
        for (name, v) in &rows {
            let cells: String = v[..4]
                .iter()
                .map(|c| format!("<td class=\"num\">{}</td>", minus(c)))
                .collect();
            let want = format!(
                "<tr><td><code>{name}</code></td>{cells}<td class=\"num\">[{}, {}]</td>",
                minus(&v[4]),
                minus(&v[5])
            );
            assert!(page.contains(&want), "{dir}: no row {want}");
        }
        // QM, QE, residual I², H² and R² as `pool --mods` prints them.
        let grab = |prefix: &str| {
            let l = text.lines().find(|l| l.starts_with(prefix)).unwrap();
            l[prefix.len()..].to_string()
        };
        let qm = grab("Test of moderators (");
        let qm = qm.split_once("): ").unwrap().1.split_once(", p").unwrap().0;
        assert!(
            page.contains(&format!("<td class=\"num\">{qm}</td>")),
            "{dir}: {qm}"
        );
        let qe = grab("Residual heterogeneity: ");
        let qe = qe.split_once(", p").unwrap().0;
        assert!(
            page.contains(&format!("<td class=\"num\">{qe}</td>")),
            "{dir}: {qe}"
        );
        let i2 = grab("Residual I^2 = ");
        let (i2, h2) = i2.split_once("; H^2 = ").unwrap();
        assert!(
            page.contains(&format!("<td class=\"num\">{i2}</td>")),
            "{dir}: {i2}"
        );
        assert!(
            page.contains(&format!("<td class=\"num\">{h2}</td>")),
            "{dir}: {h2}"
        );
        let r2 = grab("R^2 (heterogeneity accounted for) = ");
        assert!(
            page.contains(&format!("<td class=\"num\">{r2}</td>")),
            "{dir}: {r2}"
        );
        let tau2 = grab("Residual tau^2 = ");
        let tau2 = minus(
            &tau2
                .replace(", 95% CI", "; 95% CI")
                .replace(" (Q-profile)", ""),
        );
        assert!(page.contains(&tau2), "{dir}: {tau2}");
        // No dump of CLI text (the folded R code aside); a Results sentence instead.
        let without_code = match page.split_once("<details class=\"r-code\">") {
            Some((a, b)) => format!("{a}{}", b.split_once("</details>").map_or("", |x| x.1)),
            None => page.clone(),
        };
        assert!(!without_code.contains("<pre>"), "{dir}");
        assert!(
            page.contains("meta-regression of 13 studies, the coefficient"),
            "{dir}"
        );
        // One inline bubble plot and one file per numeric moderator; none for the factor.
        assert_eq!(
            page.matches("<svg class=\"bubble\"").count(),
            bubbles.len(),
            "{dir}"
        );
        for m in bubbles {
            let svg = read(&format!("{dir}/bubble_{m}.svg"));
            assert!(
                svg.starts_with("<?xml") || svg.starts_with("<svg"),
                "{dir}/{m}"
            );
        }
        // metareg.json is `pool --mods --json`.
        let json = evident([
            "pool",
            &bcg,
            "--measure",
            "RR",
            "--method",
            "REML",
            "--test",
            "knha",
            "--mods",
            formula,
            "--json",
        ]);
        let a: serde_json::Value =
            serde_json::from_str(&read(&format!("{dir}/metareg.json"))).unwrap();
        let b: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        assert_eq!(a, b, "{dir}/metareg.json");
        let md = read(&format!("{dir}/summary.md"));
        assert!(md.contains("## Meta-regression on "), "{dir}");
    }
    let alloc = read("alloc/index.html");
    assert!(alloc.contains("alloc is categorical"));
    // The manifest's xlab labels the bubble plot's axis (escaped); one naming no plot is a caution.
    assert!(read("lat/bubble_ablat.svg").contains("\nAbsolute &lt;latitude&gt;\n</text>"));
    assert!(alloc.contains("xlab names &#39;ablat&#39;, which has no bubble plot here"));
    assert!(alloc.contains("Reference level: alloc = alternate"));
    let latyear = read("latyear/index.html");
    assert!(latyear.contains("the other moderators held at their means"));
    // The index: the model's own summary, not the intercept-only estimate.
    let lat = read("lat/index.html");
    let pooled = lat
        .split_once("<strong>Pooled (random effects)</strong>")
        .unwrap()
        .1
        .split_once("<strong>")
        .unwrap()
        .1
        .split_once("</strong>")
        .unwrap()
        .0
        .to_string();
    let index = read("index.html");
    let row = |name: &str| {
        index
            .lines()
            .find(|l| l.contains(&format!("href=\"{name}/index.html\"")))
            .unwrap()
            .to_string()
    };
    let (rows, _) = pool_mods(Path::new(&bcg), "ablat");
    let slope = &rows[1].1;
    let want = format!(
        "Meta-regression: ablat {} [{}, {}] per unit (log RR), p = 0.005; R² = 76%",
        minus(&slope[0]),
        minus(&slope[4]),
        minus(&slope[5])
    );
    assert!(row("lat").contains(&want), "{}", row("lat"));
    assert!(row("lat").contains("68% residual"), "{}", row("lat"));
    assert!(!row("lat").contains(&pooled), "{pooled} in {}", row("lat"));
    assert!(row("latyear").contains("Meta-regression on ablat + year: F(2, 10) = 4.96"));
    let md = read("index.md");
    assert!(
        md.contains(&want.replace('[', "\\[").replace(']', "\\]")),
        "{md}"
    );
    // A model that cannot be fitted: the reason on the page, a flag in the index.
    let missing = read("missing/index.html");
    assert!(missing.contains("not computed") && missing.contains("no_such_column"));
    assert!(row("missing").contains("meta-regression not fitted"));
    assert!(!out.join("missing/metareg.json").exists());
}

/// With k ≥ 10 the small-study section sets PET-PEESE and the 3PSM (the library's
/// `three_psm`, whose `selmodel` matches metafor in the corpus) beside trim-and-fill, and says
/// whether the adjusted estimates agree: bcg's disagree (PET-PEESE's interval includes no
/// effect), those of a symmetric set of significant studies agree.
#[test]
fn the_bias_section_compares_the_adjusted_estimates() {
    use evident::data::{read_studies, ColumnMap, CsvOptions};
    use evident::effect::{EffectSet, EscalcOptions};
    let dir = tempfile::tempdir().unwrap();
    let bcg = dir.path().join("bcg.csv");
    std::fs::copy(format!("{}/bcg.csv", data_dir()), &bcg).unwrap();
    let mut rows = String::from("study,yi,vi\n");
    let (y, v) = (
        [
            0.52, 0.47, 0.55, 0.45, 0.5, 0.53, 0.48, 0.51, 0.46, 0.49, 0.54, 0.5, 0.3, 0.6,
        ],
        [
            0.01, 0.02, 0.03, 0.015, 0.025, 0.012, 0.018, 0.022, 0.028, 0.011, 0.016, 0.02, 0.09,
            0.1,
        ],
    );
    for i in 0..y.len() {
        rows.push_str(&format!("S{},{},{}\n", i + 1, y[i], v[i]));
    }
    let sym = dir.path().join("sym.csv");
    std::fs::write(&sym, rows).unwrap();
    for (csv, measure, says) in [
        (&bcg, "RR", "The adjusted estimates disagree: the intervals of trim-and-fill and the 3PSM lie below no effect, while the interval of PET-PEESE includes no effect (the pooled one lies below no effect)"),
        (&sym, "GEN", "The estimates adjusted by trim-and-fill, PET-PEESE and the 3PSM agree with the pooled estimate: every confidence interval lies above no effect, as the pooled one does."),
    ] {
        let stem = csv.file_stem().unwrap().to_str().unwrap();
        let input = dir.path().join(format!("in_{stem}"));
        std::fs::create_dir(&input).unwrap();
        std::fs::copy(csv, input.join(format!("{stem}.csv"))).unwrap();
        let toml = format!("[[analysis]]\nname = \"{stem}\"\nfile = \"{stem}.csv\"\nmeasure = \"{measure}\"\n");
        std::fs::write(input.join("evident.toml"), toml).unwrap();
        let out = dir.path().join(format!("out_{stem}"));
        let run = report(&input, &out);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let page = std::fs::read_to_string(out.join(stem).join("index.html")).unwrap();
        assert!(page.contains(says), "{measure}: {says}");
        let studies = read_studies(csv, &CsvOptions::default(), &ColumnMap::new()).unwrap();
        let m = measure.parse().unwrap();
        let set = EffectSet::from_studies(&studies, m, &EscalcOptions::default()).unwrap();
        let s = evident::bias::three_psm(&set, &evident::model::RmaOptions::default()).unwrap();
        let b = |x: f64| format!("{:.2}", if measure == "RR" { x.exp() } else { x });
        let row = format!(
            "<td>Selection model (3PSM)</td><td>adjusted {} {} [{}, {}]",
            if measure == "RR" { "RR" } else { "Effect" },
            b(s.estimate),
            b(s.ci_lb),
            b(s.ci_ub)
        );
        assert!(page.contains(&row), "{row}");
    }
}
