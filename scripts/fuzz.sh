#!/usr/bin/env bash
# Runs every Go fuzz target for a fixed number of executions (FUZZTIME,
# default 5000x). The seed corpus (f.Add and testdata/fuzz/) runs in every plain
# `go test`; this adds a little coverage-guided exploration to each CI run.
# A count, not a duration: with a duration Go 1.26's fuzz coordinator can fail a
# target with "context deadline exceeded" and no crasher when the CPU is busy
# (golang/go#75804); a count has no deadline to race.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-5000x}"
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
