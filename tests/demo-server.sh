# Sourced by the end-to-end runners (tests/browser/run.sh, tests/api/schemathesis.sh): starts
# `localoffer serve --demo` on a free port with a throwaway data directory and stops it on exit.
#
#   start_demo_server BINARY [SERVE-FLAGS...]     sets $base (http://127.0.0.1:PORT) and $server_pid
# shellcheck shell=bash

demo_tmp="$(mktemp -d "${TMPDIR:-/tmp}/localoffer-demo.XXXXXX")"
mkdir -p "$demo_tmp/data"
server_pid=""
base=""

stop_demo_server() {
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
    if [ "$rc" -ne 0 ] && [ -s "$demo_tmp/server.err" ]; then
        echo "---- last lines of the server's stderr" >&2
        tail -n 40 "$demo_tmp/server.err" >&2
    fi
    rm -rf "$demo_tmp"
    exit "$rc"
}
trap stop_demo_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_demo_server() {
    local bin="$1"
    shift
    if [ ! -x "$bin" ]; then
        echo "no localoffer binary at $bin (cargo build first, or pass its path)" >&2
        exit 2
    fi
    "$bin" serve --demo --bind 127.0.0.1:0 --data-dir "$demo_tmp/data" "$@" >"$demo_tmp/server.out" 2>"$demo_tmp/server.err" &
    server_pid=$!
    for _ in $(seq 1 600); do
        local line
        line="$(head -n 1 "$demo_tmp/server.out" 2>/dev/null || true)"
        if [[ "$line" =~ ^localoffer\ listening\ on\ (http://127\.0\.0\.1:[0-9]+)$ ]]; then
            base="${BASH_REMATCH[1]}"
            echo "demo server at $base (data in $demo_tmp/data)"
            return 0
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "the server exited before it was listening" >&2
            cat "$demo_tmp/server.out" >&2 || true
            exit 1
        fi
        sleep 0.1
    done
    echo "the server did not print 'localoffer listening on http://127.0.0.1:PORT' within 60 s" >&2
    exit 1
}
