#!/usr/bin/env bash
# Peak memory of mining a block of STEPS steps (default 256) of the default model on SIZE x SIZE
# RGB images (default 32) with default mining options: the issue's bound is five checkpoints
# plus 512 MiB, whatever the block's length. Not in CI (minutes of training). Prints the
# example's two lines.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
cargo build --release --example mine_memory >/dev/null 2>&1 || cargo build --release --example mine_memory
target/release/examples/mine_memory "${1:-256}" "${2:-32}" 2>/dev/null
