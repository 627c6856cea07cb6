#!/bin/sh
# Fetch the Debian kernel a QEMU board boots, and the few modules the
# firmware image needs, into the cache:
#
#   toolchain/fetch-kernel.sh armhf|aarch64|mipsel
#
# Prints the directory holding them on stdout:
#   ${PORCH_CACHE:-$HOME/.cache/porch}/kernel/<arch>/<package>_<version>-<hash>/
#	vmlinuz		the kernel (QEMU -kernel)
#	release		its release name (uname -r), e.g. 6.1.0-57-armmp
#	config		its configuration
#	modules/*.ko	the modules below, with their dependencies
#	modules.order	their names in load order (dependencies first)
#
# The kernel's ABI name (6.1.0-NN) moves with Debian point releases, so it
# is resolved through the linux-image-armmp / -arm64 / -4kc-malta
# metapackage of bookworm (+ -updates, -security) with a private apt
# configuration of its own: no foreign architecture is added to the host's
# dpkg, and nothing is installed. The package index is refreshed at most
# once a day (KERNEL_REFRESH=1 forces it); without network, the kernel
# cached last is used.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${PORCH_CACHE:-$HOME/.cache/porch}
ARCH=${1:?usage: fetch-kernel.sh armhf|aarch64|mipsel}

case $ARCH in
armhf)	debarch=armhf meta=linux-image-armmp
	bus="virtio_mmio" ;;
aarch64) debarch=arm64 meta=linux-image-arm64
	bus="virtio_mmio" ;;
mipsel)	debarch=mipsel meta=linux-image-4kc-malta
	bus="virtio_pci" ;;
*)	echo "fetch-kernel.sh: unknown ARCH '$ARCH'" >&2; exit 2 ;;
esac
# What the image needs beyond the kernel's built-ins: the virtio transport,
# disk, network and entropy; squashfs (the root), overlay, ext4 (the
# settings disk; ext4 asks the crypto API for crc32c, which no depends=
# names). Their dependencies are added from the modules' own "depends="
# fields.
want="$bus virtio_blk virtio_net virtio-rng squashfs overlay crc32c_generic ext4"
# ... and what the image's boot relies on being built in or loaded.
need_config="CONFIG_DEVTMPFS=y CONFIG_SQUASHFS_XZ=y CONFIG_MSDOS_PARTITION=y
CONFIG_TMPFS=y CONFIG_RD_GZIP=y CONFIG_UNIX=y CONFIG_IPV6=y"

top="$cache/kernel/$ARCH"
apt="$top/apt"
mkdir -p "$top"

apt_setup() {
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" \
	    "$apt/etc/sources.list.d" "$apt/etc/preferences.d" "$apt/state"
	: >"$apt/status"
	kr=/usr/share/keyrings/debian-archive-keyring.gpg
	cat >"$apt/etc/sources.list" <<EOF
deb [signed-by=$kr] http://deb.debian.org/debian bookworm main
deb [signed-by=$kr] http://deb.debian.org/debian bookworm-updates main
deb [signed-by=$kr] http://deb.debian.org/debian-security bookworm-security main
EOF
	cat >"$apt/apt.conf" <<EOF
Dir::State "$apt/state";
Dir::State::Lists "$apt/lists";
Dir::State::status "$apt/status";
Dir::Cache "$apt/cache";
Dir::Etc::SourceList "$apt/etc/sources.list";
Dir::Etc::SourceParts "$apt/etc/sources.list.d";
Dir::Etc::Preferences "$apt/etc/preferences";
Dir::Etc::PreferencesParts "$apt/etc/preferences.d";
APT::Architecture "$debarch";
APT::Architectures { "$debarch"; };
Acquire::Languages "none";
APT::Sandbox::User "root";
EOF
}

# The last kernel this script fetched, if any (the offline fallback).
cached_last() {
	[ -f "$top/last" ] || return 1
	d="$top/$(cat "$top/last")"
	[ -f "$d/.stamp" ] || return 1
	echo "$d"
}

refresh() {
	log="$apt/update.log"
	if APT_CONFIG="$apt/apt.conf" apt-get -q update >"$log" 2>&1; then
		touch "$apt/updated"
		return 0
	fi
	return 1
}

apt_setup
stale=1
if [ -f "$apt/updated" ] && [ "${KERNEL_REFRESH:-0}" != 1 ] &&
    [ -n "$(find "$apt/updated" -mmin -1440)" ]; then
	stale=0
fi
if [ "$stale" = 1 ] && ! refresh; then
	if d=$(cached_last); then
		echo "fetch-kernel.sh: cannot refresh the $debarch package index" \
		    "(offline?); using the cached $(basename "$d")" >&2
		echo "$d"
		exit 0
	fi
	cat "$apt/update.log" >&2
	echo "fetch-kernel.sh: apt-get update failed for $debarch" >&2
	exit 1
fi

export APT_CONFIG="$apt/apt.conf"
# The metapackage's candidate depends on exactly one ABI-named image.
pkg=$(apt-cache depends "$meta" 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
[ -n "$pkg" ] || {
	echo "fetch-kernel.sh: cannot resolve $meta ($debarch)" >&2
	exit 1
}
ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || {
	echo "fetch-kernel.sh: no candidate for $pkg" >&2
	exit 1
}
# The directory's name: the resolved package and version, and a hash of
# what is taken from it (this script), so a new module list re-extracts.
key="${pkg}_$(echo "$ver" | tr ':~' '__')-$(sha256sum <"$0" | cut -c1-8)"
dir="$top/$key"
debs="$top/debs"
if [ -f "$dir/.stamp" ]; then
	echo "$key" >"$top/last"
	echo "$dir"
	exit 0
fi

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/x" "$dir.tmp/modules" "$debs"
deb=$(ls "$debs/${pkg}_"*.deb 2>/dev/null | head -n 1) || deb=
if [ -z "$deb" ] || [ "$(dpkg-deb -f "$deb" Version)" != "$ver" ]; then
	echo "fetch-kernel.sh: fetching $pkg $ver ($debarch)" >&2
	rm -f "$debs/${pkg}_"*.deb
	(cd "$debs" && apt-get -q download "$pkg=$ver") \
	    >"$dir.tmp/download.log" 2>&1 || {
		cat "$dir.tmp/download.log" >&2
		echo "fetch-kernel.sh: apt-get download $pkg=$ver failed" >&2
		exit 1
	}
	deb=$(ls "$debs/${pkg}_"*.deb)
fi
# apt-get download checked the .deb against the signed index; keep its
# sha256 beside the result for the record.
sha256sum "$deb" | cut -d' ' -f1 >"$dir.tmp/deb.sha256"
# Only the kernel, its config and the modules directory listing first.
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir.tmp/x" --wildcards \
    './boot/vmlinu*' './boot/config-*' './lib/modules/*/kernel/*'
rel=$(ls "$dir.tmp/x/lib/modules")
mv "$dir.tmp/x/boot/vmlinu"*"-$rel" "$dir.tmp/vmlinuz"
mv "$dir.tmp/x/boot/config-$rel" "$dir.tmp/config"
echo "$rel" >"$dir.tmp/release"

for c in $need_config; do
	grep -qx "$c" "$dir.tmp/config" || {
		echo "fetch-kernel.sh: $pkg lacks $c" >&2
		exit 1
	}
done

# Find a module by name (kernel names treat - and _ alike).
kodir="$dir.tmp/x/lib/modules/$rel/kernel"
find "$kodir" -name '*.ko' >"$dir.tmp/all"
ko_path() {
	n=$(echo "$1" | tr '_' '-')
	u=$(echo "$1" | tr '-' '_')
	grep -E "/($n|$u)\.ko\$" "$dir.tmp/all" | head -n 1
}
ko_depends() {
	tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | tr ',' ' '
}
# Depth-first: a module's dependencies are listed before it. ("local" is
# not POSIX but dash and BusyBox ash have it; the recursion needs it.)
: >"$dir.tmp/modules.order"
add() {
	local p d base
	grep -qx "$1" "$dir.tmp/modules.order" && return 0
	p=$(ko_path "$1")
	if [ -z "$p" ]; then
		# Built into this kernel: nothing to load.
		grep -q "^$1\$" "$dir.tmp/x/lib/modules/$rel/modules.builtin" \
		    2>/dev/null && return 0
		echo "fetch-kernel.sh: module $1 not in $pkg (built in?)" >&2
		return 0
	fi
	for d in $(ko_depends "$p"); do
		add "$d"
	done
	base=$(basename "$p" .ko)
	cp "$p" "$dir.tmp/modules/$base.ko"
	echo "$base" >>"$dir.tmp/modules.order"
}
for m in $want; do
	add "$m"
done
rm -rf "$dir.tmp/x" "$dir.tmp/all"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
touch "$dir/.stamp"
echo "$key" >"$top/last"
echo "fetch-kernel.sh: $pkg $ver: $(tr '\n' ' ' <"$dir/modules.order")" >&2
echo "$dir"
