#!/bin/sh
# The benchmarks. Figures only: the exit status is 0 whoever wins, non-zero
# only when the harness itself fails (porch does not build or start, a tool
# is missing, the link cannot be set up).
#
#   sh bench/run.sh                make bench: the router's view (issue 18):
#                                  a LAN-like link, the server on one core,
#                                  CPU per request, TLS, page loads; < 20 min;
#                                  bench/RESULTS.md, build/bench/lan.*
#   BENCH_QUICK=1 sh bench/run.sh  make bench-quick: the same, fewer cells,
#                                  < 3 min; build/bench/quick/
#   sh bench/run.sh loopback       make bench-loopback: issue 7's loopback
#                                  comparison; bench/RESULTS-loopback.md,
#                                  build/bench/loopback/
#
# Knobs: see bench/lan.py and bench/bench.py (BENCH_SERVERS, BENCH_REPS,
# BENCH_DURATION, BENCH_SECTIONS, PORCH_BIN=... to measure a given binary).
set -eu

start=$(date +%s)
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODE=${1:-lan}
case $MODE in
lan | loopback) ;;
*)
	echo "usage: sh bench/run.sh [lan|loopback]" >&2
	exit 2
	;;
esac
BASE=$ROOT/build/bench
if [ "$MODE" = loopback ]; then
	OUT=${BENCH_OUT:-$BASE/loopback}
elif [ "${BENCH_QUICK:-0}" = 1 ]; then
	OUT=${BENCH_OUT:-$BASE/quick}
	# a developer's loop does not rewrite the committed summary
	BENCH_RESULTS_MD=${BENCH_RESULTS_MD:-$OUT/RESULTS.md}
	export BENCH_RESULTS_MD
else
	OUT=${BENCH_OUT:-$BASE}
fi
mkdir -p "$OUT" "$BASE"

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# One benchmark at a time on this machine: the LAN run owns fixed namespace
# and cgroup names, and two runs would measure each other.
exec 9>"$BASE/.lock"
if ! flock -n 9; then
	say "another make bench is running (lock $BASE/.lock)"
	exit 1
fi

# ---------------------------------------------------------------- packages
# Debian's postinst scripts start nginx/apache2/lighttpd/mini-httpd on *:80;
# a policy-rc.d that exits 101 forbids it. Ours only if there was none.
PKGS="nginx-light apache2 apache2-utils lighttpd lighttpd-mod-openssl
busybox-static mini-httpd wrk gnuplot-nox openssl strace iproute2
util-linux gcc libssl-dev"
policy=/usr/sbin/policy-rc.d
made_policy=0
cleanup_policy() {
	if [ "$made_policy" = 1 ]; then
		rm -f "$policy"
		made_policy=0
	fi
}
need=0
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -qx 'install ok installed' || need=1
done
if [ "$need" = 1 ]; then
	if [ ! -e "$policy" ] && [ "$(id -u)" = 0 ]; then
		printf '#!/bin/sh\n# bench/run.sh: no service starts during install\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=1
	fi
	trap cleanup_policy EXIT INT TERM
	# shellcheck disable=SC2086
	sh toolchain/deps.sh $PKGS
	cleanup_policy
	trap - EXIT INT TERM
fi
# perf is optional (the profile section uses it when it works)
command -v perf >/dev/null 2>&1 || sh toolchain/deps.sh linux-perf >/dev/null 2>&1 || true

# Never leave a packaged service listening on a public address.
for svc in nginx apache2 lighttpd mini-httpd; do
	for pf in /run/$svc.pid /run/$svc/$svc.pid /var/run/$svc.pid; do
		[ -f "$pf" ] || continue
		pid=$(cat "$pf" 2>/dev/null || true)
		case $pid in '' | *[!0-9]*) continue ;; esac
		if kill -0 "$pid" 2>/dev/null; then
			say "stopping the packaged $svc service (pid $pid)"
			service "$svc" stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
		fi
	done
done
if command -v ss >/dev/null 2>&1 &&
    ss -Hltnp 2>/dev/null | grep -E 'nginx|apache2|lighttpd|mini_httpd' |
    grep -vE '127\.0\.0\.1:|\[::1\]:' >/dev/null; then
	say "WARNING: a packaged web server listens on a non-loopback address:"
	ss -Hltnp | grep -E 'nginx|apache2|lighttpd|mini_httpd' | grep -vE '127\.0\.0\.1:|\[::1\]:'
fi

# ---------------------------------------------------------------- builds
# Own build dirs under build/bench/: no race with other builds of build/host.
# Other people's work in progress may trip -Werror: retry without it, noted.
notes=$OUT/build-notes.txt
: >"$notes"
build() { # DIR make-args...
	dir=$1
	shift
	# up to 3 tries: a concurrent build may be rebuilding the shared
	# mbedTLS cache (~/.cache/porch) at the same moment
	for try in 1 2 3; do
		if make -s "$@" BUILD="$dir" "$dir/porch" >"$dir.log" 2>&1; then
			return 0
		fi
		if make -s "$@" BUILD="$dir" CFLAGS=-Wno-error "$dir/porch" >"$dir.log" 2>&1; then
			echo "$(basename "$dir"): built with CFLAGS=-Wno-error (warnings in the tree)" >>"$notes"
			return 0
		fi
		grep -q 'error:' "$dir.log" && ! grep -q 'mbedtls\|\.cache/porch' "$dir.log" && break
		[ "$try" = 3 ] || sleep 15
	done
	echo "$(basename "$dir"): build failed: $(grep -m1 -E 'error|Error' "$dir.log" | cut -c1-160)" >>"$notes"
	return 1
}

if [ -z "${PORCH_BIN:-}" ]; then
	say "building porch (glibc -O2) in build/bench/host"
	if build "$BASE/host"; then
		PORCH_BIN=$BASE/host/porch
	elif [ -x build/host/porch ]; then
		tail -5 "$BASE/host.log" >&2
		say "porch does not build now: measuring the existing build/host/porch"
		echo "host: measured the existing build/host/porch (own build failed)" >>"$notes"
		PORCH_BIN=$ROOT/build/host/porch
	else
		cat "$BASE/host.log" >&2
		say "harness failure: porch does not build"
		exit 1
	fi
fi

# ---------------------------------------------------------------- the LAN run
if [ "$MODE" = lan ]; then
	TOOLS=$BASE/tools
	mkdir -p "$TOOLS"
	say "building bench/tools (relay, lanclient) in build/bench/tools"
	cc -std=c11 -O2 -Wall -Wextra -o "$TOOLS/relay" bench/tools/relay.c
	cc -std=c11 -O2 -Wall -Wextra -o "$TOOLS/lanclient" \
	    bench/tools/lanclient.c -lssl -lcrypto
	say "porch: $PORCH_BIN"
	export PORCH_BIN BENCH_TOOLS="$TOOLS" BENCH_OUT="$OUT"
	/usr/bin/python3 bench/lan.py &
	py=$!
	# lan.py removes its namespaces itself when signalled; this catches
	# the case where it could not (killed), then exits
	trap 'kill -TERM $py 2>/dev/null; wait $py 2>/dev/null;
	    /usr/bin/python3 bench/link.py cleanup; exit 1' INT TERM HUP
	rc=0
	wait $py || rc=$?
	trap - INT TERM HUP
	/usr/bin/python3 bench/link.py cleanup >/dev/null 2>&1 || true
	end=$(date +%s)
	what="make bench"
	[ "${BENCH_QUICK:-0}" = 1 ] && what="make bench-quick"
	say "elapsed $((end - start)) s ($what)"
	[ "$rc" = 0 ] && say "results: $OUT/lan.md, $OUT/lan-*.png, ${BENCH_RESULTS_MD:-bench/RESULTS.md}"
	exit $rc
fi

# ---------------------------------------------------------------- the loopback run
if [ -z "${PORCH_STATIC_BIN:-}" ]; then
	say "building porch static musl (make STATIC=1) in build/bench/host-musl"
	if build "$BASE/host-musl" STATIC=1; then
		PORCH_STATIC_BIN=$BASE/host-musl/porch
	else
		PORCH_STATIC_BIN=
	fi
fi

sizes=$OUT/sizes.json
if [ "${BENCH_SIZES:-1}" != 0 ]; then
	say "building per-target binaries for their sizes (build/bench/size)"
	mkdir -p "$BASE/size"
	# two at a time: each build is one compiler run
	for a in armhf aarch64 mipsel; do
		build "$BASE/size/$a-tls0" ARCH=$a TLS=0 &
		p0=$!
		build "$BASE/size/$a-tls1" ARCH=$a TLS=1 &
		p1=$!
		wait $p0 || true
		wait $p1 || true
	done
fi
{
	printf '{"porch": {'
	sep=
	for a in armhf aarch64 mipsel; do
		for t in 0 1; do
			f=$BASE/size/$a-tls$t/porch
			[ -f "$f" ] || continue
			printf '%s"%s TLS=%s (static musl, stripped)": %s' "$sep" "$a" "$t" "$(stat -c %s "$f")"
			sep=", "
		done
	done
	if [ -n "$PORCH_STATIC_BIN" ] && [ -f "$PORCH_STATIC_BIN" ]; then
		printf '%s"x86_64 TLS=1 (static musl, stripped)": %s' "$sep" "$(stat -c %s "$PORCH_STATIC_BIN")"
		sep=", "
	fi
	printf '}, "others": {'
	sep=
	for b in /usr/sbin/nginx /usr/sbin/lighttpd /usr/sbin/apache2 /bin/busybox /usr/sbin/mini_httpd; do
		[ -f "$b" ] || continue
		printf '%s"%s (x86_64 Debian)": %s' "$sep" "$b" "$(stat -c %s "$b")"
		sep=", "
	done
	printf '}, "note": "%s"}\n' "$(tr '\n' ';' <"$notes" | sed 's/"/'"'"'/g')"
} >"$sizes"
[ -s "$notes" ] && say "build notes: $(tr '\n' ' ' <"$notes")"

say "porch: $PORCH_BIN${PORCH_STATIC_BIN:+, static: $PORCH_STATIC_BIN}"
export PORCH_BIN PORCH_STATIC_BIN BENCH_OUT="$OUT" BENCH_SIZES="$sizes"
/usr/bin/python3 bench/bench.py &
py=$!
trap 'kill -TERM $py 2>/dev/null; wait $py 2>/dev/null; exit 1' INT TERM HUP
rc=0
wait $py || rc=$?
trap - INT TERM HUP

end=$(date +%s)
say "elapsed $((end - start)) s (make bench-loopback)"
if [ "$rc" = 0 ]; then
	say "results: $OUT/results.md, $OUT/results.png, bench/RESULTS-loopback.md"
fi
exit $rc
