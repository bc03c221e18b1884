#!/usr/bin/env bash
# Fills fuzz/corpus/TARGET with the seeds fuzz/seeds.txt names (the recorded fixtures of
# fixtures/api and fixtures/flytoml, the config's examples, small seeds in fuzz/seeds), each
# under the SHA-1 of its content as libFuzzer names its own finds, plus a few generated long
# inputs (a long-line config: the renderer once panicked past column 65,535). Idempotent.
#
#   bash fuzz/seed.sh            # every target
#   bash fuzz/seed.sh config     # one
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
shopt -s globstar nullglob

only="${1:-}"
add() { # target, file
    local dir="fuzz/corpus/$1" sum
    mkdir -p "$dir"
    sum="$(sha1sum "$2" | cut -d' ' -f1)"
    cp "$2" "$dir/$sum"
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
while read -r target glob mode; do
    case "$target" in '' | '#'*) continue ;; esac
    [ -n "$only" ] && [ "$only" != "$target" ] && continue
    n=0
    for f in $glob; do
        [ -f "$f" ] || continue
        if [ "$mode" = blocks ]; then
            # The ```toml blocks of a Markdown file, one seed each.
            awk -v out="$tmp/block" '
                /^```toml$/ { n++; inside = 1; next }
                /^```/ { inside = 0; next }
                inside { print > (out "-" n) }' "$f"
            for b in "$tmp"/block-*; do add "$target" "$b"; rm "$b"; n=$((n + 1)); done
        else
            add "$target" "$f"
            n=$((n + 1))
        fi
    done
    [ "$n" -gt 0 ] || { echo "fuzz/seeds.txt: '$target $glob' matches nothing" >&2; exit 1; }
done < fuzz/seeds.txt

if [ -z "$only" ] || [ "$only" = config ]; then
    # A value 70,000 characters long, then junk after it on the same line.
    { printf '[project]\nname = "'; head -c 70000 /dev/zero | tr '\0' x; printf '" junk\n'; } >"$tmp/long"
    add config "$tmp/long"
fi
for t in fuzz/corpus/*/; do
    [ -n "$only" ] && [ "$t" != "fuzz/corpus/$only/" ] && continue
    echo "$(basename "$t"): $(find "$t" -type f | wc -l) inputs"
done
