#!/usr/bin/env bash
# Real-browser tests: starts `localoffer serve --demo` on a free port with a throwaway data dir,
# drives the pages with Chromium (tests/browser/journeys.mjs), stops the server.
#
#   bash tests/browser/run.sh [PATH-TO-LOCALOFFER-BINARY]    (default: target/debug/localoffer)
#
# Needs Debian's chromium (/usr/bin/chromium, or set CHROMIUM_PATH) and node/npm; installs the npm
# packages (playwright-core, axe-core: no browser download) into tests/browser/node_modules if missing.
# Exit code: the journeys' (0 = all passed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

bin="${1:-target/debug/localoffer}"
case "$bin" in
    /*) ;;
    *) bin="$repo/$bin" ;;
esac

if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ]; then
    echo "run.sh: installing npm packages in tests/browser"
    (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

# shellcheck source=../demo-server.sh
source "$repo/tests/demo-server.sh"
# The map's tiles come from a host the journeys answer themselves (journeys.mjs, TILE_HOST).
start_demo_server "$bin" --map-tiles 'http://tiles.localoffer.test/{z}/{x}/{y}.png' --map-attribution 'Test tiles'


set +e
OUTBOX="$demo_tmp/data/outbox" node "$here/journeys.mjs" "$base"
status=$?
set -e
exit "$status"
