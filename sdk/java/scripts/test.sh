#!/usr/bin/env bash
# The Java SDK's tests, end to end against a real server:
#   installs Debian's JDK (when javac is missing), protoc, the gRPC Java
#   plugin and jars when missing (scripts/toolchain.sh), checks
#   src/generated/java is what the protos generate and that the README's
#   parity table holds, compiles with javac (scripts/build.sh), starts
#   `cloudconn-server --dev` on a free loopback port with a fresh data
#   directory, runs the tests (the shared scenario and the Java-only cases,
#   TestMain) against it, and stops it.
# The server is ${CLOUDCONN_SERVER_BIN:-<repo>/target/debug/cloudconn-server}.
# Extra arguments filter test names by substring (e.g. watch).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=sdk/scripts/lib.sh
source ../scripts/lib.sh
sdk_test_begin sdk/java
# shellcheck source=sdk/java/scripts/toolchain.sh
source scripts/toolchain.sh
echo "== $(javac -version 2>&1); grpc-java $(dpkg-query -W -f '${Version}' libgrpc-java); protobuf-java $(dpkg-query -W -f '${Version}' libprotobuf-java)"

# 1. Generated code is current, the parity table true.
echo "== check generated"
bash scripts/generate.sh "$sdk_tmp/gen"
if ! diff -r "$sdk_tmp/gen" src/generated/java; then
  echo "sdk/java/src/generated/java is stale: run sdk/java/scripts/generate.sh and commit the result" >&2
  exit 1
fi
echo "== SDK parity table (README.md)"
node "$repo/sdk/scripts/check-parity.mjs"

# 2. Build (before the server starts).
echo "== javac"
bash scripts/build.sh build

# 3. The server; 4. the tests (in sdk/java: they read ../scenario).
sdk_server_start
echo "== java dev.cloudconn.sdk.TestMain"
java -cp "$classpath:build/gen-classes:build/classes:build/test-classes" dev.cloudconn.sdk.TestMain "$@"
