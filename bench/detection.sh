#!/usr/bin/env bash
# Detection: the demo world's bad release watched in real time (`--speed 1`: world time is
# wall time) at the default sampling (`sample_every = 30s`, 3 consecutive failed samples).
# The demo operator walks the whole checklist; the release goes live, runs clean for 12
# minutes (the watch's clean part, with the apps' jittery latencies), then answers 30 % of
# requests with a 500. Measured per round, from the world's own records:
#   detect  = the first incident − the first 500 any production app answered
#   recover = the rollback verified − the first incident (the stand-ins deploy instantly,
#             so this is shipcheck's own time: the rollback actions and the verification)
# and the clean watch: the watch's start → the first 500, and any incident raised in it.
# One round takes more than 20 minutes (the release's 12 clean minutes are by design).
#
#   ROUNDS=1 bash bench/detection.sh

. "$(dirname "$0")/lib.sh"
ROUNDS="${ROUNDS:-1}"
LIMIT_S="${LIMIT_S:-1800}" # at most this long per round
DEMO_PID=""

need jq:jq
build_shipcheck
echo "# detection: bad release, real time (speed 1), sample_every 30s, 3 failed samples"
machine_info
trap 'if [ -n "$DEMO_PID" ]; then kill -- -"$DEMO_PID" 2>/dev/null || true; fi; cleanup' EXIT

secs() { # world timestamp → epoch seconds (fractional)
    python3 -c 'import sys,datetime; print(datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).timestamp())' "$1"
}

: >"$WORK/detect"; : >"$WORK/recover"; : >"$WORK/clean"
for r in $(seq 1 "$ROUNDS"); do
    DIR="$WORK/world-$r"
    # Its own process group, so the demo and its operator stop together.
    setsid "$SHIPCHECK" demo --scenario bad-release --speed 1 --no-postgres --dir "$DIR" \
        >"$WORK/demo-$r.out" 2>&1 &
    DEMO_PID=$!
    begun="$(date +%s)"
    report=""
    while [ $(($(date +%s) - begun)) -lt "$LIMIT_S" ]; do
        sleep 10
        if ! kill -0 "$DEMO_PID" 2>/dev/null; then break; fi
        [ -f "$DIR/env.sh" ] || continue
        # shellcheck disable=SC1091
        report="$(cd "$DIR" && . ./env.sh && "$SHIPCHECK" report --json 2>/dev/null)" || continue
        if echo "$report" | jq -e '[.. | objects | select(has("rollback_verified")) | .rollback_verified | select(. != null) | .ok] | any' >/dev/null 2>&1; then
            break
        fi
    done
    echo "$report" >"$WORK/report-$r.json"
    kill -- -"$DEMO_PID" 2>/dev/null || true
    wait "$DEMO_PID" 2>/dev/null || true
    DEMO_PID=""
    m="$(jq '[.. | objects | select(has("time_to_detect_s"))][0]' "$WORK/report-$r.json")"
    if [ -z "$m" ] || [ "$m" = null ]; then
        echo "round $r: no watch record after $(($(date +%s) - begun)) s; the demo said:" >&2
        tail -20 "$WORK/demo-$r.out" >&2
        continue
    fi
    live="$(echo "$m" | jq -r .release_live_at)"
    incident="$(echo "$m" | jq -r '.incidents[0].raised_at // empty')"
    verified="$(echo "$m" | jq -r '.rollback_verified.at // empty')"
    watch_from="$(echo "$m" | jq -r '.watches[0].started_at // .watches[0].start // empty')"
    first500="$(cat "$DIR"/fly/logs/*-production-*.jsonl | jq -r 'select(.status_code >= 500) | .timestamp' | sort | head -1)"
    if [ -z "$incident" ] || [ -z "$first500" ]; then
        echo "round $r: incomplete (incident '$incident', first 5xx '$first500')" >&2
        continue
    fi
    detect="$(awk -v a="$(secs "$first500")" -v b="$(secs "$incident")" 'BEGIN { printf "%.1f", b - a }')"
    onset="$(awk -v a="$(secs "$live")" -v b="$(secs "$first500")" 'BEGIN { printf "%.1f", b - a }')"
    recover="n/a"
    if [ -n "$verified" ]; then
        recover="$(awk -v a="$(secs "$incident")" -v b="$(secs "$verified")" 'BEGIN { printf "%.1f", b - a }')"
        echo "$recover" >>"$WORK/recover"
    fi
    clean="n/a"
    if [ -n "$watch_from" ]; then
        clean="$(awk -v a="$(secs "$watch_from")" -v b="$(secs "$first500")" 'BEGIN { printf "%.1f", b - a }')"
        echo "$clean" >>"$WORK/clean"
    fi
    early="$(echo "$m" | jq --arg f "$first500" '[.incidents[] | select(.raised_at < $f)] | length')"
    echo "$detect" >>"$WORK/detect"
    echo "round $r: live $live, first 5xx $first500 (+${onset} s), incident $incident, verified ${verified:-none}"
    echo "round $r: detect ${detect} s, recover ${recover} s, clean watch before the fault ${clean} s with ${early} incident(s); the record's time_to_detect_s (from live) $(echo "$m" | jq .time_to_detect_s)"
done
echo
echo "seconds:"
echo "  detect (first 5xx → incident):          $(stats <"$WORK/detect")"
echo "  recover (incident → rollback verified):  $(stats <"$WORK/recover")"
echo "  clean watch before the fault:            $(stats <"$WORK/clean")"
echo "goal: detect ≤ 100 s; the clean part raises nothing"
