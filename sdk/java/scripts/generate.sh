#!/usr/bin/env bash
# Regenerates src/generated/java (or the directory given as $1) from
# ../../proto with protoc and the gRPC Java plugin. Never edit it by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-src/generated/java}"
command -v grpc_java_plugin >/dev/null && command -v protoc >/dev/null || source scripts/toolchain.sh
proto="$(cd ../../proto && pwd)"
rm -rf "$out"
mkdir -p "$out"
protoc -I "$proto" -I /usr/include \
  --java_out="$out" \
  --plugin=protoc-gen-grpc-java="$(command -v grpc_java_plugin)" --grpc-java_out="$out" \
  "$proto"/cloudconn/v1/*.proto
