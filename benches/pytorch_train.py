"""The float32 PyTorch reference of pouw's training (the venv's torch 2.11.0): the same DCGAN,
hyperparameters, initialisation distributions and data as pouw's default digits task, trained
the conventional way (autograd, torch.optim.Adam, torch's RNG for batches and noise). Writes the
state at every evaluation step as a pouw checkpoint (the same tensor names, safetensors layout
and metadata), so pouw scores both with the same quality function.

    .venv/bin/python benches/pytorch_train.py DIGITS_CSV_GZ SEED STEPS EVERY OUT_DIR [THREADS]

writes OUT_DIR/step-<t>.safetensors for t = 0, EVERY, 2*EVERY, ..., STEPS.
"""
import gzip
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

csv, seed, steps, every, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
torch.set_num_threads(int(sys.argv[6]) if len(sys.argv) > 6 else 1)
torch.manual_seed(seed)
NZ, NGF, NDF, B, LR, BETAS = 100, 160, 40, 64, 2e-4, (0.5, 0.999)

with gzip.open(csv, "rt") as f:
    rows = np.array([[int(v) for v in line.split(",")[:64]] for line in f if line.strip()], dtype=np.float32)
data = torch.from_numpy(rows).reshape(-1, 1, 8, 8) * np.float32(2.0 / 16.0) - 1.0

# The digits model (depth 1): 1x1 latent -> 4x4 (160) -> 8x8 (1); 8x8 (1) -> 4x4 (40) -> logit.
gen = nn.ModuleDict({
    "b0": nn.ConvTranspose2d(NZ, NGF, 4, 1, 0, bias=False), "b0bn": nn.BatchNorm2d(NGF),
    "b1": nn.ConvTranspose2d(NGF, 1, 4, 2, 1, bias=False),
})
dis = nn.ModuleDict({
    "b0": nn.Conv2d(1, NDF, 4, 2, 1, bias=False),
    "b1": nn.Conv2d(NDF, 1, 4, 1, 0, bias=False),
})
for m in list(gen.values()) + list(dis.values()):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    else:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def generate(z):
    x = torch.relu(gen["b0bn"](gen["b0"](z)))
    return torch.tanh(gen["b1"](x))


def discriminate(x):
    return dis["b1"](nn.functional.leaky_relu(dis["b0"](x), 0.2)).reshape(-1)


# pouw's names for each parameter.
named = {
    "gen.b0.conv": gen["b0"].weight, "gen.b0.bn.scale": gen["b0bn"].weight,
    "gen.b0.bn.shift": gen["b0bn"].bias, "gen.b1.conv": gen["b1"].weight,
    "dis.b0.conv": dis["b0"].weight, "dis.b1.conv": dis["b1"].weight,
}
opt_g = torch.optim.Adam(gen.parameters(), lr=LR, betas=BETAS)
opt_d = torch.optim.Adam(dis.parameters(), lr=LR, betas=BETAS)
bce = nn.BCEWithLogitsLoss()


def save(t):
    tensors = {"step": torch.tensor(t, dtype=torch.int64)}
    for name, p in named.items():
        opt = opt_g if name.startswith("gen") else opt_d
        state = opt.state.get(p, {})
        tensors[name] = p.detach().contiguous()
        for moment, key in (("m", "exp_avg"), ("v", "exp_avg_sq")):
            tensors[f"adam.{moment}.{name}"] = state.get(key, torch.zeros_like(p)).detach().contiguous()
    save_file(tensors, os.path.join(out, f"step-{t}.safetensors"), metadata={"format": "pouw-gan-checkpoint-v2"})


os.makedirs(out, exist_ok=True)
save(0)
for t in range(1, steps + 1):
    real = data[torch.randint(0, data.shape[0], (B,))]
    fake = generate(torch.randn(B, NZ, 1, 1))
    opt_d.zero_grad()
    d_real, d_fake = discriminate(real), discriminate(fake.detach())
    (bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))).backward()
    opt_d.step()
    opt_g.zero_grad()
    out_g = discriminate(fake)
    bce(out_g, torch.ones_like(out_g)).backward()
    opt_g.step()
    if t % every == 0:
        save(t)
