#!/bin/sh
# The integration suite against the ASan+UBSan build of porch
# (build/host-sanitize/porch, from "make SANITIZE=1").
#
#	sh tests/sanitize.sh [PYTEST_ARGS...]
#
# Every porch process (master, workers, the forks that exec CGIs) writes any
# sanitizer report, leaks at exit included, to a file of its own under a
# temporary directory: a report from a worker is caught even when the
# request it broke looked fine to the test. The run fails when pytest fails
# or when any report file appears; the reports are printed. The last line
# is the pytest summary ("N passed, N failed ..."), what tests/run-all.sh
# counts.
set -u
cd "$(dirname "$0")/.."

start=$(date +%s)
mkdir -p build
if ! make SANITIZE=1 >build/sanitize-build.log 2>&1; then
	tail -n 40 build/sanitize-build.log
	echo "sanitize: build failed"
	echo "0 passed, 1 failed"
	exit 1
fi

reports=$(mktemp -d "${TMPDIR:-/tmp}/porch-sanitize.XXXXXX")
trap 'rm -rf "$reports"' EXIT INT TERM

PORCH_BIN=$(pwd)/build/host-sanitize/porch
PORCH_SANITIZE=1
# abort_on_error=0: a report ends the process with an exit status, so the
# master logs the worker's death and the test sees it; detect_leaks=1 at
# every exit; log_path: one file per pid, only when there is a report.
ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan:abort_on_error=0"
ASAN_OPTIONS="$ASAN_OPTIONS:strict_string_checks=1"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
LSAN_OPTIONS="log_path=$reports/lsan"
export PORCH_BIN PORCH_SANITIZE ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

out=build/sanitize-pytest.log
/usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" tests/integration \
    >"$out" 2>&1
rc=$?

failed=0
nreports=0
for f in "$reports"/*; do
	[ -e "$f" ] || continue
	nreports=$((nreports + 1))
	echo "=== sanitizer report $(basename "$f")"
	head -n 60 "$f"
done

grep -E '^(FAILED|ERROR) ' "$out" | head -n 40
took=$(($(date +%s) - start))
if [ "$rc" -ne 0 ]; then
	echo "sanitize: pytest failed (exit $rc), see $out"
	failed=1
fi
if [ "$nreports" -ne 0 ]; then
	echo "sanitize: $nreports sanitizer report(s) from porch processes"
	failed=1
fi
echo "sanitize: $took s"
summary=$(grep -E '[0-9]+ (passed|failed)' "$out" | tail -n 1)
echo "pytest: ${summary:-no summary}"
# The last line is what tests/run-all.sh counts: a sanitizer report is a
# failure of its own, on top of pytest's failures and errors.
p=$(echo "$summary" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+')
f=$(echo "$summary" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+')
e=$(echo "$summary" | grep -Eo '[0-9]+ errors?' | grep -Eo '[0-9]+')
f=$((${f:-0} + ${e:-0} + nreports))
[ "$failed" -ne 0 ] && [ "$f" -eq 0 ] && f=1
echo "${p:-0} passed, $f failed"
exit "$failed"
