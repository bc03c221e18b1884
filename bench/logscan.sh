#!/usr/bin/env bash
# Log scan side by side: a generated 1 GiB file of Fly-format JSON log lines (one object per
# line, as fly-log-shipper writes them), the default error patterns: shipcheck logs scan vs
# rg -j1 -c and grep -E -c. Wall time and peak RSS from /usr/bin/time. The file is read once
# before timing, so every tool reads from the page cache.
#
#   ROUNDS=5 BYTES=1073741824 LOG_FILE=/tmp/fly.log bash bench/logscan.sh

. "$(dirname "$0")/lib.sh"
BYTES="${BYTES:-1073741824}"
LOG_FILE="${LOG_FILE:-${TMPDIR:-/tmp}/shipcheck-bench-fly-$BYTES.log}"

need rg:ripgrep /usr/bin/time:time
build
echo "# log scan: $BYTES bytes of Fly JSON log lines, default patterns"
machine_info rg grep
if [ ! -s "$LOG_FILE" ] || [ "$(stat -c %s "$LOG_FILE")" -lt "$BYTES" ]; then
    echo "generating $LOG_FILE…" >&2
    "$REL/examples/bench-loggen" --bytes "$BYTES" >"$LOG_FILE"
fi
cat "$LOG_FILE" >/dev/null

# shipcheck's default patterns (logscan::default_patterns), in Rust syntax for rg too …
RS=(
    '"level"\s*:\s*"(?i:error)"'
    '"level"\s*:\s*"(?i:fatal)"'
    '(?i:panic)'
    '"status_code"\s*:\s*5[0-9]{2}\b| 5[0-9]{2} '
)
# … and the same in POSIX ERE for grep.
ES=(
    '"level"[[:space:]]*:[[:space:]]*"[Ee][Rr][Rr][Oo][Rr]"'
    '"level"[[:space:]]*:[[:space:]]*"[Ff][Aa][Tt][Aa][Ll]"'
    '[Pp][Aa][Nn][Ii][Cc]'
    '"status_code"[[:space:]]*:[[:space:]]*5[0-9]{2}\b| 5[0-9]{2} '
)
RG_ARGS=()
for p in "${RS[@]}"; do RG_ARGS+=(-e "$p"); done
GREP_ARGS=()
for p in "${ES[@]}"; do GREP_ARGS+=(-e "$p"); done

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
            grep) timed grep grep -E -c "${GREP_ARGS[@]}" "$LOG_FILE" ;;
        esac
        echo "round $round  $t  $(tail -1 "$WORK/results.txt" | awk '{ printf "%.2fs  %.1f MB RSS", $2, $3 / 1024 }')"
    done
done
echo
echo "matching lines: shipcheck $(json_num matched_lines "$WORK/shipcheck.out"), rg $(cat "$WORK/rg.out"), grep $(cat "$WORK/grep.out") (must agree)"
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
awk -v s="$sc" -v b="$BYTES" 'BEGIN { if (s > 0) printf "  shipcheck throughput: %.2f GB/s\n", b / s / 1e9 }'
