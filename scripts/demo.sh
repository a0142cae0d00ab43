#!/usr/bin/env bash
# The main demo (README): set-up, then mine and verify a block on the bundled digits.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-extras
cargo run --release --example mine
