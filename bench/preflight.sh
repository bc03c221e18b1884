#!/usr/bin/env bash
# Preflight: `shipcheck check prepare` against the demo world with DELAY_MS added to every
# external call (every answer of the apps and of the GitHub, Sentry, Prometheus and Slack
# stand-ins, and every flyctl stand-in call: SHIPCHECK_WORLD_DELAY_MS; every git call: a
# wrapper first on PATH), the engine's checks
# run concurrently (the default `[engine] concurrency = 16`) vs the same checks one after
# another (`[engine] concurrency = 1`, same process, same world). Each round runs both,
# alternating their order. From the one-after-another run come the slowest single check
# (its largest duration, measured alone) and the sum of the singles.
#
#   ROUNDS=5 DELAY_MS=200 bash bench/preflight.sh

. "$(dirname "$0")/lib.sh"
DELAY_MS="${DELAY_MS:-200}"
WORLD_PID=""

need jq:jq
build_shipcheck
echo "# preflight: shipcheck check prepare, ${DELAY_MS} ms added to every external call"
machine_info git

# The world: built, not run (the demo's `--no-run`), with the delay in its servers. The
# flyctl stand-in reads the same variable from the checks' environment below.
export SHIPCHECK_WORLD_DELAY_MS="$DELAY_MS"
DIR="$WORK/world"
"$SHIPCHECK" demo --no-run --no-postgres --dir "$DIR" >"$WORK/world.out" 2>&1 &
WORLD_PID=$!
trap 'kill "$WORLD_PID" 2>/dev/null || true; wait "$WORLD_PID" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 300); do
    if grep -q "keeps running" "$WORK/world.out" 2>/dev/null; then break; fi
    if ! kill -0 "$WORLD_PID" 2>/dev/null; then break; fi
    sleep 0.1
done
if ! grep -q "keeps running" "$WORK/world.out"; then
    echo "the world did not start: $(cat "$WORK/world.out")" >&2
    exit 1
fi
# shellcheck disable=SC1091
. "$DIR/env.sh"
cp "$DIR/shipcheck.toml" "$DIR/shipcheck-seq.toml"
printf '\n[engine]\nconcurrency = 1\n' >>"$DIR/shipcheck-seq.toml"

# git too: a wrapper first on PATH waits DELAY_MS, then runs the real git.
REAL_GIT="$(command -v git)"
mkdir -p "$WORK/bin"
printf '#!/bin/sh\nsleep %s\nexec %s "$@"\n' "$(awk -v d="$DELAY_MS" 'BEGIN { printf "%.3f", d / 1000 }')" "$REAL_GIT" >"$WORK/bin/git"
chmod +x "$WORK/bin/git"

run() { # run CONFIG OUT [TARGETS…]: one `check --json` (default: the prepare phase)
    local cfg="$1" out="$2"; shift 2
    [ "$#" -gt 0 ] || set -- prepare
    (cd "$DIR" && PATH="$WORK/bin:$PATH" "$SHIPCHECK" --config "$cfg" check "$@" --json >"$out" 2>/dev/null) || true
}

# A warm-up of each (first connections, page cache), then show what ran.
run "$DIR/shipcheck.toml" "$WORK/warm.json"
run "$DIR/shipcheck-seq.toml" "$WORK/warm-seq.json"
echo "checks: $(jq -r '[.checks[] | "\(.id) \(.status)"] | join(", ")' "$WORK/warm.json")"
echo "passed $(jq .passed "$WORK/warm.json"), failed $(jq .failed "$WORK/warm.json") (the world before any run: a failed check still counts its time)"

# One case: ROUNDS rounds of both runs over TARGETS (a phase or item ids), alternating order.
bench_case() { # bench_case LABEL TARGETS...
    local label="$1"; shift
    local c="$WORK/$label"
    : >"$c.par"; : >"$c.seq"; : >"$c.slow"; : >"$c.ratio"; : >"$c.slowid"; : >"$c.sum"
    echo
    echo "## $label: check $*"
    for r in $(seq 1 "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then order="par seq"; else order="seq par"; fi
        for kind in $order; do
            if [ "$kind" = par ]; then run "$DIR/shipcheck.toml" "$c-r$r-par.json" "$@"
            else run "$DIR/shipcheck-seq.toml" "$c-r$r-seq.json" "$@"; fi
        done
        par="$(jq '.wall_ms / 1000' "$c-r$r-par.json")"
        seq_="$(jq '.wall_ms / 1000' "$c-r$r-seq.json")"
        slow="$(jq '[.checks[].duration_ms] | max / 1000' "$c-r$r-seq.json")"
        slowid="$(jq -r '.checks | max_by(.duration_ms) | .id' "$c-r$r-seq.json")"
        sum="$(jq '[.checks[].duration_ms] | add / 1000' "$c-r$r-seq.json")"
        ratio="$(awk -v a="$par" -v b="$slow" 'BEGIN { printf "%.3f", a / b }')"
        echo "round $r: concurrent ${par} s, one after another ${seq_} s (sum of singles ${sum} s), slowest single ${slow} s ($slowid), ratio ${ratio}, passed $(jq .passed "$c-r$r-par.json")/$(jq '.checks | length' "$c-r$r-par.json")"
        echo "$par" >>"$c.par"; echo "$seq_" >>"$c.seq"; echo "$slow" >>"$c.slow"
        echo "$ratio" >>"$c.ratio"; echo "$slowid" >>"$c.slowid"; echo "$sum" >>"$c.sum"
    done
    echo "per check, concurrent run of the last round vs one after another (s; checks that share"
    echo "the change set's git calls wait for it together, and only the first pays for it alone):"
    jq -r --slurpfile s "$c-r$ROUNDS-seq.json" \
        '.checks[] | . as $c | "  \($c.id)  \($c.duration_ms / 1000)  alone \(($s[0].checks[] | select(.id == $c.id) | .duration_ms) / 1000)"' \
        "$c-r$ROUNDS-par.json"
    echo "wall seconds (lower is better):"
    echo "  concurrent:                    $(stats <"$c.par")"
    echo "  one after another:             $(stats <"$c.seq")"
    echo "  sum of singles:                $(stats <"$c.sum")"
    echo "  slowest single check:          $(stats <"$c.slow")  [$(sort "$c.slowid" | uniq -c | tr -s ' ' | tr '\n' ';')]"
    echo "  concurrent / slowest single:   $(stats <"$c.ratio")"
}

bench_case all prepare
# Without the load test (2 s per staging app, one app after another: it dwarfs the rest),
# the slowest check is one of external calls only.
mapfile -t others < <(jq -r '.checks[].id | select(. != "prepare.load-test")' "$WORK/warm.json")
bench_case without-load-test "${others[@]}"
echo
echo "goal: concurrent ≤ 1.3× the slowest single check"
