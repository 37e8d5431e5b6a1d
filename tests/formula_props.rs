//! The formula parser under random input (stable-Rust counterpart of the `formula` cargo-fuzz
//! target in `fuzz/`): token soups of the formula language, arbitrary text, deep nesting and
//! long crossings must give a formula or a structured error, never a panic, a stack overflow,
//! or a blow-up in memory; a model matrix built from a parsed formula is finite and consistent.

use evident::data::{Moderator, Value};
use evident::effect::EffectSet;
use evident::moderators::{Formula, Reference};
use evident::{Measure, Scale};
use proptest::prelude::*;

/// The fuzz target's effect set: numeric, text, one-level and partly missing columns.
pub fn effects() -> EffectSet {
    let k = 8;
    let mut s = EffectSet::from_yi_vi(
        (0..k).map(|i| 0.1 * i as f64 - 0.3).collect(),
        vec![0.05; k],
        Measure::GEN,
        Scale::Identity,
    );
    let num = |v: &[f64]| v.iter().map(|&x| Value::Number(x)).collect::<Vec<_>>();
    let txt = |v: &[&str]| v.iter().map(|&x| Value::Text(x.into())).collect::<Vec<_>>();
    let m = |name: &str, values: Vec<Value>, numeric: bool| Moderator {
        name: name.into(),
        values,
        numeric,
    };
    let mut n = num(&[1., 0., -2., 3., 1e300, 5., 0.5, 2.]);
    n[3] = Value::Missing;
    s.moderators = vec![
        m("a", num(&[1., 2., 3., 4., 5., 6., 7., 8.]), true),
        m("x", num(&[-1., 0., 1., 2., -3., 0.25, 9., 4.]), true),
        m("g", txt(&["P", "a", "b", "P", "a", "b", "A", "A"]), false),
        m("one", txt(&["u"; 8]), false),
        m("n", n, true),
    ];
    s
}

/// The fuzz target's invariant.
pub fn check(text: &str, set: &EffectSet) {
    match Formula::parse(text) {
        Ok(f) => {
            for refs in [vec![], vec![Reference::parse("a"), Reference::parse("g=b")]] {
                match f.clone().with_references(refs).model_matrix(set) {
                    Ok(mm) => {
                        assert_eq!(mm.names.len(), mm.x.ncols(), "{text}");
                        assert_eq!(mm.used.len(), mm.x.nrows(), "{text}");
                        assert!(mm.x.iter().all(|v| v.is_finite()), "{text}");
                    }
                    Err(e) => assert!(!e.to_string().is_empty(), "{text}"),
                }
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty() && msg.len() < 2000, "{text}: {msg}");
        }
    }
}

const TOKENS: &[&str] = &[
    "a",
    "x",
    "g",
    "n",
    "one",
    "zz",
    "factor(",
    "as.factor(",
    "relevel(",
    "I(",
    "log(",
    "exp(",
    "sqrt(",
    "foo(",
    ")",
    "(",
    "+",
    "-",
    "*",
    ":",
    "^",
    "/",
    ",",
    "=",
    "\"P\"",
    "'b'",
    "ref",
    "0",
    "1",
    "2.5",
    "1e3",
    ".5",
    "1e",
    "~",
    " ",
    "`a`",
    "`",
    "\"",
    "é",
    "\u{0}",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.concat())
}

fn nested() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            prop::sample::select(&["(", "I(", "log(", "-", "factor("][..]),
            0..400,
        ),
        soup(),
    )
        .prop_map(|(open, core)| {
            let close = ")".repeat(open.iter().filter(|o| o.ends_with('(')).count());
            format!("{}{core}{close}", open.concat())
        })
}

/// 2000 cases by default; `FORMULA_FUZZ_CASES=N` runs longer (a fuzzing session on stable).
fn cases() -> u32 {
    std::env::var("FORMULA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn token_soups_never_panic(s in soup()) {
        check(&s, &effects());
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,60}") {
        check(&s, &effects());
    }

    #[test]
    fn deep_nesting_never_overflows(s in nested()) {
        check(&s, &effects());
    }

    #[test]
    fn long_arithmetic_is_bounded(
        n in 0usize..3000,
        piece in prop::sample::select(&["-", "+", "^-x", " + x", "*2", "/x", "^2"][..]),
        wrap in prop::sample::select(&["I", "log", "exp", "sqrt"][..]),
    ) {
        check(&format!("{wrap}(x{})", piece.repeat(n)), &effects());
        check(&format!("{wrap}({}x)", piece.repeat(n)), &effects());
    }

    #[test]
    fn long_crossings_are_bounded(n in 1usize..40, op in prop::sample::select(&["*", ":", "+"][..])) {
        let names: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
        check(&names.join(op), &effects());
    }
}
