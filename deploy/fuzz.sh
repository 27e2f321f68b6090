#!/usr/bin/env bash
# Fuzzes every parser of outside input (docs/testing.md, "Fuzzing") with
# cargo-fuzz (libFuzzer), each target for a bounded time. Not part of the
# test command: it needs minutes per target and a second compiler profile.
#
#   deploy/fuzz.sh [--seconds N] [--save] [target ...]
#
#   --seconds N  time per target (default 60)
#   --save       merge the new interesting inputs into the committed corpus
#                (tests/fuzz/corpus/<target>), minimised
#   target       any of the targets in tests/fuzz/Cargo.toml (default: all)
#
# cargo-fuzz is installed from crates.io when missing. It wants a nightly
# compiler for its instrumentation flags: a nightly toolchain is used when
# rustup has one, otherwise the stable compiler with RUSTC_BOOTSTRAP=1 (the
# same flags, allowed on stable). No sanitizer (the code under test is safe
# Rust: what we look for are panics, overflows — debug assertions are on —
# hangs and runaway memory). A crash leaves its input in
# tests/fuzz/artifacts/<target>/ and makes the script exit 1; turn it into a
# regression test (docs/testing.md says how).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=60 save=0 targets=()
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --save) save=1; shift ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "fuzz.sh: --seconds must be a positive integer" >&2; exit 2; }

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz (once per machine)" >&2
  cargo install cargo-fuzz --locked
fi
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
dir=tests/fuzz
((${#targets[@]})) || mapfile -t targets < <("${fuzz[@]}" list --fuzz-dir "$dir")
common=(--fuzz-dir "$dir" --sanitizer none --debug-assertions --target-dir "$dir/target")

"${fuzz[@]}" build "${common[@]}"

failed=()
for t in "${targets[@]}"; do
  work=$dir/target/corpus/$t
  mkdir -p "$work" "$dir/corpus/$t" "$dir/artifacts/$t"
  echo "== $t: ${seconds}s" >&2
  # New inputs go to the first directory (scratch); the committed corpus
  # is read only, unless --save merges into it below.
  if ! "${fuzz[@]}" run "${common[@]}" "$t" "$work" "$dir/corpus/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
      -artifact_prefix="$dir/artifacts/$t/" -print_final_stats=1 2>"$dir/target/$t.log"; then
    failed+=("$t")
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' "$dir/target/$t.log" | sed "s/^/   /" >&2 || true
  if ((save)); then
    "${fuzz[@]}" run "${common[@]}" "$t" "$dir/corpus/$t" "$work" -- -merge=1 >/dev/null 2>&1 || true
  fi
done
if ((${#failed[@]})); then
  echo "fuzz.sh: crashes in: ${failed[*]} (inputs in $dir/artifacts/<target>/, logs in $dir/target/<target>.log)" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each, no crash" >&2
