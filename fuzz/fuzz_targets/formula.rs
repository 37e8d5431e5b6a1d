//! Bytes → `Formula::parse` → model matrix on a small fixed effect set (numeric, text and
//! partly missing columns): a formula or a structured error, never a panic, hang or blow-up.
#![no_main]

use evident::data::{Moderator, Value};
use evident::effect::EffectSet;
use evident::moderators::{Formula, Reference};
use evident::{Measure, Scale};
use libfuzzer_sys::fuzz_target;

fn effects() -> EffectSet {
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

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Formula::parse(text) {
        Ok(f) => {
            let set = effects();
            for refs in [vec![], vec![Reference::parse("a"), Reference::parse("g=b")]] {
                match f.clone().with_references(refs).model_matrix(&set) {
                    Ok(mm) => {
                        assert_eq!(mm.names.len(), mm.x.ncols());
                        assert_eq!(mm.used.len(), mm.x.nrows());
                        assert!(mm.x.iter().all(|v| v.is_finite()));
                    }
                    Err(e) => assert!(!e.to_string().is_empty()),
                }
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty() && msg.len() < 2000, "{msg}");
        }
    }
});
