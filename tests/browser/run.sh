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
if [ ! -x "$bin" ]; then
    echo "run.sh: no localoffer binary at $bin (cargo build first, or pass its path)" >&2
    exit 2
fi

if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ]; then
    echo "run.sh: installing npm packages in tests/browser"
    (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/localoffer-browser.XXXXXX")"
mkdir -p "$tmp/data"
server_pid=""

cleanup() {
    local rc=$?
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ -s "$tmp/server.err" ]; then
        echo "---- last lines of the server's stderr" >&2
        tail -n 40 "$tmp/server.err" >&2
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$bin" serve --demo --bind 127.0.0.1:0 --data-dir "$tmp/data" >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!

base=""
for _ in $(seq 1 600); do
    line="$(head -n 1 "$tmp/server.out" 2>/dev/null || true)"
    if [[ "$line" =~ ^localoffer\ listening\ on\ (http://127\.0\.0\.1:[0-9]+)$ ]]; then
        base="${BASH_REMATCH[1]}"
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "run.sh: the server exited before it was listening" >&2
        cat "$tmp/server.out" >&2 || true
        exit 1
    fi
    sleep 0.1
done
if [ -z "$base" ]; then
    echo "run.sh: the server did not print 'localoffer listening on http://127.0.0.1:PORT' within 60 s" >&2
    exit 1
fi
echo "run.sh: server at $base (data in $tmp/data)"

set +e
node "$here/journeys.mjs" "$base"
status=$?
set -e
exit "$status"
