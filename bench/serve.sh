#!/usr/bin/env bash
# The team's page under load: `shipcheck serve` (release build, SQLite store) with VIEWERS
# event streams open on one run while EVENTS events are appended to it, and the run's page
# loaded ten times a second throughout. The measuring is done by the `bench-serve` example
# (crates/shipcheck/examples/bench-serve.rs): page served (p50/p95/max) and each event's time
# from its append to each viewer's stream.
#
#   VIEWERS=100 EVENTS=10000 RATE=0 FETCH=0 bash bench/serve.sh
#
# RATE: appends per second (0: as fast as the store takes them). FETCH=1: each viewer also
# fetches the run's live part after each notification, one at a time, as the page's script
# does (the cost of a real browser per viewer).

. "$(dirname "$0")/lib.sh"
VIEWERS="${VIEWERS:-100}"
EVENTS="${EVENTS:-10000}"
RATE="${RATE:-0}"
FETCH="${FETCH:-0}"

echo "building (release)…" >&2
(cd "$ROOT" && cargo build --release --quiet -p shipcheck --bin shipcheck --example bench-serve)
echo "# shipcheck serve: $VIEWERS viewers on one run, $EVENTS events (rate ${RATE}/s, 0 = unpaced; fragment fetches: $FETCH)"
machine_info
ulimit -n 8192 2>/dev/null || true
cat >"$WORK/shipcheck.toml" <<'TOML'
[project]
name = "serve-bench"
TOML
"$SHIPCHECK" --config "$WORK/shipcheck.toml" serve --listen 127.0.0.1:0 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do
    grep -q "http://" "$WORK/serve.err" 2>/dev/null && break
    sleep 0.05
done
URL="$(grep -o 'http://[0-9.:]*' "$WORK/serve.err" | head -1)"
[ -n "$URL" ] || { echo "serve did not start: $(cat "$WORK/serve.err")" >&2; exit 1; }
echo "server: $URL (pid $SERVER_PID)"
"$REL/examples/bench-serve" "$WORK/shipcheck.toml" "$URL" "$VIEWERS" "$EVENTS" "$RATE" "$FETCH"
echo "server RSS after: $(awk '/VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$SERVER_PID/status" 2>/dev/null || echo '?')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "goals: page p95 < 100 ms; an event reaches every viewer < 1 s p95"
