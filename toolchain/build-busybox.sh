#!/bin/sh
# Ensure a static BusyBox for one target in the cache:
#
#   toolchain/build-busybox.sh ARCH PREFIX CC FRAGMENT
#
# Builds the pinned BusyBox (versions.mk, Debian's patches applied) with
# the musl compiler CC, configured as "make allnoconfig" plus FRAGMENT
# (rootfs/busybox.config: the applets the image uses; features of those
# applets not named there take their defaults). Installs into PREFIX:
#	busybox		stripped static binary
#	busybox.links	the applets' install paths (/bin/sh, /sbin/init, ...)
#	config		the resolved .config
# busybox.mk chooses PREFIX from the version and a hash of the fragment,
# this script and the compiler; PREFIX/.stamp marks a finished build, and
# then this script does nothing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${PORCH_CACHE:-$HOME/.cache/porch}
[ $# -eq 4 ] || {
	echo "usage: build-busybox.sh ARCH PREFIX CC FRAGMENT" >&2
	exit 2
}
ARCH=$1 prefix=$2 cc=$3 frag=$4
[ -f "$prefix/.stamp" ] && exit 0

# A parent make's variables (ARCH=..., CFLAGS=...) must not leak in:
# BusyBox's own Makefile reads ARCH.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES CFLAGS LDFLAGS CPPFLAGS CC
. "$here/arch.sh"

pin() { sed -n "s/^$1[[:space:]]*=[[:space:]]*//p" "$here/versions.mk"; }
deb=$(pin BUSYBOX_DEB)
key=$(echo "${deb#*:}" | tr '~' '_')
"$here/deps.sh" make gcc
"$here/fetch.sh" busybox
src="$cache/src/busybox-$key/tree"

bld="$prefix.build"
rm -rf "$bld" "$prefix" "$prefix.tmp"
mkdir -p "$(dirname "$prefix")"
cp -a "$src" "$bld"
log="$bld/build.log"

# Values of the fragment: "CONFIG_X=v" and "# CONFIG_X is not set" lines
# replace the allnoconfig ones; the rest of .config is kept.
merge_fragment() {	# fragment config
	awk -v frag="$1" '
	function name(l,  n) {
		if (l ~ /^CONFIG_[A-Z0-9_]+=/) {
			n = l; sub(/=.*/, "", n); return n
		}
		if (l ~ /^# CONFIG_[A-Z0-9_]+ is not set$/) {
			n = l; sub(/^# /, "", n); sub(/ .*/, "", n); return n
		}
		return ""
	}
	BEGIN {
		while ((getline l < frag) > 0)
			if ((n = name(l)) != "")
				v[n] = l
	}
	{
		n = name($0)
		if (n != "" && (n in v)) {
			print v[n]
			seen[n] = 1
		} else
			print
	}
	END {
		for (n in v)
			if (!(n in seen))
				print v[n]
	}' "$2" >"$2.new"
	mv "$2.new" "$2"
}

echo "build-busybox.sh: building BusyBox $deb for $ARCH" >&2
(
	cd "$bld"
	make allnoconfig
	merge_fragment "$frag" .config
	# Options that the fragment's applets make visible are asked for:
	# take their defaults.
	yes "" | make oldconfig
	make -j"$(nproc)" CROSS_COMPILE="$TRIPLET-" CC="$cc" busybox
	make CROSS_COMPILE="$TRIPLET-" CC="$cc" busybox.links
) >"$log" 2>&1 || {
	tail -40 "$log" >&2
	echo "build-busybox.sh: failed for $ARCH; log: $log" >&2
	exit 1
}
# Every value the fragment asks for must have survived the dependency
# resolution (a misspelt or impossible option would otherwise vanish).
bad=$(grep -E '^(CONFIG_[A-Z0-9_]+=|# CONFIG_[A-Z0-9_]+ is not set$)' \
    "$frag" | while IFS= read -r l; do
	grep -qxF "$l" "$bld/.config" || echo "  $l"
done)
[ -z "$bad" ] || {
	printf 'build-busybox.sh: %s asks for options BusyBox did not take:\n%s\n' \
	    "$frag" "$bad" >&2
	exit 1
}
file "$bld/busybox" | grep -q 'statically linked' || {
	echo "build-busybox.sh: $bld/busybox is not static" >&2
	exit 1
}
mkdir -p "$prefix.tmp"
cp "$bld/busybox" "$bld/busybox.links" "$prefix.tmp/"
cp "$bld/.config" "$prefix.tmp/config"
rm -rf "$bld"
printf '%s\n%s\n' "$deb" "$cc" >"$prefix.tmp/.stamp"
mv "$prefix.tmp" "$prefix"
