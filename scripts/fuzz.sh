#!/usr/bin/env bash
# Runs every fuzz target (go test -list Fuzz ./...) for a while each:
# FERRY_FUZZTIME (default 3s, as CI runs it; set 10m for a long run).
# The seed corpora (each target's f.Add seeds and testdata/fuzz/) run with
# the plain test suite too; this searches beyond them. A finding is kept
# by go test under the package's testdata/fuzz/<target>/: fix it, and
# keep the entry.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FERRY_FUZZTIME:-3s}
n=0
while read -r pkg target; do
  echo "fuzz: $pkg $target ($fuzztime)"
  go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" </dev/null 2>&1 | grep -v '^fuzz: elapsed' | grep -v '^ok ' || true
  # go test's status is lost in the pipe: run the target's corpus once
  # more to fail on a finding.
  go test "$pkg" -run "^${target}\$" -count=1 </dev/null >/dev/null
  n=$((n + 1))
done < <(go list -f '{{.ImportPath}}' ./... | while read -r pkg; do
  go test "$pkg" -list '^Fuzz' </dev/null 2>/dev/null | grep '^Fuzz' | sed "s|^|$pkg |" || true
done)
echo "fuzz: $n targets, $fuzztime each"
