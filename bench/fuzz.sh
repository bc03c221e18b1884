#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, docs/fuzzing.md) for FUZZ_SECONDS each, one after another,
# single job, and prints a table: target, seconds run, executions, executions per second,
# crashes, corpus size. A crash leaves its input in fuzz/artifacts/TARGET/ and makes the
# script exit 1 after the other targets ran.
#
#   FUZZ_SECONDS=600 bash bench/fuzz.sh              # 10 minutes per target (the default)
#   FUZZ_SECONDS=10 FUZZ_TARGETS="config window" bash bench/fuzz.sh
#
# FUZZ_SANITIZER: none (default: shipcheck forbids unsafe code, and panics, overflows and
# timeouts are what the targets look for) or address. Debug assertions (overflow checks) are
# on. FUZZ_INSTALL=1 installs cargo-fuzz with `cargo install --locked` when it is missing.
# FUZZ_TIMEOUT: seconds one input may take before it counts as a hang (default 10).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECONDS_EACH="${FUZZ_SECONDS:-600}"
SANITIZER="${FUZZ_SANITIZER:-none}"
TIMEOUT="${FUZZ_TIMEOUT:-10}"
export CARGO_TARGET_DIR="$ROOT/fuzz/target"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "bench/fuzz.sh: the nightly toolchain is missing (rustup toolchain install nightly)" >&2
    exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    if [ "${FUZZ_INSTALL:-0}" = 1 ]; then
        echo "installing cargo-fuzz…" >&2
        cargo install --locked cargo-fuzz >&2
    else
        echo "bench/fuzz.sh: cargo-fuzz is missing (cargo install --locked cargo-fuzz, or FUZZ_INSTALL=1)" >&2
        exit 2
    fi
fi

targets="${FUZZ_TARGETS:-$(cd fuzz && cargo +nightly fuzz list)}"
echo "building the fuzz targets (sanitizer $SANITIZER, debug assertions)…" >&2
start=$(date +%s)
(cd fuzz && cargo +nightly fuzz build --sanitizer "$SANITIZER" --debug-assertions >&2)
echo "built in $(($(date +%s) - start)) s" >&2
bash fuzz/seed.sh >/dev/null

triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"
bin="$CARGO_TARGET_DIR/$triple/release"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

echo "# fuzz: $SECONDS_EACH s per target, single job, sanitizer $SANITIZER, $(nproc) cores, $(rustc +nightly --version)"
printf '| %-10s | %7s | %12s | %8s | %7s | %6s |\n' target seconds executions "execs/s" crashes corpus
printf '|%s|%s|%s|%s|%s|%s|\n' ------------ --------- -------------- ---------- --------- --------
failed=0
for t in $targets; do
    mkdir -p "fuzz/artifacts/$t"
    before=$(find "fuzz/artifacts/$t" -type f | wc -l)
    t0=$(date +%s.%N)
    rc=0
    "$bin/$t" "fuzz/corpus/$t" -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT" \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" \
        >"$logs/$t" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t" | tail -1)
    runs="${runs:-0}"
    took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')
    rate=$(awk -v r="$runs" -v s="$took" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')
    crashes=$(($(find "fuzz/artifacts/$t" -type f | wc -l) - before))
    if [ "$rc" != 0 ] && [ "$crashes" = 0 ]; then crashes="exit $rc"; fi
    corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
    printf '| %-10s | %7s | %12s | %8s | %7s | %6s |\n' "$t" "$took" "$runs" "$rate" "$crashes" "$corpus"
    if [ "$rc" != 0 ]; then
        failed=1
        echo "## $t failed (exit $rc); the end of its log:" >&2
        tail -40 "$logs/$t" >&2
    fi
done
exit "$failed"
