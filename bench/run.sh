#!/bin/sh
# make bench: porch against nginx, lighttpd, Apache prefork, BusyBox httpd
# and mini_httpd, same run, same files, all on 127.0.0.1.
#
#   sh bench/run.sh            everything (< 15 min on 2 cores)
#   BENCH_DURATION=1 BENCH_REPS=1 BENCH_SIZES=0 sh bench/run.sh   quick check
#
# Writes build/bench/{results.md,results.png,results.json} and
# bench/RESULTS.md. Exits 0 whoever wins; non-zero only when the harness
# itself fails (porch does not build or start, a tool is missing).
# Other knobs: see bench/bench.py (BENCH_SERVERS, BENCH_WORKLOADS,
# BENCH_PROFILE=0, PORCH_BIN=... to measure a given binary).
set -eu

start=$(date +%s)
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${BENCH_OUT:-$ROOT/build/bench}
mkdir -p "$OUT"

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# ---------------------------------------------------------------- packages
# Debian's postinst scripts start nginx/apache2/lighttpd/mini-httpd on *:80;
# a policy-rc.d that exits 101 forbids it. Ours only if there was none.
PKGS="nginx-light apache2 apache2-utils lighttpd lighttpd-mod-openssl
busybox-static mini-httpd wrk gnuplot-nox openssl strace"
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
	mkdir -p "$OUT"
	if build "$OUT/host"; then
		PORCH_BIN=$OUT/host/porch
	elif [ -x build/host/porch ]; then
		tail -5 "$OUT/host.log" >&2
		say "porch does not build now: measuring the existing build/host/porch"
		echo "host: measured the existing build/host/porch (own build failed)" >>"$notes"
		PORCH_BIN=$ROOT/build/host/porch
	else
		cat "$OUT/host.log" >&2
		say "harness failure: porch does not build"
		exit 1
	fi
fi
if [ -z "${PORCH_STATIC_BIN:-}" ]; then
	say "building porch static musl (make STATIC=1) in build/bench/host-musl"
	if build "$OUT/host-musl" STATIC=1; then
		PORCH_STATIC_BIN=$OUT/host-musl/porch
	else
		PORCH_STATIC_BIN=
	fi
fi

sizes=$OUT/sizes.json
if [ "${BENCH_SIZES:-1}" != 0 ]; then
	say "building per-target binaries for their sizes (build/bench/size)"
	mkdir -p "$OUT/size"
	# two at a time: each build is one compiler run
	for a in armhf aarch64 mipsel; do
		build "$OUT/size/$a-tls0" ARCH=$a TLS=0 &
		p0=$!
		build "$OUT/size/$a-tls1" ARCH=$a TLS=1 &
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
			f=$OUT/size/$a-tls$t/porch
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

# ---------------------------------------------------------------- run
say "porch: $PORCH_BIN${PORCH_STATIC_BIN:+, static: $PORCH_STATIC_BIN}"
export PORCH_BIN PORCH_STATIC_BIN BENCH_OUT="$OUT" BENCH_SIZES="$sizes"
/usr/bin/python3 bench/bench.py &
py=$!
trap 'kill -TERM $py 2>/dev/null; wait $py 2>/dev/null; exit 1' INT TERM HUP
rc=0
wait $py || rc=$?
trap - INT TERM HUP

end=$(date +%s)
say "elapsed $((end - start)) s (make bench)"
if [ "$rc" = 0 ]; then
	say "results: $OUT/results.md, $OUT/results.png, bench/RESULTS.md"
fi
exit $rc
