#!/usr/bin/env bash
# Shared helpers for the benchmarks: build, machine info, peers, statistics, the bench server.
# Source it; do not run it.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REL="$ROOT/target/release"
SHIPCHECK="${SHIPCHECK_BIN:-$REL/shipcheck}" # SHIPCHECK_BIN: a copy, for a long run while the tree is rebuilt
ROUNDS="${ROUNDS:-5}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/shipcheck-bench.XXXXXX")"
SERVER_PID=""

cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Release build of shipcheck and the bench helpers (examples of the shipcheck crate).
build() {
    echo "building (release)…" >&2
    (cd "$ROOT" && cargo build --release --quiet -p shipcheck --bin shipcheck \
        --example bench-server --example bench-loggen --example bench-store)
}

# Release build of the shipcheck binary only (the benchmarks against the demo world).
build_shipcheck() {
    if [ -n "${SHIPCHECK_BIN:-}" ]; then return 0; fi
    echo "building (release)…" >&2
    (cd "$ROOT" && cargo build --release --quiet -p shipcheck --bin shipcheck)
}

# Installs Debian peers that are missing (needs root and apt); OHA=1 also installs oha with
# cargo (about 4.5 minutes of build), otherwise oha is used only when already on PATH.
need() {
    local missing=()
    for pair in "$@"; do
        local bin="${pair%%:*}" pkg="${pair##*:}"
        command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "installing ${missing[*]}…" >&2
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
        else
            sudo apt-get update -qq && sudo apt-get install -y -qq "${missing[@]}" >/dev/null
        fi
    fi
}

need_oha() {
    if ! command -v oha >/dev/null 2>&1 && [ "${OHA:-0}" = 1 ]; then
        cargo install --locked oha >&2
    fi
    command -v oha >/dev/null 2>&1
}

version_of() {
    case "$1" in
        wrk) wrk -v 2>&1 | head -1 ;;
        oha) oha --version 2>&1 | head -1 ;;
        rg) rg --version | head -1 ;;
        grep) grep --version | head -1 ;;
        curl) curl --version | head -1 ;;
        hyperfine) hyperfine --version ;;
        *) "$1" --version 2>&1 | head -1 ;;
    esac
}

# Machine, load and tool versions: every result is read against them.
machine_info() {
    echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: read spreads, not single figures)"
    echo "date: $(date -u +%FT%TZ)"
    echo "shipcheck: $("$SHIPCHECK" --version) ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
    for t in "$@"; do
        if command -v "$t" >/dev/null 2>&1; then echo "$t: $(version_of "$t")"; else echo "$t: not installed"; fi
    done
    echo "rounds: $ROUNDS"
}

# Reads numbers (one per line) and prints median, min, max and spread ((max-min)/median).
stats() {
    sort -g | awk '
        { a[NR] = $1 }
        END {
            n = NR
            if (n == 0) { print "n/a"; exit }
            med = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
            spread = (med != 0) ? (a[n] - a[1]) / med * 100 : 0
            printf "median %.4g  (min %.4g, max %.4g, spread %.0f%%, n=%d)\n", med, a[1], a[n], spread, n
        }'
}

# The median of numbers on stdin.
median() {
    sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print 0; exit } print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# Starts the bench server with these options; sets SERVER_PID and PORT.
start_server() {
    "$REL/examples/bench-server" "$@" >"$WORK/server.out" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        if grep -q "listening on" "$WORK/server.out" 2>/dev/null; then break; fi
        sleep 0.05
    done
    PORT="$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/server.out" | head -1)"
    if [ -z "$PORT" ]; then
        echo "the bench server did not start: $(cat "$WORK/server.out")" >&2
        exit 1
    fi
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

# A number out of shipcheck's pretty JSON: json_num KEY FILE (first occurrence).
json_num() {
    grep -m1 "\"$1\":" "$2" | sed 's/.*: *\([-0-9.eE+]*\).*/\1/'
}
