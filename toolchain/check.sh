#!/bin/sh
# Check the toolchain end to end, per target: build (or find cached) musl
# and mbedTLS, compile a hello world and tls_probe with porch's warning
# flags, check "file" says static for the right machine, run both (under
# qemu-user for cross targets), and, where openssl is installed, complete
# TLS 1.3 and 1.2 handshakes with session resumption and ALPN, for a
# generated ECDSA certificate and an RSA one.
#
#   toolchain/check.sh [armhf aarch64 mipsel host-musl host]
#
# Prints one summary line per target: build time, stripped sizes.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
WARN="-std=c11 -Wall -Wextra -Werror -Wshadow -Wvla -Wmissing-prototypes
 -Wstrict-prototypes -Wpointer-arith -Wcast-qual"
port=${PORT_BASE:-24430}
summary=

cat > "$work/hello.c" <<'EOC'
#define _GNU_SOURCE
#include <linux/openat2.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int
main(void)
{
	struct open_how	 how = { .flags = 0, .resolve = RESOLVE_BENEATH };
	long		 fd;

	fd = syscall(SYS_openat2, -100 /* AT_FDCWD */, ".", &how, sizeof(how));
	printf("hello, TCP_DEFER_ACCEPT=%d openat2=%s\n", TCP_DEFER_ACCEPT,
	    fd >= 0 ? "ok" : "unavailable");
	return 0;
}
EOC

now() { date +%s.%N; }
elapsed() { echo "$1 $(now)" | awk '{ printf "%.1f", $2 - $1 }'; }

# handshake NAME: run tls_probe on $port for 4 connections and drive them
# with openssl s_client: TLS 1.3 new and resumed, TLS 1.2 new and resumed.
handshake() {
	out="$work/$t.$1.hs"
	# shellcheck disable=SC2086
	$run "$work/tls_probe.$t" -p "$port" -n 4 $2 >"$out.srv" 2>&1 &
	pid=$!
	i=0
	until grep -q listening "$out.srv" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
	done
	for v in tls1_3 tls1_2; do
		for s in "-sess_out $work/sess.$v" "-sess_in $work/sess.$v"; do
			# shellcheck disable=SC2086
			(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 1) |
			    timeout 20 openssl s_client -connect 127.0.0.1:$port \
			    -$v -alpn http/1.1 $s >>"$out" 2>&1 || true
		done
	done
	wait $pid || { cat "$out.srv" >&2; return 1; }
	new=$(grep -c '^New, TLSv1' "$out" || true)
	reused=$(grep -c '^Reused, TLSv1' "$out" || true)
	alpn=$(grep -c '^ALPN protocol: http/1.1' "$out" || true)
	okays=$(grep -c '^ok$' "$out" || true)
	port=$((port + 1))
	if [ "$new" -ne 2 ] || [ "$reused" -ne 2 ] || [ "$alpn" -ne 4 ] ||
	    [ "$okays" -ne 4 ]; then
		cat "$out.srv" >&2
		echo "check: $t $1 handshakes: new=$new reused=$reused" \
		    "alpn=$alpn responses=$okays (want 2 2 4 4)" >&2
		return 1
	fi
	echo "  $1: TLS 1.3 + 1.2 handshakes, resumption, ALPN ok:"
	grep -E '^tls_probe: TLSv' "$out.srv" | sort -u | sed 's/^tls_probe:/   /'
}

[ $# -gt 0 ] || set -- armhf aarch64 mipsel host-musl host
for t in "$@"; do
	case $t in
	host-musl) margs="ARCH=host STATIC=1" machine="x86-64" ;;
	host) margs="ARCH=host" machine="x86-64" ;;
	armhf) margs="ARCH=armhf" machine="ARM, EABI5" ;;
	aarch64) margs="ARCH=aarch64" machine="ARM aarch64" ;;
	mipsel) margs="ARCH=mipsel" machine="MIPS, MIPS32 rel2" ;;
	*) echo "check: unknown target $t" >&2; exit 2 ;;
	esac
	echo "== $t"
	t0=$(now)
	# shellcheck disable=SC2086
	make -s -C "$here/.." -f toolchain/toolchain.mk $margs toolchain mbedtls
	build=$(elapsed "$t0")
	t0=$(now)
	# shellcheck disable=SC2086
	make -s -C "$here/.." -f toolchain/toolchain.mk $margs toolchain mbedtls
	warm=$(elapsed "$t0")
	# shellcheck disable=SC2086
	eval "$(make -s -C "$here/.." -f toolchain/toolchain.mk $margs \
	    toolchain-env)"
	run=$TC_QEMU
	# shellcheck disable=SC2086
	$TC_CC $WARN $TC_CFLAGS -o "$work/hello.$t" "$work/hello.c" $TC_LDFLAGS
	# shellcheck disable=SC2086
	$TC_CC $WARN $TC_CFLAGS $MBEDTLS_CFLAGS -o "$work/tls_probe.$t" \
	    "$here/tls_probe.c" $TC_LDFLAGS $MBEDTLS_LIBS
	for b in hello tls_probe; do
		f=$(file -b "$work/$b.$t")
		case $f in *"$machine"*) ;; *)
			echo "check: $b.$t: wrong machine: $f" >&2; exit 1 ;;
		esac
		if [ "$t" != host ]; then
			case $f in *"statically linked"*) ;; *)
				echo "check: $b.$t not static: $f" >&2; exit 1 ;;
			esac
		fi
		echo "  $b: ${f%%, BuildID*}"
		$run "$work/$b.$t" | sed 's/^/  /'
		$TC_STRIP -o "$work/$b.$t.stripped" "$work/$b.$t"
	done
	hs=skipped
	if command -v openssl >/dev/null; then
		handshake ecdsa ""
		[ -f "$work/rsa.key" ] || openssl req -x509 -newkey rsa:2048 \
		    -nodes -keyout "$work/rsa.key" -out "$work/rsa.crt" \
		    -subj /CN=localhost -days 30 2>/dev/null
		handshake rsa "-c $work/rsa.crt -k $work/rsa.key"
		hs=ok
	fi
	size=$(stat -c %s "$work/tls_probe.$t.stripped")
	hsize=$(stat -c %s "$work/hello.$t.stripped")
	summary="$summary
$(printf '%-10s make %6ss  warm %4ss  stripped: tls_probe %7d B  hello %6d B  handshakes %s' \
	    "$t" "$build" "$warm" "$size" "$hsize" "$hs")"
done
echo "$summary"
