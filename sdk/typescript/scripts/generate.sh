#!/usr/bin/env bash
# Regenerates src/gen/ (or the directory given as $1) from ../../proto and
# proto-vendor/ with buf and protoc-gen-es from node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-src/gen}"
export PATH="$PWD/node_modules/.bin:$PATH"
if [ "$out" = src/gen ]; then
  buf generate
else
  # Same template, other output directory (used by check-generated.sh).
  buf generate --template "$(sed "s#out: src/gen#out: $out#" buf.gen.yaml)"
fi
