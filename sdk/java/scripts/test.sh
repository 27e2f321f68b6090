#!/usr/bin/env bash
# The Java SDK's tests, end to end against a real server:
#   installs Debian's JDK (when javac is missing), protoc, the gRPC Java
#   plugin and jars when missing (scripts/toolchain.sh), checks
#   src/generated/java is what the protos generate, compiles with javac
#   (scripts/build.sh), starts `cloudconn-server --dev` on a free loopback
#   port with a fresh data directory, runs the tests (the shared scenario and
#   the Java-only cases, TestMain) against it, and stops it.
# The server is ${CLOUDCONN_SERVER_BIN:-<repo>/target/debug/cloudconn-server}.
# Extra arguments filter test names by substring (e.g. watch).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(cd ../.. && pwd)"
started=$SECONDS
# shellcheck source=sdk/java/scripts/toolchain.sh
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
  rm -rf "$data"
  echo "== sdk/java tests took $((SECONDS - started)) s (exit $status)"
}
trap cleanup EXIT
echo "== $(javac -version 2>&1); grpc-java $(dpkg-query -W -f '${Version}' libgrpc-java); protobuf-java $(dpkg-query -W -f '${Version}' libprotobuf-java)"

# 1. Generated code is current.
echo "== check generated"
bash scripts/generate.sh "$data/gen"
if ! diff -r "$data/gen" src/generated/java; then
  echo "sdk/java/src/generated/java is stale: run sdk/java/scripts/generate.sh and commit the result" >&2
  exit 1
fi

echo "== SDK parity table (README.md)"
node "$repo/sdk/scripts/check-parity.mjs"

# 2. Build (before the server starts).
echo "== javac"
bash scripts/build.sh build

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

# 4. The tests (in sdk/java: they read ../scenario).
echo "== java dev.cloudconn.sdk.TestMain"
java -cp "$classpath:build/gen-classes:build/classes:build/test-classes" dev.cloudconn.sdk.TestMain "$@"
