#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 120 s each) with libFuzzer via cargo fuzz.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
# Exits non-zero as soon as a target crashes, panics, hangs (>10 s on one input) or runs out of
# memory; the reproducer is left in fuzz/artifacts/<target>/. Needs `cargo install cargo-fuzz`.
# The toolchain may be stable: RUSTC_BOOTSTRAP=1 lets cargo fuzz pass its -Z flags.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
secs="${1:-120}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(csv_reader pool_end_to_end reported_rows batch_reader formula manifest)
fi
export RUSTC_BOOTSTRAP=1
cd "$root"
# No sanitizer: the library is safe Rust, so libFuzzer's coverage plus Rust's own panics and
# overflow checks (debug assertions on) are what find bugs; ASan would only slow it down.
cargo fuzz build -s none --debug-assertions
status=0
for t in "${targets[@]}"; do
    corpus="$here/corpus/$t"
    mkdir -p "$corpus" "$here/artifacts/$t"
    # Seed with every small CSV the project ships: the bad-input catalogue, the conformance
    # inputs and the reported-statistics tables.
    if [ "$t" = formula ] && [ -z "$(ls -A "$corpus")" ]; then
        i=0
        for f in 'ablat + year' '~ factor(alloc) - 1' 'a*g + x:n' 'relevel(g, ref = "P") + I(x^2)' \
            'log(a) + exp(x) + sqrt(a)' 'I((a + 1)^-2 / x)' 'relevel(factor(n), ref = 2) * a' \
            '(a + x)*(g + n) - a:g' 'one' 'x^2'; do
            printf '%s' "$f" >"$corpus/seed_$i"
            i=$((i + 1))
        done
    elif [ "$t" = manifest ] && [ -z "$(ls -A "$corpus")" ]; then
        # The report manifest: the bundled one and the project's other TOML files.
        for f in "$root"/data/evident.toml "$root"/Cargo.toml "$root"/fuzz/Cargo.toml; do
            cp "$f" "$corpus/seed_$(echo "$f" | md5sum | cut -c1-12).toml"
        done
    fi
    if [ -z "$(ls -A "$corpus")" ]; then
        for f in "$root"/tests/bad_inputs/*.csv "$root"/tests/conformance/cases/*/input.csv \
            "$root"/tests/data/reported/*.csv "$root"/tests/fixtures/*/*.csv; do
            [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 16384 ] &&
                cp "$f" "$corpus/seed_$(echo "$f" | md5sum | cut -c1-12).csv"
        done
    fi
    echo "== $t: ${secs}s"
    log="$here/artifacts/$t/last_run.log"
    if ! cargo fuzz run -s none --debug-assertions "$t" "$corpus" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=8192 \
        -print_final_stats=1 >"$log" 2>&1; then
        echo "!! $t FAILED; see $log and $here/artifacts/$t/"
        tail -40 "$log"
        status=1
    fi
    grep -E "stat::number_of_executed_units|stat::new_units_added|Done [0-9]+ runs" "$log" || true
done
exit $status
