#!/usr/bin/env bash
# Runs ferry's whole test suite: unit tests, and integration tests that speak
# Kafka protocol to an in-process broker and SQL to a real MariaDB (started,
# or installed, by scripts/mariadb.sh). Extra arguments go to go test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/mariadb.sh
export FERRY_TEST_MYSQL_DSN="${FERRY_TEST_MYSQL_DSN:-root@tcp(127.0.0.1:3306)/}"
go test -race -count=1 -timeout 30m "$@" ./...
