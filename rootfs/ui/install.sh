#!/bin/sh
# The web root as served, from the UI's sources (make ui runs this):
#
#   rootfs/ui/install.sh SRC_WWW UI_BIN OUT
#
# - assets under a/ get content-versioned names (app.js -> app.<hash>.js)
#   and every page refers to them by those names, so porch-ui.conf can let
#   browsers keep them for a year (Cache-Control: immutable);
# - text files get a precompressed .gz sibling (gzip -9 -n: the same
#   bytes every build), which porch serves to clients that accept gzip;
# - the CGI program goes in as cgi-bin/ui.
# OUT is replaced whole, through a temporary directory beside it.
set -eu
[ $# -eq 3 ] || { echo "usage: install.sh SRC_WWW UI_BIN OUT" >&2; exit 2; }
src=$1 bin=$2 out=$3
tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
cp -R "$src/." "$tmp/"

sed_args=
for f in "$tmp"/a/*; do
	[ -f "$f" ] || continue
	name=${f##*/}
	base=${name%.*} ext=${name##*.}
	hash=$(sha256sum "$f" | cut -c1-10)
	mv "$f" "$tmp/a/$base.$hash.$ext"
	sed_args="$sed_args -e s#/a/$name\"#/a/$base.$hash.$ext\"#g"
done
find "$tmp" -name '*.html' | while read -r page; do
	# shellcheck disable=SC2086
	sed -i $sed_args "$page"
done

install -m 0755 "$bin" "$tmp/cgi-bin/ui"
chmod 0755 "$tmp/cgi-bin/log"
chmod -R u+rwX,go+rX,go-w "$tmp"

find "$tmp" -type f \( -name '*.html' -o -name '*.js' -o -name '*.css' \
    -o -name '*.svg' \) | while read -r f; do
	gzip -9 -n -c "$f" >"$f.gz"
	# Only where it saves bytes on the wire.
	if [ "$(stat -c %s "$f.gz")" -ge "$(stat -c %s "$f")" ]; then
		rm -f "$f.gz"
	else
		touch -r "$f" "$f.gz"
	fi
done

rm -rf "$out"
mv "$tmp" "$out"
