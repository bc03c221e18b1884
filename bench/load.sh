#!/usr/bin/env bash
# Load generators side by side against one local keep-alive server: shipcheck loadtest vs
# wrk (and oha when installed, or with OHA=1), 64 connections, 10 s, requests per second.
# Then a stalling server (every second it answers nothing for 200 ms): shipcheck's open model
# vs the closed models, to show that our p99 reflects the stalls.
#
#   ROUNDS=5 DURATION=10 bash bench/load.sh
#
# Rounds alternate the tools' order so that drift on a shared machine spreads over all.

. "$(dirname "$0")/lib.sh"
DURATION="${DURATION:-10}"
CONN="${CONN:-64}"
SERVER_THREADS="${SERVER_THREADS:-1}"

need wrk:wrk
build
HAVE_OHA=0
if need_oha; then HAVE_OHA=1; fi
echo "# load: $CONN connections, ${DURATION}s, bench-server with $SERVER_THREADS thread(s)"
machine_info wrk oha
start_server --threads "$SERVER_THREADS"
URL="http://127.0.0.1:$PORT/"
echo "target: $URL"

run_shipcheck() { # rps
    "$SHIPCHECK" loadtest "$URL" -c "$CONN" -d "${DURATION}s" --json >"$WORK/sc.json" 2>/dev/null || true
    json_num rps "$WORK/sc.json"
}
run_wrk() {
    wrk -t2 -c "$CONN" -d "${DURATION}s" "$URL" >"$WORK/wrk.txt" 2>&1 || true
    awk '/Requests\/sec/ { print $2 }' "$WORK/wrk.txt"
}
run_oha() {
    oha --no-tui -c "$CONN" -z "${DURATION}s" --output-format json "$URL" >"$WORK/oha.json" 2>/dev/null || true
    grep -o '"requestsPerSec":[0-9.eE+-]*' "$WORK/oha.json" | head -1 | cut -d: -f2
}

tools="shipcheck wrk"
[ "$HAVE_OHA" = 1 ] && tools="$tools oha"
: >"$WORK/rps.txt"
for round in $(seq 1 "$ROUNDS"); do
    order="$tools"
    [ $((round % 2)) = 0 ] && order="$(echo "$tools" | tr ' ' '\n' | tac | tr '\n' ' ')"
    for t in $order; do
        v="$("run_$t")"
        echo "round $round  $t  ${v:-failed} req/s"
        echo "$t $v" >>"$WORK/rps.txt"
    done
done
echo
echo "requests/s (higher is better):"
for t in $tools; do
    printf "  %-10s %s\n" "$t" "$(awk -v t="$t" '$1 == t { print $2 }' "$WORK/rps.txt" | stats)"
done
sc="$(awk '$1 == "shipcheck" { print $2 }' "$WORK/rps.txt" | median)"
for t in $tools; do
    [ "$t" = shipcheck ] && continue
    other="$(awk -v t="$t" '$1 == t { print $2 }' "$WORK/rps.txt" | median)"
    awk -v a="$sc" -v b="$other" -v t="$t" 'BEGIN { if (b > 0) printf "  shipcheck / %s = %.2fx (medians)\n", t, a / b }'
done
stop_server

echo
echo "# stalling server: answers nothing for 200 ms every 1 s (20% of the time)"
start_server --threads "$SERVER_THREADS" --stall-every-ms 1000 --stall-ms 200
URL="http://127.0.0.1:$PORT/"
RATE="${RATE:-2000}"
wrk_p() { # percentile line of wrk --latency in ms
    awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; print v }' "$WORK/wrk.txt"
}
for round in $(seq 1 "${STALL_ROUNDS:-3}"); do
    "$SHIPCHECK" loadtest "$URL" -c "$CONN" --rate "$RATE" -d "${DURATION}s" --json >"$WORK/open.json" 2>/dev/null || true
    echo "round $round  shipcheck open model ($RATE/s): p50 $(json_num p50 "$WORK/open.json")ms p90 $(json_num p90 "$WORK/open.json")ms p99 $(json_num p99 "$WORK/open.json")ms"
    "$SHIPCHECK" loadtest "$URL" -c "$CONN" -d "${DURATION}s" --json >"$WORK/closed.json" 2>/dev/null || true
    echo "round $round  shipcheck closed model:        p50 $(json_num p50 "$WORK/closed.json")ms p90 $(json_num p90 "$WORK/closed.json")ms p99 $(json_num p99 "$WORK/closed.json")ms"
    wrk -t2 -c "$CONN" -d "${DURATION}s" --latency "$URL" >"$WORK/wrk.txt" 2>&1 || true
    echo "round $round  wrk (closed):                  p50 $(wrk_p 50%)ms p90 $(wrk_p 90%)ms p99 $(wrk_p 99%)ms"
    if [ "$HAVE_OHA" = 1 ]; then
        oha --no-tui -c "$CONN" -z "${DURATION}s" --output-format json "$URL" >"$WORK/oha.json" 2>/dev/null || true
        p() { grep -o "\"$1\":[0-9.eE+-]*" "$WORK/oha.json" | head -1 | cut -d: -f2 | awk '{ printf "%.2f", $1 * 1000 }'; }
        echo "round $round  oha (closed):                  p50 $(p p50)ms p90 $(p p90)ms p99 $(p p99)ms"
    fi
done
echo "expected in the open model: about 20% of requests are due during a stall and wait up to"
echo "200 ms, so p90 ≈ 100 ms and p99 ≈ 190 ms; a closed model sends nothing while it waits and"
echo "shows the stall only in the few requests that were in flight."
