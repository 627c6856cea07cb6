#!/bin/sh
# The integration suite N times in a row against one binary, to prove it
# does not flake: every test that failed in any run is listed with the
# runs it failed in. The last line is "N passed, N failed" over all runs.
#
#	make test-repeat [N=3] [ARCH=armhf] [SANITIZE=1] [PYTEST_ARGS=...]
#
# PORCH_BIN and PORCH_QEMU are passed on to the suite (see conftest.py).
set -u
cd "$(dirname "$0")/.."

n=${N:-3}
log=build/test-logs/repeat
mkdir -p "$log"
rm -f "$log"/run-*.log "$log/failures"
total_pass=0
total_fail=0
i=1
while [ "$i" -le "$n" ]; do
	start=$(date +%s)
	# shellcheck disable=SC2086
	/usr/bin/python3 -m pytest -q -p no:cacheprovider -rfE ${PYTEST_ARGS:-} \
	    tests/integration >"$log/run-$i.log" 2>&1
	summary=$(grep -E '[0-9]+ (passed|failed)' "$log/run-$i.log" | tail -n 1)
	p=$(echo "$summary" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+')
	f=$(echo "$summary" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+')
	e=$(echo "$summary" | grep -Eo '[0-9]+ errors?' | grep -Eo '[0-9]+')
	p=${p:-0}
	f=$((${f:-0} + ${e:-0}))
	[ -n "$summary" ] || f=1
	grep -E '^(FAILED|ERROR) ' "$log/run-$i.log" |
	    sed -e 's/^[A-Z]* //' -e 's/ - .*//' -e "s/\$/ $i/" >>"$log/failures"
	echo "run $i/$n: $p passed, $f failed ($(($(date +%s) - start)) s)"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	i=$((i + 1))
done
if [ -s "$log/failures" ]; then
	echo "tests that failed (name: runs):"
	sort "$log/failures" | awk '
	    { runs[$1] = runs[$1] (runs[$1] == "" ? "" : ",") $2 }
	    END { for (t in runs) print "  " t ": " runs[t] }' | sort
else
	echo "no test failed in $n runs"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
