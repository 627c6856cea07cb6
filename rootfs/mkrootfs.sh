#!/bin/sh
# Assemble the firmware image of one target (rootfs.mk runs this):
#
#   rootfs/mkrootfs.sh ARCH VERSION PORCH BUSYBOX_DIR KERNEL_DIR OUT [EXTRA_DIR...]
#
# PORCH the static porch binary; BUSYBOX_DIR holds busybox and
# busybox.links (toolchain/build-busybox.sh); KERNEL_DIR the kernel and
# modules (toolchain/fetch-kernel.sh); EXTRA_DIRs are copied over the root
# (the QEMU tests' own CGIs: never in the product image), and an
# etc/porch.conf.extra among them is added to the end of /etc/porch.conf.
# ROOTFS_WWW (environment) is the web root as served: the admin UI that
# make ui ARCH=... builds into build/ARCH/www. Writes into OUT:
#
#	rootfs.squashfs	the read-only root: BusyBox, porch, /etc, /www
#			(kernel-independent; the flash slots hold it)
#	rootfs.cpio.gz	the whole root as an initramfs, with the modules:
#			boots alone, state in RAM
#	boot.cpio.gz	the flash form's boot initramfs: modules, /init,
#			the empty settings filesystem
#	firmware.bin	the upgrade file of this root (mkfwimage.sh)
#	vmlinuz, kernel.release, version, arch, sizes.txt
#
# File times in the images are SOURCE_DATE_EPOCH when set (reproducible
# builds), else the build's time (so a new version has new ETags).
set -eu
[ $# -ge 6 ] || {
	echo "usage: mkrootfs.sh ARCH VERSION PORCH BUSYBOX_DIR KERNEL_DIR OUT [EXTRA...]" >&2
	exit 2
}
arch=$1 version=$2 porch=$3 bbdir=$4 kdir=$5 out=$6
shift 6
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
epoch=${SOURCE_DATE_EPOCH:-$(date +%s)}

case $arch in
armhf)	console=ttyAMA0 bcj="-Xbcj armthumb" ;;
aarch64) console=ttyAMA0 bcj= ;;
mipsel)	console=ttyS0 bcj= ;;
*)	echo "mkrootfs.sh: unknown ARCH $arch" >&2; exit 2 ;;
esac
# Only if this kernel can undo the filter.
grep -qx 'CONFIG_XZ_DEC_ARMTHUMB=y' "$kdir/config" || bcj=
case $version in
''|*[!A-Za-z0-9._+-]*)
	echo "mkrootfs.sh: VERSION '$version': only A-Z a-z 0-9 . _ + -" >&2
	exit 2 ;;
esac
rel=$(cat "$kdir/release")
www=${ROOTFS_WWW:-}
[ -x "$www/cgi-bin/ui" ] || {
	echo "mkrootfs.sh: ROOTFS_WWW='$www' is not a built web root" \
	    "(make ui ARCH=$arch)" >&2
	exit 2
}

mkdir -p "$out"
root="$out/stage/root"
boot="$out/stage/boot"
rm -rf "$out/stage"
mkdir -p "$root" "$boot"

# BusyBox and its applet links, relative so the tree works anywhere.
install_busybox() {	# DESTROOT
	mkdir -p "$1/bin" "$1/sbin" "$1/usr/bin" "$1/usr/sbin"
	cp "$bbdir/busybox" "$1/bin/busybox"
	chmod 755 "$1/bin/busybox"
	while read -r link; do
		case $link in
		/bin/busybox) continue ;;
		/bin/*) target=busybox ;;
		/sbin/*) target=../bin/busybox ;;
		/usr/bin/*|/usr/sbin/*) target=../../bin/busybox ;;
		*) echo "mkrootfs.sh: unexpected applet path $link" >&2; exit 1 ;;
		esac
		ln -sf "$target" "$1$link"
	done <"$bbdir/busybox.links"
}

# --- the root ------------------------------------------------------------
install_busybox "$root"
for d in dev proc sys tmp run rom overlay root var/empty www etc/init.d etc/ssl \
    lib/porch usr/libexec/porch usr/share/udhcpc; do
	mkdir -p "$root/$d"
done
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
ln -s ../run "$root/var/run"
ln -s ../run/resolv.conf "$root/etc/resolv.conf"
# The name is a setting: on the overlay, in porch's user's directory, so
# the admin UI's CGI (porch's user) can change it (firstboot makes it).
ln -s porch/hostname "$root/etc/hostname"
cp -R "$here/files/." "$root/"
sed "s/@CONSOLE@/$console/" "$here/files/etc/inittab" >"$root/etc/inittab"
cp "$porch" "$root/usr/sbin/porch"
chmod 755 "$root/usr/sbin/porch"
printf '%s\n' "$version" >"$root/etc/porch-release"
printf '%s\n' "$arch" >"$root/lib/porch/arch"
cp -R "$www/." "$root/www/"
for extra in "$@"; do
	cp -R "$extra/." "$root/"
done
if [ -f "$root/etc/porch.conf.extra" ]; then
	cat "$root/etc/porch.conf.extra" >>"$root/etc/porch.conf"
	rm "$root/etc/porch.conf.extra"
fi
# The settings files are the overlay's; the defaults are readable by all.
chmod -R u+rwX,go+rX,go-w "$root/www" "$root/etc"

squash() {	# DIR OUT
	# shellcheck disable=SC2086
	mksquashfs "$1" "$2" -noappend -quiet -no-progress -comp xz $bcj \
	    -b 256K -all-root -all-time "$epoch" -mkfs-time "$epoch" \
	    -p "dev/console c 600 0 0 5 1" >/dev/null
}
squash "$root" "$out/rootfs.squashfs.tmp"
mv "$out/rootfs.squashfs.tmp" "$out/rootfs.squashfs"

# --- the whole root as an initramfs ---------------------------------------
whole="$out/stage/whole"
cp -a "$root" "$whole"
mkdir -p "$whole/lib/modules/$rel"
cp "$kdir"/modules/*.ko "$kdir/modules.order" "$whole/lib/modules/$rel/"
ln -s bin/busybox "$whole/init"
/usr/bin/python3 "$here/mkcpio.py" "$whole" "$out/rootfs.cpio.gz" --mtime "$epoch" \
    --node dev/console:c:600:5:1

# --- the flash form's boot initramfs --------------------------------------
install_busybox "$boot"
for d in dev proc sys tmp rom overlay newroot lib/porch; do
	mkdir -p "$boot/$d"
done
cp "$here/initramfs/init" "$boot/init"
chmod 755 "$boot/init"
cp "$here/files/lib/porch/bootctl.sh" "$here/files/lib/porch/modules.sh" \
    "$boot/lib/porch/"
mkdir -p "$boot/lib/modules/$rel"
cp "$kdir"/modules/*.ko "$kdir/modules.order" "$boot/lib/modules/$rel/"
# The settings disk's empty filesystem: ext4 with a journal (BusyBox's
# mke2fs makes ext2 only), holding the overlay's upper and work dirs.
# With lazy init, mke2fs writes only metadata (about 170 KB of 16 MiB),
# and the kernel zeroes inode tables later itself: the guest formats by
# writing just those blocks (data.ext4.map: "first count" in 4 KiB
# blocks; data.ext4.bin.gz: their contents), whatever the disk held.
mkdir -p "$out/stage/data/upper" "$out/stage/data/work"
rm -f "$out/stage/data.ext4"
truncate -s 16M "$out/stage/data.ext4"
E2FSPROGS_FAKE_TIME=$epoch mke2fs -q -F -t ext4 -L porch-data \
    -E root_owner=0:0,lazy_itable_init=1,lazy_journal_init=1 \
    -d "$out/stage/data" "$out/stage/data.ext4"
/usr/bin/python3 - "$out/stage/data.ext4" "$boot/lib/porch/data.ext4" <<'EOP'
import gzip, sys
data = open(sys.argv[1], "rb").read()
bs = 4096
extents = []
for i in range(len(data) // bs):
    if data[i * bs:(i + 1) * bs].strip(b"\0"):
        if extents and extents[-1][1] == i:
            extents[-1][1] = i + 1
        else:
            extents.append([i, i + 1])
with open(sys.argv[2] + ".map", "w") as f:
    f.write("".join("%d %d\n" % (a, b - a) for a, b in extents))
with open(sys.argv[2] + ".bin.gz", "wb") as f:
    f.write(gzip.compress(b"".join(data[a * bs:b * bs] for a, b in extents),
                          9, mtime=0))
EOP
/usr/bin/python3 "$here/mkcpio.py" "$boot" "$out/boot.cpio.gz" --mtime "$epoch" \
    --node dev/console:c:600:5:1

# --- the upgrade file, kernel, facts -------------------------------------
sh "$here/mkfwimage.sh" "$arch" "$version" "$out/rootfs.squashfs" \
    "$out/firmware.bin"
cp "$kdir/vmlinuz" "$out/vmlinuz"
echo "$rel" >"$out/kernel.release"
echo "$version" >"$out/version"
echo "$arch" >"$out/arch"

# porch's share: the same root without it.
rm "$root/usr/sbin/porch"
squash "$root" "$out/stage/noporch.squashfs"
sq=$(stat -c %s "$out/rootfs.squashfs")
noporch=$(stat -c %s "$out/stage/noporch.squashfs")
{
	echo "arch $arch"
	echo "version $version"
	echo "squashfs_bytes $sq"
	echo "porch_binary_bytes $(stat -c %s "$porch")"
	echo "porch_share_bytes $((sq - noporch))"
	echo "busybox_binary_bytes $(stat -c %s "$bbdir/busybox")"
	echo "rootfs_cpio_gz_bytes $(stat -c %s "$out/rootfs.cpio.gz")"
	echo "boot_cpio_gz_bytes $(stat -c %s "$out/boot.cpio.gz")"
	echo "modules_bytes $(cat "$kdir"/modules/*.ko | wc -c)"
	echo "kernel_bytes $(stat -c %s "$kdir/vmlinuz")"
	echo "kernel $rel"
} >"$out/sizes.txt"
rm -rf "$out/stage"
