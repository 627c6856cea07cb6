#!/bin/sh
# Ensure static mbedTLS libraries for one toolchain in the cache:
#
#   toolchain/build-mbedtls.sh PREFIX CC AR CFLAGS
#
# Builds the pinned mbedTLS (versions.mk) with "make lib" (the release
# tarball has every generated file: no Python, no CMake), configured by
# toolchain/mbedtls_config.h, and installs into PREFIX:
#   lib/libmbedtls.a lib/libmbedx509.a lib/libmbedcrypto.a
#   include/ (with porch_mbedtls_config.h, also as mbedtls/mbedtls_config.h)
# toolchain.mk chooses PREFIX from the version and a hash of the config,
# this script and CFLAGS; PREFIX/.stamp marks a finished build, and then
# this script does nothing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${PORCH_CACHE:-$HOME/.cache/porch}
[ $# -eq 4 ] || { echo "usage: build-mbedtls.sh PREFIX CC AR CFLAGS" >&2; exit 2; }
prefix=$1 cc=$2 ar=$3 cflags=$4
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
if ! make -C "$bld" -j"$(nproc)" lib CC="$cc" AR="$ar" \
    CFLAGS="$cflags -DMBEDTLS_CONFIG_FILE='\"porch_mbedtls_config.h\"'" \
    >"$log" 2>&1; then
	grep -E 'error|Error' "$log" | head -30 >&2
	echo "build-mbedtls.sh: failed; log: $log" >&2
	exit 1
fi
mkdir -p "$prefix.tmp/lib"
cp "$bld"/library/libmbedtls.a "$bld"/library/libmbedx509.a \
    "$bld"/library/libmbedcrypto.a "$prefix.tmp/lib/"
cp -R "$bld/include" "$prefix.tmp/include"
# Code that forgets -DMBEDTLS_CONFIG_FILE still sees porch's config.
cp "$here/mbedtls_config.h" "$prefix.tmp/include/mbedtls/mbedtls_config.h"
rm -rf "$bld"
printf '%s\n%s\n%s\n' "$deb" "$cc" "$cflags" > "$prefix.tmp/.stamp"
mv "$prefix.tmp" "$prefix"
