"""The DCGAN step in PyTorch float32 (the venv's torch 2.11.0), the baseline of pouw's exact
step: same layers, batch, optimiser and thread count. Prints seconds per step as the best of
several rounds after warm-up.

    .venv/bin/python benches/pytorch_step.py THREADS [digits|16|32|64|seed] [cpu|cuda]

- digits: the default model of the bundled 8x8 digits (1 channel, generator 160 / discriminator
  40 filters, batch 64, latent 100): best of 5 rounds of 50 steps after 20 warm-up steps;
- 16, 32, 64 (seed is 64, the seed article's scale): RGB images of that side with the same
  filters: best of 3 rounds (of 10, 3 and 1 steps) after one warm-up step, as
  examples/step_bench.rs times pouw's step.

On CUDA, TF32 is off (the float32 reference the exact step is compared with).
"""
import sys
import time

import torch
from torch import nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
scale = sys.argv[2] if len(sys.argv) > 2 else "digits"
device = torch.device(sys.argv[3] if len(sys.argv) > 3 else "cpu")
torch.set_num_threads(threads)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.manual_seed(0)
NZ, NGF, NDF, B = 100, 160, 40, 64
SIZE = {"digits": 8, "seed": 64, "16": 16, "32": 32, "64": 64}[scale]
CHANNELS = 1 if scale == "digits" else 3
DEPTH = SIZE.bit_length() - 3  # log2(SIZE) - 2 up-sampling blocks


def generator():
    layers, cin = [], NZ
    for i in range(DEPTH + 1):
        last = i == DEPTH
        cout = CHANNELS if last else NGF << (DEPTH - 1 - i)
        stride, pad = (1, 0) if i == 0 else (2, 1)
        layers.append(nn.ConvTranspose2d(cin, cout, 4, stride, pad, bias=False))
        layers += [nn.Tanh()] if last else [nn.BatchNorm2d(cout), nn.ReLU(True)]
        cin = cout
    return nn.Sequential(*layers)


def discriminator():
    layers, cin = [], CHANNELS
    for i in range(DEPTH + 1):
        if i == DEPTH:
            layers += [nn.Conv2d(cin, 1, 4, 1, 0, bias=False), nn.Flatten(0)]
            break
        cout = NDF << i
        layers.append(nn.Conv2d(cin, cout, 4, 2, 1, bias=False))
        if i > 0:
            layers.append(nn.BatchNorm2d(cout))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        cin = cout
    return nn.Sequential(*layers)


gen, dis = generator().to(device), discriminator().to(device)
for m in list(gen.modules()) + list(dis.modules()):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(dis.parameters(), lr=2e-4, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()


def batch():
    real = torch.randint(0, 17, (B, CHANNELS, SIZE, SIZE)).float() / 8.0 - 1.0
    return real.to(device), torch.randn(B, NZ, 1, 1).to(device)


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
    if device.type == "cuda":
        torch.cuda.synchronize()


warmup, rounds, per_round = {8: (20, 5, 50), 16: (1, 3, 10), 32: (1, 3, 3), 64: (1, 3, 1)}[SIZE]
batches = [batch() for _ in range(per_round)]
for i in range(warmup):
    step(*batches[i % per_round])
best = float("inf")
for _ in range(rounds):
    t = time.perf_counter()
    for real, z in batches:
        step(real, z)
    best = min(best, (time.perf_counter() - t) / per_round)
print(f"pytorch {scale} threads={threads} device={device} s/step={best:.6f}")
