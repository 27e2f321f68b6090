#!/usr/bin/env bash
# The benchmark: cloudconn's figures next to the raw rates of its own
# backends, measured in the same run (see docs/benchmarks.md).
#
#   deploy/bench.sh [--tiny] [--json FILE]
#
# Brings up the test stack (deploy/stack.sh), builds the server, the worker
# and the benchmark in release mode, runs it, and stops what it started.
# Figures go to stdout and to target/bench/results.json.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# shellcheck source=deploy/stack-session.sh
source deploy/stack-session.sh

cargo build --release --bin cloudconn-server --bin cloudconn-worker --bin cloudconn-bench
target/release/cloudconn-bench "$@"
