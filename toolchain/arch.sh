# Sourced by the toolchain scripts: per-target facts for $ARCH.
# shellcheck disable=SC2034
# Sets TRIPLET (cross gcc prefix without the dash), DEBARCH (Debian's
# architecture name, for linux-libc-dev-<DEBARCH>-cross) and QEMU.
case $ARCH in
armhf)	TRIPLET=arm-linux-gnueabihf DEBARCH=armhf QEMU=qemu-arm-static ;;
aarch64) TRIPLET=aarch64-linux-gnu DEBARCH=arm64 QEMU=qemu-aarch64-static ;;
mipsel)	TRIPLET=mipsel-linux-gnu DEBARCH=mipsel QEMU=qemu-mipsel-static ;;
host-musl) TRIPLET=x86_64-linux-gnu DEBARCH=amd64 QEMU= ;;
*)	echo "unknown ARCH '$ARCH' (armhf, aarch64, mipsel, host-musl)" >&2
	exit 2 ;;
esac
