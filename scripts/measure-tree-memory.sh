#!/usr/bin/env bash
# Peak memory of building the Merkle tree over a generated 1 GiB records file of 4 KiB records
# (issue target: the tree itself plus at most 64 MiB). Prints the example's line and the peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
record=${2:-4096}
file=target/bench-data/memory-$size_mib.bin
mkdir -p target/bench-data
[ -f "$file" ] || head -c "$((size_mib << 20))" /dev/urandom > "$file"
cargo build --release --no-default-features --example tree_memory >/dev/null 2>&1
cat "$file" > /dev/null  # page cache, as in the bench
/usr/bin/time -v target/release/examples/tree_memory "$file" "$record" 2> target/bench-data/time.log
grep -E "Maximum resident set size" target/bench-data/time.log
