#!/bin/sh
# CGI request rate: a trivial sh CGI (tests/cgi/ok.sh: a Content-Type and
# "ok") served by porch (2 workers), lighttpd (mod_cgi) and BusyBox httpd,
# in the same run on the same machine, each measured with
# "ab -n N -c C" (new connection per request). Prints req/s for each and
# porch's ratios. A figure, never a pass/fail test.
#
#	sh tests/cgi/bench_cgi.sh [N [C]]	(defaults 2000 4)
#
# PORCH_BIN picks the binary (default build/host/porch). Everything it
# starts listens on 127.0.0.1 and is stopped by its pid on exit.
set -u

N=${1:-2000}
C=${2:-4}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PORCH=${PORCH_BIN:-$ROOT/build/host/porch}
LIGHTTPD=${LIGHTTPD:-$(command -v lighttpd || echo /usr/sbin/lighttpd)}
BUSYBOX=${BUSYBOX:-/bin/busybox}
AB=${AB:-$(command -v ab || echo /usr/bin/ab)}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench_cgi.XXXXXX") || exit 1
PIDS=""

cleanup() {
	for pid in $PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $PIDS; do
		# up to 5 s, then KILL: never leave a server behind
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	PIDS=""
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "bench_cgi: $*" >&2
	exit 1
}

for tool in "$PORCH" "$LIGHTTPD" "$BUSYBOX" "$AB"; do
	[ -x "$tool" ] || die "missing $tool (make; make deps)"
done

# A free port on 127.0.0.1 (the kernel picks it; a race only in theory).
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
	i=0
	while [ $i -lt 100 ]; do
		if "$AB" -q -n 1 "http://127.0.0.1:$1/cgi-bin/ok.sh" \
		    >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	die "$2 did not answer on port $1"
}

# One document root for all three, the CGI in cgi-bin/.
mkdir -p "$WORK/www/cgi-bin" || exit 1
cp "$HERE/ok.sh" "$WORK/www/cgi-bin/ok.sh" || exit 1
chmod 755 "$WORK/www/cgi-bin/ok.sh"
echo ok >"$WORK/www/index.html"

# ---- porch
P_PORT=$(free_port)
cat >"$WORK/porch.conf" <<EOF
listen 127.0.0.1:$P_PORT
root $WORK/www
workers 2
cgi /cgi-bin/
access_log off
error_log $WORK/porch.err
pid_file $WORK/porch.pid
EOF
[ "$(id -u)" -eq 0 ] && echo "allow_root on" >>"$WORK/porch.conf"
"$PORCH" -c "$WORK/porch.conf" >"$WORK/porch.out" 2>&1 &
PIDS="$PIDS $!"

# ---- lighttpd: mod_cgi executes the script itself (like porch)
L_PORT=$(free_port)
cat >"$WORK/lighttpd.conf" <<EOF
server.document-root = "$WORK/www"
server.bind = "127.0.0.1"
server.port = $L_PORT
server.modules = ( "mod_cgi" )
server.errorlog = "$WORK/lighttpd.err"
server.max-worker = 0
index-file.names = ( "index.html" )
\$HTTP["url"] =~ "^/cgi-bin/" {
	cgi.assign = ( "" => "" )
}
EOF
"$LIGHTTPD" -D -f "$WORK/lighttpd.conf" >"$WORK/lighttpd.out" 2>&1 &
PIDS="$PIDS $!"

# ---- BusyBox httpd: forks per connection, CGIs under DIR/cgi-bin
B_PORT=$(free_port)
"$BUSYBOX" httpd -f -p "127.0.0.1:$B_PORT" -h "$WORK/www" \
    >"$WORK/busybox.out" 2>&1 &
PIDS="$PIDS $!"

wait_port "$P_PORT" porch
wait_port "$L_PORT" lighttpd
wait_port "$B_PORT" "busybox httpd"

# req/s of one server; checks every answer was a 200 with "ok".
rate() {
	url="http://127.0.0.1:$1/cgi-bin/ok.sh"
	"$AB" -q -n 200 -c "$C" "$url" >/dev/null 2>&1	# warm-up
	"$AB" -q -n "$N" -c "$C" "$url" >"$WORK/ab.$2" 2>&1 ||
	    die "ab against $2 failed: $(tail -n 3 "$WORK/ab.$2")"
	failed=$(awk '/^Failed requests:/ { print $3 }' "$WORK/ab.$2")
	non2xx=$(awk '/^Non-2xx responses:/ { print $3 }' "$WORK/ab.$2")
	if [ "${failed:-0}" != 0 ] || [ -n "$non2xx" ]; then
		echo "bench_cgi: $2: ${failed:-0} failed, ${non2xx:-0} non-2xx" >&2
	fi
	awk '/^Requests per second:/ { print $4 }' "$WORK/ab.$2"
}

echo "CGI rate: sh script, ab -n $N -c $C, new connection per request"
echo "($(nproc 2>/dev/null || echo '?') cores, $(uname -m))"
P=$(rate "$P_PORT" porch)
L=$(rate "$L_PORT" lighttpd)
B=$(rate "$B_PORT" busybox)
printf '%-16s %10s req/s\n' "porch (2 workers)" "$P" "lighttpd" "$L" \
    "busybox httpd" "$B"
awk -v p="$P" -v l="$L" -v b="$B" 'BEGIN {
	if (l > 0) printf "porch / lighttpd      %6.2f\n", p / l
	if (b > 0) printf "porch / busybox httpd %6.2f\n", p / b
}'
