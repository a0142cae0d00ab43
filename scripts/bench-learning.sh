#!/usr/bin/env bash
# Issue targets of the trainer, printed as ratios:
#   - pouw's CPU step (deterministic configuration) vs the same model in PyTorch Python;
#   - the deterministic configuration vs plain libtorch (the cost of thread invariance);
# at 1 and 2 intra-op threads. Checkpoint serialise + digest throughput is in
# `cargo bench --bench learning`. Run on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example step_bench >/dev/null
ms() { sed -n 's/.*ms\/step=\([0-9.]*\).*/\1/p'; }
for threads in 1 2; do
  det=$(target/release/examples/step_bench "$threads" deterministic | ms)
  plain=$(target/release/examples/step_bench "$threads" plain | ms)
  py=$(.venv/bin/python benches/pytorch_step.py "$threads" | ms)
  echo "threads=$threads: pouw deterministic $det ms/step, plain libtorch $plain ms/step, PyTorch Python $py ms/step"
  python3 -c "d,p,y=$det,$plain,$py; print(f'  ratio pouw/PyTorch = {d/y:.3f} (target <= 1.0); determinism cost = {d/p-1:+.1%} (target <= +10%)')"
done
