#!/bin/sh
# make run: the admin UI as a device would serve it, on 127.0.0.1:PORT,
# in the foreground; ^C stops it.
#
#   rootfs/run-dev.sh PORCH [PORT] [WWW]
#
# Everything happens in a throw-away state directory laid out like the
# device's root (the UI's CGIs, built with -DUI_DEV, take the document
# root's parent as the system root and never act on this machine):
#
#   www/			the web root (make ui: build/host/www)
#   etc/porch/passwd		admin:$6$... (first boot: a unique password)
#   etc/porch/password-must-change	until the first login changed it
#   etc/hostname, etc/porch-release	the settings and the "firmware"
#   usr/sbin/fw-upgrade		rootfs/ui/dev/fw-upgrade: simulated flash
#   var/log/messages		the system log the log page shows
#   run/reboot			asked for by the simulated upgrade
#
# Like a device's first boot, it prints "admin password: <password>";
# the first login must change it. An upgrade's "reboot" stops porch and
# starts it again (sessions are forgotten, as on a device). The directory
# is removed on exit.
#
# RUN_DEV_OPTS: newline-separated porch directives given as -o options
# after the file (the browser tests shorten session_idle with it).
set -eu
porch=$1
port=${2:-8080}
top=$(cd "$(dirname "$0")/.." && pwd)
www=${3:-$top/build/host/www}
[ -f "$www/cgi-bin/ui" ] || {
	echo "run-dev.sh: $www has no UI (make ui)" >&2
	exit 1
}
command -v openssl >/dev/null || sh "$top/toolchain/deps.sh" openssl

state=$(mktemp -d /tmp/porch-run.XXXXXX)
pid=
stop() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || :
		wait "$pid" 2>/dev/null || :
	fi
	pid=
}
trap 'stop; rm -rf "$state"' EXIT
trap 'exit 0' INT TERM

chmod 0755 "$state"
mkdir -p "$state/etc/porch" "$state/var/log" "$state/tmp" "$state/run" \
    "$state/usr/sbin" "$state/lib/porch"
cp -R "$www" "$state/www"
rm -f "$state/www/.stamp"
cp "$top/rootfs/ui/dev/fw-upgrade" "$state/usr/sbin/fw-upgrade"
echo armhf >"$state/lib/porch/arch"
echo porch-dev >"$state/lib/porch/default-hostname"
cp "$state/lib/porch/default-hostname" "$state/etc/hostname"
version=$(git -C "$top" describe --tags --always --dirty 2>/dev/null || echo dev)
echo "$version" | tr -c 'A-Za-z0-9._+\n-' _ >"$state/etc/porch-release"
: >"$state/var/log/messages"
chmod 0700 "$state/etc/porch"

log() {
	printf '%s %s\n' "$(date '+%b %e %H:%M:%S')" "$*" >>"$state/var/log/messages"
}

# Workers and CGIs never run as root: as root, the state the CGIs change
# belongs to nobody, as the device's belongs to its porch user.
user_line=
if [ "$(id -u)" -eq 0 ]; then
	user_line="user nobody"
	owner="nobody:$(id -gn nobody)"
else
	owner=
fi

# The device's first boot: a unique initial password, only its hash kept.
first_boot() {
	[ -s "$state/etc/porch/passwd" ] && return 0
	pw=$(tr -dc abcdefghjkmnpqrstuvwxyz23456789 </dev/urandom | head -c 16 |
	    sed 's/\(....\)\(....\)\(....\)\(....\)/\1-\2-\3-\4/')
	hash=$(printf '%s\n' "$pw" | openssl passwd -6 -stdin)
	case $hash in
	'$6$'*) ;;
	*) echo "run-dev.sh: cannot hash the password" >&2; exit 1 ;;
	esac
	printf 'admin:%s\n' "$hash" >"$state/etc/porch/passwd"
	chmod 0600 "$state/etc/porch/passwd"
	: >"$state/etc/porch/password-must-change"
	log "firstboot: initial admin password generated"
	echo "admin password: $pw"
}

conf=$state/porch.conf
{
	echo "listen 127.0.0.1:$port"
	echo "root $state/www"
	echo "workers 2"
	echo "cgi /cgi-bin/"
	echo "access_log $state/var/log/access.log"
	echo "error_log stderr"
	[ -z "$user_line" ] || echo "$user_line"
	sed -e "s# /etc/porch/passwd# $state/etc/porch/passwd#" \
	    -e "s# /www/# $state/www/#" "$top/rootfs/ui/porch-ui.conf"
} >"$conf"

set --
if [ -n "${RUN_DEV_OPTS:-}" ]; then
	old_ifs=$IFS
	IFS='
'
	for o in $RUN_DEV_OPTS; do
		set -- "$@" -o "$o"
	done
	IFS=$old_ifs
fi

boot() {
	first_boot
	rm -f "$state/run/reboot"
	[ -z "$owner" ] || chown -R "$owner" "$state/etc" "$state/var" \
	    "$state/tmp" "$state/run"
	log "porch-run: starting porch"
	setsid "$porch" -c "$conf" "$@" &
	pid=$!
}

echo "porch: the admin UI on http://127.0.0.1:$port/ (state in $state; ^C stops)"
boot "$@"
while :; do
	if ! kill -0 "$pid" 2>/dev/null; then
		rc=0
		wait "$pid" || rc=$?
		pid=
		echo "run-dev.sh: porch exited (status $rc)" >&2
		exit 1
	fi
	if [ -e "$state/run/reboot" ]; then
		echo "run-dev.sh: simulated reboot after the upgrade to" \
		    "$(cat "$state/etc/porch-release") (no flash was written)"
		log "porch-run: simulated reboot"
		stop
		sleep 2
		boot "$@"
	fi
	sleep 0.5
done
