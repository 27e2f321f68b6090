#!/usr/bin/env bash
# The Go SDK's tests, end to end against a real server, in module mode as
# its users build it:
#   fetches the modules go.mod and go.sum name through the Go module proxy
#   and the pinned protoc plugins when missing (scripts/toolchain.sh), checks
#   gen/ is what the protos generate, that go.mod and go.sum are tidy, that
#   the code is gofmt'd and that docs/sdks.md's parity table holds, vets,
#   compiles the tests with -race, starts `cloudconn-server --dev` on a free
#   loopback port with a fresh data directory, runs them (the shared
#   scenario, the Go-only cases, and a user's program in a module of its own
#   outside the repository) against it, and stops it.
# The server is ${CLOUDCONN_SERVER_BIN:-<repo>/target/debug/cloudconn-server}.
# Extra arguments go to the test binary (e.g. -test.run Watch).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=sdk/scripts/lib.sh
source ../scripts/lib.sh
sdk_test_begin sdk/go
# shellcheck source=sdk/go/scripts/toolchain.sh
source scripts/toolchain.sh
echo "== $(go version); $(go list -m -f '{{.Path}}@{{.Version}}' google.golang.org/grpc google.golang.org/protobuf | paste -sd ' ')"

# 1. Generated code is current, go.mod and go.sum tidy, hand-written code
#    gofmt'd, the parity table true.
echo "== check generated"
bash scripts/generate.sh "$sdk_tmp/gen"
if ! diff -r "$sdk_tmp/gen" gen; then
  echo "sdk/go/gen is stale: run sdk/go/scripts/generate.sh and commit the result" >&2
  exit 1
fi
echo "== go mod tidy -diff"
if ! go mod tidy -diff; then
  echo "sdk/go/go.mod or go.sum is not tidy: run \`go mod tidy\` in sdk/go and commit the result" >&2
  exit 1
fi
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "not gofmt'd: $unformatted" >&2
  exit 1
fi
echo "== SDK parity table (docs/sdks.md)"
node "$repo/sdk/scripts/check-parity.mjs"

# 2. Build, vet and compile the tests (before the server starts).
echo "== go vet; go test -c -race"
# -race needs cgo, so a C compiler (Go turns cgo off when there is none).
[ "$(go env CGO_ENABLED)" = 1 ] || apt_ensure gcc
go vet ./...
go test -c -race -o "$sdk_tmp/sdk.test" .

# 3. The server; 4. the tests (the binary runs in sdk/go: it reads ../scenario).
sdk_server_start
sdk_moto_start
echo "== go test"
status=0
"$sdk_tmp/sdk.test" -test.v "$@" >"$sdk_tmp/test.out" 2>&1 || status=$?
# One line a test (skips with their reasons); -v output in full on failure.
if [ "$status" -ne 0 ]; then cat "$sdk_tmp/test.out"; else grep -E -- '^ *--- (PASS|SKIP)|SKIPPED:' "$sdk_tmp/test.out" || true; fi
# Passes of leaf tests only: a parent passes when its subtests pass or skip.
pass=0
for name in $(grep -oE -- '--- PASS: \S+' "$sdk_tmp/test.out" | cut -d' ' -f3); do
  grep -q -- "--- [A-Z]*: $name/" "$sdk_tmp/test.out" || pass=$((pass + 1))
done
skip=$(grep -c -- '--- SKIP' "$sdk_tmp/test.out" || true)
fail=$(grep -c -- '--- FAIL' "$sdk_tmp/test.out" || true)
echo "== go tests: $pass passed, $skip skipped, $fail failed"
exit "$status"
