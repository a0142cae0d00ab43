#!/usr/bin/env bash
# The whole test suite (README's test command; .ci/run calls it). Sets up what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== formatting and lints (clippy warnings are errors; unwrap/expect/panic denied in library code)"
cargo fmt --all --check
cargo fmt --manifest-path fuzz/Cargo.toml --check
cargo clippy --workspace --all-targets -- -D warnings

echo "== build every target (benches and examples included)"
cargo build --workspace --all-targets

echo "== cargo test (workspace but the C API, default features: libtorch trainer, work function)"
cargo test --workspace --exclude pouw-ffi

echo "== capacity layer without libtorch, rayon on one thread"
RAYON_NUM_THREADS=1 cargo test -p pouw --no-default-features --lib --tests

if [ -f scripts/test-ffi.sh ]; then
  echo "== C and Go bindings"
  bash scripts/test-ffi.sh
fi

echo "== fuzz smoke run (a few seconds per target)"
(
  cd fuzz
  for target in $(cargo +nightly fuzz list); do
    cargo +nightly fuzz run "$target" -- -max_total_time="${POUW_FUZZ_SECONDS:-5}" -print_final_stats=0 >/tmp/pouw-fuzz-"$target".log 2>&1 ||
      { tail -n 40 /tmp/pouw-fuzz-"$target".log; echo "fuzz target $target failed" >&2; exit 1; }
    echo "fuzz $target: ok"
  done
)
echo "all tests passed"
