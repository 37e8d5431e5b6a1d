#![allow(clippy::excessive_precision)]
//! Publication-bias and sensitivity settings the corpus does not cover, checked against R
//! (metafor 3.8-1); each expected value's R call is in the comment above it.

mod common;

use common::{ATOL, PVAL_RTOL, RTOL};
use evident::bias::{regtest, trimfill, Estimator, Predictor, RegModel, Side};
use evident::data::{read_studies, ColumnMap, CsvOptions};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::Method;
use evident::model::RmaOptions;
use evident::model::Test;
use evident::sensitivity::influence;
use evident::Measure;
use std::path::Path;

fn load(case: &str, measure: Measure) -> EffectSet {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/cases")
        .join(case)
        .join("input.csv");
    let s = read_studies(&p, &CsvOptions::default(), &ColumnMap::new()).unwrap();
    EffectSet::from_studies(&s, measure, &EscalcOptions::default()).unwrap()
}

fn close(got: f64, want: f64, rtol: f64) {
    assert!(
        (got - want).abs() <= ATOL + rtol * want.abs(),
        "got {got:e}, want {want:e}"
    );
}

fn opts(method: Method, test: Test) -> RmaOptions {
    RmaOptions {
        method,
        test,
        ..RmaOptions::default()
    }
}

// d <- read.csv("hackshaw1998_yi_vi/input.csv"); r <- rma(yi=yi, vi=vi, data=d, method="DL")
#[test]
fn trimfill_r0_and_q0_match_metafor() {
    let set = load("hackshaw1998_yi_vi", Measure::GEN);
    // t <- trimfill(r, estimator="R0"): k0 7, se.k0 4, p.k0 0.00390625, beta, se; side "left"
    let t = trimfill(&set, &opts(Method::DL, Test::Z), Estimator::R0, None).unwrap();
    assert_eq!((t.k0, t.side), (7, Side::Left));
    close(t.se_k0, 4.0, 1e-12);
    close(t.p_k0.unwrap(), 0.00390625, 1e-12);
    close(t.fit.estimate, 0.173923528441020520, RTOL);
    close(t.fit.se, 0.048701502664134373, RTOL);
    // t2 <- trimfill(r, side="right", estimator="Q0"): k0 0, se.k0, beta, se, tau2
    let t = trimfill(
        &set,
        &opts(Method::DL, Test::Z),
        Estimator::Q0,
        Some(Side::Right),
    )
    .unwrap();
    assert_eq!(t.k0, 0);
    close(t.se_k0, 2.383545896903916272, 1e-10);
    close(t.fit.estimate, 0.213888935683922254, RTOL);
    close(t.fit.se, 0.047122639437498823, RTOL);
    close(t.fit.tau2, 0.017036444317852836, RTOL);
}

// i <- influence(rma(yi=yi, vi=vi, data=d, method="REML", test="knha")) on hackshaw1998_yi_vi
#[test]
fn influence_under_knapp_hartung_matches_metafor() {
    let set = load("hackshaw1998_yi_vi", Measure::GEN);
    let inf = influence(&set, &opts(Method::REML, Test::Knha)).unwrap();
    // i$inf$rstudent[1:3]
    let rs = [
        -0.29474816575130836,
        0.70037132932322832,
        0.68697912959469465,
    ];
    // i$inf$dffits[1:3]
    let df = [
        -0.127022751391912492,
        0.137397948322427771,
        0.046096142330285188,
    ];
    // i$dfbs$intrcpt[1:3]
    let dfb = [
        -0.128620576862677277,
        0.137480175296190776,
        0.046110725773566175,
    ];
    // i$inf$cov.r[1:3]
    let cr = [1.1022723324255423, 1.0638866702888456, 1.0191337233483324];
    for i in 0..3 {
        close(inf.rstudent[i], rs[i], 1e-7);
        close(inf.dffits[i], df[i], 1e-7);
        close(inf.dfbetas[i], dfb[i], 1e-7);
        close(inf.cov_r[i], cr[i], 1e-7);
    }
    // which(i$is.infl): integer(0)
    assert!(inf.is_infl.iter().all(|x| *x == Some(false)));
}

// r <- rma(ai=ai,bi=bi,ci=ci,di=di,data=d,measure="OR",method="DL") on bcg_or; n <- ai+bi+ci+di
#[test]
fn regtest_variance_and_peters_predictors_match_metafor() {
    let set = load("bcg_or", Measure::OR);
    let o = opts(Method::DL, Test::Z);
    // g <- regtest(r, model="lm", predictor="vi"): zval, pval, est, ci.lb, ci.ub
    let g = regtest(&set, &o, RegModel::Lm, Predictor::Vi, None).unwrap();
    close(g.stat, -0.8831583841206825936, RTOL);
    close(g.pval, 0.3960418188249286153, PVAL_RTOL);
    let l = g.limit.unwrap();
    close(l.estimate, -0.3786144551207679121, RTOL);
    close(l.ci_lb, -0.7533360674092653975, RTOL);
    close(l.ci_ub, -0.0038928428322704267, RTOL);
    // p <- regtest(r, model="lm", predictor="ninv", ni=n)  (Peters' test)
    let n = [
        262., 609., 451., 26465., 10877., 2992., 3174., 176782., 14776., 3381., 77972., 4839.,
        34767.,
    ];
    let p = regtest(&set, &o, RegModel::Lm, Predictor::Ninv, Some(&n)).unwrap();
    close(p.stat, -1.4773785861536066211, RTOL);
    close(p.pval, 0.1676238757288610604, PVAL_RTOL);
    let l = p.limit.unwrap();
    close(l.estimate, -0.3572681141095251922, RTOL);
    close(l.ci_lb, -0.7049984915467730762, RTOL);
    close(l.ci_ub, -0.0095377366722773638, RTOL);
    // Sample-size predictors without sample sizes are refused.
    assert!(regtest(&set, &o, RegModel::Lm, Predictor::Ninv, None).is_err());
}

// PET-PEESE on hackshaw1998_yi_vi, checked against R's lm:
// summary(lm(yi ~ sqrt(vi), weights=1/vi, data=d))$coef; summary(lm(yi ~ vi, weights=1/vi, data=d))$coef;
// confint(lm(yi ~ vi, weights=1/vi, data=d))[1,]
#[test]
fn pet_peese_matches_weighted_lm() {
    use evident::bias::{pet_peese, PetPeeseChoice};
    let set = load("hackshaw1998_yi_vi", Measure::GEN);
    let pp = pet_peese(&set, &opts(Method::REML, Test::Z), 0.10).unwrap();
    let pet = pp.pet.limit.unwrap();
    close(pet.estimate, 0.0050373230754635241, RTOL);
    close(pet.se, 0.085902326606864712, RTOL);
    close(pet.pval, 0.953572284273408899, PVAL_RTOL);
    let peese = pp.peese.limit.unwrap();
    close(peese.estimate, 0.12008076466431049, RTOL);
    close(peese.se, 0.051903398919997838, RTOL);
    close(peese.pval, 0.026688097017720944, PVAL_RTOL);
    close(peese.ci_lb, 0.014711263013682613, RTOL);
    close(peese.ci_ub, 0.225450266314938363, RTOL);
    // PET's intercept is far from significant: PET's estimate is reported.
    assert_eq!(pp.choice, PetPeeseChoice::Pet);
    close(pp.estimate, 0.0050373230754635241, RTOL);
}

// pdf(NULL); b <- baujat(rma(ai=ai,bi=bi,ci=ci,di=di,data=d,measure="OR",method="REML",test="knha"))
// on bcg_or: b$x[1:3], b$y[1:3]
#[test]
fn baujat_matches_metafor() {
    let set = load("bcg_or", Measure::OR);
    let b = evident::sensitivity::baujat(&set, &opts(Method::REML, Test::Knha)).unwrap();
    let x = [
        0.053890843143206357,
        1.553870617497529860,
        0.532985490349723312,
    ];
    let y = [
        0.0017631614129997564,
        0.1161005930021626747,
        0.0231458949032146664,
    ];
    for i in 0..3 {
        close(b.x[i], x[i], 1e-7);
        close(b.y[i], y[i], 1e-7);
    }
}

// g <- gosh(rma(ai=ai,bi=bi,ci=ci,di=di,data=d,measure="OR"), progbar=FALSE) on bcg_or:
// sum(is.na(g$res$estimate)) 1, the failed subset g$incl[is.na(...), ] = studies 3,5,7,9,11,12,13;
// colMeans(g$res, na.rm=TRUE): k 6.500793553900623, QE 62.187284062663295, I2 84.373034868155813,
// H2 10.520059493555543, tau2 0.335373487341211, estimate -0.747422510646289;
// mean(g$res$estimate[g$incl[,1]], na.rm=TRUE) -0.755331268956006
#[test]
fn gosh_matches_metafor() {
    use evident::sensitivity::gosh::{gosh, DEFAULT_MAX_SUBSETS};
    let set = load("bcg_or", Measure::OR);
    let g = gosh(&set, &opts(Method::REML, Test::Z), DEFAULT_MAX_SUBSETS, 1).unwrap();
    assert_eq!(g.len(), 8191);
    let failed: Vec<usize> = (0..g.len()).filter(|&r| g.estimate[r].is_nan()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(g.members(failed[0]), vec![2, 4, 6, 8, 10, 11, 12]);
    let ok: Vec<usize> = (0..g.len()).filter(|&r| !g.estimate[r].is_nan()).collect();
    let mean = |v: &[f64]| ok.iter().map(|&r| v[r]).sum::<f64>() / ok.len() as f64;
    // metafor keeps k for the failed subset.
    let mean_k = g.k_sub.iter().sum::<usize>() as f64 / g.len() as f64;
    close(mean_k, 6.500793553900623, 1e-12);
    close(mean(&g.qe), 62.187284062663295, 1e-9);
    close(mean(&g.i2), 84.373034868155813, RTOL);
    close(mean(&g.h2), 10.520059493555543, RTOL);
    close(mean(&g.tau2), 0.335373487341211, RTOL);
    close(mean(&g.estimate), -0.747422510646289, RTOL);
    close(g.with_without(0).estimate_with, -0.755331268956006, RTOL);
}

// r <- rma(ai=ai,bi=bi,ci=ci,di=di,data=d,measure="OR",method="DL",slab=study) on bcg_or
#[test]
fn cumul_by_column_matches_metafor() {
    use evident::sensitivity::{cumul, cumul_order};
    let set = load("bcg_or", Measure::OR);
    let o = opts(Method::DL, Test::Z);
    // cu <- cumul(r, order=ablat): cu$slab[1:2], cu$estimate[c(1,5,13)], cu$tau2[c(2,7)]
    let cu = cumul(&set, &o, &cumul_order(&set, "ablat", false).unwrap()).unwrap();
    assert_eq!(cu.labels[0], "Frimodt-Moller et al 1973");
    assert_eq!(cu.labels[1], "TPT Madras 1980");
    assert_eq!(cu.labels[12], "Ferguson & Simes 1949");
    let est = |i: usize| cu.fits[i].unwrap().estimate;
    close(est(0), -0.21914108567543253, 1e-10);
    close(est(4), -0.35123349673106208, 1e-10);
    close(est(12), -0.74739234973213720, 1e-10);
    close(cu.fits[1].unwrap().tau2, 0.0, 1e-10);
    close(cu.fits[6].unwrap().tau2, 0.074703174939365527, 1e-10);
    // cu2 <- cumul(r, order=alloc) (text column; ties keep file order): cu2$estimate[c(3,9)]
    let cu = cumul(&set, &o, &cumul_order(&set, "alloc", false).unwrap()).unwrap();
    assert_eq!(cu.labels[0], "Frimodt-Moller et al 1973");
    assert_eq!(cu.labels[1], "Stein & Aronson 1953");
    assert_eq!(cu.labels[12], "Comstock et al 1976");
    close(cu.fits[2].unwrap().estimate, -0.67635658027756296, 1e-10);
    close(cu.fits[8].unwrap().estimate, -0.90077482339003501, 1e-10);
    assert!(cumul_order(&set, "nonexistent", false).is_err());
}
