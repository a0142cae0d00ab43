#!/usr/bin/env bash
# The whole test suite (README's test command; .ci/run calls it). Sets up what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== formatting and lints (clippy warnings are errors; unwrap/expect/panic denied in library code)"
cargo fmt --all --check
cargo fmt --manifest-path fuzz/Cargo.toml --check
cargo clippy --workspace --all-targets -- -D warnings

echo "== a verifying node's build (the C library) pulls in no image codec (demo-only: feature images)"
if cargo tree -p pouw-ffi -e normal --prefix none | grep -E '^(image|png|zune-jpeg|jpeg-decoder) '; then
  echo "pouw-ffi depends on an image codec" >&2
  exit 1
fi

echo "== build every target (benches and examples included)"
cargo build --workspace --all-targets

echo "== two loopback IPFS nodes for the IPFS tests (B connected to A; stopped on exit)"
trap 'bash scripts/ipfs-node.sh stop >/dev/null 2>&1 || true' EXIT
eval "$(bash scripts/ipfs-node.sh start-pair)"
echo "POUW_IPFS_A=$POUW_IPFS_A POUW_IPFS_B=$POUW_IPFS_B"

echo "== cargo test (workspace but the C API, default features: libtorch trainer, work function)"
cargo test --workspace --exclude pouw-ffi

echo "== capacity layer without libtorch, rayon on one thread"
RAYON_NUM_THREADS=1 cargo test -p pouw --no-default-features --lib --tests

echo "== libtorch failures injected (feature fault-injection); the CUDA checks compile (feature cuda; without a device they are reported ignored)"
cargo test -p pouw --features fault-injection,cuda --test faults --test cuda

echo "== the C library a node runs carries no fault injection (feature fault-injection off)"
if cargo tree -p pouw-ffi -e features -i pouw --prefix none | grep -q 'pouw feature "fault-injection"'; then
  echo "pouw-ffi builds pouw with fault injection" >&2
  exit 1
fi

echo "== the seed's scale: a 2-step block on the bundled LFW faces, 64x64 RGB, default model"
cargo run --example faces -- --steps 2

echo "== a short chain on the digits (examples/chain): 3 blocks by 2 miners, then resumed to 4"
rm -rf out/chain-ci
cargo run --example chain -- --data digits --blocks 3 --miners 2 --expected-steps 8 --out out/chain-ci
cargo run --example chain -- --data digits --blocks 4 --miners 2 --expected-steps 8 --out out/chain-ci | tee out/chain-ci/resumed.txt
grep -q "^resuming at height 3" out/chain-ci/resumed.txt
test "$(grep -cE '^ +[0-9]+ +m[0-9]+ ' out/chain-ci/resumed.txt)" = 3
test -s out/chain-ci/quality-by-block.png
rm -rf out/chain-ci

if [ -f scripts/test-ffi.sh ]; then
  echo "== C and Go bindings"
  bash scripts/test-ffi.sh
fi

echo "== fuzz smoke run (every target from its seeds, a few seconds each)"
bash scripts/fuzz.sh "${POUW_FUZZ_SECONDS:-5}" --fresh
echo "all tests passed"
