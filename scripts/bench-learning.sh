#!/usr/bin/env bash
# Issue targets of the trainer, printed as ratios, at 1 and 2 intra-op threads:
#   - pouw's CPU step (deterministic, thread-invariant) vs the same model in PyTorch Python;
#   - its cost vs plain libtorch: the conventional step on tch's convolution layers under
#     libtorch's defaults (`conv`), and pouw's own step under libtorch's defaults (`plain`,
#     what the switches alone cost).
# Checkpoint serialise + digest throughput is in `cargo bench --bench learning`. Each figure is
# the best of 5 rounds (see examples/step_bench.rs), and the best of 3 processes per mode, run
# interleaved so a noisy moment does not favour one mode; run on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example step_bench >/dev/null
ms() { sed -n 's/.*ms\/step=\([0-9.]*\).*/\1/p'; }
min() { python3 -c "import sys; print(min(float(v) for v in sys.argv[1:]))" "$@"; }
for threads in 1 2; do
  det=() plain=() conv=() py=()
  for _ in 1 2 3; do
    det+=("$(target/release/examples/step_bench "$threads" deterministic | ms)")
    plain+=("$(target/release/examples/step_bench "$threads" plain | ms)")
    conv+=("$(target/release/examples/step_bench "$threads" conv | ms)")
    py+=("$(.venv/bin/python benches/pytorch_step.py "$threads" | ms)")
  done
  det=$(min "${det[@]}") plain=$(min "${plain[@]}") conv=$(min "${conv[@]}") py=$(min "${py[@]}")
  echo "threads=$threads: pouw $det ms/step; plain libtorch: conv layers $conv, pouw's step $plain; PyTorch Python $py"
  python3 -c "d,c,p,y=$det,$conv,$plain,$py; print(f'  ratio pouw/PyTorch = {d/y:.3f} (target <= 1.0); determinism cost vs conv layers = {d/c-1:+.1%}, vs pouw plain = {d/p-1:+.1%} (target <= +10%)')"
done
