#!/usr/bin/env bash
# Every benchmark, one after another, into bench/results-DATE.txt.
set -euo pipefail
cd "$(dirname "$0")"
out="results-$(date -u +%Y%m%dT%H%M%SZ).txt"
# detection.sh is not here: it watches in real time (about 30 minutes; its rounds run side by side).
for b in load logscan fanout status preflight; do
    echo "=== $b ===" | tee -a "$out"
    bash "$b.sh" 2>&1 | tee -a "$out"
done
echo "written: bench/$out"
