#!/usr/bin/env bash
# The main demo (README): set-up, then mine and verify a block on the bundled digits.
#   bash scripts/demo.sh          # checkpoints in a local directory
#   bash scripts/demo.sh --ipfs   # two loopback IPFS nodes: the dataset and checkpoints on one,
#                                 # the verifier reading from the other (bitswap)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  "") bash scripts/setup.sh --no-extras
      cargo run --release --example mine ;;
  --ipfs)
      bash scripts/setup.sh --no-extras --ipfs
      trap 'bash scripts/ipfs-node.sh stop >/dev/null 2>&1 || true' EXIT
      eval "$(bash scripts/ipfs-node.sh start-pair)"
      cargo run --release --example mine -- --ipfs "$POUW_IPFS_A" --verify-from "$POUW_IPFS_B" ;;
  *) echo "usage: $0 [--ipfs]" >&2; exit 2 ;;
esac
