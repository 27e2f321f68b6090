#!/usr/bin/env bash
# Regenerates gen/ (or the directory given as $1) from ../../proto with buf
# (pinned; fetched by npx) and the pinned protoc-gen-go and
# protoc-gen-go-grpc (scripts/toolchain.sh installs them when missing), as
# buf.gen.yaml says. Never edit gen/.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-gen}"
# shellcheck source=sdk/go/scripts/toolchain.sh
source scripts/toolchain.sh
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"${go_buf[@]}" generate --output "$tmp"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$tmp/gen" "$out"
