//! Conformance dispatch for the `rma.mv` kind (tests/conformance/README_mv.md): a value passes
//! within the default rule of metafor's number or within the converged rule of the `converged`
//! block's (the exact optimum); the `converged` block itself is held to the converged rule.

use super::*;
use evident::multilevel::{confint_all, rma_mv, Dfs, MvOptions, MvProfile, SamplingCov};
use evident::render::json::mv_json;
use evident::Measure;
use serde_json::Value;

/// The corpus's options as the library's.
pub fn mv_options(opts: &Value) -> MvOptions {
    let strs = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let v = match &opts["V"] {
        Value::Object(o) if o.contains_key("vcalc") => {
            let c = &o["vcalc"];
            SamplingCov::Vcalc {
                cluster: c["cluster"].as_str().unwrap().into(),
                obs: c["obs"].as_str().unwrap().into(),
                rho: c["rho"].as_f64().unwrap(),
            }
        }
        Value::Object(o) => SamplingCov::Blocks {
            columns: strs(&o["blocks"]),
            cluster: o["cluster"].as_str().unwrap().into(),
        },
        _ => SamplingCov::Diag,
    };
    MvOptions {
        measure: opts["measure"]
            .as_str()
            .unwrap()
            .parse::<Measure>()
            .unwrap(),
        escalc: escalc_options(opts),
        random: strs(&opts["random"]),
        mods: opts["mods"].as_str().map(String::from),
        v,
        method: opts["method"].as_str().unwrap().parse().unwrap(),
        test: opts["test"].as_str().unwrap().parse().unwrap(),
        dfs: opts["dfs"]
            .as_str()
            .unwrap_or("residual")
            .parse::<Dfs>()
            .unwrap(),
        level: evident::model::Level::new(opts["level"].as_f64().unwrap_or(95.0)).unwrap(),
        sigma2: Vec::new(),
        structs: strs(&opts["struct"])
            .iter()
            .map(|s| s.parse().unwrap())
            .collect(),
        precision: None,
    }
}

/// The tolerance of a key against metafor's default number.
fn default_tol(key: &str, base: Tol) -> Tol {
    if key.ends_with("_precise") {
        PRECISE
    } else if CI_COMPONENTS
        .iter()
        .map(|c| format!("{c}_ci_"))
        .any(|c| key.starts_with(&c))
    {
        MV_CI_DEFAULT
    } else {
        key_tol(key, base)
    }
}

fn within(e: &Value, g: &Value, t: Tol) -> bool {
    match (e.as_f64(), g.as_f64()) {
        (Some(e), Some(g)) => (g - e).abs() <= t.atol + t.rtol * e.abs(),
        _ => e == g,
    }
}

/// `expected` (metafor's default) or `conv` (the exact optimum) must match `got`.
fn either(
    path: &str,
    key: &str,
    e: &Value,
    conv: Option<&Value>,
    g: Option<&Value>,
    base: Tol,
    misses: &mut Vec<String>,
) {
    let Some(g) = g else {
        return misses.push(format!("{path}: expected {e}, got nothing (key missing)"));
    };
    match (e, g) {
        (Value::Object(eo), Value::Object(_)) => {
            for (k, ev) in eo {
                either(
                    &format!("{path}.{k}"),
                    k,
                    ev,
                    conv.and_then(|c| c.get(k)),
                    g.get(k),
                    base,
                    misses,
                );
            }
        }
        (Value::Array(ea), Value::Array(ga)) => {
            if ea.len() != ga.len() {
                return misses.push(format!(
                    "{path}: expected {} entries, got {}",
                    ea.len(),
                    ga.len()
                ));
            }
            for (i, (ev, gv)) in ea.iter().zip(ga).enumerate() {
                let cv = conv.and_then(|c| c.get(i));
                either(&format!("{path}[{i}]"), key, ev, cv, Some(gv), base, misses);
            }
        }
        _ => {
            let ok = within(e, g, default_tol(key, base))
                || conv.is_some_and(|c| within(c, g, key_tol(key, MV_CONVERGED)));
            if !ok {
                let c = conv.map_or(String::from("none"), |c| c.to_string());
                misses.push(format!("{path}: expected {e} (converged {c}), got {g}"));
            }
        }
    }
}

/// Runs one `rma.mv` analysis and records every miss.
pub fn run(case: &Case, a: &Value, misses: &mut Vec<String>) {
    let id = a["id"].as_str().unwrap();
    let expected = &a["expected"];
    let path = format!("{} / {id}", case.name);
    let studies = studies(case);
    let fit = rma_mv(&studies, &mv_options(&a["options"]));
    if expected.get("error").is_some() {
        if let Ok(f) = fit {
            misses.push(format!(
                "{path}: metafor refused ({}), we fitted k = {}",
                expected["error"], f.k
            ));
        }
        return;
    }
    let fit = match fit {
        Ok(f) => f,
        Err(e) => return misses.push(format!("{path}: fit failed: {e}")),
    };
    let profiled = CI_COMPONENTS
        .iter()
        .any(|c| expected.get(format!("{c}_ci_lb")).is_some());
    let cis = if profiled {
        match confint_all(&fit, 1e-10) {
            Ok(c) => c,
            Err(e) => return misses.push(format!("{path}: profile CIs failed: {e}")),
        }
    } else {
        MvProfile::default()
    };
    let mut got = mv_json(&fit, &cis);
    copy_precise(&mut got);
    compare_fit(&path, expected, &got, misses);
}

/// The components with profile-likelihood CIs, by their JSON names.
pub const CI_COMPONENTS: [&str; 5] = ["sigma2", "tau2", "rho", "gamma2", "phi"];

/// CI bounds found to 1e-10 are the corpus's `_precise` bounds too: copies `<c>_ci_lb` to
/// `<c>_ci_lb_precise` (and ub).
pub fn copy_precise(got: &mut Value) {
    for c in CI_COMPONENTS {
        for side in ["lb", "ub"] {
            if let Some(v) = got.get(format!("{c}_ci_{side}")).cloned() {
                got[format!("{c}_ci_{side}_precise")] = v;
            }
        }
    }
}

/// Compares a fit's JSON with an analysis's `expected` block: every key within the default
/// rule of metafor's number or the converged rule of the `converged` block's, and the
/// `converged` block within the converged rule.
pub fn compare_fit(path: &str, expected: &Value, got: &Value, misses: &mut Vec<String>) {
    let conv = expected.get("converged");
    for (key, ev) in expected.as_object().unwrap() {
        if key == "converged" {
            for (ck, cv) in ev.as_object().unwrap() {
                if ck != "call" && ck != "warnings" {
                    either(
                        &format!("{path} / converged.{ck}"),
                        ck,
                        cv,
                        None,
                        got.get(ck),
                        MV_CONVERGED,
                        misses,
                    );
                }
            }
            continue;
        }
        let cv = conv.and_then(|c| c.get(key));
        either(
            &format!("{path} / {key}"),
            key,
            ev,
            cv,
            got.get(key),
            MV_DEFAULT,
            misses,
        );
    }
}
