#!/bin/sh
# Install the Debian packages named on the command line that are not
# installed yet. Idempotent: when everything is present it runs no apt
# command at all, and it runs "apt-get update" at most once, only when
# something must be installed.
#
#   toolchain/deps.sh gcc-arm-linux-gnueabihf qemu-user-static ...
#
# Names may carry an architecture (pkg:armhf), but beware: installing
# linux-libc-dev:armhf can make apt remove libc6-dev:amd64 (index skew);
# the cross toolchain takes its kernel headers from the Architecture: all
# linux-libc-dev-<arch>-cross packages instead.
set -eu

[ $# -gt 0 ] || exit 0

installed() {
	# "install ok installed" only; half-installed or config-files don't
	# count. A name without :arch may match several architectures.
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null |
	    grep -qx 'install ok installed'
}

missing=
for p in "$@"; do
	installed "$p" || missing="$missing $p"
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps.sh: need root to install:$missing" >&2
		exit 1
	fi
else
	SUDO=
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps.sh: installing:$missing" >&2
log=$(mktemp)
# Packages such as nginx or lighttpd start their service on *:80 when
# installed; porch's tooling must never leave a server on a real address.
# A policy-rc.d that refuses every start, removed again if it was ours.
policy=/usr/sbin/policy-rc.d
ours_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	ours_policy=1
fi
trap 'rm -f "$log"; [ -z "$ours_policy" ] || $SUDO rm -f "$policy"' EXIT
# Quiet on success; print apt's output when it fails.
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -q update >"$log" 2>&1; then
	cat "$log" >&2
	echo "deps.sh: apt-get update failed" >&2
	exit 1
fi
# shellcheck disable=SC2086
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
    --no-install-recommends install $missing >"$log" 2>&1; then
	cat "$log" >&2
	echo "deps.sh: apt-get install failed:$missing" >&2
	exit 1
fi
for p in $missing; do
	if ! installed "$p"; then
		echo "deps.sh: $p still not installed" >&2
		exit 1
	fi
done
