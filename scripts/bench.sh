#!/usr/bin/env bash
# Runs the benchmarks behind the README's performance figures, in one go,
# on this machine: each sets up its own broker (kfake) and data, and its
# baseline (a plain loop written with the same libraries), and prints its
# figures next to the baseline's as ratios. The sink's and the start-up's
# need MariaDB (scripts/mariadb.sh starts or installs it; set
# FERRY_TEST_MYSQL_DSN for another). FERRY_BENCHTIME repeats the longer ones
# (default 3x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/mariadb.sh
export FERRY_TEST_MYSQL_DSN="${FERRY_TEST_MYSQL_DSN:-root@tcp(127.0.0.1:3306)/}"
n=${FERRY_BENCHTIME:-3x}
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3)"
status=0
bench() {
  local out
  if ! out=$(go test -run '^$' -bench "$1" -benchtime "$2" "$3" 2>&1); then
    echo "$out"
    status=1
    return
  fi
  grep -E '^Benchmark' <<<"$out" | tr '\t' '\n' | sed 's/^ *//' | grep -v '^$'
  echo
}
bench 'Processor$' "$n" ./processors/
bench 'Restore' 1x ./processors/
bench 'Parallel' 1x ./sinks/
bench 'Startup' "$n" ./cmd/ferry/
bench 'WalkCost' 1x ./producers/
bench 'Budget' 1x ./producers/
bench 'Trace' 1x ./lineage/
exit $status
