#!/usr/bin/env bash
# The Go SDK's tests, end to end against a real server:
#   installs Debian's Go toolchain and gRPC libraries when missing
#   (scripts/toolchain.sh), checks gen/ is what the protos generate and that
#   the code is gofmt'd, builds and vets in GOPATH mode (offline), starts
#   `cloudconn-server --dev` on a free loopback port with a fresh data
#   directory, runs `go test` (the shared scenario and the Go-only cases)
#   against it, and stops it.
# The server is ${CLOUDCONN_SERVER_BIN:-<repo>/target/debug/cloudconn-server}.
# Extra arguments go to `go test` (e.g. -run Watch).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(cd ../.. && pwd)"
started=$SECONDS
# shellcheck source=sdk/go/scripts/toolchain.sh
source scripts/toolchain.sh
data="$(mktemp -d)"
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
  rm -rf "$data" "$go_gopath"
  echo "== sdk/go tests took $((SECONDS - started)) s (exit $status)"
}
trap cleanup EXIT
echo "== $(go version); grpc $(sed -n 's/^const Version = "\(.*\)"/\1/p' /usr/share/gocode/src/google.golang.org/grpc/version.go)"

# 1. Generated code is current, hand-written code gofmt'd.
echo "== check generated"
bash scripts/generate.sh "$data/gen"
if ! diff -r "$data/gen" gen; then
  echo "sdk/go/gen is stale: run sdk/go/scripts/generate.sh and commit the result" >&2
  exit 1
fi
unformatted="$(gofmt -l $(ls ./*.go))"
if [ -n "$unformatted" ]; then
  echo "not gofmt'd: $unformatted" >&2
  exit 1
fi

echo "== SDK parity table (README.md)"
node "$repo/sdk/scripts/check-parity.mjs"

# 2. Build, vet and compile the tests (before the server starts).
echo "== go vet"
(cd "$go_pkgdir" && go vet ./... && go test -c -o "$data/sdk.test" .)

# 3. The server.
server="${CLOUDCONN_SERVER_BIN:-$repo/target/debug/cloudconn-server}"
if [ ! -x "$server" ]; then
  echo "no server binary at $server: build it (cargo build -p cloudconn-server) or set CLOUDCONN_SERVER_BIN" >&2
  exit 1
fi
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
echo "== starting $server --dev on 127.0.0.1:$port"
# shellcheck source=deploy/dev-server.sh
source "$repo/deploy/dev-server.sh"
dev_server_start "$server" "$data" "$port"
export CLOUDCONN_TEST_ADDRESS="$dev_address" CLOUDCONN_TEST_TOKEN="$dev_token"

# 4. The tests (the binary runs in the package directory: it reads ../scenario).
echo "== go test"
status=0
"$data/sdk.test" -test.v "$@" >"$data/test.out" 2>&1 || status=$?
# One line a test (skips with their reasons); -v output in full on failure.
if [ "$status" -ne 0 ]; then cat "$data/test.out"; else grep -E -- '^ *--- (PASS|SKIP)|SKIPPED:' "$data/test.out" || true; fi
# Passes of leaf tests only: a parent passes when its subtests pass or skip.
pass=0
for name in $(grep -oE -- '--- PASS: \S+' "$data/test.out" | cut -d' ' -f3); do
  grep -q -- "--- [A-Z]*: $name/" "$data/test.out" || pass=$((pass + 1))
done
skip=$(grep -c -- '--- SKIP' "$data/test.out" || true)
fail=$(grep -c -- '--- FAIL' "$data/test.out" || true)
echo "== go tests: $pass passed, $skip skipped, $fail failed"
exit "$status"
