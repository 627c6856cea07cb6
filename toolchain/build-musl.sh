#!/bin/sh
# Ensure a static musl toolchain for one target in the cache:
#
#   toolchain/build-musl.sh armhf|aarch64|mipsel|host-musl
#
# Cross targets: musl (versions.mk) built with Debian's cross gcc into
#   $PORCH_CACHE/<arch>/musl-<debian version>/   (bin/musl-gcc is the compiler)
# with the Linux UAPI headers (linux/, asm/, ...) of
# linux-libc-dev-<debarch>-cross copied into its include/.
# host-musl: Debian's musl-tools musl-gcc plus a copy of the host's UAPI
# headers, behind a wrapper in $PORCH_CACHE/host-musl/musl-debian/bin/musl-gcc.
# A finished toolchain has a .stamp file; then this script does nothing.
set -eu

# A parent make's variables (ARCH=..., CFLAGS=...) must not leak in.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES CFLAGS LDFLAGS CPPFLAGS CC

here=$(cd "$(dirname "$0")" && pwd)
cache=${PORCH_CACHE:-$HOME/.cache/porch}
ARCH=${1:?usage: build-musl.sh ARCH}
. "$here/arch.sh"

pin() { sed -n "s/^$1[[:space:]]*=[[:space:]]*//p" "$here/versions.mk"; }

# UAPI header directories; musl ships none of these, except scsi/ where
# its own files win (cp -n never overwrites them).
UAPI_DIRS="asm asm-generic drm linux misc mtd rdma scsi sound video xen"

copy_uapi() {	# from-dir to-dir
	for d in $UAPI_DIRS; do
		[ -d "$1/$d" ] || continue
		mkdir -p "$2/$d"
		cp -Rn "$1/$d/." "$2/$d/"
	done
	[ -f "$2/linux/openat2.h" ] || {
		echo "build-musl.sh: no UAPI headers copied from $1" >&2
		exit 1
	}
}

host_musl() {
	prefix="$cache/host-musl/musl-debian"
	[ -f "$prefix/.stamp" ] && return 0
	"$here/deps.sh" musl-tools linux-libc-dev
	rm -rf "$prefix"
	mkdir -p "$prefix/bin" "$prefix/uapi"
	# The host's asm/ lives in the multiarch directory.
	copy_uapi /usr/include "$prefix/uapi"
	rm -rf "$prefix/uapi/asm"
	cp -R "/usr/include/$TRIPLET/asm" "$prefix/uapi/asm"
	cat > "$prefix/bin/musl-gcc" <<EOW
#!/bin/sh
# Debian's musl-gcc (musl-tools) plus the kernel UAPI headers it lacks.
exec /usr/bin/musl-gcc -isystem "$prefix/uapi" "\$@"
EOW
	chmod +x "$prefix/bin/musl-gcc"
	dpkg-query -W -f='${Version}\n' musl-dev > "$prefix/.stamp"
}

cross_musl() {
	deb=$(pin MUSL_DEB)
	key=$(echo "${deb#*:}" | tr '~' '_')
	prefix="$cache/$ARCH/musl-$key"
	[ -f "$prefix/.stamp" ] && return 0
	"$here/deps.sh" "gcc-$TRIPLET" "linux-libc-dev-$DEBARCH-cross" make \
	    qemu-user-static
	"$here/fetch.sh" musl
	src="$cache/src/musl-$key/tree"
	bld="$cache/$ARCH/build-musl-$key"
	rm -rf "$bld" "$prefix"
	mkdir -p "$bld"
	log="$bld/build.log"
	echo "build-musl.sh: building musl $deb for $ARCH" >&2
	# The prefix is written into musl-gcc.specs, so build for the final
	# path; the .stamp written last marks it complete. --syslibdir in the
	# prefix keeps "make install" away from the host's /lib.
	(
		cd "$bld"
		"$src/configure" --prefix="$prefix" --syslibdir="$prefix/lib" \
		    --disable-shared --enable-wrapper=gcc --target="$TRIPLET" \
		    CROSS_COMPILE="$TRIPLET-" CC="$TRIPLET-gcc"
		make -j"$(nproc)"
		make install
	) >"$log" 2>&1 || {
		tail -40 "$log" >&2
		echo "build-musl.sh: musl build failed for $ARCH; log: $log" >&2
		exit 1
	}
	copy_uapi "/usr/$TRIPLET/include" "$prefix/include"
	# musl's own wrapper honours $REALGCC from the environment; ours does
	# not, so a stray variable cannot switch compilers under make.
	cat > "$prefix/bin/musl-gcc" <<EOW
#!/bin/sh
exec $TRIPLET-gcc "\$@" -specs "$prefix/lib/musl-gcc.specs"
EOW
	rm -rf "$bld"
	echo "$deb $TRIPLET" > "$prefix/.stamp"
}

case $ARCH in
host-musl) host_musl ;;
*) cross_musl ;;
esac
