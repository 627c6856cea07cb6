#!/bin/sh
# Ensure static mbedTLS libraries for one toolchain in the cache:
#
#   toolchain/build-mbedtls.sh PREFIX CC AR CFLAGS [HOT_CFLAGS]
#
# Builds the pinned mbedTLS (versions.mk) with "make lib" (the release
# tarball has every generated file: no Python, no CMake), configured by
# toolchain/mbedtls_config.h, and installs into PREFIX:
#   lib/libmbedtls.a lib/libmbedx509.a lib/libmbedcrypto.a
#   include/ (with porch_mbedtls_config.h, also as mbedtls/mbedtls_config.h,
#   and everest/ for Everest's X25519)
# HOT_CFLAGS, when given, builds the few objects where a handshake spends
# its CPU (bignum, elliptic curves, ECDSA, Everest's X25519) with other
# flags: -O2 there and -Os elsewhere costs ~15 KB and saves ~12% of a
# handshake's instructions against -Os everywhere.
# toolchain.mk chooses PREFIX from the version and a hash of the config,
# this script and the flags; PREFIX/.stamp marks a finished build, and then
# this script does nothing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${PORCH_CACHE:-$HOME/.cache/porch}
[ $# -eq 4 ] || [ $# -eq 5 ] ||
    { echo "usage: build-mbedtls.sh PREFIX CC AR CFLAGS [HOT_CFLAGS]" >&2; exit 2; }
prefix=$1 cc=$2 ar=$3 cflags=$4 hot=${5:-}
[ -f "$prefix/.stamp" ] && exit 0

# A parent make's variables (ARCH=..., CFLAGS=...) must not leak in.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES CFLAGS LDFLAGS CPPFLAGS

pin() { sed -n "s/^$1[[:space:]]*=[[:space:]]*//p" "$here/versions.mk"; }
deb=$(pin MBEDTLS_DEB)
key=$(echo "${deb#*:}" | tr '~' '_')
"$here/deps.sh" make
"$here/fetch.sh" mbedtls
src="$cache/src/mbedtls-$key/tree"

bld="$prefix.build"
rm -rf "$bld" "$prefix"
mkdir -p "$bld"
# What "make lib" reads (scripts/ and framework/ only as order-only
# prerequisites of generated files that are already there).
cp -a "$src/include" "$src/library" "$src/3rdparty" "$src/scripts" \
    "$src/framework" "$src/Makefile" "$bld/"
mkdir "$bld/tests"	# "make lib" drops a seed file there
cp "$here/mbedtls_config.h" "$bld/include/porch_mbedtls_config.h"
log="$bld/build.log"
echo "build-mbedtls.sh: building mbedTLS $deb into $prefix" >&2
conf="-DMBEDTLS_CONFIG_FILE='\"porch_mbedtls_config.h\"'"
# The hot objects first: "make lib" then finds them up to date.
hot_objs="bignum.o bignum_core.o ecp.o ecp_curves.o ecdsa.o
    ../3rdparty/everest/library/everest.o ../3rdparty/everest/library/x25519.o
    ../3rdparty/everest/library/Hacl_Curve25519_joined.o"
if ! { { [ -z "$hot" ] || make -C "$bld/library" -j"$(nproc)" $hot_objs \
    CC="$cc" CFLAGS="$hot $conf"; } &&
    make -C "$bld" -j"$(nproc)" lib CC="$cc" AR="$ar" CFLAGS="$cflags $conf"
    } >"$log" 2>&1; then
	grep -E 'error|Error' "$log" | head -30 >&2
	echo "build-mbedtls.sh: failed; log: $log" >&2
	exit 1
fi
mkdir -p "$prefix.tmp/lib"
cp "$bld"/library/libmbedtls.a "$bld"/library/libmbedx509.a \
    "$bld"/library/libmbedcrypto.a "$prefix.tmp/lib/"
cp -R "$bld/include" "$prefix.tmp/include"
# ecdh.h includes "everest/everest.h" when Everest's X25519 is configured.
cp -R "$bld/3rdparty/everest/include/everest" "$prefix.tmp/include/"
# Code that forgets -DMBEDTLS_CONFIG_FILE still sees porch's config.
cp "$here/mbedtls_config.h" "$prefix.tmp/include/mbedtls/mbedtls_config.h"
rm -rf "$bld"
printf '%s\n%s\n%s\n%s\n' "$deb" "$cc" "$cflags" "$hot" > "$prefix.tmp/.stamp"
mv "$prefix.tmp" "$prefix"
