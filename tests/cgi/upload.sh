#!/bin/sh
# Reads the body to EOF and answers "LENGTH SHA256" (busybox or coreutils
# sha256sum); a shell script has to cope with large bodies too.
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
cat >"$tmp"
len=$(wc -c <"$tmp")
sum=$(sha256sum <"$tmp")
printf 'Content-Type: text/plain\r\n\r\n%s %s\n' "$((len))" "${sum%% *}"
