#!/bin/sh
# Ensure a static musl toolchain for one target in the cache:
#
#   toolchain/build-musl.sh armhf|aarch64|mipsel|host-musl
#
# Cross targets: musl (versions.mk) built with Debian's cross gcc into
#   $PORCH_CACHE/<arch>/musl-<debian version>/   (bin/musl-gcc is the compiler)
# with the Linux UAPI headers (linux/, asm/, ...) of
# linux-libc-dev-<debarch>-cross copied into its include/.
# host-musl: the same pinned musl built with the native gcc
# (x86_64-linux-gnu-gcc), since Debian's musl-dev 1.2.3 lacks crypt(3).
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

cross_musl() {
	deb=$(pin MUSL_DEB)
	key=$(echo "${deb#*:}" | tr '~' '_')
	prefix="$cache/$ARCH/musl-$key"
	[ -f "$prefix/.stamp" ] && return 0
	if [ "$ARCH" = host-musl ]; then
		"$here/deps.sh" gcc make linux-libc-dev
	else
		"$here/deps.sh" "gcc-$TRIPLET" "linux-libc-dev-$DEBARCH-cross" \
		    make qemu-user-static
	fi
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
	if [ "$ARCH" = host-musl ]; then
		# The native kernel headers: asm/ lives in the multiarch dir.
		copy_uapi /usr/include "$prefix/include"
		rm -rf "$prefix/include/asm"
		cp -R "/usr/include/$TRIPLET/asm" "$prefix/include/asm"
	else
		copy_uapi "/usr/$TRIPLET/include" "$prefix/include"
	fi
	# musl's own wrapper honours $REALGCC from the environment; ours does
	# not, so a stray variable cannot switch compilers under make.
	cat > "$prefix/bin/musl-gcc" <<EOW
#!/bin/sh
exec $TRIPLET-gcc "\$@" -specs "$prefix/lib/musl-gcc.specs"
EOW
	rm -rf "$bld"
	echo "$deb $TRIPLET" > "$prefix/.stamp"
}

cross_musl
