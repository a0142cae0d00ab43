#!/usr/bin/env bash
# CUDA checks, in two halves:
#   scripts/cuda-check.sh build       (here, with the Rust toolchain and .venv's libtorch)
#       builds the `cuda` feature's test binary and step benchmark and stages them, the digits
#       and the PyTorch baseline in .cuda-check/
#   scripts/cuda-check.sh run LIBDIR  (on the CUDA machine; LIBDIR is its PyTorch 2.11.0 torch/lib)
#       runs the staged tests (self-test, CPU and CUDA digests equal at every one of 50 steps for
#       the digits and a 64x64 RGB model, blocks mined on one verified exactly on the other),
#       then the seed-scale step on CUDA against PyTorch float32 with TF32 off (target <= 1.5x).
# The device tool runs the second half with:  carry [".cuda-check"], command
#   bash scripts/cuda-check.sh run /opt/torch/.venv/lib/python3.12/site-packages/torch/lib
set -euo pipefail
cd "$(dirname "$0")/.."
stage=.cuda-check

artifact() { # the executable cargo built for target $1 (from --message-format=json on stdin)
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])' "$1" | tail -n 1
}

case "${1:-}" in
  build)
    tests=$(cargo test --release --features cuda --test cuda --no-run --message-format=json 2>/dev/null | artifact cuda)
    bench=$(cargo build --release --features cuda --example step_bench --message-format=json 2>/dev/null | artifact step_bench)
    rm -rf "$stage" && mkdir -p "$stage"
    cp "$tests" "$stage/cuda-tests"
    cp "$bench" "$stage/step-bench"
    strip "$stage/cuda-tests" "$stage/step-bench"
    cp tests/data/digits.csv.gz benches/pytorch_step.py "$stage/"
    grep -qx '/.cuda-check/' .git/info/exclude 2>/dev/null || echo '/.cuda-check/' >> .git/info/exclude
    du -sh "$stage"
    ;;
  run)
    libdir=${2:?usage: cuda-check.sh run LIBTORCH_LIB_DIR}
    # The virtualenv that holds that libtorch runs the PyTorch baseline.
    python=${PYTHON:-${libdir%%/lib/python*}/bin/python}
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    # The binaries' baked rpath names this project's .venv; point them at the machine's libtorch.
    export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export POUW_DIGITS="$PWD/$stage/digits.csv.gz" POUW_REQUIRE_CUDA=1
    "$stage/cuda-tests" --include-ignored --test-threads=1 --nocapture
    pouw=$("$stage/step-bench" 16 seed cuda)
    torch=$("$python" "$stage/pytorch_step.py" 16 seed cuda)
    echo "$pouw"; echo "$torch"
    p=$(echo "$pouw" | sed -n 's/.*s\/step=\([0-9.]*\).*/\1/p')
    t=$(echo "$torch" | sed -n 's/.*s\/step=\([0-9.]*\).*/\1/p')
    python3 -c "print(f'seed scale on CUDA: pouw {$p:.4f} s/step, PyTorch float32 (TF32 off) {$t:.4f} s/step, ratio {$p/$t:.3f} (target <= 1.5)')"
    ;;
  *)
    echo "usage: $0 build | run LIBTORCH_LIB_DIR" >&2
    exit 2
    ;;
esac
