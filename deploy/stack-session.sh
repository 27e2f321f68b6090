# Sourced by test.sh and bench.sh (from the repository root): brings the
# test stack up for this run and exports where it is. At exit it stops only
# what this run started: a stack someone (or another run) already had up
# stays up.
started=$(deploy/stack.sh up)
if [ -n "$started" ]; then
  # shellcheck disable=SC2086
  trap "deploy/stack.sh down $started" EXIT
fi
# shellcheck disable=SC1091
source deploy/.stack/env
