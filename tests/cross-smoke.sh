#!/bin/sh
# aarch64 and mipsel: build static, check the ELF, serve one request under
# the target's qemu-user emulator. armhf runs the whole suite elsewhere.
set -u
cd "$(dirname "$0")/.."
pass=0
fail=0
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
echo "cross-smoke ok" >"$root/index.html"
port=$((20000 + $$ % 10000))
for arch in aarch64 mipsel; do
	case $arch in
	aarch64) qemu=qemu-aarch64-static; want="ARM aarch64" ;;
	mipsel) qemu=qemu-mipsel-static; want="MIPS" ;;
	esac
	if ! make -s ARCH=$arch >/dev/null; then
		echo "FAIL $arch: build"
		fail=$((fail + 1))
		continue
	fi
	info=$(file build/$arch/porch)
	case $info in
	*"$want"*statically\ linked*) ;;
	*) echo "FAIL $arch: not a static $want binary: $info"
	   fail=$((fail + 1)); continue ;;
	esac
	port=$((port + 1))
	setsid $qemu build/$arch/porch -l 127.0.0.1:$port -r "$root" -w 2 \
	    -o 'allow_root on' 2>"$root/$arch.err" &
	pid=$!
	got=
	for _ in $(seq 1 100); do
		got=$(curl -s --max-time 5 http://127.0.0.1:$port/) && break
		sleep 0.1
	done
	kill -TERM $pid 2>/dev/null
	wait $pid
	rc=$?
	kill -KILL -- -$pid 2>/dev/null
	if [ "$got" = "cross-smoke ok" ] && [ $rc -eq 0 ]; then
		echo "ok $arch: $(stat -c %s build/$arch/porch) bytes, served and stopped cleanly"
		pass=$((pass + 1))
	else
		echo "FAIL $arch: got '$got', exit $rc"; cat "$root/$arch.err"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
