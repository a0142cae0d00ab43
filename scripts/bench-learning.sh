#!/usr/bin/env bash
# The exact training step against the same model in PyTorch float32 (benches/pytorch_step.py),
# measured in the same run, printed as ratios:
#   - the default digits model at 1 and 2 intra-op threads (target: at most 1.0x);
#   - RGB images of side 16, 32 and 64 (64 is the seed article's scale) with the default filters
#     (generator 160 / discriminator 40, batch 64) at 1 and 2 threads (target: at most 1.5x),
#     each with the breakdown of one profiled pouw step (products, quantization, scaling back,
#     batch norm, Adam, functions, the rest) and the checkpoint's serialise + digest.
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
  done
done
