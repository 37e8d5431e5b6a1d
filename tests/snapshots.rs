//! Byte-for-byte snapshots of what the CLI prints and draws, so that a restructuring of `src/`
//! provably leaves every user-visible output unchanged.
//!
//! Each case runs the built binary (current directory: the crate root, so paths in messages are
//! the relative ones given here) and compares
//!
//! - standard output with `tests/snapshots/text/NAME.txt`,
//! - standard error with `tests/snapshots/text/NAME.stderr.txt`,
//! - a file written through an `@.EXT` argument with `tests/snapshots/svg/NAME.svg` (plots) or
//!   `tests/snapshots/text/NAME.EXT` (other files),
//!
//! where a snapshot file exists exactly when that output is non-empty (a new warning on stderr
//! fails as surely as a changed digit), and the exit code with the one in the table.
//! `tests/snapshots/svg/` holds the plots; `tests/snapshots/inputs/` the few inputs made for these
//! tests. Finally `evident report data/` must reproduce the committed `reports/` exactly.
//!
//! To record the outputs of the current binary (after checking that a change is intended):
//!
//! ```sh
//! EVIDENT_BLESS=1 cargo test --release --test snapshots
//! ```
//!
//! The only normalisation: the path of the temporary output directory, which `evident report`
//! prints on stderr, is replaced by `$TMP`. Nothing else the CLI prints depends on time, threads
//! or the machine (GOSH and batch fit in parallel but collect in input order).

use std::path::{Path, PathBuf};
mod common;

use common::cli::Cli;

/// One invocation: snapshot name, command line, expected exit code.
///
/// The command line is split at spaces, with `'...'` grouping words (no escapes). `@.EXT` stands
/// for the output file `TMP/NAME.EXT` (compared after the run), and a word `<PATH` feeds that
/// file to standard input instead of being passed on.
struct Case {
    name: &'static str,
    cmd: &'static str,
    code: i32,
}

/// A case that must succeed.
const fn ok(name: &'static str, cmd: &'static str) -> Case {
    Case { name, cmd, code: 0 }
}

/// A case with another exit code (1: error; 2: some analyses of a batch failed).
const fn exits(code: i32, name: &'static str, cmd: &'static str) -> Case {
    Case { name, cmd, code }
}

// Inputs: the bundled data (data/), the metafor corpus's inputs for the data types data/ lacks
// (tests/conformance/cases/), the reported-statistics files (tests/data/reported/), the
// bad-input catalogue (tests/bad_inputs/), and inputs made for these snapshots
// (tests/snapshots/inputs/: bcg_rob.csv is the BCG trials with made-up risk-of-bias judgements;
// batch_*.csv are long files for `evident batch`; revman_double_zero.csv six made-up trials,
// two without events in either arm).

/// `evident pool` without moderators: every estimator, test, preset and data type.
#[rustfmt::skip]
const POOL: &[Case] = &[
    ok("pool_bcg_or", "pool data/bcg.csv --measure OR"),
    ok("pool_bcg_or_json", "pool data/bcg.csv --measure OR --json"),
    ok("pool_bcg_rr", "pool data/bcg.csv --measure RR"),
    ok("pool_bcg_rr_metafor", "pool data/bcg.csv --measure RR --preset metafor"),
    ok("pool_bcg_rr_metafor_json", "pool data/bcg.csv --measure RR --preset metafor --json"),
    ok("pool_bcg_rr_fe", "pool data/bcg.csv --measure RR --method FE"),
    ok("pool_bcg_rr_fe_json", "pool data/bcg.csv --measure RR --method FE --json"),
    ok("pool_bcg_rr_dl_z", "pool data/bcg.csv --measure RR --method DL --test z"),
    ok("pool_bcg_rr_dl_z_json", "pool data/bcg.csv --measure RR --method DL --test z --json"),
    ok("pool_bcg_rr_he", "pool data/bcg.csv --measure RR --method HE"),
    ok("pool_bcg_rr_hs", "pool data/bcg.csv --measure RR --method HS"),
    ok("pool_bcg_rr_sj", "pool data/bcg.csv --measure RR --method SJ"),
    ok("pool_bcg_rr_ml", "pool data/bcg.csv --measure RR --method ML"),
    ok("pool_bcg_rr_eb", "pool data/bcg.csv --measure RR --method EB"),
    ok("pool_bcg_rr_pm_knha", "pool data/bcg.csv --measure RR --method PM --test knha"),
    ok("pool_bcg_rr_pm_knha_json", "pool data/bcg.csv --measure RR --method PM --test knha --json"),
    ok("pool_bcg_rr_adhoc_riley_90", "pool data/bcg.csv --measure RR --test adhoc --pi riley --level 90"),
    ok("pool_bcg_rd_metafor", "pool data/bcg.csv --measure RD --preset metafor"),
    ok("pool_bcg_peto_measure", "pool data/bcg.csv --measure PETO --preset metafor"),
    ok("pool_bcg_revman5", "pool data/bcg.csv --preset revman5"),
    ok("pool_bcg_revman5_json", "pool data/bcg.csv --preset revman5 --json"),
    ok("pool_bcg_cochrane", "pool data/bcg.csv --measure RR --preset cochrane"),
    ok("pool_bcg_or_mh", "pool data/bcg.csv --measure OR --method MH"),
    ok("pool_bcg_or_mh_json", "pool data/bcg.csv --measure OR --method MH --json"),
    ok("pool_bcg_rr_mh", "pool data/bcg.csv --measure RR --method MH"),
    ok("pool_bcg_rd_mh_json", "pool data/bcg.csv --measure RD --method MH --json"),
    ok("pool_bcg_peto", "pool data/bcg.csv --method Peto"),
    ok("pool_bcg_peto_json", "pool data/bcg.csv --method Peto --json"),
    ok("pool_yusuf_peto", "pool tests/conformance/cases/yusuf1985_peto/input.csv --method Peto"),
    ok("pool_irr_mh", "pool tests/conformance/cases/hart1999_irr/input.csv --method MH"),
    ok("pool_irr", "pool tests/conformance/cases/hart1999_irr/input.csv"),
    ok("pool_irr_json", "pool tests/conformance/cases/hart1999_irr/input.csv --json"),
    ok("pool_pilots_plo", "pool data/pilots_completion.csv --measure PLO"),
    ok("pool_pilots_plo_json", "pool data/pilots_completion.csv --measure PLO --json"),
    ok("pool_pilots_pr_metafor", "pool data/pilots_completion.csv --measure PR --preset metafor"),
    ok("pool_pritz_pr", "pool tests/conformance/cases/pritz1997_pr/input.csv --measure PR"),
    ok("pool_als_k1", "pool data/als_responders.csv --measure PLO"),
    ok("pool_ms_k1", "pool data/ms_mitoxantrone_rescue.csv --measure PLO"),
    ok("pool_lupus_addon", "pool data/lupus_tacrolimus_addon.csv"),
    ok("pool_lupus_addon_metafor", "pool data/lupus_tacrolimus_addon.csv --preset metafor"),
    ok("pool_lupus_addon_json", "pool data/lupus_tacrolimus_addon.csv --json"),
    ok("pool_lupus_mono", "pool data/lupus_combination_vs_other_mono.csv"),
    ok("pool_lupus_nonuse_k1", "pool data/lupus_tacrolimus_vs_nonuse.csv"),
    ok("pool_lupus_dose_k1_json", "pool data/lupus_tacrolimus_dose.csv --json"),
    ok("pool_lupus_duration_k1", "pool data/lupus_tacrolimus_duration.csv"),
    ok("pool_md", "pool tests/conformance/cases/normand1999_md/input.csv"),
    ok("pool_smd_json", "pool tests/conformance/cases/normand1999_md/input.csv --measure SMD --json"),
    ok("pool_zcor", "pool tests/conformance/cases/molloy2014_zcor/input.csv"),
    ok("pool_cor_json", "pool tests/conformance/cases/molloy2014_zcor/input.csv --measure COR --json"),
    ok("pool_yi_vi", "pool tests/conformance/cases/hackshaw1998_yi_vi/input.csv --scale log"),
    ok("pool_yi_sei_json", "pool tests/conformance/cases/baskerville2012_yi_sei/input.csv --json"),
    ok("pool_double_zero_drop00", "pool tests/conformance/cases/hahn2001_double_zero/input.csv --drop00 --measure RR"),
    ok("pool_double_zero_revman5", "pool tests/conformance/cases/hahn2001_double_zero/input.csv --preset revman5 --json"),
    ok("pool_zero_cells_add_all", "pool tests/conformance/cases/li2007_zero_cells/input.csv --to all --add 0.25"),
];

/// `evident pool --mods`, `--by`, permutation tests.
#[rustfmt::skip]
const POOL_MODERATORS: &[Case] = &[
    ok("pool_mods_ablat", "pool data/bcg.csv --measure RR --mods ablat"),
    ok("pool_mods_ablat_json", "pool data/bcg.csv --measure RR --mods ablat --json"),
    ok("pool_mods_ablat_metafor", "pool data/bcg.csv --measure RR --mods ablat --preset metafor"),
    ok("pool_mods_factor_alloc", "pool data/bcg.csv --measure RR --mods factor(alloc) --test-coefs alloc"),
    ok("pool_mods_factor_alloc_json", "pool data/bcg.csv --measure RR --mods factor(alloc) --test-coefs alloc --json"),
    ok("pool_mods_ablat_year_predict", "pool data/bcg.csv --measure RR --mods 'ablat + year' --predict 30,1960 --predict '50 1970'"),
    ok("pool_mods_ablat_year_predict_json", "pool data/bcg.csv --measure RR --mods 'ablat + year' --predict 30,1960 --json"),
    ok("pool_mods_interaction_no_intercept", "pool data/bcg.csv --measure OR --mods 'ablat*year - 1' --method DL"),
    ok("pool_mods_permutations", "pool data/bcg.csv --measure RR --mods ablat --permutations 200 --seed 7"),
    ok("pool_mods_permutations_json", "pool data/bcg.csv --measure RR --mods ablat --permutations 200 --seed 7 --json"),
    ok("pool_mods_smd_several", "pool tests/conformance/cases/bangertdrowns2004_smd_mods/input.csv --mods 'length + factor(grade) + meta' --preset metafor"),
    ok("pool_by_alloc", "pool data/bcg.csv --measure RR --by alloc"),
    ok("pool_by_alloc_json", "pool data/bcg.csv --measure RR --by alloc --json"),
    ok("pool_by_alloc_common_tau2", "pool data/bcg.csv --measure RR --by alloc --common-tau2"),
    ok("pool_by_alloc_permutations", "pool data/bcg.csv --measure RR --by alloc --permutations 100 --seed 3"),
    ok("pool_by_alloc_permutations_json", "pool data/bcg.csv --measure RR --by alloc --permutations 100 --seed 3 --json"),
    // Two subgroups (one of k = 1) of three studies: the mixed model is refused.
    exits(1, "error_by_pilots_disease", "pool data/pilots_completion.csv --measure PLO --by disease"),
];

/// `evident effects` on every data type.
#[rustfmt::skip]
const EFFECTS: &[Case] = &[
    ok("effects_bcg_or", "effects data/bcg.csv"),
    ok("effects_bcg_rr_json", "effects data/bcg.csv --measure RR --json"),
    ok("effects_bcg_rd", "effects data/bcg.csv --measure RD"),
    ok("effects_bcg_peto", "effects data/bcg.csv --measure PETO"),
    ok("effects_pilots_plo", "effects data/pilots_completion.csv"),
    ok("effects_pilots_pr_json", "effects data/pilots_completion.csv --measure PR --json"),
    ok("effects_als_zero_cell", "effects data/als_responders.csv"),
    ok("effects_lupus_addon", "effects data/lupus_tacrolimus_addon.csv"),
    ok("effects_lupus_addon_json", "effects data/lupus_tacrolimus_addon.csv --json"),
    ok("effects_md", "effects tests/conformance/cases/normand1999_md/input.csv"),
    ok("effects_smd_ub", "effects tests/conformance/cases/normand1999_md/input.csv --measure SMD --vtype UB"),
    ok("effects_irr", "effects tests/conformance/cases/hart1999_irr/input.csv"),
    ok("effects_ird_json", "effects tests/conformance/cases/hart1999_irr/input.csv --measure IRD --json"),
    ok("effects_zcor", "effects tests/conformance/cases/molloy2014_zcor/input.csv"),
    ok("effects_cor", "effects tests/conformance/cases/molloy2014_zcor/input.csv --measure COR"),
    ok("effects_yi_sei", "effects tests/conformance/cases/baskerville2012_yi_sei/input.csv"),
    ok("effects_zero_cells", "effects tests/conformance/cases/li2007_zero_cells/input.csv"),
    ok("effects_double_zero_drop00", "effects tests/conformance/cases/hahn2001_double_zero/input.csv --drop00"),
    ok("effects_col_mapping", "effects data/pilots_completion.csv --col xi=xi --col ni=ni"),
];

/// Small-study effects and publication bias.
#[rustfmt::skip]
const BIAS: &[Case] = &[
    ok("regtest_bcg_rr", "regtest data/bcg.csv --measure RR"),
    ok("regtest_bcg_rr_json", "regtest data/bcg.csv --measure RR --json"),
    ok("regtest_bcg_or_lm_ninv", "regtest data/bcg.csv --measure OR --model lm --predictor ninv"),
    ok("regtest_bcg_rr_vi_metafor_json", "regtest data/bcg.csv --measure RR --predictor vi --preset metafor --json"),
    ok("regtest_pilots_small_k", "regtest data/pilots_completion.csv"),
    ok("ranktest_bcg_rr", "ranktest data/bcg.csv --measure RR"),
    ok("ranktest_bcg_rr_json", "ranktest data/bcg.csv --measure RR --json"),
    ok("ranktest_pilots_small_k", "ranktest data/pilots_completion.csv"),
    ok("trimfill_bcg_rr", "trimfill data/bcg.csv --measure RR"),
    ok("trimfill_bcg_rr_json", "trimfill data/bcg.csv --measure RR --json"),
    ok("trimfill_bcg_rr_r0_right", "trimfill data/bcg.csv --measure RR --estimator R0 --side right"),
    ok("trimfill_yivi_q0_json", "trimfill tests/conformance/cases/hackshaw1998_yi_vi/input.csv --estimator Q0 --json"),
    ok("trimfill_zcor_metafor", "trimfill tests/conformance/cases/molloy2014_zcor/input.csv --preset metafor"),
    ok("fsn_bcg_rosenthal", "fsn data/bcg.csv --measure RR"),
    ok("fsn_bcg_rosenthal_json", "fsn data/bcg.csv --measure RR --json"),
    ok("fsn_bcg_orwin", "fsn data/bcg.csv --measure RR --type orwin"),
    ok("fsn_bcg_orwin_weighted_target_json", "fsn data/bcg.csv --measure RR --type orwin --weighted --target -0.1 --json"),
    ok("fsn_bcg_rosenberg", "fsn data/bcg.csv --measure RR --type rosenberg"),
    ok("fsn_bcg_rosenberg_json", "fsn data/bcg.csv --measure RR --type rosenberg --alpha 0.01 --json"),
    ok("bias_bcg_rr", "bias data/bcg.csv --measure RR"),
    ok("bias_bcg_or_metafor", "bias data/bcg.csv --preset metafor"),
    ok("bias_yivi", "bias tests/conformance/cases/hackshaw1998_yi_vi/input.csv"),
    ok("bias_pilots_small_k", "bias data/pilots_completion.csv"),
];

/// Sensitivity analyses: leave-one-out, cumulative, influence, the combined report, GOSH.
#[rustfmt::skip]
const SENSITIVITY: &[Case] = &[
    ok("leave1out_bcg_rr", "leave1out data/bcg.csv --measure RR"),
    ok("leave1out_bcg_rr_json", "leave1out data/bcg.csv --measure RR --json"),
    ok("leave1out_pilots_metafor", "leave1out data/pilots_completion.csv --preset metafor"),
    ok("cumul_bcg_rr", "cumul data/bcg.csv --measure RR"),
    ok("cumul_bcg_rr_json", "cumul data/bcg.csv --measure RR --json"),
    ok("cumul_bcg_rr_by_year", "cumul data/bcg.csv --measure RR --order year"),
    ok("cumul_bcg_rr_by_year_decreasing_json", "cumul data/bcg.csv --measure RR --order year --decreasing --json"),
    ok("influence_bcg_rr", "influence data/bcg.csv --measure RR"),
    ok("influence_bcg_rr_json", "influence data/bcg.csv --measure RR --json"),
    ok("influence_yivi_fe", "influence tests/conformance/cases/hackshaw1998_yi_vi/input.csv --method FE"),
    ok("sensitivity_bcg_rr", "sensitivity data/bcg.csv --measure RR"),
    ok("sensitivity_pilots", "sensitivity data/pilots_completion.csv"),
    ok("sensitivity_lupus_addon_k2", "sensitivity data/lupus_tacrolimus_addon.csv"),
    // All 8191 subsets of the 13 trials (exact), then a seeded sample of them.
    ok("gosh_bcg_rr", "gosh data/bcg.csv --measure RR"),
    ok("gosh_bcg_rr_sample", "gosh data/bcg.csv --measure RR --max-subsets 300 --seed 5"),
    ok("gosh_bcg_rr_sample_json", "gosh data/bcg.csv --measure RR --max-subsets 40 --seed 5 --json"),
    ok("gosh_pilots", "gosh data/pilots_completion.csv"),
    ok("gosh_pilots_json", "gosh data/pilots_completion.csv --json"),
];

/// Reported statistics: recompute, check, combine, pool --reported.
#[rustfmt::skip]
const REPORTED: &[Case] = &[
    ok("recompute_lupus_dose", "recompute data/lupus_tacrolimus_dose.csv"),
    ok("recompute_lupus_addon", "recompute data/lupus_tacrolimus_addon.csv"),
    ok("recompute_lupus_addon_json", "recompute data/lupus_tacrolimus_addon.csv --json"),
    ok("recompute_mixed", "recompute tests/data/reported/mixed.csv"),
    ok("recompute_mixed_json", "recompute tests/data/reported/mixed.csv --json"),
    ok("recompute_median_luo", "recompute tests/data/reported/median.csv"),
    ok("recompute_median_json", "recompute tests/data/reported/median.csv --json"),
    ok("recompute_median_range_hozo", "recompute tests/data/reported/median_range.csv --median-method hozo"),
    ok("recompute_lupus_all", "recompute tests/data/reported/lupus.csv"),
    ok("recompute_counts_bcg", "recompute data/bcg.csv --measure RR"),
    ok("check_lupus_addon", "check data/lupus_tacrolimus_addon.csv"),
    ok("check_lupus_nonuse", "check data/lupus_tacrolimus_vs_nonuse.csv"),
    ok("check_typo", "check tests/data/reported/typo.csv"),
    ok("check_typo_json", "check tests/data/reported/typo.csv --json"),
    ok("check_catalogue", "check tests/data/reported/check.csv"),
    ok("check_catalogue_json", "check tests/data/reported/check.csv --json"),
    ok("check_pvalues", "check data/pvalues.csv"),
    ok("combine_als_fisher", "combine tests/data/reported/als_p.csv --method fisher"),
    ok("combine_als_fisher_json", "combine tests/data/reported/als_p.csv --method fisher --json"),
    ok("combine_als_stouffer", "combine tests/data/reported/als_p.csv --method stouffer"),
    ok("combine_als_stouffer_weighted_two_sided_json", "combine tests/data/reported/als_p.csv --method stouffer --weights n --two-sided --json"),
    ok("combine_als_tippett", "combine tests/data/reported/als_p.csv --method tippett"),
    ok("combine_als_wilkinson2", "combine tests/data/reported/als_p.csv --method wilkinson:2"),
    ok("combine_als_wilkinson_json", "combine tests/data/reported/als_p.csv --method wilkinson --json"),
    ok("combine_als_edgington", "combine tests/data/reported/als_p.csv --method edgington"),
    ok("combine_pvalues_fisher", "combine data/pvalues.csv --method fisher"),
    ok("combine_pvalues_edgington_json", "combine data/pvalues.csv --method edgington --json"),
    ok("pool_reported_addon_metafor", "pool data/lupus_tacrolimus_addon.csv --reported --preset metafor"),
    ok("pool_reported_mixed", "pool tests/data/reported/mixed.csv --reported"),
    ok("pool_reported_mixed_p_bounds_json", "pool tests/data/reported/mixed.csv --reported --include-p-bounds --json"),
    ok("pool_reported_lupus_dl", "pool tests/data/reported/lupus.csv --reported --method DL"),
];

/// `evident interaction two` and `additive`.
#[rustfmt::skip]
const INTERACTION: &[Case] = &[
    ok("interaction_two_ratio", "interaction two --first '0.67 (0.46, 0.98)' --second 0.88,0.71,1.08"),
    ok("interaction_two_ratio_json", "interaction two --first '0.67 (0.46, 0.98)' --second 0.88,0.71,1.08 --json"),
    ok("interaction_two_shared_reference", "interaction two --first 2.15,1.15,4.02 --second 3.54,1.66,7.58 --shared-reference --level 90"),
    ok("interaction_two_difference", "interaction two --first '1.4 (0.3 to 2.5)' --second -0.2,-1.1,0.7 --difference"),
    ok("interaction_two_difference_json", "interaction two --first 1.4,0.3,2.5 --second -0.2,-1.1,0.7 --difference --input-level 90 --json"),
    ok("interaction_additive_mover", "interaction additive --a 2,1.2,3.3 --b 1.5,0.9,2.5 --ab 5,3,8.3"),
    ok("interaction_additive_mover_json", "interaction additive --a 2,1.2,3.3 --b 1.5,0.9,2.5 --ab 5,3,8.3 --json"),
    ok("interaction_additive_delta", "interaction additive --a 2,1.2,3.3 --b 1.5,0.9,2.5 --ab 5,3,8.3 --cov 0.066,0.01,0.02,0.01,0.068,0.015,0.02,0.015,0.06"),
    ok("interaction_additive_delta_json", "interaction additive --a 2,1.2,3.3 --b 1.5,0.9,2.5 --ab 5,3,8.3 --cov 0.066,0.01,0.02,0.01,0.068,0.015,0.02,0.015,0.06 --level 90 --json"),
];

/// `evident batch`: counts and pre-computed effects, errors in rows, stdin, `-o`.
#[rustfmt::skip]
const BATCH: &[Case] = &[
    exits(2, "batch_counts_or", "batch tests/snapshots/inputs/batch_counts.csv --measure OR"),
    exits(2, "batch_counts_rr_dl_z", "batch tests/snapshots/inputs/batch_counts.csv --measure RR --method DL --test z"),
    exits(2, "batch_counts_metafor_file", "batch tests/snapshots/inputs/batch_counts.csv --preset metafor -o @.csv"),
    // `;`-separated with decimal commas, a k = 1 analysis and one that is not contiguous.
    exits(2, "batch_yivi_semicolon", "batch tests/snapshots/inputs/batch_yivi.csv"),
    exits(2, "batch_yivi_stdin_fe", "batch - --method FE <tests/snapshots/inputs/batch_yivi.csv"),
];

/// User-visible error messages (exit code 1) and warnings.
#[rustfmt::skip]
const ERRORS: &[Case] = &[
    exits(1, "error_mh_on_reported", "pool data/lupus_tacrolimus_addon.csv --method MH"),
    exits(1, "error_regtest_mh", "regtest data/bcg.csv --method MH"),
    exits(1, "error_forest_mh_by", "forest data/bcg.csv --method MH --by alloc -o @.svg"),
    exits(1, "error_pvalues_not_poolable", "pool data/pvalues.csv"),
    exits(1, "error_unknown_measure", "pool data/bcg.csv --measure XYZ"),
    exits(1, "error_unknown_method", "pool data/bcg.csv --method XYZ"),
    ok("pool_permutations_intercept_only", "pool data/bcg.csv --measure RR --permutations 10000"),
    ok("pool_permutations_intercept_only_json", "pool data/bcg.csv --measure RR --permutations 300 --seed 2 --json"),
    exits(1, "error_mods_unknown_column", "pool data/bcg.csv --mods latitude"),
    exits(1, "error_mods_with_mh", "pool data/bcg.csv --method MH --mods ablat"),
    exits(1, "error_reml_nonconvergence", "pool tests/conformance/cases/synthetic_reml_nonconvergence/input.csv --preset metafor"),
    ok("pool_reml_nonconvergence_stepadj", "pool tests/conformance/cases/synthetic_reml_nonconvergence/input.csv --preset metafor --stepadj 0.5"),
    exits(1, "error_combine_unknown_method", "combine tests/data/reported/als_p.csv --method magic"),
    exits(1, "error_combine_two_sided_words", "combine data/pvalues.csv --method fisher --two-sided"),
    exits(1, "error_gosh_k1", "gosh data/lupus_tacrolimus_dose.csv"),
    exits(1, "error_missing_file", "pool tests/snapshots/inputs/no_such_file.csv"),
    exits(1, "error_text_in_numeric", "pool tests/bad_inputs/12_text_in_numeric.csv"),
    exits(1, "error_ragged_row", "pool tests/bad_inputs/22_ragged_row.csv"),
    exits(1, "error_no_data_type", "pool tests/bad_inputs/32_unrecognised_columns.csv"),
    ok("input_level_as_proportion", "pool tests/bad_inputs/38_level_as_fraction.csv"),
    ok("input_semicolon_decimal_comma", "pool tests/bad_inputs/08_semicolon_decimal_comma.csv"),
    ok("input_latin1_labels", "effects tests/bad_inputs/06_latin1_labels.csv --csv"),
    ok("input_utf8_bom_crlf", "effects tests/bad_inputs/05_utf8_bom.csv --csv"),
    ok("input_missing_markers", "pool tests/bad_inputs/13_missing_markers.csv"),
    ok("input_formula_label_csv_safe", "effects tests/bad_inputs/43_formula_label.csv --csv"),
    ok("input_duplicate_empty_labels", "effects tests/bad_inputs/34_duplicate_labels.csv --csv"),
];

/// Forest plots.
#[rustfmt::skip]
const SVG_FOREST: &[Case] = &[
    ok("forest_bcg_or", "forest data/bcg.csv -o @.svg"),
    ok("forest_bcg_rr_titled", "forest data/bcg.csv --measure RR --title 'BCG vaccine and tuberculosis' --labels 'Favours vaccine,Favours control' -o @.svg"),
    ok("forest_bcg_rr_by_alloc", "forest data/bcg.csv --measure RR --by alloc --sort estimate -o @.svg"),
    ok("forest_bcg_rr_cols_sort_year", "forest data/bcg.csv --measure RR --cols year,alloc --sort year --digits 3 -o @.svg"),
    ok("forest_bcg_dl_no_data_no_pi_xlim", "forest data/bcg.csv --measure RR --method DL --test z --no-data --no-prediction --xlim 0.05,5 --sort weight -o @.svg"),
    // Made-up risk-of-bias judgements (every level, one missing) beside the BCG trials.
    ok("forest_rob", "forest tests/snapshots/inputs/bcg_rob.csv --measure RR --title 'Risk of bias' -o @.svg"),
    ok("forest_pilots_plo", "forest data/pilots_completion.csv --measure PLO -o @.svg"),
    ok("forest_lupus_addon_metafor", "forest data/lupus_tacrolimus_addon.csv --preset metafor --labels 'Favours monotherapy,Favours tacrolimus add-on' -o @.svg"),
    ok("forest_lupus_dose_k1", "forest data/lupus_tacrolimus_dose.csv -o @.svg"),
    ok("forest_md", "forest tests/conformance/cases/normand1999_md/input.csv -o @.svg"),
    ok("forest_smd", "forest tests/conformance/cases/normand1999_md/input.csv --measure SMD -o @.svg"),
    ok("forest_irr", "forest tests/conformance/cases/hart1999_irr/input.csv -o @.svg"),
    ok("forest_zcor", "forest tests/conformance/cases/molloy2014_zcor/input.csv -o @.svg"),
    ok("forest_yi_sei", "forest tests/conformance/cases/baskerville2012_yi_sei/input.csv -o @.svg"),
    // RevMan 5's layout: arms, totals, subgroup lines, the test for subgroup differences.
    ok("forest_revman_bcg_by_alloc", "forest data/bcg.csv --preset metafor --method DL --layout revman --by alloc --arms 'BCG,Control' -o @.svg"),
    // Two made-up double-zero studies as "Not estimable" rows; both models' diamonds and weights.
    ok("forest_revman_double_zero_both", "forest tests/snapshots/inputs/revman_double_zero.csv --preset metafor --method DL --drop00 --layout revman --by setting --both-models -o @.svg"),
    ok("forest_double_zero_standard_both", "forest tests/snapshots/inputs/revman_double_zero.csv --preset metafor --method DL --drop00 --layout standard --both-models -o @.svg"),
    // RevMan 5 itself: Mantel–Haenszel for 2×2 data, fixed and random ("M-H, Random": DL from
    // the MH heterogeneity), double-zero studies as "Not estimable" rows.
    ok("forest_revman5_mh_rr", "forest data/bcg.csv --preset revman5 --measure RR -o @.svg"),
    ok("forest_revman5_mh_random_double_zero", "forest tests/snapshots/inputs/revman_double_zero.csv --preset revman5 --method DL --arms 'Tacrolimus,Control' -o @.svg"),
    ok("forest_means_revman_170mm", "forest tests/conformance/cases/normand1999_md/input.csv --layout revman --width 170mm -o @.svg"),
    ok("forest_bcg_width_height_font", "forest data/bcg.csv --width 24cm --height 14cm --font-size 8 -o @.svg"),
];

/// Funnel plots, trim-and-fill funnels, bubble plots and the refit/scatter plots.
#[rustfmt::skip]
const SVG_PLOTS: &[Case] = &[
    ok("funnel_bcg_rr", "funnel data/bcg.csv --measure RR -o @.svg"),
    ok("funnel_bcg_rr_contours", "funnel data/bcg.csv --measure RR --contours --title Contours -o @.svg"),
    ok("funnel_bcg_rr_trimfill", "funnel data/bcg.csv --measure RR --trimfill -o @.svg"),
    ok("funnel_yivi_trimfill_r0_xlim", "funnel tests/conformance/cases/hackshaw1998_yi_vi/input.csv --trimfill --estimator R0 --xlim=-1,2 -o @.svg"),
    ok("funnel_pilots", "funnel data/pilots_completion.csv -o @.svg"),
    // trimfill -o draws the funnel and prints the text report.
    ok("trimfill_bcg_rr_plot", "trimfill data/bcg.csv --measure RR -o @.svg"),
    ok("bubble_bcg_ablat", "bubble data/bcg.csv --measure RR --mods ablat -o @.svg"),
    ok("bubble_bcg_year_titled", "bubble data/bcg.csv --measure OR --mods year --title 'By year' -o @.svg"),
    ok("leave1out_bcg_rr_plot", "leave1out data/bcg.csv --measure RR -o @.svg"),
    ok("cumul_bcg_rr_plot", "cumul data/bcg.csv --measure RR --order year -o @.svg"),
    ok("baujat_bcg_rr", "sensitivity data/bcg.csv --measure RR --baujat -o @.svg"),
    ok("gosh_bcg_rr_plot", "gosh data/bcg.csv --measure RR --max-subsets 500 --seed 2 -o @.svg"),
    ok("gosh_pilots_plot", "gosh data/pilots_completion.csv -o @.svg"),
];

/// Every table, for the check that each snapshot file belongs to a case.
const FAMILIES: &[&[Case]] = &[
    POOL,
    POOL_MODERATORS,
    EFFECTS,
    BIAS,
    SENSITIVITY,
    REPORTED,
    INTERACTION,
    BATCH,
    ERRORS,
    SVG_FOREST,
    SVG_PLOTS,
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn snapshots() -> PathBuf {
    root().join("tests/snapshots")
}

fn blessing() -> bool {
    std::env::var_os("EVIDENT_BLESS").is_some_and(|v| v == "1")
}

/// Shortens a line for a failure message (SVG lines can be long).
fn shorten(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s.into_owned()
    }
}

/// Where `got` and `want` first differ, by line.
fn first_difference(want: &[u8], got: &[u8]) -> String {
    let w: Vec<&[u8]> = want.split(|&b| b == b'\n').collect();
    let g: Vec<&[u8]> = got.split(|&b| b == b'\n').collect();
    for i in 0..w.len().max(g.len()) {
        match (w.get(i), g.get(i)) {
            (Some(a), Some(b)) if a == b => continue,
            (a, b) => {
                let show = |x: Option<&&[u8]>| x.map_or("<end of output>".into(), |l| shorten(l));
                return format!(
                    "first difference at line {}:\n      expected: {}\n      got:      {}",
                    i + 1,
                    show(a),
                    show(b)
                );
            }
        }
    }
    "no line differs (bytes differ?)".into()
}

/// Compares `got` with the snapshot at `path` (relative to tests/snapshots/), where an empty
/// output must have no snapshot file; or records it when blessing.
fn compare(name: &str, rel: &str, got: &[u8], failures: &mut Vec<String>) {
    let path = snapshots().join(rel);
    if blessing() {
        if got.is_empty() {
            if path.exists() {
                std::fs::remove_file(&path).unwrap();
            }
        } else {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, got).unwrap();
        }
        return;
    }
    match std::fs::read(&path) {
        Err(_) if got.is_empty() => {}
        Err(_) => failures.push(format!(
            "snapshot {name}: {rel} is missing but the output is not empty (record with EVIDENT_BLESS=1); output starts:\n      {}",
            shorten(got.split(|&b| b == b'\n').next().unwrap_or_default())
        )),
        Ok(want) if want == got => {}
        Ok(want) if got.is_empty() => failures.push(format!(
            "snapshot {name}: {rel} expected output but got none; expected starts:\n      {}",
            shorten(want.split(|&b| b == b'\n').next().unwrap_or_default())
        )),
        Ok(want) => failures.push(format!(
            "snapshot {name}: {rel} differs; {}",
            first_difference(&want, got)
        )),
    }
}

/// The file name a case's `@.EXT` output is compared with, under tests/snapshots/.
fn output_snapshot(name: &str, ext: &str) -> String {
    if ext == "svg" {
        format!("svg/{name}.svg")
    } else {
        format!("text/{name}.{ext}")
    }
}

/// Replaces the temporary directory in messages by `$TMP` (the only part of any output that
/// differs between runs).
fn normalise(out: &[u8], tmp: &Path) -> Vec<u8> {
    let t = tmp.to_str().unwrap().as_bytes();
    let mut v = Vec::with_capacity(out.len());
    let mut i = 0;
    while i < out.len() {
        if out[i..].starts_with(t) {
            v.extend_from_slice(b"$TMP");
            i += t.len();
        } else {
            v.push(out[i]);
            i += 1;
        }
    }
    v
}

/// Splits a command line at spaces; `'...'` groups words.
fn split(cmd: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in cmd.chars() {
        match c {
            '\'' => (quoted, any) = (!quoted, true),
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    assert!(!quoted, "unbalanced quote in {cmd}");
    if any {
        words.push(word);
    }
    words
}

fn run_case(case: &Case, tmp: &Path, failures: &mut Vec<String>) {
    let mut cmd = Cli::new(std::iter::empty::<&str>()).current_dir(root());
    let mut outputs = Vec::new();
    for a in &split(case.cmd) {
        if let Some(ext) = a.strip_prefix("@.") {
            let p = tmp.join(format!("{}.{ext}", case.name));
            let _ = std::fs::remove_file(&p);
            cmd = cmd.arg(&p);
            outputs.push((p, ext.to_string()));
        } else if let Some(input) = a.strip_prefix('<') {
            cmd = cmd.stdin(std::fs::read(root().join(input)).unwrap());
        } else {
            cmd = cmd.arg(a);
        }
    }
    let o = cmd.run();
    let stdout = normalise(&o.stdout_bytes, tmp);
    let stderr = normalise(&o.stderr_bytes, tmp);
    if o.code != Some(case.code) {
        failures.push(format!(
            "snapshot {}: exit code {:?}, expected {}; stderr:\n{}",
            case.name,
            o.code,
            case.code,
            String::from_utf8_lossy(&stderr)
        ));
        return;
    }
    compare(
        case.name,
        &format!("text/{}.txt", case.name),
        &stdout,
        failures,
    );
    compare(
        case.name,
        &format!("text/{}.stderr.txt", case.name),
        &stderr,
        failures,
    );
    // A file that was not written counts as empty: it must then have no snapshot either (an
    // error leaves no output file).
    for (p, ext) in outputs {
        let bytes = std::fs::read(&p).unwrap_or_default();
        compare(
            case.name,
            &output_snapshot(case.name, &ext),
            &bytes,
            failures,
        );
    }
}

/// Runs every case of a family and fails naming each snapshot that differs.
fn run_family(cases: &[Case]) {
    let tmp = tempfile::Builder::new()
        .prefix("evident-snapshots-")
        .tempdir_in(std::env::temp_dir())
        .unwrap();
    let mut failures = Vec::new();
    for case in cases {
        run_case(case, tmp.path(), &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} of {} snapshots differ (if intended, re-record with EVIDENT_BLESS=1 cargo test --release --test snapshots):\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
}

#[test]
fn snapshot_pool() {
    run_family(POOL);
}

#[test]
fn snapshot_pool_moderators() {
    run_family(POOL_MODERATORS);
}

#[test]
fn snapshot_effects() {
    run_family(EFFECTS);
}

#[test]
fn snapshot_bias() {
    run_family(BIAS);
}

#[test]
fn snapshot_sensitivity() {
    run_family(SENSITIVITY);
}

#[test]
fn snapshot_reported() {
    run_family(REPORTED);
}

#[test]
fn snapshot_interaction() {
    run_family(INTERACTION);
}

#[test]
fn snapshot_batch() {
    run_family(BATCH);
}

#[test]
fn snapshot_errors_and_inputs() {
    run_family(ERRORS);
}

#[test]
fn snapshot_svg_forest() {
    run_family(SVG_FOREST);
}

#[test]
fn snapshot_svg_plots() {
    run_family(SVG_PLOTS);
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// `evident report data/` (as README.md generates `reports/`) reproduces every committed file
/// of `reports/` byte for byte, PNGs included, and writes no other file.
#[test]
fn snapshot_report_reproduces_committed_reports() {
    let tmp = tempfile::Builder::new()
        .prefix("evident-snapshots-report-")
        .tempdir_in(std::env::temp_dir())
        .unwrap();
    let out = tmp.path().join("reports");
    let o = Cli::new(["report", "data/", "-o", out.to_str().unwrap()])
        .current_dir(root())
        .run();
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let mut failures = Vec::new();
    let name = "report_data";
    compare(
        name,
        "text/report_data.txt",
        &normalise(&o.stdout_bytes, tmp.path()),
        &mut failures,
    );
    compare(
        name,
        "text/report_data.stderr.txt",
        &normalise(&o.stderr_bytes, tmp.path()),
        &mut failures,
    );
    // reports/ is committed, not a snapshot: it is never rewritten here (regenerate it with
    // `cargo run --release -- report data/ -o reports/`).
    let committed = root().join("reports");
    let (want, got) = (files(&committed), files(&out));
    for f in want.iter().filter(|f| !got.contains(f)) {
        failures.push(format!(
            "reports/{}: committed but not generated",
            f.display()
        ));
    }
    for f in got.iter().filter(|f| !want.contains(f)) {
        failures.push(format!(
            "reports/{}: generated but not committed",
            f.display()
        ));
    }
    for f in want.iter().filter(|f| got.contains(f)) {
        let (w, g) = (
            std::fs::read(committed.join(f)).unwrap(),
            std::fs::read(out.join(f)).unwrap(),
        );
        if w != g {
            let png = f.extension().is_some_and(|e| e == "png");
            failures.push(format!(
                "reports/{} differs from the regenerated file{}",
                f.display(),
                if png {
                    " (binary)".into()
                } else {
                    format!("; {}", first_difference(&w, &g))
                }
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "`evident report data/` does not reproduce the committed reports/:\n  {}",
        failures.join("\n  ")
    );
}

/// Every snapshot file belongs to a case (no stale files after a case is renamed or removed),
/// and case names are unique.
#[test]
fn snapshot_files_all_belong_to_a_case() {
    let mut names: Vec<&str> = FAMILIES
        .iter()
        .flat_map(|cases| cases.iter().map(|c| c.name))
        .collect();
    names.push("report_data");
    let mut sorted = names.clone();
    sorted.sort_unstable();
    let before = sorted.len();
    sorted.dedup();
    assert_eq!(before, sorted.len(), "two cases share a name");
    for dir in ["text", "svg"] {
        let d = snapshots().join(dir);
        if !d.exists() {
            continue;
        }
        for f in files(&d) {
            let file = f.to_str().unwrap();
            let stem = file
                .strip_suffix(".stderr.txt")
                .or_else(|| file.rsplit_once('.').map(|(s, _)| s))
                .unwrap_or(file);
            assert!(
                names.contains(&stem),
                "tests/snapshots/{dir}/{file} belongs to no case: remove it"
            );
        }
    }
}
