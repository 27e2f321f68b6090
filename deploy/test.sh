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

# Stop, at the end, only what this run started: a stack someone (or another
# run) already had up stays up.
started=$(deploy/stack.sh up)
if [ -n "$started" ]; then
  # shellcheck disable=SC2086
  trap "deploy/stack.sh down $started" EXIT
fi
# shellcheck disable=SC1091
source deploy/.stack/env

echo "== buf lint (proto/)"
npx --yes @bufbuild/buf@1 lint proto

echo "== deploy/ manifests"
deploy/validate.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

# Databases left by an earlier run that was killed mid-test.
if command -v psql >/dev/null; then
  psql "$CLOUDCONN_TEST_DATABASE_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'cc\_test\_%'" 2>/dev/null |
    while read -r db; do psql "$CLOUDCONN_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || true; done
fi

echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
