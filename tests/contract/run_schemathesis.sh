#!/usr/bin/env bash
# Contract test: fuzz a live Orion API with schemathesis against its own schema.
#
# Migrates a throwaway SQLite database, creates a user with every
# notifications permission, a token, a Feishu channel and a template, starts
# the development server on a free port, and runs every schemathesis check.
# Exits non-zero if any check fails; always stops the server and removes the
# database.
#
#   tests/contract/run_schemathesis.sh                # about two minutes
#   MAX_EXAMPLES=60 SEED=7 tests/contract/run_schemathesis.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PYTHON="$ROOT/.venv/bin/python"
SCHEMATHESIS="$ROOT/.venv/bin/schemathesis"
MAX_EXAMPLES="${MAX_EXAMPLES:-25}"
WORKDIR="$(mktemp -d /tmp/orion-contract-$$.XXXXXX)"
DATABASE="/tmp/orion-contract-$$.db"

export DJANGO_SETTINGS_MODULE=orion.settings
export ORION_DATABASE_URL="sqlite:///$DATABASE"
export ORION_DEBUG=false
export ORION_SECRET_KEY="contract-test-only-$(printf 'k%.0s' {1..48})"
export ORION_ALLOW_PRIVATE_DESTINATIONS=true
export ORION_BROKER=orm
# The fuzzer sends far more requests than a client would: throttling it would
# only hide endpoints behind 429s.
export ORION_API_THROTTLE_RATE="1000000/min"
export ORION_LOG_LEVEL=WARNING

SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -f "$DATABASE" "$DATABASE-wal" "$DATABASE-shm"
    rm -rf "$WORKDIR"
}
trap cleanup EXIT

echo "== Preparing a throwaway database at $DATABASE"
"$PYTHON" manage.py migrate --noinput >"$WORKDIR/migrate.log"
"$PYTHON" manage.py shell --verbosity 0 -c '
from django.contrib.auth.models import Permission, User
from notifications.models import Channel, Template

user = User.objects.create_user("contract", password=None)
user.user_permissions.set(
    Permission.objects.filter(content_type__app_label="notifications")
)
# Port 9 (discard) on loopback: nothing listens, so a test send fails fast.
channel = Channel(
    slug="contract-feishu",
    name="Contract Feishu",
    kind="feishu",
    secrets={"webhook_url": "http://127.0.0.1:9/open-apis/bot/v2/hook/contract"},
)
channel.full_clean()
channel.save()
Template.objects.create(
    slug="contract-template",
    subject="{{ service }} is down",
    body="{{ service }} failed at {{ at }}.",
)
'
TOKEN="$("$PYTHON" manage.py create_token contract --name contract)"

PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
echo "== Starting the server on $BASE"
"$PYTHON" manage.py runserver "127.0.0.1:$PORT" --noreload >"$WORKDIR/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 100); do
    if "$PYTHON" -c "import urllib.request; urllib.request.urlopen('$BASE/healthz', timeout=1)" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "The server exited:" >&2
        cat "$WORKDIR/server.log" >&2
        exit 1
    fi
    sleep 0.2
done

echo "== Running schemathesis (max $MAX_EXAMPLES examples per operation)"
status=0
"$SCHEMATHESIS" --config-file "$ROOT/tests/contract/schemathesis.toml" run \
    "$BASE/api/schema/" \
    --header "Authorization: Bearer $TOKEN" \
    --checks all \
    --max-examples "$MAX_EXAMPLES" \
    --seed "${SEED:-1}" \
    --generation-database none \
    --no-color \
    || status=$?

if grep -q "Internal Server Error" "$WORKDIR/server.log"; then
    echo "The server logged internal errors:" >&2
    grep -A 30 "Internal Server Error" "$WORKDIR/server.log" | head -120 >&2
    status=1
fi
exit "$status"
