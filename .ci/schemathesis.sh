#!/usr/bin/env bash
# Checks the API against its OpenAPI document with schemathesis, on a real `kartoteka serve`
# over a temporary SQLite file and over a fresh PostgreSQL database: an admin made with
# `kartoteka user add`, a token from POST /api/v1/auth/token, then a bounded run that fails
# on a server error or on an answer the document doesn't describe (status code, content
# type, body schema). `POST /plugins` (a WebAssembly upload) is left out: schemathesis can't
# make `application/wasm` bodies; the plugin tests cover it.
#
# Usage: .ci/schemathesis.sh [sqlite|postgres]...   (both when none is named)
# Environment:
#   SCHEMATHESIS_EXAMPLES   test cases per operation and phase (default 10)
#   SCHEMATHESIS_SEED       the generator's seed (default 1: the same cases each run)
#   SCHEMATHESIS            the schemathesis command (default: installed into a venv)
#   KARTOTEKA_TEST_POSTGRES_URL  a PostgreSQL server to create the database on
#                           (default postgres://postgres@127.0.0.1:5432/test)
#   CARGO_TARGET_DIR        where the debug `kartoteka` binary is built (default target)
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${SCHEMATHESIS_EXAMPLES:-10}"
pg_url="${KARTOTEKA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
backends=("$@")
[ ${#backends[@]} -eq 0 ] && backends=(sqlite postgres)

# The server: the dev profile, built as the CLI test builds it (`--workspace`: the same
# features as the test build, so after the tests nothing is compiled again; `-p` alone
# would unify features differently and rebuild the dependencies).
cargo build --workspace --bins
# Absolute: the runs below work in temporary directories.
bin="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/kartoteka"

# schemathesis, in a virtual environment of its own unless one is given.
st="${SCHEMATHESIS:-}"
if [ -z "$st" ]; then
  venv="${SCHEMATHESIS_VENV:-${TMPDIR:-/tmp}/kartoteka-schemathesis-4.32.5}"
  [ -x "$venv/bin/schemathesis" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q "schemathesis==4.32.5"; }
  st="$venv/bin/schemathesis"
fi
"$st" --version

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Runs the check against a server on database $2 (a name for messages in $1).
check() {
  local name="$1" database_url="$2" work port base server_pid token status=0
  work=$(mktemp -d "${TMPDIR:-/tmp}/kartoteka-st.XXXXXX")
  port=$(free_port)
  base="http://127.0.0.1:$port"
  export KARTOTEKA_DATABASE_URL="$database_url" KARTOTEKA_BIND="127.0.0.1:$port" RUST_LOG=warn
  echo "--- $name: serving on $base"
  (cd "$work" && exec "$bin" serve) >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do
    curl -sf "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; return 1; }
    sleep 0.5
  done
  echo 'schemathesis-pass-1' | (cd "$work" && "$bin" user add --email st-admin@example.com --role admin --password-stdin)
  token=$(curl -sf -X POST "$base/api/v1/auth/token" -H 'content-type: application/json' \
    -d '{"email": "st-admin@example.com", "password": "schemathesis-pass-1"}' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  # Something for the operations on one record to find: without it every `{id}` and
  # `{key}` schemathesis makes up is a 404, and the checks never get past the lookup.
  api() {
    curl -sS --fail-with-body -o "$work/setup.out" -X "$1" "$base/api/v1$2" -H "Authorization: Bearer $token" \
      -H 'content-type: application/json' ${3:+-d "$3"} || { echo "setup: $1 $2: $(cat "$work/setup.out")"; return 1; }
  }
  api POST /fields '{"key": "industry", "label": "Industry", "kind": "text"}'
  api POST /contacts '{"type": "client", "kind": "company", "name": "Acme"}'
  api POST /contacts '{"type": "client", "name": "Ada Lovelace", "city": "London", "company_id": 1, "fields": {"industry": "IT"}}'
  api POST /contacts '{"type": "lead", "name": "Łukasz Nowak", "city": "Kraków"}'
  api POST /activities '{"contact_id": 2, "kind": "note", "properties": {"text": "met"}}'
  api POST /segments '{"name": "Londoners", "kind": "dynamic", "filter": {"and": [{"field": "city", "op": "eq", "value": "London"}]}}'
  api POST /segments '{"name": "Newsletter", "kind": "static"}'
  cat >"$work/schemathesis.toml" <<'TOML'
[dictionaries.ids]
values = [1, 2, 3]
[dictionaries.keys]
values = ["industry", "client", "lead"]
[parameters]
"path.id" = { dictionary = "ids", probability = 0.7 }
"query.contact_id" = { dictionary = "ids", probability = 0.7 }
"path.key" = { dictionary = "keys", probability = 0.7 }
TOML
  # From the work directory: schemathesis keeps a cache where it runs. One worker: with two,
  # Hypothesis describing its strategies from two threads at once tripped CPython 3.11's
  # `ast` ("AST constructor recursion depth mismatch", a Python error, not an answer of ours).
  (cd "$work" && "$st" --config-file "$work/schemathesis.toml" run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$examples" --seed "${SCHEMATHESIS_SEED:-1}" --workers 1 --no-shrink \
    --suppress-health-check all --request-timeout 30 \
    --exclude-name 'POST /api/v1/plugins' \
    --report junit --report-dir "$work/report") \
    || status=$?
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  if grep -q -E 'ERROR|panicked' "$work/server.log"; then
    echo "--- $name: the server logged errors:"
    grep -E 'ERROR|panicked' "$work/server.log" | head -n 20
    status=1
  fi
  [ "$status" = 0 ] && rm -rf "$work" || echo "--- $name: failed; server log and report in $work"
  return "$status"
}

failed=0
for backend in "${backends[@]}"; do
  case "$backend" in
    sqlite)
      dir=$(mktemp -d "${TMPDIR:-/tmp}/kartoteka-st-db.XXXXXX")
      check sqlite "sqlite://$dir/kartoteka.db?mode=rwc" || failed=1
      rm -rf "$dir"
      ;;
    postgres)
      db="kartoteka_st_$$"
      PGOPTIONS=--client-min-messages=warning psql "$pg_url" -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
      check postgres "${pg_url%/*}/$db" || failed=1
      PGOPTIONS=--client-min-messages=warning psql "$pg_url" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
      ;;
    *) echo "unknown backend $backend (sqlite or postgres)"; exit 2 ;;
  esac
done
exit "$failed"
