#!/usr/bin/env bash
# The SDK's tests, end to end against a real server:
#   installs dependencies when node_modules is missing or stale (npm ci),
#   checks src/gen is what the protos generate, builds with tsc (--strict),
#   starts `cloudconn-server --dev` on a free loopback port with a fresh data
#   directory, runs the tests (node --test) against it, and stops it.
# The server is ${CLOUDCONN_SERVER_BIN:-<repo>/target/debug/cloudconn-server}.
# Extra arguments go to `node --test` (e.g. --test-name-pattern=watch).
set -euo pipefail
cd "$(dirname "$0")/.."
sdk="$PWD"
repo="$(cd ../.. && pwd)"
started=$SECONDS

# 1. Dependencies: npm ci when node_modules is missing or was installed from
#    another package-lock.json.
stamp=node_modules/.cloudconn-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi

# 2. Generated code is current; 3. build (library, then tests against it).
echo "== check:generated"
bash scripts/check-generated.sh
echo "== SDK parity table (README.md)"
node "$repo/sdk/scripts/check-parity.mjs"
echo "== tsc"
npx tsc -p tsconfig.json
rm -rf .test-build
npx tsc -p tsconfig.test.json

# 4. The server.
server="${CLOUDCONN_SERVER_BIN:-$repo/target/debug/cloudconn-server}"
if [ ! -x "$server" ]; then
  echo "no server binary at $server: build it (cargo build -p cloudconn-server) or set CLOUDCONN_SERVER_BIN" >&2
  exit 1
fi
data="$(mktemp -d)"
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
server_pid=""
cleanup() {
  status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$data/server.log" ]; then
    echo "== last lines of the server's log" >&2
    tail -n 15 "$data/server.log" >&2
  fi
  rm -rf "$data"
  echo "== sdk/typescript tests took $((SECONDS - started)) s (exit $status)"
}
trap cleanup EXIT
echo "== starting $server --dev on 127.0.0.1:$port (server binary from $(date -r "$server" '+%F %T'))"
# shellcheck source=deploy/dev-server.sh
source "$repo/deploy/dev-server.sh"
CLOUDCONN_CORS_ORIGINS="http://localhost:5173" dev_server_start "$server" "$data" "$port"
CLOUDCONN_TEST_ADDRESS="$dev_address"
CLOUDCONN_TEST_TOKEN="$dev_token"
export CLOUDCONN_TEST_ADDRESS CLOUDCONN_TEST_TOKEN
export CLOUDCONN_TEST_CORS_ORIGIN="http://localhost:5173"

# 5. The tests.
echo "== node --test"
node --test --test-reporter=spec "$@" .test-build/*.test.js
