//! Bias and sensitivity analyses on metadat data sets the corpus does not use, against metafor
//! 3.8-1: `tests/fixtures/bias_unseen/gen.R` wrote the CSVs and `expected.json` (5 methods ×
//! z/knha × 6 data sets, up to k = 81, so exact Kendall beyond n = 50 too).

use evident::bias::{ranktest, regtest, trimfill, Estimator, Predictor, RegModel};
use evident::data::{read_studies, ColumnMap, CsvOptions};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::Method;
use evident::model::RmaOptions;
use evident::model::Test;
use evident::sensitivity::{cumul, influence, leave1out};
use evident::Measure;
use serde_json::Value;

mod common;
use common::check::{fixture, fixture_expected, Check};

#[test]
fn bias_and_sensitivity_match_metafor_on_unseen_data() {
    let dir = fixture("bias_unseen");
    let exp = fixture_expected("bias_unseen");
    let mut c = Check::with_atol(1e-10);
    for (key, e) in exp.as_object().unwrap() {
        let file = dir.join(format!("{}.csv", e["file"].as_str().unwrap()));
        let studies = read_studies(&file, &CsvOptions::default(), &ColumnMap::new()).unwrap();
        let set =
            EffectSet::from_studies(&studies, Measure::GEN, &EscalcOptions::default()).unwrap();
        let method: Method = e["method"].as_str().unwrap().parse().unwrap();
        let test: Test = e["test"].as_str().unwrap().parse().unwrap();
        let o = RmaOptions {
            method,
            test,
            ..RmaOptions::default()
        };
        // PM carries metafor's uniroot tolerance; everything else is Fisher scoring or closed form.
        let rtol = if method == Method::PM { 1e-6 } else { 1e-7 };

        for (name, model) in [("regtest", RegModel::Rma), ("regtest_lm", RegModel::Lm)] {
            let r = regtest(&set, &o, model, Predictor::Sei, None).unwrap();
            let x = &e[name];
            let l = r.limit.unwrap();
            c.num(&format!("{key} {name} stat"), &x["stat"], r.stat, rtol);
            c.num(&format!("{key} {name} pval"), &x["pval"], r.pval, rtol);
            c.num(&format!("{key} {name} est"), &x["est"], l.estimate, rtol);
            c.num(&format!("{key} {name} lb"), &x["lb"], l.ci_lb, rtol);
            c.num(&format!("{key} {name} ub"), &x["ub"], l.ci_ub, rtol);
        }
        let r = ranktest(&set).unwrap();
        c.num(&format!("{key} tau"), &e["ranktest"]["tau"], r.tau, 1e-10);
        c.num(
            &format!("{key} rank p"),
            &e["ranktest"]["pval"],
            r.pval,
            1e-8,
        );

        match (trimfill(&set, &o, Estimator::L0, None), &e["trimfill"]) {
            (Err(_), Value::Null) => {}
            (Ok(t), x) if !x.is_null() => {
                if x["k0"].as_u64() != Some(t.k0 as u64) || x["side"] != t.side.name() {
                    c.misses.push(format!("{key} trimfill k0/side: {x}"));
                }
                c.num(&format!("{key} tf se_k0"), &x["se_k0"], t.se_k0, rtol);
                c.num(&format!("{key} tf est"), &x["est"], t.fit.estimate, rtol);
                c.num(&format!("{key} tf se"), &x["se"], t.fit.se, rtol);
                c.num(&format!("{key} tf tau2"), &x["tau2"], t.fit.tau2, rtol);
            }
            (got, x) => c.misses.push(format!(
                "{key} trimfill: expected {x}, got ok = {}",
                got.is_ok()
            )),
        }

        let col = |s: &evident::sensitivity::RefitSeries,
                   f: fn(&evident::sensitivity::Refit) -> f64| {
            s.fits
                .iter()
                .map(|r| r.as_ref().map_or(f64::NAN, f))
                .collect::<Vec<f64>>()
        };
        let l = leave1out(&set, &o).unwrap();
        let x = &e["l1o"];
        c.arr(
            &format!("{key} l1o est"),
            &x["est"],
            &col(&l, |r| r.estimate),
            rtol,
        );
        c.arr(&format!("{key} l1o se"), &x["se"], &col(&l, |r| r.se), rtol);
        c.arr(
            &format!("{key} l1o pval"),
            &x["pval"],
            &col(&l, |r| r.pval),
            rtol,
        );
        c.arr(&format!("{key} l1o Q"), &x["Q"], &col(&l, |r| r.q), rtol);
        if !x["tau2"].is_null() {
            c.arr(
                &format!("{key} l1o tau2"),
                &x["tau2"],
                &col(&l, |r| r.tau2),
                rtol,
            );
        }
        let order: Vec<usize> = (0..set.k()).collect();
        let cu = cumul(&set, &o, &order).unwrap();
        let x = &e["cumul"];
        c.arr(
            &format!("{key} cumul est"),
            &x["est"],
            &col(&cu, |r| r.estimate),
            rtol,
        );
        c.arr(
            &format!("{key} cumul se"),
            &x["se"],
            &col(&cu, |r| r.se),
            rtol,
        );
        c.arr(
            &format!("{key} cumul pval"),
            &x["pval"],
            &col(&cu, |r| r.pval),
            rtol,
        );

        let inf = influence(&set, &o).unwrap();
        let x = &e["infl"];
        c.arr(
            &format!("{key} rstudent"),
            &x["rstudent"],
            &inf.rstudent,
            rtol,
        );
        c.arr(&format!("{key} dffits"), &x["dffits"], &inf.dffits, rtol);
        c.arr(&format!("{key} cooks_d"), &x["cook"], &inf.cooks_d, rtol);
        c.arr(&format!("{key} cov_r"), &x["covr"], &inf.cov_r, rtol);
        c.arr(&format!("{key} dfbetas"), &x["dfbetas"], &inf.dfbetas, rtol);
        c.arr(&format!("{key} hat"), &x["hat"], &inf.hat, rtol);
        let flags: Vec<Option<bool>> = x["infl"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool())
            .collect();
        if flags != inf.is_infl {
            c.misses.push(format!("{key} is_infl"));
        }
    }
    c.done(10_001);
}
