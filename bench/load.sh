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

need wrk:wrk /usr/bin/time:time
build
HAVE_OHA=0
if need_oha; then HAVE_OHA=1; fi
echo "# load: $CONN connections, ${DURATION}s, bench-server with $SERVER_THREADS thread(s)"
machine_info wrk oha
start_server --threads "$SERVER_THREADS"
URL="http://127.0.0.1:$PORT/"
echo "target: $URL"

# Each run_TOOL prints "REQUESTS_PER_SECOND CPU_MICROSECONDS_PER_REQUEST" (CPU = user + system
# time of the tool's process, from /usr/bin/time: a figure less disturbed by a busy machine).
cpu_s() { tail -1 "$WORK/time.txt" | awk '{ print $1 + $2 }'; }
run_shipcheck() {
    /usr/bin/time -f "%U %S" -o "$WORK/time.txt" \
        "$SHIPCHECK" loadtest "$URL" -c "$CONN" -d "${DURATION}s" --json >"$WORK/sc.json" 2>/dev/null || true
    local rps n
    rps="$(json_num rps "$WORK/sc.json")"
    n="$(json_num responses "$WORK/sc.json")"
    awk -v r="$rps" -v n="$n" -v c="$(cpu_s)" 'BEGIN { printf "%s %.2f\n", r, (n > 0) ? c / n * 1e6 : 0 }'
}
run_wrk() {
    /usr/bin/time -f "%U %S" -o "$WORK/time.txt" \
        wrk -t2 -c "$CONN" -d "${DURATION}s" "$URL" >"$WORK/wrk.txt" 2>&1 || true
    local rps n
    rps="$(awk '/Requests\/sec/ { print $2 }' "$WORK/wrk.txt")"
    n="$(awk '/requests in/ { print $1 }' "$WORK/wrk.txt")"
    awk -v r="$rps" -v n="$n" -v c="$(cpu_s)" 'BEGIN { printf "%s %.2f\n", r, (n > 0) ? c / n * 1e6 : 0 }'
}
oha_num() { # KEY in oha's JSON (the first one)
    grep -m1 "\"$1\":" "$WORK/oha.json" | sed 's/.*: *//; s/,$//'
}
run_oha() {
    /usr/bin/time -f "%U %S" -o "$WORK/time.txt" \
        oha --no-tui -c "$CONN" -z "${DURATION}s" --output-format json "$URL" >"$WORK/oha.json" 2>/dev/null || true
    local rps total
    rps="$(oha_num requestsPerSec)"
    total="$(oha_num total)"
    awk -v r="$rps" -v t="$total" -v c="$(cpu_s)" 'BEGIN { n = r * t; printf "%s %.2f\n", r, (n > 0) ? c / n * 1e6 : 0 }'
}

tools="shipcheck wrk"
[ "$HAVE_OHA" = 1 ] && tools="$tools oha"
: >"$WORK/rps.txt"
for round in $(seq 1 "$ROUNDS"); do
    order="$tools"
    [ $((round % 2)) = 0 ] && order="$(echo "$tools" | tr ' ' '\n' | tac | tr '\n' ' ')"
    for t in $order; do
        v="$("run_$t")"
        echo "round $round  $t  $(echo "$v" | awk '{ printf "%.0f req/s, %.2f µs CPU per request", $1, $2 }')"
        echo "$t $v" >>"$WORK/rps.txt"
    done
done
echo
echo "requests/s (higher is better):"
for t in $tools; do
    printf "  %-10s %s\n" "$t" "$(awk -v t="$t" '$1 == t { print $2 }' "$WORK/rps.txt" | stats)"
done
echo "CPU µs per request, user + system (lower is better):"
for t in $tools; do
    printf "  %-10s %s\n" "$t" "$(awk -v t="$t" '$1 == t { print $3 }' "$WORK/rps.txt" | stats)"
done
sc="$(awk '$1 == "shipcheck" { print $2 }' "$WORK/rps.txt" | median)"
sc_cpu="$(awk '$1 == "shipcheck" { print $3 }' "$WORK/rps.txt" | median)"
for t in $tools; do
    [ "$t" = shipcheck ] && continue
    other="$(awk -v t="$t" '$1 == t { print $2 }' "$WORK/rps.txt" | median)"
    other_cpu="$(awk -v t="$t" '$1 == t { print $3 }' "$WORK/rps.txt" | median)"
    awk -v a="$sc" -v b="$other" -v ca="$sc_cpu" -v cb="$other_cpu" -v t="$t" \
        'BEGIN { if (b > 0 && ca > 0) printf "  shipcheck / %s: %.2fx requests/s, %.2fx CPU efficiency (medians)\n", t, a / b, cb / ca }'
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
        p() { sed -n '/"latencyPercentiles"/,/}/p' "$WORK/oha.json" | grep -m1 "\"$1\":" | sed 's/.*: *//; s/,$//' | awk '{ printf "%.2f", $1 * 1000 }'; }
        echo "round $round  oha (closed):                  p50 $(p p50)ms p90 $(p p90)ms p99 $(p p99)ms"
    fi
done
echo "expected in the open model: about 20% of requests are due during a stall and wait up to"
echo "200 ms, so p90 ≈ 100 ms and p99 ≈ 190 ms; a closed model sends nothing while it waits and"
echo "shows the stall only in the few requests that were in flight."
