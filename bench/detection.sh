#!/usr/bin/env bash
# Detection: the demo world's bad release watched in real time (`--speed 1`: world time is
# wall time) with the demo's policy: every fast signal sampled every 5 s (`sample_every =
# "5s"`: 5 health probes per app a sample within the default budget of 1 a second, and the
# edge's request counters, `fly_edge_http_responses_count` by status, from the world's
# Prometheus), judged by the sequential tests; Sentry at its own pace; `auto_rollback`,
# `rollback_strategy = "platform"`. The release goes live, runs clean for ONSET_S seconds
# after its deploy (900 by default: the watch starts about 5 minutes after the last app went
# live, so it watches about 8 clean minutes with the apps' jittery latencies and real traffic),
# then answers 30 % of requests with a 500. Measured per round, from the world's own records
# (the first 500 any production app logged, and `shipcheck report --json`):
#   detect   = the first incident − the first 500
#   rollback = the rollback started − the first 500
#   verified = the rollback verified (the previous release live on every Machine, its commit
#              answering, the failure rate back at the baseline) − the first 500
# and the clean watch before the fault, with the incidents raised in it.
# Alongside the rounds, CLEAN_MIN minutes (35 by default; 0: none) of the good release
# watched in real time (`demo --scenario good --speed 1`): the incidents raised on it.
# Rounds run side by side (they sleep most of the time); one takes about 20 minutes.
#
#   ROUNDS=5 bash bench/detection.sh

. "$(dirname "$0")/lib.sh"
# The analysis below cuts pipelines short (`head`); a closed pipe is not a failure here.
set +o pipefail
ROUNDS="${ROUNDS:-3}"
ONSET_S="${ONSET_S:-900}"
CLEAN_MIN="${CLEAN_MIN:-35}"
LIMIT_S="${LIMIT_S:-2400}" # at most this long per round
KEEP="${KEEP:-}"           # a directory to keep every round's record, output and world logs in
SPEED="${SPEED:-1}"       # world seconds per wall second (1 for the figures; more to try the script)
export SHIPCHECK_WORLD_ONSET_S="$ONSET_S"

need jq:jq
build_shipcheck
echo "# detection: bad release, real time (speed $SPEED), the demo's policy (sample_every 5s, sequential tests, edge counters), onset ${ONSET_S}s after live"
machine_info
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -- -"$p" 2>/dev/null || true; done; cleanup' EXIT

secs() { # timestamp → epoch seconds (fractional)
    python3 -c 'import sys,datetime; print(datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).timestamp())' "$1"
}
diff_s() { awk -v a="$(secs "$1")" -v b="$(secs "$2")" 'BEGIN { printf "%.1f", b - a }'; }

# One round: the demo in its own process group; polls the record until the rollback is
# verified (or the limit), then stops the demo and keeps the record.
round() {
    local r="$1" dir="$WORK/world-$r" begun report=""
    setsid "$SHIPCHECK" demo --scenario bad-release --speed "$SPEED" --no-postgres --dir "$dir" \
        >"$WORK/demo-$r.out" 2>&1 &
    local pid=$!
    echo "$pid" >"$WORK/pid-$r"
    begun="$(date +%s)"
    while [ $(($(date +%s) - begun)) -lt "$LIMIT_S" ]; do
        sleep "$(( SPEED > 1 ? 2 : 10 ))"
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        [ -f "$dir/env.sh" ] || continue
        # shellcheck disable=SC1091
        report="$(cd "$dir" && . ./env.sh && "$SHIPCHECK" report --json 2>/dev/null)" || continue
        if echo "$report" | jq -e '[.. | objects | select(has("rollback_verified")) | .rollback_verified | select(. != null)] | length > 0' >/dev/null 2>&1; then
            break
        fi
    done
    echo "$report" >"$WORK/report-$r.json"
    echo "$(($(date +%s) - begun))" >"$WORK/took-$r"
    kill -- -"$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [ -n "$KEEP" ]; then
        mkdir -p "$KEEP/round-$r"
        cp "$WORK/report-$r.json" "$WORK/demo-$r.out" "$KEEP/round-$r/" 2>/dev/null || true
        cp -r "$dir/fly/logs" "$KEEP/round-$r/" 2>/dev/null || true
    fi
}

# The clean stretch: the good release watched for CLEAN_MIN minutes of real time.
clean_stretch() {
    local dir="$WORK/world-clean" begun watching=""
    setsid "$SHIPCHECK" demo --scenario good --speed "$SPEED" --no-postgres --dir "$dir" \
        >"$WORK/demo-clean.out" 2>&1 &
    local pid=$!
    begun="$(date +%s)"
    # The world's clock is not the wall's (it starts inside the deploy window): the stretch is
    # timed on the wall, from the first poll that sees the watch started.
    while [ $(($(date +%s) - begun)) -lt $((CLEAN_MIN * 60 + 1200)) ]; do
        sleep 20
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        [ -f "$dir/env.sh" ] || continue
        if [ -z "$watching" ] && grep -q "^watching the release" "$WORK/demo-clean.out"; then
            watching="$(date +%s)"
        fi
        if [ -n "$watching" ] && [ $(($(date +%s) - watching)) -ge $((CLEAN_MIN * 60)) ]; then
            break
        fi
    done
    # shellcheck disable=SC1091
    (cd "$dir" && . ./env.sh && "$SHIPCHECK" report --json 2>/dev/null) >"$WORK/report-clean.json" || true
    if [ -n "$watching" ]; then echo $(($(date +%s) - watching)); else echo 0; fi >"$WORK/clean-watched"
    kill -- -"$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [ -n "$KEEP" ]; then mkdir -p "$KEEP/clean"; cp "$WORK/report-clean.json" "$WORK/demo-clean.out" "$KEEP/clean/" 2>/dev/null || true; fi
}
if [ "$CLEAN_MIN" -gt 0 ]; then
    clean_stretch &
    PIDS+=("$!")
    sleep 5
fi

for r in $(seq 1 "$ROUNDS"); do
    round "$r" &
    PIDS+=("$!")
    sleep 5 # the rounds' builds of their worlds do not start in the same second
done
echo "started $ROUNDS round(s) side by side at $(date -u +%T) UTC; each takes about $(((ONSET_S + 600) / 60)) minutes"
wait "${PIDS[@]}" 2>/dev/null || true
PIDS=()

: >"$WORK/detect"; : >"$WORK/detect_own"; : >"$WORK/critical"; : >"$WORK/recover"; : >"$WORK/clean"; : >"$WORK/early"
: >"$WORK/started"; : >"$WORK/verified"
for r in $(seq 1 "$ROUNDS"); do
    dir="$WORK/world-$r"
    m="$(jq '[.. | objects | select(has("time_to_detect_s"))][0]' "$WORK/report-$r.json" 2>/dev/null || true)"
    if [ -z "$m" ] || [ "$m" = null ]; then
        echo "round $r: no watch record after $(cat "$WORK/took-$r") s; the demo said:" >&2
        tail -20 "$WORK/demo-$r.out" >&2
        continue
    fi
    rb="$(jq '[.. | objects | select(has("rollbacks"))][0].rollbacks[0] // empty' "$WORK/report-$r.json")"
    live="$(echo "$m" | jq -r .release_live_at)"
    first500="$(cat "$dir"/fly/logs/*-production-*.jsonl | jq -r 'select(.status_code >= 500) | .timestamp' | sort | head -1)"
    # The first incident raised after the fault began (any before it were raised on a clean
    # release: counted below as the clean watch's).
    first="$(echo "$m" | jq -c --arg f "$first500" '[.incidents[] | select(.raised_at >= $f)][0] // empty')"
    incident="$(echo "$first" | jq -r '.raised_at // empty')"
    inc_app="$(echo "$first" | jq -r '.series.app // empty')"
    # The incident the rollback names (its reason says "incident #N").
    rb_id="$(echo "$rb" | jq -r '.reason // empty' | grep -o 'incident #[0-9]*' | head -1 | tr -dc 0-9)"
    rb_at=""
    if [ -n "$rb_id" ]; then rb_at="$(echo "$m" | jq -r --argjson id "$rb_id" '.incidents[] | select(.id == $id) | .raised_at')"; fi
    verified="$(echo "$m" | jq -r 'select(.rollback_verified.ok == true) | .rollback_verified.at // empty')"
    rb_started="$(echo "$rb" | jq -r '.started_at // empty')"
    watch_from="$(echo "$m" | jq -r '[.watches[] | select(.purpose == "release")][0].started_at // empty')"
    if [ -z "$incident" ] || [ -z "$first500" ]; then
        echo "round $r: incomplete (incident '$incident', first 5xx '$first500')" >&2
        continue
    fi
    detect="$(diff_s "$first500" "$incident")"
    echo "$detect" >>"$WORK/detect"
    own="n/a"
    if [ -n "$inc_app" ]; then
        own500="$(cat "$dir"/fly/logs/*-production-"$inc_app".jsonl | jq -r 'select(.status_code >= 500) | .timestamp' | sort | head -1)"
        if [ -n "$own500" ]; then own="$(diff_s "$own500" "$incident")"; echo "$own" >>"$WORK/detect_own"; fi
    fi
    critical="n/a"
    if [ -n "$rb_at" ]; then critical="$(diff_s "$first500" "$rb_at")"; echo "$critical" >>"$WORK/critical"; fi
    recover="n/a"
    if [ -n "$verified" ] && [ -n "$rb_at" ]; then
        recover="$(diff_s "$rb_at" "$verified")"
        echo "$recover" >>"$WORK/recover"
    fi
    started="n/a"
    if [ -n "$rb_started" ]; then started="$(diff_s "$first500" "$rb_started")"; echo "$started" >>"$WORK/started"; fi
    to_verified="n/a"
    if [ -n "$verified" ]; then to_verified="$(diff_s "$first500" "$verified")"; echo "$to_verified" >>"$WORK/verified"; fi
    clean="n/a"
    if [ -n "$watch_from" ]; then
        clean="$(diff_s "$watch_from" "$first500")"
        echo "$clean" >>"$WORK/clean"
    fi
    early="$(echo "$m" | jq --arg f "$first500" '[.incidents[] | select(.raised_at < $f)] | length')"
    echo "$m" | jq -r --arg f "$first500" '.incidents[] | select(.raised_at < $f) | "round '"$r"': on the clean release: #\(.id) \(.severity) \(.summary)"'
    echo "$early" >>"$WORK/early"
    echo "round $r: live $live, watch from $watch_from, first 5xx $first500 (+$(diff_s "$live" "$first500") s after live)"
    echo "round $r: incidents: $(echo "$m" | jq -r '[.incidents[] | "#\(.id) \(.severity) \(.raised_at[11:19]) \(.series.metric)\(if .series.app then " of " + .series.app else "" end)"] | join("; ")')"
    echo "round $r: rollback by incident #${rb_id:-?} at ${rb_at:-none}, verified ${verified:-not within the limit}"
    echo "round $r: from the first 5xx: incident ${detect} s (own app ${own} s), the incident that rolled back ${critical} s, rollback started ${started} s, previous release live and verified ${to_verified} s (recover: incident → verified ${recover} s); clean watch ${clean} s with ${early} incident(s)"
done
# The p95 of numbers on stdin, nearest rank (with 5 rounds: the slowest).
p95() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } i = int(0.95 * NR); if (i < 0.95 * NR) i++; print a[i] }'; }
echo
echo "seconds (median (min–max, spread) over the rounds; p95 nearest rank):"
echo "  detect (first 5xx → first incident):               $(stats <"$WORK/detect") p95 $(p95 <"$WORK/detect")"
echo "  detect, from the failing app's own first 5xx:      $(stats <"$WORK/detect_own")"
echo "  first 5xx → the incident that rolled back:         $(stats <"$WORK/critical")"
echo "  first 5xx → rollback started:                      $(stats <"$WORK/started") p95 $(p95 <"$WORK/started")"
echo "  first 5xx → previous release live and verified:    $(stats <"$WORK/verified") p95 $(p95 <"$WORK/verified")"
echo "  recover (that incident → rollback verified):       $(stats <"$WORK/recover")"
echo "  clean watch before the fault:                      $(stats <"$WORK/clean")"
echo "  incidents raised on the clean release:            $(awk '{ n += $1 } END { print n + 0 }' "$WORK/early") over $(wc -l <"$WORK/early") round(s)"
if [ "$CLEAN_MIN" -gt 0 ]; then
    watched="$(cat "$WORK/clean-watched" 2>/dev/null || echo 0)"
    if [ "$watched" -gt 0 ]; then
        n="$(jq '[.. | objects | select(has("time_to_detect_s"))][0].incidents | length' "$WORK/report-clean.json")"
        echo "  clean stretch (good release): watched about $(awk -v s="$watched" 'BEGIN { printf "%.1f", s / 60 }') min of real time (±20 s), ${n} incident(s)"
        jq -r '[.. | objects | select(has("time_to_detect_s"))][0].incidents[] | "    #\(.id) \(.severity) \(.raised_at) \(.summary)"' "$WORK/report-clean.json"
    else
        echo "  clean stretch: no watch record; the demo said:"; tail -20 "$WORK/demo-clean.out"
    fi
fi
echo "goals: detect ≤ 20 s p95; previous release live and verified ≤ 120 s p95; 0 incidents in ≥ 30 clean real-time minutes"
