#!/usr/bin/env bash
# The soak: a mixed load with injected faults for a bounded time, then a
# check that nothing was lost, stuck or activated twice and that memory and
# file descriptors stayed flat (see docs/benchmarks.md, "Soak").
#
#   deploy/soak.sh [--minutes N]      (default 30, at most 720)
#
# Loopback only. Brings up the test stack (deploy/stack.sh), builds the
# server, the worker and the soak driver in release mode (--debug: debug
# builds, for a quick try), runs it, and stops what it started. The faults
# touch only this run's processes: RabbitMQ and Vault are reached through
# proxies the driver cuts or freezes, and only its own database's
# connections are terminated, so other users of the stack go on unharmed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

profile=release
args=()
for a in "$@"; do
  case $a in
    --debug) profile=debug ;;
    *) args+=("$a") ;;
  esac
done

# shellcheck source=deploy/stack-session.sh
source deploy/stack-session.sh

flag=()
[[ $profile == release ]] && flag=(--release)
cargo build "${flag[@]}" --bin cloudconn-server --bin cloudconn-worker --bin cloudconn-soak
"target/$profile/cloudconn-soak" "${args[@]}"
