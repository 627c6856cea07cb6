#!/bin/sh
# Boot the firmware image of one target under QEMU (make qemu, the tests):
#
#   rootfs/qemu.sh [options] ARCH IMAGE_DIR DISK_DIR
#	--http PORT	host port forwarded to the guest's 80 (127.0.0.1 only)
#	--https PORT	host port forwarded to the guest's 443
#	--console stdio	serial console on this terminal (default); ^C or
#			SIGTERM stops QEMU
#	--console socket:PATH	serial console on a unix socket (the tests)
#	--log FILE	also write the console's output to FILE
#	--mem MB	guest RAM (default 64)
#	--append ARGS	more kernel command line (porch.bench=busybox-httpd)
#	--whole		boot rootfs.cpio.gz (the whole root in RAM, no disks)
#	--fetch CMD	guest connections to 10.0.2.100:80 run CMD on the
#			host (stdin/stdout: the connection)
#
# The flash form boots IMAGE_DIR/vmlinuz with boot.cpio.gz and the disks
# DISK_DIR/flash.img and data.img, made by mkdisks.py when missing. The
# guest's network reaches nothing but the forwarded ports (restrict=on).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
http= https= console=stdio log= mem=64 append= whole=0 fetch=
while [ $# -gt 0 ]; do
	case $1 in
	--http) http=$2; shift 2 ;;
	--https) https=$2; shift 2 ;;
	--console) console=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--whole) whole=1; shift ;;
	--fetch) fetch=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "qemu.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 3 ] || { sed -n '2,20s/^# \{0,1\}//p' "$0" >&2; exit 2; }
arch=$1 img=$2 disks=$3

for f in vmlinuz boot.cpio.gz rootfs.cpio.gz rootfs.squashfs; do
	[ -f "$img/$f" ] || {
		echo "qemu.sh: $img/$f missing: make rootfs ARCH=$arch" >&2
		exit 1
	}
done
if [ "$whole" = 0 ] && { [ ! -f "$disks/flash.img" ] ||
    [ ! -f "$disks/data.img" ]; }; then
	/usr/bin/python3 "$here/mkdisks.py" "$img" "$disks"
	echo "qemu.sh: new disks in $disks: a factory-fresh flash with" \
	    "version $(cat "$img/version"), a blank settings disk" >&2
fi

kargs=
case $arch in
armhf)
	qemu="qemu-system-arm -M virt,highmem=off -cpu cortex-a15"
	tty=ttyAMA0 bus=device ;;
aarch64)
	qemu="qemu-system-aarch64 -M virt -cpu cortex-a53"
	# Debian's arm64 kernel reserves 64 MiB for CMA by default: more than
	# the board has, and nothing here needs contiguous DMA memory.
	kargs="cma=0"
	tty=ttyAMA0 bus=device ;;
mipsel)
	qemu="qemu-system-mipsel -M malta -vga none"
	tty=ttyS0 bus=pci ;;
*)	echo "qemu.sh: unknown ARCH $arch" >&2; exit 2 ;;
esac
# virtio-net over PCI would load an option ROM QEMU does not ship here.
rom=
[ "$bus" = pci ] && rom=",romfile="

net="user,id=n0,restrict=on"
[ -n "$http" ] && net="$net,hostfwd=tcp:127.0.0.1:$http-:80"
[ -n "$https" ] && net="$net,hostfwd=tcp:127.0.0.1:$https-:443"
[ -n "$fetch" ] && net="$net,guestfwd=tcp:10.0.2.100:80-cmd:$fetch"

logopt=
[ -n "$log" ] && logopt=",logfile=$log,logappend=on"
case $console in
stdio)
	# signal=on: ^C reaches QEMU as SIGINT and stops it.
	chardev="stdio,id=con,signal=on$logopt" ;;
socket:*)
	chardev="socket,id=con,path=${console#socket:},server=on,wait=off$logopt" ;;
*)	echo "qemu.sh: --console stdio|socket:PATH" >&2; exit 2 ;;
esac

cmdline="console=$tty panic=1 quiet $kargs $append"
if [ "$whole" = 1 ]; then
	initrd=$img/rootfs.cpio.gz
	set --
else
	initrd=$img/boot.cpio.gz
	# cache=unsafe: the guest's flushes do not wait for the host's disk.
	# Whatever the guest wrote is in the host's page cache, so stopping
	# QEMU (^C, kill: the guest's power cut) loses nothing it wrote:
	# only a crash of the host itself would.
	set -- \
	    -drive "if=none,id=flash,format=raw,cache=unsafe,file=$disks/flash.img" \
	    -device "virtio-blk-$bus,drive=flash,serial=porch-flash" \
	    -drive "if=none,id=data,format=raw,cache=unsafe,file=$disks/data.img" \
	    -device "virtio-blk-$bus,drive=data,serial=porch-data"
fi
# shellcheck disable=SC2086
exec $qemu -m "$mem" -nodefaults -display none -no-user-config \
    -kernel "$img/vmlinuz" -initrd "$initrd" -append "$cmdline" \
    -chardev "$chardev" -serial chardev:con -monitor none \
    -netdev "$net" -device "virtio-net-$bus,netdev=n0$rom" \
    -device "virtio-rng-$bus" \
    "$@"
