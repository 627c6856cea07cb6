#!/bin/sh
# Every test, in order; a failed step does not stop the others. Each step's
# own summary is shown; the last line is the total the CI reads:
# "N passed, N failed". Exit status non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
LOG=build/test-logs
mkdir -p "$LOG"
total_pass=0
total_fail=0
failed_steps=""

# Counts from a step's output: pytest's summary or "N passed, N failed".
count() {
	p=$(grep -Eo '[0-9]+ passed' "$1" | tail -n 1 | grep -Eo '[0-9]+')
	f=$(grep -Eo '[0-9]+ (failed|errors?)' "$1" | tail -n 1 | grep -Eo '[0-9]+')
	echo "${p:-0} ${f:-0}"
}

step() {
	name=$1
	shift
	echo "=== $name"
	start=$(date +%s)
	"$@" >"$LOG/$name.log" 2>&1
	rc=$?
	set -- $(count "$LOG/$name.log")
	p=$1
	f=$2
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# a step that failed without counting (build error)
	fi
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
		tail -n 60 "$LOG/$name.log"
		failed_steps="$failed_steps $name"
	else
		tail -n 3 "$LOG/$name.log"
	fi
	[ "$p" -eq 0 ] && [ "$rc" -eq 0 ] && p=1	# a step with no count
	echo "--- $name: $p passed, $f failed ($(($(date +%s) - start)) s)"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

step build make
step unit make unit
step integration make integration
step sanitize sh tests/sanitize.sh
step valgrind sh tests/valgrind.sh
if [ -f tests/tls/tls.mk ]; then
	step tls make tls-test
	# testssl.sh against porch's TLS listener: about a minute.
	step tls-testssl make tls-testssl
fi
step ui-unit make ui-unit
step ui make ui-test
step build-armhf make ARCH=armhf
step integration-armhf make ARCH=armhf integration \
    PYTEST_ARGS="-m 'not host_only'"
if [ -f tests/tls/tls.mk ]; then
	step tls-armhf make ARCH=armhf tls-test
fi
step cross-smoke sh tests/cross-smoke.sh
# The firmware image under QEMU: every test on armhf, boot-and-answer on
# the other two boards.
step qemu-armhf make qemu-test ARCH=armhf
step qemu-aarch64 make qemu-smoke ARCH=aarch64
step qemu-mipsel make qemu-smoke ARCH=mipsel
if [ -f tests/fuzz/fuzz.mk ]; then
	step fuzz-smoke make fuzz-smoke
fi

echo
[ -n "$failed_steps" ] && echo "failed steps:$failed_steps"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
