#!/usr/bin/env bash
# Regenerates gen/ (or the directory given as $1) from ../../proto with
# protoc, protoc-gen-go and protoc-gen-go-grpc. Never edit gen/ by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-gen}"
command -v protoc-gen-go-grpc >/dev/null && command -v protoc >/dev/null || source scripts/toolchain.sh
proto="$(cd ../../proto && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp" "${go_gopath:-}"' EXIT
# module= strips the import path prefix, so files land at cloudconn/v1/.
protoc -I "$proto" -I /usr/include \
  --go_out="$tmp" --go_opt=module=github.com/cloudconn/cloudconn/sdk/go/gen \
  --go-grpc_out="$tmp" --go-grpc_opt=module=github.com/cloudconn/cloudconn/sdk/go/gen \
  "$proto"/cloudconn/v1/*.proto
rm -rf "$out"
mkdir -p "$out"
cp -r "$tmp"/. "$out"/
