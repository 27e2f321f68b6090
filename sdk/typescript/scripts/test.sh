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
# shellcheck source=sdk/scripts/lib.sh
source ../scripts/lib.sh
sdk_test_begin sdk/typescript

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
echo "== SDK parity table (docs/sdks.md)"
node "$repo/sdk/scripts/check-parity.mjs"
echo "== tsc"
npx tsc -p tsconfig.json
rm -rf .test-build
npx tsc -p tsconfig.test.json

# 4. The server.
CLOUDCONN_CORS_ORIGINS="http://localhost:5173" sdk_server_start
sdk_moto_start
export CLOUDCONN_TEST_CORS_ORIGIN="http://localhost:5173"

# 5. The tests. The AWS SDK's notice that its 2027 releases need Node 22
# would be printed by every run (README, Dependencies).
echo "== node --test"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
node --test --test-reporter=spec "$@" .test-build/*.test.js
