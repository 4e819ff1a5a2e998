#!/usr/bin/env bash
# Runs every Go fuzz target for a short, fixed time (FUZZTIME, default 4s).
# The seed corpus (f.Add and testdata/fuzz/) runs in every plain `go test`;
# this adds a little coverage-guided exploration to each CI run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-4s}"
# "package-dir FuzzName" pairs, found from the test files themselves.
grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | sort | while read -r file; do
  dir=$(dirname "$file")
  grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //' | while read -r name; do
    echo "fuzz: $dir $name ($fuzztime)"
    go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel 2 "$dir" >/tmp/fuzz-$$.log 2>&1 || {
      cat /tmp/fuzz-$$.log; rm -f /tmp/fuzz-$$.log; echo "fuzz: $name failed" >&2; exit 1; }
  done
done
rm -f /tmp/fuzz-$$.log
