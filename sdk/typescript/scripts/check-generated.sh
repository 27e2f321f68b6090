#!/usr/bin/env bash
# Fails if src/gen/ is not exactly what scripts/generate.sh makes from the
# protos today (a proto changed without `npm run generate`, or a generated
# file was edited by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bash scripts/generate.sh "$tmp/gen"
if ! diff -r "$tmp/gen" src/gen; then
  echo "src/gen is stale: run 'npm run generate' in sdk/typescript and commit the result" >&2
  exit 1
fi
echo "src/gen is up to date"
