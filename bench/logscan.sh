#!/usr/bin/env bash
# Log scan side by side: a generated file of Fly log lines as fly-log-shipper sends them (one
# JSON object per line, every app line `info` in the envelope, the app's own level inside the
# message, messages full of numbers: latencies, ids, sizes), the default error patterns:
# shipcheck logs scan vs rg -j1 -c and grep -P -c with the same expressions. Wall time and
# peak RSS from /usr/bin/time. The file is read once before timing, so every tool reads from
# the page cache.
#
#   ROUNDS=5 BYTES=1073741824 LOG_FILE=/tmp/fly.log bash bench/logscan.sh

. "$(dirname "$0")/lib.sh"
BYTES="${BYTES:-1073741824}"
LOG_FILE="${LOG_FILE:-${TMPDIR:-/tmp}/shipcheck-bench-fly-v2-$BYTES.log}"

need rg:ripgrep /usr/bin/time:time
build
echo "# log scan: $BYTES bytes of Fly log lines (shipper NDJSON, app levels in messages), default patterns"
machine_info rg grep
if [ ! -s "$LOG_FILE" ] || [ "$(stat -c %s "$LOG_FILE")" -lt "$BYTES" ]; then
    echo "generating $LOG_FILE…" >&2
    "$REL/examples/bench-loggen" --bytes "$BYTES" >"$LOG_FILE"
fi
cat "$LOG_FILE" >/dev/null

# shipcheck's default patterns (logscan::default_patterns) match each entry's *message*; rg and
# grep match lines. So each pattern is given to them as its whole-line equivalent on these
# lines: `^` (the message's start) becomes `"message":"`, and a JSON message's own quotes are
# written escaped (`\"level\":\"error\"`) as they are inside the shipper's string. Same syntax
# otherwise (ASCII classes, `(?-u)`); grep -P gets the same alternation without `(?-u)`, in
# the C locale.
LEAD='"message":"\s*(?:(?:\d{4}[-/]\d{2}[-/]\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?|\d{2}:\d{2}:\d{2}(?:[.,]\d+)?|\[[^\]]{1,64}\]|\w+=[^\s\[]*|[DIWEFA],|\\u001b\[[0-9;]*m)\s*){0,6}'
Q='\\"'
level() { # UPPER-words any-case-words pino-number
    local re="(?-u)${LEAD}(?:(?:\w+\.)?(?:$1)\b|\[(?i:$2)\]|(?i:$2):)|\b(?:level|lvl|severity)=(?:${Q})?(?i:$2)\b|${Q}(?:level|lvl|severity|levelname|log\.level)${Q}\s*:\s*${Q}(?i:$2)${Q}"
    if [ -n "$3" ]; then re="${re}|${Q}level${Q}\s*:\s*$3\b"; fi
    printf '%s' "$re"
}
RS=(
    "$(level ERROR error '5[0-9]')"
    "$(level FATAL fatal 60)"
    "$(level 'CRITICAL|CRIT' 'critical|crit' '')"
    '(?-u)\bpanicked at\b|"message":"\s*panic: |"message":"\s*goroutine [0-9]+ \[running\]:|"message":"\s*fatal error: '
    '(?-u)"message":"\s*Traceback \(most recent call last\):|"message":"\s*Uncaught\b|\bUnhandled(?:PromiseRejection| promise rejection| rejection| exception)|"message":"\s*Exception in thread |"message":"\s*(?:[a-z][\w$]*\.)*(?:[A-Z][\w$]*)?(?:Error|Exception)(?: \[\w+\])?: '
    '(?-u)"message":"\s*\[P[A-Z][0-9]{2}\]'
    "(?-u)\b(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|CONNECT|TRACE) \S+(?: HTTP/[0-9.]+)?(?:${Q})?(?: -)? 5[0-9]{2}\b|\b(?:Sent|Completed) 5[0-9]{2}\b|\b(?:status|status_?code|statusCode|http_status|http\.status_code)(?:${Q})?\s*[=:]\s*(?:${Q})?5[0-9]{2}\b"
)
RG_ARGS=()
PCRE=""
for p in "${RS[@]}"; do
    RG_ARGS+=(-e "$p")
    PCRE="${PCRE:+$PCRE|}(?:${p#(?-u)})"
done

timed() { # NAME cmd… ; appends "NAME seconds rss_kb" to results, prints the tool's output
    local name="$1"
    shift
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >"$WORK/$name.out" 2>/dev/null || true
    echo "$name $(tail -1 "$WORK/time.txt")" >>"$WORK/results.txt"
}
: >"$WORK/results.txt"
tools="shipcheck rg grep"
for round in $(seq 1 "$ROUNDS"); do
    order="$tools"
    [ $((round % 2)) = 0 ] && order="grep rg shipcheck"
    for t in $order; do
        case "$t" in
            shipcheck) timed shipcheck "$SHIPCHECK" logs scan "$LOG_FILE" --json ;;
            rg) timed rg rg -j1 -c "${RG_ARGS[@]}" "$LOG_FILE" ;;
            grep) timed grep env LC_ALL=C grep -P -c "$PCRE" "$LOG_FILE" ;;
        esac
        echo "round $round  $t  $(tail -1 "$WORK/results.txt" | awk '{ printf "%.2fs  %.1f MB RSS", $2, $3 / 1024 }')"
    done
done
echo
echo "lines: $(grep -m1 '^    "lines"' "$WORK/shipcheck.out" | sed 's/[^0-9]//g')"
echo "matching lines: shipcheck $(json_num matched_lines "$WORK/shipcheck.out"), rg $(cat "$WORK/rg.out"), grep $(cat "$WORK/grep.out") (must agree)"
echo "per pattern (shipcheck): $(awk '/^    "patterns": \[/ { p = 1; next } p && /^    \]/ { p = 0 }
    p && /"lines"/ { gsub(/[^0-9]/, "", $2); n = $2 } p && /"name"/ { gsub(/[",]/, "", $2); printf "%s %s  ", $2, n }' "$WORK/shipcheck.out")"
echo "shipcheck prefilter: $(grep -m1 '"prefilter"' "$WORK/shipcheck.out" | sed 's/.*: *//')"
echo
echo "wall seconds (lower is better):"
for t in $tools; do
    printf "  %-10s %s\n" "$t" "$(awk -v t="$t" '$1 == t { print $2 }' "$WORK/results.txt" | stats)"
done
echo "peak RSS MB:"
for t in $tools; do
    printf "  %-10s %s\n" "$t" "$(awk -v t="$t" '$1 == t { print $3 / 1024 }' "$WORK/results.txt" | stats)"
done
sc="$(awk '$1 == "shipcheck" { print $2 }' "$WORK/results.txt" | median)"
for t in rg grep; do
    o="$(awk -v t="$t" '$1 == t { print $2 }' "$WORK/results.txt" | median)"
    awk -v a="$sc" -v b="$o" -v t="$t" 'BEGIN { if (a > 0) printf "  shipcheck speed vs %s: %.2fx (its median time / ours)\n", t, b / a }'
done
for t in $tools; do
    m="$(awk -v t="$t" '$1 == t { print $2 }' "$WORK/results.txt" | median)"
    awk -v s="$m" -v b="$BYTES" -v t="$t" 'BEGIN { if (s > 0) printf "  %s throughput: %.0f MB/s\n", t, b / s / 1e6 }'
done
