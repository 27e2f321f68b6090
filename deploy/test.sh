#!/usr/bin/env bash
# The whole test suite against the real stack: the one command CI runs.
#
#   deploy/test.sh [extra cargo-nextest arguments]
#
# Brings up PostgreSQL, RabbitMQ and OpenBao (deploy/stack.sh), lints the
# proto with buf, checks formatting, runs every test, and stops what it
# started.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# shellcheck source=deploy/stack-session.sh
source deploy/stack-session.sh

echo "== buf lint (proto/)"
npx --yes @bufbuild/buf@1 lint proto

echo "== deploy/ manifests"
deploy/validate.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

# Databases left by an earlier run that was killed mid-test.
if command -v psql >/dev/null; then
  psql "$CLOUDCONN_TEST_DATABASE_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'cc\_test\_%' OR datname ~ '^bench[0-9a-f]{8}$'" 2>/dev/null |
    while read -r db; do psql "$CLOUDCONN_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || true; done ||
    true
fi

echo "== tests"
# Every binary first, with the workspace's features (so nothing is built
# twice): the CLI's tests (tests/tests/e2e/cli.rs) run the built `cloudconn`
# (a test cannot name another package's binary), and the example session,
# the SDK tests and the benchmark run the server.
cargo build --workspace --bins
# The runner is cargo-nextest (a process per test: one test's panic or
# leaked task cannot disturb another's), built once per machine (without
# its self-update, which cannot work here and costs compile time).
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "== cargo install cargo-nextest (once per machine)"
  nextest_started=$SECONDS
  cargo install --locked --quiet cargo-nextest --version "^0.9" --no-default-features --features default-no-update
  echo "== cargo-nextest installed in $((SECONDS - nextest_started)) s"
fi
cargo nextest run --workspace --no-fail-fast "$@"

# The documented example session (docs/example-session.md), as written,
# against --dev with grpcurl.
echo "== example session (docs/example-session.md)"
deploy/example-session.sh

# The TypeScript SDK against a --dev server, over gRPC, gRPC-Web and its
# browser build (npm ci only when node_modules is missing or stale).
echo "== TypeScript SDK (sdk/typescript)"
sdk/typescript/scripts/test.sh

# The Go and Java SDKs against a --dev server, each running the same
# scenario (sdk/scenario/scenario.json) as the TypeScript SDK, built as
# their users build them: Go modules (go.mod, go.sum) and Maven (pom.xml),
# with gRPC and protobuf from the module proxy and Maven Central.
echo "== Go SDK (sdk/go)"
sdk/go/scripts/test.sh
echo "== Java SDK (sdk/java)"
sdk/java/scripts/test.sh

# The Workbench in Debian's Chromium (installed if missing), served by the
# server binary built above from the committed workbench/dist, which must
# match a fresh build.
echo "== Workbench (workbench/, Chromium)"
workbench/scripts/test.sh

# The benchmark is not a pass/fail test; one tiny run (debug build, seconds)
# proves the harness still works end to end. Figures: deploy/bench.sh.
echo "== benchmark harness (tiny)"
target/debug/cloudconn-bench --tiny --json target/bench/tiny.json
