#!/bin/sh
# make run: serve the bundled admin UI (rootfs/www) on 127.0.0.1:PORT with
# a throw-away state directory, in the foreground; ^C stops it.
set -eu
porch=$1
port=${2:-8080}
top=$(cd "$(dirname "$0")/.." && pwd)
state=$(mktemp -d /tmp/porch-run.XXXXXX)
trap 'rm -rf "$state"' EXIT INT TERM
conf=$state/porch.conf
{
	echo "listen 127.0.0.1:$port"
	echo "root $top/rootfs/www"
	echo "workers 2"
	echo "access_log $state/access.log"
	echo "error_log stderr"
	if [ "$(id -u)" -eq 0 ]; then
		# Workers never run as root: the UI is world-readable.
		echo "user nobody"
	fi
} >"$conf"
echo "porch: serving $top/rootfs/www on http://127.0.0.1:$port/ (state in $state; ^C stops)"
"$porch" -c "$conf"
