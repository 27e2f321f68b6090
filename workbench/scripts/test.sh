#!/usr/bin/env bash
# The Workbench's tests, in a real browser against a real server:
#   installs dependencies when node_modules is missing or stale (npm ci),
#   builds the SDK when its dist/ is missing, builds the Workbench and fails if
#   the committed dist/ differs from the fresh build (or is over the size
#   budget), installs Debian's Chromium if missing, starts
#   `cloudconn-server --dev` on a free port with a fresh data directory (it
#   serves the page it embedded from dist/ at /, next to the API: the
#   server binary must have been built after dist/; and a second one with
#   --providers real), runs the browser tests
#   (node --test, playwright-core), and stops everything.
# The server is ${CLOUDCONN_SERVER_BIN:-<repo>/target/debug/cloudconn-server}.
# Extra arguments go to `node --test` (e.g. --test-name-pattern=seed).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(cd .. && pwd)"
started=$SECONDS

# 1. Dependencies: the SDK's, then ours (npm ci when node_modules is missing or
#    was installed from another package-lock.json).
install() { # dir
  local stamp="$1/node_modules/.cloudconn-lock.sha256" want
  want="$(sha256sum "$1/package-lock.json" | cut -d' ' -f1)"
  if [ ! -d "$1/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== npm ci ($1)"
    (cd "$1" && npm ci --no-audit --no-fund)
    echo "$want" > "$stamp"
  fi
}
install "$repo/sdk/typescript"
if [ ! -f "$repo/sdk/typescript/dist/browser.js" ]; then
  echo "== building the SDK"
  (cd "$repo/sdk/typescript" && npx tsc -p tsconfig.json)
fi
install "$PWD"

# 2. Build, and check the committed dist/ is what this source makes.
echo "== build"
committed="$(mktemp -d)"
cp -a dist/. "$committed/" 2>/dev/null || true
npm run --silent build
if ! diff -r "$committed" dist >/dev/null; then
  echo "dist/ is stale: the fresh build differs from the committed one; commit workbench/dist/" >&2
  diff -rq "$committed" dist >&2 || true
  rm -rf "$committed"
  exit 1
fi
rm -rf "$committed"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ -n "$(git status --porcelain -- dist)" ]; then
  echo "== dist/ is current in the work tree but not committed: commit workbench/dist/ (CI checks the committed one)"
else
  echo "== dist/ is current"
fi

# 3. The browser.
if ! command -v chromium >/dev/null; then
  echo "== apt-get install chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# 4. The server (and the page it serves).
server="${CLOUDCONN_SERVER_BIN:-$repo/target/debug/cloudconn-server}"
if [ ! -x "$server" ]; then
  echo "no server binary at $server: build it (cargo build -p cloudconn-server) or set CLOUDCONN_SERVER_BIN" >&2
  exit 1
fi
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
data="$(mktemp -d)"
data_real="$(mktemp -d)"
pids=()
server_pid="" # set by dev_server_start even when the start then fails
cleanup() {
  status=$?
  for pid in "${pids[@]}" "$server_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ "$status" -ne 0 ]; then
    for d in "$data" "$data_real"; do
      [ -f "$d/server.log" ] || continue
      echo "== last lines of $d/server.log" >&2
      tail -n 15 "$d/server.log" >&2
    done
  fi
  rm -rf "$data" "$data_real"
  echo "== workbench tests took $((SECONDS - started)) s (exit $status)"
}
trap cleanup EXIT
# shellcheck source=deploy/dev-server.sh
source "$repo/deploy/dev-server.sh"
# The server serves the page itself (embedded dist/), at the API's origin.
# The workspace quota is raised to 2,000 for the scale test (creating is not
# rate-limited; saves and validations are, at 120 a minute, far above what
# the tests do).
port="$(free_port)"
echo "== starting $server --dev on 127.0.0.1:$port (it serves the page)"
CLOUDCONN_MAX_CONNECTIONS_PER_WORKSPACE=2000 dev_server_start "$server" "$data" "$port"
pids+=("$server_pid")
WB_API="$dev_address"
WB_TOKEN="$dev_token"
WB_PAGE="$dev_address"
WB_DATA="$data" # its HS256 key: the read-only test signs a token with it
# A second one reaching the real providers: with no AWS platform principal
# configured it has no AWS setup kit (SETUP_NOT_CONFIGURED), which the page
# must show as a notice. Nothing is validated against it.
port="$(free_port)"
echo "== starting $server --dev --providers real on 127.0.0.1:$port"
dev_server_start "$server" "$data_real" "$port" --providers real
pids+=("$server_pid")
WB_API_REAL="$dev_address"
WB_TOKEN_REAL="$dev_token"
export WB_API WB_TOKEN WB_PAGE WB_DATA WB_API_REAL WB_TOKEN_REAL

# 5. The tests.
[ -n "${WB_SCREENSHOTS:-}" ] && echo "== screenshots into $WB_SCREENSHOTS/"
echo "== node --test (Chromium $(chromium --version 2>/dev/null | awk '{print $2}'))"
node --test --test-reporter=spec --test-concurrency=1 "$@" test/*.test.mjs
