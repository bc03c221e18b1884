#!/usr/bin/env bash
# `shipcheck status` with 10,000 runs in the store (SQLite): the runs are made with the real
# session API (each journal holds the whole checklist); the newest stays open.
#
#   ROUNDS=30 RUNS=10000 bash bench/status.sh

. "$(dirname "$0")/lib.sh"
RUNS="${RUNS:-10000}"
ROUNDS="${ROUNDS:-30}"

need hyperfine:hyperfine
build
echo "# shipcheck status with $RUNS runs in the store"
machine_info hyperfine
DIR="$WORK/project"
mkdir -p "$DIR"
cat >"$DIR/shipcheck.toml" <<'TOML'
[project]
name = "status-bench"

[[environments.production.apps]]
name = "api"
health_url = "http://127.0.0.1:9/health"
TOML
echo "making $RUNS runs…" >&2
start_s="$(date +%s)"
"$REL/examples/bench-store" "$DIR/shipcheck.toml" "$RUNS" 2>/dev/null
echo "made in $(( $(date +%s) - start_s ))s; store $(du -h "$DIR/.shipcheck/shipcheck.db" | cut -f1)"
cd "$DIR"
"$SHIPCHECK" status >/dev/null
hyperfine --style basic -N --warmup 3 --runs "$ROUNDS" --export-csv "$WORK/status.csv" \
    -n "status" "$SHIPCHECK status" \
    -n "status --json" "$SHIPCHECK status --json" \
    -n "history" "$SHIPCHECK history" >&2
echo
echo "wall milliseconds (lower is better):"
tail -n +2 "$WORK/status.csv" | while IFS=, read -r name mean stddev median user system min max; do
    awk -v n="$name" -v me="$median" -v a="$min" -v b="$max" -v mean="$mean" -v sd="$stddev" \
        'BEGIN { printf "  %-14s median %.1f  (min %.1f, max %.1f, spread %.0f%%, mean %.1f ± %.1f)\n", n, me * 1000, a * 1000, b * 1000, (b - a) / me * 100, mean * 1000, sd * 1000 }'
done
echo "goal: status median < 50 ms"
