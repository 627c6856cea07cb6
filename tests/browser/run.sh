#!/bin/sh
# The admin UI's browser and curl tests (make ui-test): Playwright
# (playwright-core from npm, kept outside the repository in
# ~/.cache/porch/npm) driving Debian's chromium, headless, against make
# run's configuration (rootfs/run-dev.sh). Screenshots of every page go
# to build/ui-screenshots/. The last line is "N passed, N failed".
#
#   tests/browser/run.sh PORCH [TEST-NAME-SUBSTRING...]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
porch=$1
shift
# 1.61 is the last that runs on Node 18 (Debian 12's nodejs).
PW_VERSION=1.61.1
cache=${PORCH_CACHE:-$HOME/.cache/porch}/npm
pw=$cache/playwright-core-$PW_VERSION

deps="chromium curl openssl fonts-dejavu-core"
# A newer Node (e.g. from another repository) is kept as it is.
command -v node >/dev/null || deps="$deps nodejs"
command -v npm >/dev/null || deps="$deps npm"
# shellcheck disable=SC2086
sh "$top/toolchain/deps.sh" $deps
if [ ! -f "$pw/.stamp" ]; then
	mkdir -p "$cache"
	# One installer at a time per cache (two checkouts, CI beside a
	# developer); the registry's package, no browser download.
	flock "$cache/.lock" sh -c '
		[ -f "$1/.stamp" ] && exit 0
		rm -rf "$1.tmp"
		npm install --silent --no-audit --no-fund --prefix "$1.tmp" \
		    "playwright-core@$2" >/dev/null
		rm -rf "$1"
		mv "$1.tmp" "$1"
		touch "$1/.stamp"' sh "$pw" "$PW_VERSION"
fi
export PLAYWRIGHT_CORE="$pw/node_modules/playwright-core"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export UI_TOP="$top"
export UI_PORCH="$porch"
export UI_WWW="$top/build/host/www"
export UI_OUT="$top/build/ui-screenshots"
mkdir -p "$UI_OUT"
exec node "$top/tests/browser/ui.test.mjs" "$@"
