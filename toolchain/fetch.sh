#!/bin/sh
# Fetch the pinned Debian source packages (versions.mk) into the cache and
# unpack them with Debian's patches applied. Idempotent: a source already
# unpacked and verified is not downloaded again.
#
#   toolchain/fetch.sh musl mbedtls busybox
#
# Prints nothing on a warm cache. The unpacked tree of NAME ends up in
#   ${PORCH_CACHE:-$HOME/.cache/porch}/src/NAME-<debian version>/tree
# (the Debian version without epoch, '~' replaced by '_').
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${PORCH_CACHE:-$HOME/.cache/porch}
SRC_LIST=/etc/apt/sources.list.d/porch-src.sources
SUITES="trixie"

# versions.mk is "NAME = value" lines; read the one we are asked for.
pin() {
	v=$(sed -n "s/^$1[[:space:]]*=[[:space:]]*//p" "$here/versions.mk")
	[ -n "$v" ] || { echo "fetch.sh: $1 not pinned in versions.mk" >&2; exit 1; }
	printf '%s\n' "$v"
}

# A deb-src-only entry of its own, so no binary package from a newer suite
# can ever be installed by accident.
ensure_deb_src() {
	want="Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $SUITES
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
	if [ -f "$SRC_LIST" ] && [ "$(cat "$SRC_LIST")" = "$want" ] &&
	    apt_has_sources; then
		return 0
	fi
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	printf '%s\n' "$want" | $SUDO tee "$SRC_LIST" >/dev/null
	log=$(mktemp)
	if ! $SUDO apt-get -q update >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		echo "fetch.sh: apt-get update failed" >&2
		exit 1
	fi
	rm -f "$log"
}

# True once "apt-get update" has fetched the trixie Sources index.
apt_has_sources() {
	ls /var/lib/apt/lists/*_dists_trixie_main_source_Sources* \
	    >/dev/null 2>&1
}

sha_ok() {	# file sha256
	[ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

fetch_one() {
	name=$1
	up=$(echo "$name" | tr '[:lower:]' '[:upper:]')
	deb=$(pin "${up}_DEB")
	orig=$(pin "${up}_ORIG")
	orig_sha=$(pin "${up}_ORIG_SHA256")
	debian_sha=$(pin "${up}_DEBIAN_SHA256")
	noepoch=${deb#*:}
	key=$(echo "$noepoch" | tr '~' '_')
	dir="$cache/src/$name-$key"
	[ -f "$dir/.verified" ] && return 0

	deps=$("$here/deps.sh" dpkg-dev 2>&1) || { echo "$deps" >&2; exit 1; }
	ensure_deb_src
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	debtar="${name}_${noepoch}.debian.tar.xz"
	log="$dir.tmp/apt.log"
	# The pinned revision first. Debian drops superseded revisions from
	# the archive; then take the suite's current one, but only if its
	# upstream tarball is still the pinned one (checked below).
	if (cd "$dir.tmp" && apt-get source -q --download-only \
	    "$name=$deb") >"$log" 2>&1; then
		sha_ok "$dir.tmp/$debtar" "$debian_sha" || {
			echo "fetch.sh: $debtar: sha256 mismatch" >&2
			exit 1
		}
	else
		echo "fetch.sh: $name=$deb not in the archive any more;" \
		    "trying $name/trixie (same upstream tarball required)" >&2
		(cd "$dir.tmp" && apt-get source -q --download-only \
		    "$name/trixie") >"$log" 2>&1 || {
			cat "$log" >&2
			echo "fetch.sh: cannot fetch $name" >&2
			exit 1
		}
	fi
	sha_ok "$dir.tmp/$orig" "$orig_sha" || {
		echo "fetch.sh: $orig: missing or sha256 mismatch" \
		    "(pinned $orig_sha)" >&2
		exit 1
	}
	dsc=$(ls "$dir.tmp"/*.dsc)
	# Unpacking applies Debian's patch series (security fixes).
	(cd "$dir.tmp" && dpkg-source -q -x --no-check "$dsc" tree) \
	    >>"$log" 2>&1 || {
		cat "$log" >&2
		echo "fetch.sh: dpkg-source -x $dsc failed" >&2
		exit 1
	}
	basename "$dsc" .dsc > "$dir.tmp/DEBIAN_SOURCE"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
	touch "$dir/.verified"
	echo "fetch.sh: $name $(cat "$dir/DEBIAN_SOURCE") verified in $dir" >&2
}

[ $# -gt 0 ] || set -- musl mbedtls busybox
for n in "$@"; do
	case $n in
	musl|mbedtls|busybox) fetch_one "$n" ;;
	*) echo "fetch.sh: unknown source $n" >&2; exit 2 ;;
	esac
done
