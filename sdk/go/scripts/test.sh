#!/usr/bin/env bash
# The Go SDK's tests, end to end against a real server:
#   installs Debian's Go toolchain and gRPC libraries when missing
#   (scripts/toolchain.sh), checks gen/ is what the protos generate, that the
#   code is gofmt'd and that the README's parity table holds, builds and vets
#   in GOPATH mode (offline), starts `cloudconn-server --dev` on a free
#   loopback port with a fresh data directory, runs `go test` (the shared
#   scenario and the Go-only cases) against it, and stops it.
# The server is ${CLOUDCONN_SERVER_BIN:-<repo>/target/debug/cloudconn-server}.
# Extra arguments go to the test binary (e.g. -test.run Watch).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=sdk/scripts/lib.sh
source ../scripts/lib.sh
sdk_test_begin sdk/go
# shellcheck source=sdk/go/scripts/toolchain.sh
source scripts/toolchain.sh
sdk_cleanup+=("$go_gopath")
echo "== $(go version); grpc $(sed -n 's/^const Version = "\(.*\)"/\1/p' /usr/share/gocode/src/google.golang.org/grpc/version.go)"

# 1. Generated code is current, hand-written code gofmt'd, the parity table true.
echo "== check generated"
bash scripts/generate.sh "$sdk_tmp/gen"
if ! diff -r "$sdk_tmp/gen" gen; then
  echo "sdk/go/gen is stale: run sdk/go/scripts/generate.sh and commit the result" >&2
  exit 1
fi
unformatted="$(gofmt -l ./*.go)"
if [ -n "$unformatted" ]; then
  echo "not gofmt'd: $unformatted" >&2
  exit 1
fi
echo "== SDK parity table (README.md)"
node "$repo/sdk/scripts/check-parity.mjs"

# 2. Build, vet and compile the tests (before the server starts).
echo "== go vet"
(cd "$go_pkgdir" && go vet ./... && go test -c -o "$sdk_tmp/sdk.test" .)

# 3. The server; 4. the tests (the binary runs in sdk/go: it reads ../scenario).
sdk_server_start
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
