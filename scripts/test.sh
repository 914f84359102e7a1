#!/usr/bin/env bash
# Runs ferry's whole test suite: unit tests, and integration tests that speak
# Kafka protocol to an in-process broker and SQL to a real MariaDB (started,
# or installed, by scripts/mariadb.sh). Extra arguments go to go test, which
# then runs once over every package.
#
# Without them, the chaos suite (TestChaos in cmd/ferry, minutes of seeds)
# runs in a process of its own, after the rest, so that its memory and the
# other cmd/ferry tests' are not added up; then every fuzz target runs for
# a few seconds (scripts/fuzz.sh), and every benchmark of the README's
# performance table once (scripts/bench.sh). Every test binary runs under
# GNU time (scripts/peakrss.sh); the peak resident memory of each is
# printed at the end, and the run fails when one passes
# FERRY_TEST_MAX_RSS_MB (2048).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/mariadb.sh
if ! [ -x /usr/bin/time ]; then
  echo "test: installing Debian's time (GNU time, for peak memory)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq time >/dev/null
fi
# The status page is tested in Debian's headless Chromium.
if ! command -v chromium >/dev/null; then
  echo "test: installing Debian's chromium (the status page's browser test)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
# What tests keep for people to look at (the status page's screenshot).
export FERRY_ARTIFACTS="${FERRY_ARTIFACTS:-$PWD/artifacts}"
rm -f "$FERRY_ARTIFACTS/faults-summary.txt" # TestFaults writes this run's
export FERRY_TEST_MYSQL_DSN="${FERRY_TEST_MYSQL_DSN:-root@tcp(127.0.0.1:3306)/}"
export FERRY_ROOT=$PWD
export FERRY_PEAKRSS_LOG
FERRY_PEAKRSS_LOG=$(mktemp)
results=$(mktemp)
trap 'rm -f "$FERRY_PEAKRSS_LOG" "$results"' EXIT
max_mb=${FERRY_TEST_MAX_RSS_MB:-2048}

rc=0
gotest() {
  go test -race -count=1 -timeout 30m -exec "$PWD/scripts/peakrss.sh" "$@" 2>&1 | tee -a "$results" || rc=$?
}
if [ $# -gt 0 ]; then
  gotest "$@" ./...
else
  # The image's build, without the embedded database, still compiles.
  go vet -tags noembeddb ./cmd/ferry || rc=$?
  gotest -skip '^TestChaos$' ./...
  FERRY_TEST_PART=TestChaos gotest -run '^TestChaos$' ./cmd/ferry
  # Every fuzz target, briefly (FERRY_FUZZTIME for longer).
  bash scripts/fuzz.sh || rc=$?
  # Every benchmark of the README's performance table, once, so that none
  # rots and the log shows this machine's figures.
  FERRY_BENCHTIME=1x bash scripts/bench.sh || rc=$?
fi

if [ -f "$FERRY_ARTIFACTS/faults-summary.txt" ]; then
  echo
  echo "fault suite (TestFaults):"
  cat "$FERRY_ARTIFACTS/faults-summary.txt"
fi
echo
echo "peak resident memory of each test binary (-race; at most ${max_mb} MB):"
over=0
while read -r kib secs label; do
  mb=$((kib / 1024))
  flag=""
  if [ "$mb" -gt "$max_mb" ]; then flag="  <-- over ${max_mb} MB"; over=1; fi
  printf '%7d MB %8ss  %s%s\n' "$mb" "$secs" "$label" "$flag"
done < <(sort -rn "$FERRY_PEAKRSS_LOG")
if [ "$over" = 1 ]; then
  echo "test: a test binary used more than ${max_mb} MB" >&2
  [ "$rc" = 0 ] && rc=1
fi
# One line per test binary run, as go test closes each: ok or FAIL.
passed=$(grep -cP '^ok\s' "$results" || true)
failed=$(grep -cP '^FAIL\t' "$results" || true)
echo "binaries: $passed passed, $failed failed"
exit $rc
