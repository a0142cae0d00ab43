#!/usr/bin/env bash
# Issue targets of the exact training step, printed as ratios against the same model in PyTorch
# float32 (benches/pytorch_step.py), measured in the same run:
#   - the default digits model at 1 and 2 intra-op threads (target: at most 1.0x);
#   - the seed article's scale (64x64 RGB, generator 160 / discriminator 40 filters, batch 64)
#     at 2 threads (target: at most 2.0x), with seconds per step and the checkpoint size.
# Each figure is the best of its rounds (see examples/step_bench.rs) and the best of several
# processes per side, run interleaved so a noisy moment does not favour one side; run it on an
# otherwise idle machine. Takes about 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-extras >/dev/null
cargo build --release --example step_bench >/dev/null 2>&1
secs() { sed -n 's/.*s\/step=\([0-9.]*\).*/\1/p'; }
min() { python3 -c "import sys; print(min(float(v) for v in sys.argv[1:]))" "$@"; }
ratio() { python3 -c "print(f'{$1/$2:.3f}')"; }
for threads in 1 2; do
  pouw=() torch=()
  for _ in 1 2 3; do
    pouw+=("$(target/release/examples/step_bench "$threads" digits | secs)")
    torch+=("$(.venv/bin/python benches/pytorch_step.py "$threads" digits | secs)")
  done
  p=$(min "${pouw[@]}") t=$(min "${torch[@]}")
  echo "digits, $threads thread(s): pouw $(python3 -c "print(f'{$p*1e3:.2f}')") ms/step, PyTorch float32 $(python3 -c "print(f'{$t*1e3:.2f}')") ms/step, ratio $(ratio "$p" "$t") (target <= 1.0)"
done
pouw=() torch=() size=""
for _ in 1 2; do
  out=$(target/release/examples/step_bench 2 seed)
  pouw+=("$(echo "$out" | secs)")
  size=$(echo "$out" | sed -n 's/^checkpoint \([0-9]*\) bytes.*/\1/p')
  torch+=("$(.venv/bin/python benches/pytorch_step.py 2 seed | secs)")
done
p=$(min "${pouw[@]}") t=$(min "${torch[@]}")
echo "seed scale (64x64 RGB, 160/40 filters, batch 64), 2 threads: pouw ${p} s/step, PyTorch float32 ${t} s/step, ratio $(ratio "$p" "$t") (target <= 2.0); checkpoint $size bytes"
