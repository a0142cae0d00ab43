#!/usr/bin/env bash
# CUDA checks of the trainer, in two halves:
#   scripts/cuda-check.sh build       (here, with the Rust toolchain and .venv's libtorch)
#       builds the `cuda` feature's test binary and stages it with the digits in .cuda-check/
#   scripts/cuda-check.sh run LIBDIR  (on the CUDA machine; LIBDIR is its PyTorch 2.11.0 torch/lib)
#       runs the staged binary against that libtorch and prints what it measured.
# The device tool runs the second half with:  carry [".cuda-check"], command
#   bash scripts/cuda-check.sh run /opt/torch/.venv/lib/python3.12/site-packages/torch/lib
set -euo pipefail
cd "$(dirname "$0")/.."
stage=.cuda-check

case "${1:-}" in
  build)
    bin=$(cargo test --release --features cuda --test cuda --no-run --message-format=json 2>/dev/null |
      python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "cuda" and m.get("executable"):
        print(m["executable"])' | tail -n 1)
    rm -rf "$stage" && mkdir -p "$stage"
    cp "$bin" "$stage/cuda-tests"
    strip "$stage/cuda-tests"
    cp tests/data/digits.csv.gz "$stage/"
    grep -qx '/.cuda-check/' .git/info/exclude 2>/dev/null || echo '/.cuda-check/' >> .git/info/exclude
    du -sh "$stage"
    ;;
  run)
    libdir=${2:?usage: cuda-check.sh run LIBTORCH_LIB_DIR}
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    # The binary's baked rpath names this project's .venv; point it at the machine's libtorch.
    export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export POUW_DIGITS="$PWD/$stage/digits.csv.gz"
    "$stage/cuda-tests" --test-threads=1 --nocapture
    ;;
  *)
    echo "usage: $0 build | run LIBTORCH_LIB_DIR" >&2
    exit 2
    ;;
esac
