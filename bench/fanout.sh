#!/usr/bin/env bash
# Health fan-out: 1,000 loopback endpoints that answer after 100 ms. shipcheck's health check
# over all of them (a config with 1,000 staging apps, `shipcheck check
# prepare.staging-health`, one process from start to exit) vs `xargs -P 64 curl`.
#
#   ROUNDS=10 APPS=1000 bash bench/fanout.sh

. "$(dirname "$0")/lib.sh"
APPS="${APPS:-1000}"
DELAY_MS="${DELAY_MS:-100}"

need hyperfine:hyperfine curl:curl
build
echo "# health fan-out: $APPS endpoints answering after ${DELAY_MS} ms"
machine_info curl hyperfine
ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true
echo "open files limit: $(ulimit -n)"
start_server --threads 2 --delay-ms "$DELAY_MS"
CFG="$WORK/shipcheck.toml"
{
    printf '[project]\nname = "fanout"\n\n'
    for i in $(seq 1 "$APPS"); do
        printf '[[environments.staging.apps]]\nname = "app-%d"\nhealth_url = "http://127.0.0.1:%d/app/%d/health"\n\n' "$i" "$PORT" "$i"
    done
} >"$CFG"
seq 1 "$APPS" | sed "s|.*|http://127.0.0.1:$PORT/app/&/health|" >"$WORK/urls.txt"

# One run first: it must pass (every endpoint answered 200).
"$SHIPCHECK" --config "$CFG" check prepare.staging-health --json >"$WORK/check.json" || {
    echo "the health check did not pass:" >&2
    head -c 2000 "$WORK/check.json" >&2
    exit 1
}
echo "check: $(grep -m1 '"summary"' "$WORK/check.json" | cut -c1-120)…"

hyperfine --style basic --warmup 1 --runs "$ROUNDS" --export-csv "$WORK/fanout.csv" \
    -n shipcheck "$SHIPCHECK --config $CFG check prepare.staging-health --json" \
    -n "xargs -P 64 curl" "xargs -P 64 -n 1 curl -s -o /dev/null < $WORK/urls.txt" >&2
echo
echo "wall seconds (lower is better):"
tail -n +2 "$WORK/fanout.csv" | while IFS=, read -r name mean stddev median user system min max; do
    spread="$(awk -v a="$min" -v b="$max" -v m="$median" 'BEGIN { printf "%.0f", (b - a) / m * 100 }')"
    printf "  %-18s median %.3f  (min %.3f, max %.3f, spread %s%%, mean %.3f ± %.3f)\n" \
        "$name" "$median" "$min" "$max" "$spread" "$mean" "$stddev"
done
echo "goal: shipcheck ≤ 0.25 s (the endpoints alone take ${DELAY_MS} ms)"
