#!/usr/bin/env bash
# The API against its own published contract: schemathesis (PyPI) reads GET /api/v1/openapi.json
# from a server with the demo data and sends generated requests (valid and invalid) to every
# operation, once anonymously and once with a bearer token for each role. It fails on any 5xx, any
# answer that breaks its own schema (status, content type, body), or a crash.
#
#   bash tests/api/schemathesis.sh [PATH-TO-LOCALOFFER-BINARY]    (default: target/debug/localoffer)
#
# Installs schemathesis into a virtualenv under target/ the first time. Bounded and repeatable:
# SCHEMATHESIS_EXAMPLES cases at most per operation and phase (default 10), a fixed seed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

bin="${1:-target/debug/localoffer}"
case "$bin" in
    /*) ;;
    *) bin="$repo/$bin" ;;
esac
venv="${SCHEMATHESIS_VENV:-$repo/target/schemathesis-venv}"
examples="${SCHEMATHESIS_EXAMPLES:-10}"
seed="${SCHEMATHESIS_SEED:-20261201}"

if [ ! -x "$venv/bin/st" ]; then
    echo "schemathesis.sh: installing schemathesis 4.32.5 into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
fi

# shellcheck source=../demo-server.sh
source "$repo/tests/demo-server.sh"
start_demo_server "$bin"

# The current RFC 6238 code (HMAC-SHA-1, 6 digits, 30 s) for a base32 secret.
totp_code() {
    python3 -c 'import base64, hashlib, hmac, struct, sys, time
h = hmac.new(base64.b32decode(sys.argv[1]), struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))' "$1"
}

# A bearer token for email $1, password $2 and, for officers and brokers, the TOTP secret $3
# (the demo's published ones, see README).
token() {
    local totp=""
    if [ -n "${3:-}" ]; then
        totp=",\"totp\":\"$(totp_code "$3")\""
    fi
    curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$2\"$totp}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

declare -A tokens=(
    [anonymous]=""
    [family]="$(token family4@demo.example demo-family-pass)"
    [broker]="$(token broker@demo.example demo-broker-pass MRSW23ZAMJZG623FOIQDEZTBEBVWK6JB)"
    [provider]="$(token manager@wandlevalleyshortbreaks.example demo-provider-pass)"
    [council]="$(token officer@merton.example demo-council-pass MRSW23ZAN5TGM2LDMVZCAMTGMEQGWZLZ)"
)

# Each role has its own token above. Left on, schemathesis would take `POST /council/users` (an
# admin's, needing a council token) for a sign-up form and try to register through it anonymously.
printf '[auth]\nauto-signup = false\n' >"$demo_tmp/schemathesis.toml"

failed=0
total_cases=0
for role in anonymous family broker provider council; do
    echo "==== schemathesis as $role"
    args=(run "$base/api/v1/openapi.json"
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
        --max-examples "$examples" --seed "$seed" --no-color --workers 1
        # Logging out would revoke the token every later case sends.
        --exclude-path /api/v1/auth/logout
        --report junit --report-junit-path "$demo_tmp/$role.xml")
    if [ -n "${tokens[$role]}" ]; then
        args+=(-H "Authorization: Bearer ${tokens[$role]}")
    fi
    set +e
    # From the scratch directory: schemathesis keeps its example database where it runs.
    (cd "$demo_tmp" && "$venv/bin/st" "${args[@]}") >"$demo_tmp/$role.log" 2>&1
    status=$?
    set -e
    sed -n '/==* SUMMARY/,$p' "$demo_tmp/$role.log"
    cases=$(grep -Eo '[0-9]+ generated' "$demo_tmp/$role.log" | grep -Eo '[0-9]+' | tail -1 || echo 0)
    total_cases=$((total_cases + ${cases:-0}))
    if [ "$status" -ne 0 ]; then
        echo "schemathesis found problems as $role:" >&2
        sed -n '/==* FAILURES/,/==* SUMMARY/p' "$demo_tmp/$role.log" | head -200 >&2
        failed=1
    fi
done
echo "schemathesis: $total_cases cases over 5 roles, $([ $failed -eq 0 ] && echo "no failures" || echo "FAILURES above")"
exit "$failed"
