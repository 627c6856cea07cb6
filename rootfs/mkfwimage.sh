#!/bin/sh
# Build a firmware upgrade file (what fw-upgrade check/apply take):
#
#   rootfs/mkfwimage.sh ARCH VERSION SQUASHFS OUT
#
# Format 1: a 512-byte header, then the squashfs root as the payload.
# The header is text, NUL-padded to 512 bytes:
#	porch-firmware 1		magic and format version
#	arch=armhf			armhf | aarch64 | mipsel
#	version=1.2.0			[A-Za-z0-9._+-], at most 64
#	payload_size=1871872		bytes after the header
#	payload_sha256=<64 hex>
#	created=2026-12-01T10:00:00Z	(informative)
#	sum=<sha256 of the lines above, each ending in a newline>
# Readers ignore fields they do not know; a new format number is for
# changes old readers must refuse.
set -eu
[ $# -eq 4 ] || { echo "usage: mkfwimage.sh ARCH VERSION SQUASHFS OUT" >&2; exit 2; }
arch=$1 version=$2 sq=$3 out=$4
case $arch in
armhf|aarch64|mipsel) ;;
*) echo "mkfwimage.sh: unknown ARCH $arch" >&2; exit 2 ;;
esac
case $version in
''|*[!A-Za-z0-9._+-]*)
	echo "mkfwimage.sh: VERSION may hold only A-Z a-z 0-9 . _ + -" >&2
	exit 2 ;;
esac
[ ${#version} -le 64 ] || { echo "mkfwimage.sh: VERSION too long" >&2; exit 2; }
[ "$(head -c 4 "$sq")" = hsqs ] || {
	echo "mkfwimage.sh: $sq is not a squashfs" >&2
	exit 1
}
size=$(stat -c %s "$sq")
sha=$(sha256sum "$sq" | cut -c1-64)
created=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)
body="porch-firmware 1
arch=$arch
version=$version
payload_size=$size
payload_sha256=$sha
created=$created"
sum=$(printf '%s\n' "$body" | sha256sum | cut -c1-64)
printf '%s\nsum=%s\n' "$body" "$sum" >"$out.tmp"
truncate -s 512 "$out.tmp"
cat "$sq" >>"$out.tmp"
mv "$out.tmp" "$out"
