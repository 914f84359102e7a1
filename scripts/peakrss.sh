#!/usr/bin/env bash
# go test -exec: runs one test binary under GNU time and appends its peak
# resident memory (KiB), its wall time and its package (with
# FERRY_TEST_PART, when set) to the file named by FERRY_PEAKRSS_LOG.
# scripts/test.sh prints that file at the end.
set -uo pipefail
stats=$(mktemp)
/usr/bin/time -q -o "$stats" -f '%M %e' "$@"
rc=$?
read -r kib secs < <(tail -n 1 "$stats")
rm -f "$stats"
label=${PWD#"$FERRY_ROOT"}
label=${label#/}
printf '%s %s %s%s\n' "${kib:-0}" "${secs:-?}" "${label:-.}" "${FERRY_TEST_PART:+ ($FERRY_TEST_PART)}" >>"$FERRY_PEAKRSS_LOG"
exit $rc
