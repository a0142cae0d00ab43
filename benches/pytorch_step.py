"""The default digits DCGAN step in PyTorch (the venv's torch 2.11.0), as the baseline for pouw's
libtorch step: same layers, batch, optimiser and thread count. Prints ms/step as the best of
5 rounds of 50 steps after 20 warm-up steps.

    .venv/bin/python benches/pytorch_step.py THREADS
"""
import sys
import time

import torch
from torch import nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(0)
NZ, NGF, NDF, B = 100, 160, 40, 64

gen = nn.Sequential(
    nn.ConvTranspose2d(NZ, NGF, 4, 1, 0, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(True),
    nn.ConvTranspose2d(NGF, 1, 4, 2, 1, bias=False), nn.Tanh())
dis = nn.Sequential(
    nn.Conv2d(1, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
    nn.Conv2d(NDF, 1, 4, 1, 0, bias=False), nn.Flatten(0))
for m in list(gen.modules()) + list(dis.modules()):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(dis.parameters(), lr=2e-4, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()
batches = [(torch.randint(0, 17, (B, 1, 8, 8)).float() / 8.0 - 1.0, torch.randn(B, NZ, 1, 1)) for _ in range(50)]


def step(real, z):
    fake = gen(z)
    opt_d.zero_grad()
    d_real, d_fake = dis(real), dis(fake.detach())
    loss_d = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
    loss_d.backward()
    opt_d.step()
    opt_g.zero_grad()
    out = dis(fake)
    loss_g = bce(out, torch.ones_like(out))
    loss_g.backward()
    opt_g.step()


for real, z in batches[:20]:
    step(real, z)
best = float("inf")
for _ in range(5):
    t = time.perf_counter()
    for real, z in batches:
        step(real, z)
    best = min(best, (time.perf_counter() - t) * 1e3 / len(batches))
print(f"pytorch threads={threads} ms/step={best:.3f}")
