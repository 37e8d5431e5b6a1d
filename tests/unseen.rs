//! `evident pool --json` on metadat datasets outside the conformance corpus, against metafor 3.8-1.
//! The CSVs were written from metadat 1.2-0 by the R code quoted with each case; the expected
//! numbers are metafor's, printed with sprintf("%.15g").

mod common;

use common::cli::evident;
use common::ATOL;
use serde_json::Value;

fn pool(file: &str, args: &[&str]) -> Value {
    let path = format!("{}/tests/unseen/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut a = vec!["pool", path.as_str(), "--json"];
    a.extend_from_slice(args);
    let out = evident(&a);
    assert!(out.ok, "{}", out.stderr);
    serde_json::from_slice(&out.stdout_bytes).unwrap()
}

fn check(got: &Value, keys: &[&str], want: &[f64]) {
    for (k, w) in keys.iter().zip(want) {
        let g = got[*k].as_f64().unwrap_or_else(|| panic!("{k} missing"));
        // 15 printed digits; the Q-profile bounds carry uniroot's tolerance as metafor's do.
        assert!(
            (g - w).abs() <= ATOL + 1e-11 * w.abs(),
            "{k}: got {g}, metafor {w}"
        );
    }
}

const RMA_KEYS: [&str; 8] = [
    "estimate",
    "se",
    "tau2",
    "Q",
    "I2",
    "tau2_ci_lb",
    "tau2_ci_ub",
    "pi_lb",
];

#[test]
fn curtis1998_smd_pm_knha() {
    // d <- dat.curtis1998; write.csv(d[,c("id","m1i","sd1i","n1i","m2i","sd2i","n2i")], "curtis.csv", row.names=FALSE)
    // r <- rma(measure="SMD", m1i=m1i,sd1i=sd1i,n1i=n1i,m2i=m2i,sd2i=sd2i,n2i=n2i,data=d,method="PM",test="knha")
    // c(r$beta, r$se, r$tau2, r$QE, r$I2, confint(r)$random[1,2:3], predict(r)$pi.lb)
    let got = pool(
        "curtis.csv",
        &["--measure", "SMD", "--method", "PM", "--test", "knha"],
    );
    check(
        &got,
        &RMA_KEYS,
        &[
            1.32624238668347,
            0.131009565599378,
            1.14832137578413,
            260.745159592339,
            77.9351170637495,
            0.680595028209846,
            1.88852301157884,
            -0.81534649279169,
        ],
    );
}

#[test]
fn egger2001_or_reml_and_mh_rr() {
    // d <- dat.egger2001; write.csv(d[,c("study","ai","n1i","ci","n2i")], "egger.csv", row.names=FALSE)
    // r <- rma(measure="OR", ai=ai,n1i=n1i,ci=ci,n2i=n2i,data=d,method="REML")
    let got = pool(
        "egger.csv",
        &["--measure", "OR", "--method", "REML", "--test", "z"],
    );
    check(
        &got,
        &RMA_KEYS,
        &[
            -0.766589184734149,
            0.211800817421342,
            0.29263638271093,
            47.0593477569866,
            73.640095760032,
            0.030921573704823,
            0.875792082030727,
            -1.90521856559231,
        ],
    );
    // r <- rma.mh(measure="RR", ai=ai,n1i=n1i,ci=ci,n2i=n2i,data=d); c(r$beta, r$se, r$QE, r$I2)
    let got = pool("egger.csv", &["--measure", "RR", "--method", "MH"]);
    check(
        &got,
        &["estimate", "se", "Q", "I2"],
        &[
            0.00562414491043808,
            0.0280649525778429,
            45.1709321918729,
            66.7928039733951,
        ],
    );
}

#[test]
fn raudenbush1985_eb_knha() {
    // d <- dat.raudenbush1985; write.csv(d[,c("study","yi","vi")], "raud.csv", row.names=FALSE)
    // r <- rma(yi,vi,data=d,method="EB",test="knha")
    let got = pool("raud.csv", &["--method", "EB", "--test", "knha"]);
    check(
        &got,
        &RMA_KEYS,
        &[
            0.103957396410238,
            0.068208512200572,
            0.0517742691621967,
            35.8295362995928,
            66.4406423584174,
            0.00585504480730683,
            0.197725480221774,
            -0.395101898828543,
        ],
    );
}
