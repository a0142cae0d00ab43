#!/usr/bin/env bash
# The exact training step against the same model in PyTorch float32 (benches/pytorch_step.py),
# measured in the same run, printed as ratios:
#   - the default digits model at 1 and 2 intra-op threads (target: at most 1.0x);
#   - RGB images of side 16, 32 and 64 (64 is the seed article's scale) with the default filters
#     (generator 160 / discriminator 40, batch 64) at 1 and 2 threads (target: at most 1.5x),
#     each with the breakdown of the fastest of three profiled pouw steps (products,
#     quantization, scaling back, batch norm, Adam, functions, the rest) and the checkpoint's
#     serialise + digest.
#   - the floor of this arithmetic: a float64 matrix product's time against float32's here, and
#     each size's float64 products alone (of that fastest profiled step) against PyTorch's
#     whole float32 step.
# Each figure is the best of its rounds (see examples/step_bench.rs) and the best of two
# processes per side, run interleaved so a noisy moment does not favour one side; run it on an
# otherwise idle machine. The CPU is printed first. Takes about 10 minutes on 2 cores.
#   scripts/bench-learning.sh [SIZE...]   (default: digits 16 32 64)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-extras >/dev/null
cargo build --release --example step_bench >/dev/null 2>&1
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(digits 16 32 64)
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
secs() { sed -n 's/.*s\/step=\([0-9.]*\).*/\1/p'; }
min() { python3 -c "import sys; print(min(float(v) for v in sys.argv[1:]))" "$@"; }
ms() { python3 -c "print(f'{$1*1e3:.1f}')"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
# What a float64 product costs against float32 here (libtorch's matrix product, a product of a
# convolution's shape at 32x32: [2560 x 640] x [640 x 4096]), at 1 and 2 threads.
for threads in 1 2; do
  .venv/bin/python - "$threads" <<'PY'
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
def best(kind):
    a, b = torch.randn(2560, 640, dtype=kind), torch.randn(640, 4096, dtype=kind)
    times = []
    for _ in range(5):
        t = time.perf_counter(); torch.mm(a, b); times.append(time.perf_counter() - t)
    return min(times)
f32, f64 = best(torch.float32), best(torch.float64)
gflop = 2 * 2560 * 640 * 4096 / 1e9
print(f"matrix product {sys.argv[1]} thread(s): float32 {gflop / f32:.1f} GFLOP/s, float64 {gflop / f64:.1f} GFLOP/s: float64 takes {f64 / f32:.2f}x float32's time")
PY
done
for size in "${sizes[@]}"; do
  target=1.5; [ "$size" = digits ] && target=1.0
  for threads in 1 2; do
    pouw=() torch=() breakdown=""
    for _ in 1 2; do
      out=$(target/release/examples/step_bench "$threads" "$size")
      pouw+=("$(echo "$out" | secs)")
      # The breakdown of the faster process.
      if python3 -c "import sys; sys.exit(float(sys.argv[1]) > float(sys.argv[2]))" "$(echo "$out" | secs)" "$(min "${pouw[@]}")"; then
        breakdown=$(echo "$out" | sed -n 's/^breakdown /    /p')
      fi
      torch+=("$(.venv/bin/python benches/pytorch_step.py "$threads" "$size" | secs)")
    done
    p=$(min "${pouw[@]}") t=$(min "${torch[@]}")
    echo "$size, $threads thread(s): pouw $(ms "$p") ms/step, PyTorch float32 $(ms "$t") ms/step, ratio $(ratio "$p" "$t") (target <= $target)"
    echo "$breakdown"
    # The floor of this arithmetic: the float64 products alone (of the fastest profiled step) against
    # PyTorch's whole float32 step.
    products=$(echo "$breakdown" | sed -n 's/.*products ms=\([0-9.]*\).*/\1/p')
    [ -z "$products" ] || echo "    products alone: $products ms, $(ratio "$products" "$(ms "$t")") of PyTorch's whole step (the floor of float64 products)"
  done
done
