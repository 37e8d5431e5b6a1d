//! The `evident.toml` manifest: which analyses a report holds and how each is run.
//!
//! ```toml
//! title = "Combination immunosuppression"     # optional title of the report's index
//! preset = "revman5"                           # optional default preset of every analysis
//! layout = "revman"                            # optional default forest layout
//!
//! [[analysis]]
//! name = "bcg_or"                              # directory name (sanitised); default: file stem
//! file = "bcg.csv"                             # relative to the manifest's directory
//! sheet = "Data"                               # for a workbook (.xlsx, .xls, .ods): default first
//! measure = "OR"                               # default: by data type
//! method = "REML"                              # τ² estimator (FE, DL, REML, PM, ...), MH or Peto
//! preset = "revman5"                           # cochrane (default), metafor or revman5
//! test = "knha"                                # z, knha or adhoc
//! by = "alloc"                                 # subgroup column
//! mods = ["ablat"]                             # meta-regression moderators
//! xlab = { ablat = "Absolute latitude (°)" }   # bubble plots' x-axis labels
//! labels = ["Favours vaccine", "Favours control"]
//! title = "BCG vaccine and tuberculosis"
//! direction = "lower"                          # which side of no effect is favourable
//! note = "A caution shown on the page"
//! exclude = "reason"                           # list as skipped with this reason
//! layout = "revman"                            # forest layout: standard, or revman (RevMan 5's;
//!                                              # the default under preset = "revman5")
//! arms = ["Tacrolimus", "Control"]             # or "Tacrolimus,Control": the arms' names
//! both_models = true                           # common-effect and random-effects diamonds
//! width = "170mm"                              # forest size: mm, cm, in, pt or px
//! height = "120mm"
//! font_size = 8                                # body font of the forest plot, in points
//! ```
//!
//! The top-level `preset` and `layout` apply to every analysis that does not set its own (and
//! to the CSV files of the manifest's directory that it does not list).

use crate::error::{Error, Location, Result};
use crate::render::plot::forest::ForestLayout;
use serde::Deserialize;

pub use crate::render::html::analysis::{AnalysisConfig, Direction};
use std::path::Path;

/// The file name a directory's manifest has.
pub const MANIFEST_NAME: &str = "evident.toml";

/// A whole manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Title of the report's index page.
    pub title: Option<String>,
    /// The preset of the analyses that set none.
    pub preset: Option<String>,
    /// The forest layout of the analyses that set none.
    pub layout: Option<ForestLayout>,
    /// The analyses, in the order they are listed (the defaults above applied).
    #[serde(default)]
    pub analysis: Vec<AnalysisConfig>,
}

/// [`Manifest`] as read, with where each analysis sits in the text.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    title: Option<String>,
    preset: Option<toml::Spanned<String>>,
    layout: Option<ForestLayout>,
    #[serde(default)]
    analysis: Vec<toml::Spanned<AnalysisConfig>>,
}

/// The 1-based line of byte `offset` in `text` (clamped to the text).
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// The line whose key (before `=`, or inside a `[table]` header) has the most dots outside
/// quotes: where an error TOML reports without a position, its key recursion limit, lies.
fn longest_key_line(text: &str) -> usize {
    let dots = |line: &str| {
        let line = line.trim_start();
        let (body, end) = match line.strip_prefix('[') {
            Some(rest) => (rest, ']'),
            None => (line, '='),
        };
        let (mut n, mut quote) = (0, None);
        for c in body.chars() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), _) if c == q => quote = None,
                (None, '.') => n += 1,
                (None, c) if c == end || c == '#' => break,
                _ => {}
            }
        }
        n
    };
    text.split('\n')
        .enumerate()
        .max_by_key(|&(i, l)| (dots(l), std::cmp::Reverse(i)))
        .map_or(1, |(i, _)| i + 1)
}

/// The line of the key a message names in backticks (`` `tau2` must … ``), looked for from the
/// analysis's line `from` to the next table header.
fn key_line(text: &str, from: usize, message: &str) -> Option<usize> {
    let key = message.split('`').nth(1)?;
    text.split('\n')
        .enumerate()
        .skip(from)
        .take_while(|(_, l)| !l.trim_start().starts_with('['))
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|(i, _)| i + 1)
}

/// An [`Error::Input`] at `line` of the manifest `path`.
fn at(path: &Path, line: Option<usize>, message: String) -> Error {
    Error::input(
        Location {
            file: Some(path.to_path_buf()),
            line,
            column: None,
            sheet: None,
        },
        message,
    )
}

impl Manifest {
    /// Parses a manifest's text; errors are [`Error::Input`] naming `path` and the line (TOML's
    /// own message, without its multi-line excerpt of the text).
    pub fn parse(text: &str, path: &Path) -> Result<Manifest> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            // TOML gives no position for a key of 80 or more dotted parts (its recursion limit).
            let line = Some(
                e.span()
                    .map_or_else(|| longest_key_line(text), |s| line_of(text, s.start)),
            );
            let msg = e.message().trim().replace('\n', "; ");
            at(path, line, format!("not a valid manifest: {msg}"))
        })?;
        let preset = match raw.preset {
            Some(p) => {
                let line = line_of(text, p.span().start);
                let p = p.into_inner();
                if let Err(e) = p.parse::<crate::app::presets::Preset>() {
                    return Err(at(path, Some(line), e.to_string()));
                }
                Some(p)
            }
            None => None,
        };
        let defaults = Manifest {
            preset,
            layout: raw.layout,
            ..Manifest::default()
        };
        let mut analysis = Vec::with_capacity(raw.analysis.len());
        for (i, a) in raw.analysis.into_iter().enumerate() {
            let line = line_of(text, a.span().start);
            let mut a = a.into_inner();
            defaults.apply_defaults(&mut a);
            if a.file.is_none() {
                return Err(at(
                    path,
                    Some(line),
                    format!("analysis {} has no `file`", i + 1),
                ));
            }
            // Every setting is checked here, so that a bad value stops the run with its line
            // instead of failing (or falling back) later.
            let checked = crate::app::options::options(&a)
                .and_then(|_| crate::app::options::escalc_options(&a))
                .and_then(|_| {
                    a.measure
                        .as_deref()
                        .map(str::parse::<crate::measure::Measure>)
                        .transpose()
                        .map_err(|e| Error::invalid(format!("`measure`: {e}")))
                });
            if let Err(e) = checked {
                let msg = e.to_string();
                let line = key_line(text, line, &msg).unwrap_or(line);
                return Err(at(path, Some(line), format!("analysis {}: {msg}", i + 1)));
            }
            analysis.push(a);
        }
        Ok(Manifest {
            title: raw.title,
            analysis,
            ..defaults
        })
    }

    /// Gives `cfg` the manifest's default preset and layout where it sets none.
    pub fn apply_defaults(&self, cfg: &mut AnalysisConfig) {
        if cfg.preset.is_none() {
            cfg.preset.clone_from(&self.preset);
        }
        if cfg.layout.is_none() {
            cfg.layout = self.layout;
        }
    }

    /// Reads and parses a manifest file.
    pub fn read(path: &Path) -> Result<Manifest> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            Error::invalid(format!(
                "{}: not a valid manifest: not UTF-8 text (invalid byte at offset {}); TOML \
                 files are UTF-8",
                path.display(),
                e.utf8_error().valid_up_to()
            ))
        })?;
        Manifest::parse(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_field_and_refuses_unknown_ones() {
        let m = Manifest::parse(
            r#"
title = "T"
[[analysis]]
name = "a"
file = "x.csv"
measure = "RR"
method = "DL"
test = "z"
level = 90
by = "g"
mods = ["ablat"]
labels = ["Favours A", "Favours B"]
direction = "lower"
note = "careful"
preset = "revman5"
"#,
            Path::new("evident.toml"),
        )
        .unwrap();
        let a = &m.analysis[0];
        assert_eq!(a.direction, Some(Direction::Lower));
        assert_eq!(a.labels.as_ref().unwrap()[1], "Favours B");
        assert_eq!(a.level.map(|l| l.percent()), Some(90.0));
        assert_eq!(a.preset.as_deref(), Some("revman5"));
        let line = |text: &str| match Manifest::parse(text, Path::new("m")) {
            Err(Error::Input { location, message }) => {
                assert_eq!(location.file.as_deref(), Some(Path::new("m")));
                assert!(!message.contains('\n'), "{message:?}");
                location.line
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(line("[[analysis]]\nfile='a'\nbogus=1"), Some(3));
        assert_eq!(line("title='t'\n\n[[analysis]]\nname='a'"), Some(3));
        assert_eq!(
            line("[[analysis]]\nfile='a'\n[[analysis]]\nfile='b'\nlevel='x'"),
            Some(5)
        );
        assert_eq!(line("title = ["), Some(1));
        assert_eq!(line("[[analysis]]\nfile='a'\n\nlevel=100"), Some(4));
        let m = Manifest::parse("[[analysis]]\nfile='a'\nlevel=0.9", Path::new("m")).unwrap();
        assert_eq!(m.analysis[0].level.map(|l| l.percent()), Some(90.0));
        assert_eq!(
            line("[[analysis]]\nfile='a'\n\n[[analysis]]\nfile='b'\npreset='rm5'"),
            Some(6)
        );
        // Found while fuzzing (a hostile input written for the manifest target): TOML's key
        // recursion limit comes without a position.
        let deep = format!("title = 'a.b'\n\n{} = 1\n", vec!["k"; 80].join("."));
        assert_eq!(line(&deep), Some(3));
        let deep = format!("\n\n[{}]\n", vec!["\"k\""; 200].join(" . "));
        assert_eq!(line(&deep), Some(3));
    }

    #[test]
    fn forest_keys_are_read_as_the_command_line_reads_them() {
        let m = Manifest::parse(
            "preset = 'revman5'\nlayout = 'revman'\n[[analysis]]\nfile = 'a.csv'\n\
             arms = ['Tacrolimus', ' Control ']\nboth_models = true\nwidth = '170mm'\n\
             height = 480\nfont_size = 8\n[[analysis]]\nfile = 'b.csv'\npreset = 'metafor'\n\
             layout = 'standard'\narms = 'A,B'\nfont_size = '7.5pt'\n",
            Path::new("m"),
        )
        .unwrap();
        let (a, b) = (&m.analysis[0], &m.analysis[1]);
        assert_eq!(a.preset.as_deref(), Some("revman5"));
        assert_eq!(a.layout, Some(ForestLayout::Revman));
        assert_eq!(a.arms.as_ref().unwrap().pair(), ("Tacrolimus", "Control"));
        assert!(a.both_models && !b.both_models);
        assert!((a.width.unwrap() - 170.0 * 96.0 / 25.4).abs() < 1e-9);
        assert_eq!((a.height, a.font_size), (Some(480.0), Some(8.0)));
        assert_eq!(b.preset.as_deref(), Some("metafor"));
        assert_eq!(b.layout, Some(ForestLayout::Standard));
        assert_eq!(b.arms.as_ref().unwrap().pair(), ("A", "B"));
        assert_eq!((b.width, b.font_size), (None, Some(7.5)));
        let mut other = AnalysisConfig::default();
        m.apply_defaults(&mut other);
        assert_eq!(other.preset.as_deref(), Some("revman5"));
        assert_eq!(other.layout, Some(ForestLayout::Revman));
        // Each bad value stops at its own line, the key and the reason named.
        let err = |text: &str| match Manifest::parse(text, Path::new("m")) {
            Err(Error::Input { location, message }) => (location.line, message),
            other => panic!("{other:?}"),
        };
        for (text, line, want) in [
            (
                "[[analysis]]\nfile='a'\n\nwidth='17furlongs'",
                4,
                "width: '17furlongs': unknown unit",
            ),
            (
                "[[analysis]]\nfile='a'\nheight='1mm'",
                3,
                "height: '1mm' is out of range",
            ),
            (
                "[[analysis]]\nfile='a'\nfont_size=3",
                3,
                "font_size: a font size of 3 pt is out of range",
            ),
            (
                "[[analysis]]\nfile='a'\nfont_size='big'",
                3,
                "font_size: 'big' is not a font size",
            ),
            (
                "[[analysis]]\nfile='a'\nwidth=true",
                3,
                "a number or a text",
            ),
            (
                "[[analysis]]\nfile='a'\nlayout='cochrane'",
                3,
                "unknown forest layout 'cochrane'",
            ),
            (
                "[[analysis]]\nfile='a'\narms='Tacrolimus'",
                3,
                "FIRST,SECOND",
            ),
            (
                "[[analysis]]\nfile='a'\narms=['A','B','C']",
                3,
                "a list of 3 names",
            ),
            (
                "[[analysis]]\nfile='a'\nboth_models='yes'",
                3,
                "expected a boolean",
            ),
            (
                "title='t'\npreset='rm5'\n[[analysis]]\nfile='a'",
                2,
                "unknown preset 'rm5'",
            ),
            (
                "layout='wide'\n[[analysis]]\nfile='a'",
                1,
                "unknown forest layout 'wide'",
            ),
        ] {
            let (l, msg) = err(text);
            assert_eq!(l, Some(line), "{text:?}: {msg}");
            assert!(msg.contains(want), "{text:?}: {msg}");
        }
    }

    /// Issue 16 item 10: the column mappings and `pool`'s options, each checked with its line.
    #[test]
    fn accepts_column_mappings_and_pool_options_with_their_checks() {
        let m = Manifest::parse(
            r#"
[[analysis]]
file = "x.csv"
col = { yi = "logOR", vi = "var" }
add = 0.25
to = "all"
drop00 = true
vtype = "UB"
pi = "riley"
tau2 = 0.1
tol = 1e-10
stepadj = 0.5
maxiter = 500
threshold = 1e-8
unweighted = true
"#,
            Path::new("evident.toml"),
        )
        .unwrap();
        let a = &m.analysis[0];
        assert_eq!(a.col.get("yi").map(String::as_str), Some("logOR"));
        assert_eq!(a.col.get("vi").map(String::as_str), Some("var"));
        let o = crate::app::options::options(a).unwrap();
        assert_eq!(o.pi_type, crate::model::PiType::Riley);
        assert_eq!(o.tau2_fixed, Some(0.1));
        assert_eq!((o.control.stepadj, o.control.maxiter), (0.5, 500));
        assert!(!o.weighted);
        let e = crate::app::options::escalc_options(a).unwrap();
        assert_eq!(
            (e.add, e.to, e.drop00),
            (0.25, crate::effect::AddTo::All, true)
        );
        let error = |body: &str| {
            let text = format!(
                "title = 't'
[[analysis]]
file = 'a.csv'
{body}
"
            );
            match Manifest::parse(&text, Path::new("m")) {
                Err(Error::Input { location, message }) => (location.line, message),
                other => panic!("{body}: {other:?}"),
            }
        };
        for (body, says) in [
            ("add = -1", "`add`"),
            ("to = 'sometimes'", "sometimes"),
            ("vtype = 'XX'", "XX"),
            ("pi = 'wide'", "wide"),
            ("tau2 = -0.1", "`tau2`"),
            ("tol = 0", "`tol`"),
            ("stepadj = 2", "`stepadj`"),
            ("threshold = -1", "threshold"),
            ("method = 'XYZ'", "XYZ"),
            ("test = 'q'", "'q'"),
            ("measure = 'ODDS'", "ODDS"),
            ("bogus = 1", "bogus"),
            ("col = 'yi=logOR'", "expected a map"),
        ] {
            let (line, message) = error(body);
            assert_eq!(line, Some(4), "{body}: {message}");
            assert!(message.contains(says), "{body}: {message}");
        }
    }

    /// Issue 16 item 10: every other option of `pool`, parsed into the one options type the
    /// command line builds too, and each bad value stopped at its line with its key.
    #[test]
    fn accepts_every_pool_option_with_its_line_and_key() {
        use crate::app::options::PoolOptions;
        let m = Manifest::parse(
            r#"
[[analysis]]
file = "x.csv"
mods = ["ablat", "factor(alloc)"]
reference = ["alloc=random"]
test_coefs = ["alloc"]
predict = [30, [40, 1, 0], "50, 0, 1"]
tau2_ci = "pl"
robust = "CR2"
cluster = "trial"
events_desirable = true
solver = "newton"
delimiter = ";"
decimal = ","
scale = "log"
allow_mixed_ratios = true
[[analysis]]
file = "y.csv"
by = "g"
common_tau2 = true
permutations = 100
seed = 7
method = "MH"
no_correct = true
[[analysis]]
file = "z.csv"
random = "~ 1 | district/school"
dfs = "contain"
[[analysis]]
file = "w.csv"
random = ["~ 1 | study", "~ 1 | es"]
struct = ["CS"]
cluster = "study"
rho = 0.6
obs = "outcome"
robust = "CR1"
[[analysis]]
file = "v.csv"
random = "~ 1 | study"
cluster = "study"
V_block = "v1,v2"
[[analysis]]
file = "u.csv"
reported = true
include_p_bounds = true
"#,
            Path::new("evident.toml"),
        )
        .unwrap();
        let o: Vec<PoolOptions> = m
            .analysis
            .iter()
            .map(|a| PoolOptions::from_config(a).unwrap())
            .collect();
        assert_eq!(o[0].mods.as_deref(), Some("ablat + factor(alloc)"));
        assert_eq!(o[0].reference, ["alloc=random"]);
        assert_eq!(o[0].test_coefs, ["alloc"]);
        assert_eq!(
            o[0].predict,
            [vec![30.0], vec![40.0, 1.0, 0.0], vec![50.0, 0.0, 1.0]]
        );
        assert_eq!((o[1].permutations, o[1].seed), (Some(100), Some(7)));
        assert_eq!(
            o[0].tau2_ci,
            crate::model::heterogeneity::Tau2CiType::ProfileLikelihood
        );
        assert_eq!(o[0].robust, Some(crate::robust::RobustType::CR2));
        assert_eq!(o[0].cluster.as_deref(), Some("trial"));
        assert!(o[0].events_desirable && o[0].escalc.allow_mixed_ratios);
        assert_eq!(o[0].solver, Some(crate::model::Solver::Newton));
        assert_eq!(
            (o[0].delimiter, o[0].decimal_comma),
            (Some(b';'), Some(true))
        );
        assert_eq!(o[0].scale, Some(crate::measure::Scale::Log));
        assert!(o[1].common_tau2 && o[1].no_correct);
        assert_eq!(o[2].multilevel.random, ["~ 1 | district/school"]);
        assert_eq!(o[2].multilevel.dfs, Some(crate::multilevel::Dfs::Contain));
        assert_eq!(o[3].multilevel.random.len(), 2);
        assert_eq!(
            o[3].multilevel.structure,
            [crate::multilevel::Structure::CS]
        );
        assert_eq!(
            (o[3].multilevel.rho, o[3].multilevel.obs.as_deref()),
            (Some(0.6), Some("outcome"))
        );
        assert_eq!(o[4].multilevel.v_block, ["v1", "v2"]);
        assert!(o[5].reported && o[5].include_p_bounds);
    }

    /// Issue 16 item 10: a bad value of any `pool` option stops the run at its line and key.
    #[test]
    fn stops_each_bad_pool_option_at_its_line_and_key() {
        let error = |body: &str| {
            let text = format!("title = 't'\n[[analysis]]\nfile = 'a.csv'\n{body}\n");
            match Manifest::parse(&text, Path::new("m")) {
                Err(Error::Input { location, message }) => (location.line, message),
                other => panic!("{body}: {other:?}"),
            }
        };
        for (body, line, says) in [
            (
                "solver = 'gradient'",
                4,
                "`solver`: unknown solver 'gradient'",
            ),
            ("tau2_ci = 'wide'", 4, "`tau2_ci`: unknown tau2 CI method"),
            ("robust = 'CR3'", 4, "`robust`"),
            (
                "delimiter = ';;'",
                4,
                "`delimiter`: must be a single ASCII character",
            ),
            ("decimal = ';'", 4, "`decimal`: must be '.' or ','"),
            ("scale = 'sqrt'", 4, "`scale`: unknown scale 'sqrt'"),
            ("dfs = 'many'\nrandom = '~ 1 | s'", 4, "`dfs`"),
            ("predict = ['x']", 4, "'x' is not a number"),
            ("predict = [30]", 4, "`predict` needs `mods`"),
            ("test_coefs = ['a']", 4, "`test_coefs` needs `mods`"),
            ("robust = 'CR1'", 4, "`robust` needs `cluster`"),
            ("common_tau2 = true", 4, "`common_tau2` needs `by`"),
            (
                "random = '~ 1 | s'\ncluster = 'c'\nobs = 'o'\nrho = 2",
                7,
                "`rho` must be a correlation",
            ),
            (
                "include_p_bounds = true",
                4,
                "`include_p_bounds` needs `reported`",
            ),
            ("random = 3", 4, "expected a text or a list of texts"),
            ("permutations = 0", 4, "`permutations` must be at least 1"),
            (
                "robust = 'CR1'\ncluster = 'c'\npermutations = 9",
                4,
                "`robust` cannot be used with `permutations`",
            ),
            ("maxiter = 0", 4, "`maxiter` must be at least 1"),
            ("control_risk = 1.5", 4, "`control_risk`"),
        ] {
            let (l, message) = error(body);
            assert_eq!(l, Some(line), "{body}: {message}");
            assert!(message.contains(says), "{body}: {message}");
        }
    }

    /// Issue 14 fuzzing, on stable Rust: random and mutated manifests never panic, and every
    /// error is an [`Error::Input`] naming the manifest and a line of the text, in one line.
    mod random {
        use super::*;
        use proptest::prelude::*;

        const BUNDLED: &str = include_str!("../../data/evident.toml");

        fn check(text: &str) -> std::result::Result<(), TestCaseError> {
            let path = Path::new("evident.toml");
            match Manifest::parse(text, path) {
                Ok(m) => prop_assert!(m.analysis.iter().all(|a| a.file.is_some())),
                Err(Error::Input { location, message }) => {
                    prop_assert_eq!(location.file.as_deref(), Some(path));
                    let line = location.line;
                    let lines = text.matches('\n').count() + 1;
                    prop_assert!(
                        line.is_some_and(|l| (1..=lines).contains(&l)),
                        "line {:?} of {}",
                        line,
                        lines
                    );
                    prop_assert!(!message.contains('\n'), "{:?}", message);
                }
                Err(e) => prop_assert!(false, "unstructured error: {e:?}"),
            }
            Ok(())
        }

        /// One edit of a text: (kind, position, length, inserted text).
        fn mutate(text: &str, edits: &[(u8, usize, usize, String)]) -> String {
            let mut t = text.as_bytes().to_vec();
            for (kind, at, len, ins) in edits {
                let at = at % (t.len() + 1);
                let end = (at + len).min(t.len());
                match kind % 4 {
                    0 => {
                        t.drain(at..end);
                    }
                    1 => {
                        t.splice(at..at, ins.bytes());
                    }
                    2 => {
                        t.splice(at..end, ins.bytes());
                    }
                    _ => {
                        let dup = t[at..end].to_vec();
                        t.splice(at..at, dup);
                    }
                }
            }
            String::from_utf8_lossy(&t).into_owned()
        }

        /// Pieces of TOML to splice in: brackets, quotes, keys of the manifest, values.
        fn piece() -> impl Strategy<Value = String> {
            prop_oneof![
                "[\\[\\]{}=\"'#,.\\n\\\\ ]{1,6}",
                "(name|file|measure|level|labels|mods|direction|exclude|title|analysis) = ",
                "(\"x\"|'''a\\nb'''|1e400|nan|-inf|0x1F|1979-05-27|true|\\[\\]|\\{\\})",
                "\\[\\[analysis\\]\\]\\n",
                "\\[?(k\\.){70,90}k\\]? = 1\\n",
                any::<String>(),
            ]
        }

        proptest! {
            // 2000 cases under `cargo test`; PROPTEST_CASES=N makes it a longer fuzzing run.
            #![proptest_config(ProptestConfig {
                cases: if std::env::var_os("PROPTEST_CASES").is_some() {
                    ProptestConfig::default().cases
                } else {
                    2000
                },
                ..ProptestConfig::default()
            })]

            #[test]
            fn mutated_bundled_manifests(
                edits in proptest::collection::vec(
                    (any::<u8>(), any::<usize>(), 0usize..40, piece()),
                    1..6,
                )
            ) {
                check(&mutate(BUNDLED, &edits))?;
            }

            #[test]
            fn random_text(parts in proptest::collection::vec(piece(), 0..30)) {
                check(&parts.concat())?;
            }
        }
    }
}
