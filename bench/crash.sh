#!/usr/bin/env bash
# Crash anywhere, resume to the same end: N seeded kill points over the good and the
# bad-release rehearsal (`shipcheck demo`'s world), each world walked by the demo operator
# and killed at POINTS points — right after a chosen event of the journal (the rollback's
# intent and the watch after the rollback always among them) or at a random moment inside a
# side effect — then resumed to the end. Each world is checked against an uninterrupted run of
# the same scenario: every side effect exactly once (one merge, one approval, each Slack
# message once, each app rolled back once), the journal verified, the item states, the
# verdict and the success criteria equal. It is the `crash_anywhere…` test of
# crates/shipcheck/tests/cli/demo.rs, run once per seed.
#
#   N=200 POINTS=25 bash bench/crash.sh      # N kill points in all, POINTS per world
#   N=40 bash bench/crash.sh                 # a quicker pass

. "$(dirname "$0")/lib.sh"
N="${N:-200}"
POINTS="${POINTS:-25}"
SEED="${SEED:-2026}"

echo "building the test binary…" >&2
(cd "$ROOT" && cargo test -p shipcheck --test cli --no-run --quiet 2>/dev/null)
TEST_BIN="$(cd "$ROOT" && cargo test -p shipcheck --test cli --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\/deps\/cli-[^"]*\)".*/\1/p' | tail -1)"
if [ -z "$TEST_BIN" ]; then
    echo "cannot find the cli test binary" >&2
    exit 1
fi
SHIPCHECK="$(dirname "$TEST_BIN")/../shipcheck"
echo "# crash anywhere: $N kill points, $POINTS per world, good and bad-release"
machine_info
worlds=$(((N + POINTS - 1) / POINTS))
landed_total=0
failed=0
start_s="$(date +%s)"
for i in $(seq 1 "$worlds"); do
    if [ $((i % 2)) = 1 ]; then scenario=bad-release; else scenario=good; fi
    seed=$((SEED * 1000 + i))
    log="$WORK/world-$i.log"
    if SHIPCHECK_CRASH_SCENARIO="$scenario" SHIPCHECK_CRASH_SEED="$seed" SHIPCHECK_CRASH_POINTS="$POINTS" \
        "$TEST_BIN" --exact crash::crash_anywhere_resumes_to_the_same_end_with_every_side_effect_once \
        --nocapture >"$log" 2>&1; then
        verdict=ok
    else
        verdict=FAILED
        failed=$((failed + 1))
    fi
    line="$(grep -m1 '^crash-anywhere:' "$log" || echo "crash-anywhere: (no summary)")"
    landed="$(echo "$line" | sed -n 's/.*landed=\([0-9]*\).*/\1/p')"
    landed_total=$((landed_total + ${landed:-0}))
    echo "world $i/$worlds $verdict · ${line#crash-anywhere: }"
    if [ "$verdict" = FAILED ]; then
        grep -m3 -A6 'panicked' "$log" | sed 's/^/    /' || true
        cp "$log" "${TMPDIR:-/tmp}/shipcheck-crash-world-$i.log"
        echo "    (log kept in ${TMPDIR:-/tmp}/shipcheck-crash-world-$i.log)"
    fi
done
echo
echo "kill points landed: $landed_total over $worlds world(s) ($failed failed) in $(($(date +%s) - start_s)) s"
if [ "$failed" -gt 0 ]; then exit 1; fi
