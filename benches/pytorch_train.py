"""The float32 PyTorch reference of pouw's training (the venv's torch 2.11.0): the same DCGAN,
hyperparameters, initialisation distributions and data as pouw's default task over a dataset of
square images, trained the conventional way (autograd, torch.optim.Adam, torch's RNG for batches
and noise). Writes the state at every evaluation step as a pouw checkpoint (the same tensor
names, safetensors layout and metadata), so pouw scores both with the same quality function.

    .venv/bin/python benches/pytorch_train.py RECORDS CHANNELS SIZE VALUE_MAX SEED STEPS EVERY OUT_DIR [THREADS]

RECORDS is the dataset's records end to end, each CHANNELS x SIZE x SIZE bytes (the layout of a
pouw dataset's records); records scale to [-1, 1] by VALUE_MAX as pouw's do. Writes
OUT_DIR/step-<t>.safetensors for t = 0, EVERY, 2*EVERY, ..., STEPS and prints "saved <t>" after
each (the caller's progress).
"""
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

records, channels, size, value_max = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
seed, steps, every, out = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
torch.set_num_threads(int(sys.argv[9]) if len(sys.argv) > 9 else 1)
torch.manual_seed(seed)
NZ, NGF, NDF, B, LR, BETAS = 100, 160, 40, 64, 2e-4, (0.5, 0.999)
DEPTH = size.bit_length() - 3  # log2(size) - 2 up-sampling blocks, as pouw's GanSpec::depth

raw = np.fromfile(records, dtype=np.uint8).reshape(-1, channels, size, size)
data = torch.from_numpy(raw.astype(np.float32)) * np.float32(2.0 / value_max) - 1.0

# pouw's layout (src/learning/gan/layout.rs): generator block i is a transposed convolution
# (the first projects the latent to 4x4, the others double the side), batch norm and ReLU except
# the last (tanh); discriminator block i halves the side, batch norm on all but the first and
# the last, leaky ReLU 0.2; the last reduces 4x4 to one logit. No biases.
gen, dis, named = nn.ModuleDict(), nn.ModuleDict(), {}
cin = NZ
for i in range(DEPTH + 1):
    last = i == DEPTH
    cout = channels if last else NGF << (DEPTH - 1 - i)
    stride, pad = (1, 0) if i == 0 else (2, 1)
    gen[f"b{i}"] = nn.ConvTranspose2d(cin, cout, 4, stride, pad, bias=False)
    named[f"gen.b{i}.conv"] = gen[f"b{i}"].weight
    if not last:
        gen[f"b{i}bn"] = nn.BatchNorm2d(cout)
        named[f"gen.b{i}.bn.scale"] = gen[f"b{i}bn"].weight
        named[f"gen.b{i}.bn.shift"] = gen[f"b{i}bn"].bias
    cin = cout
cin = channels
for i in range(DEPTH + 1):
    last = i == DEPTH
    cout = 1 if last else NDF << i
    stride, pad = (1, 0) if last else (2, 1)
    dis[f"b{i}"] = nn.Conv2d(cin, cout, 4, stride, pad, bias=False)
    named[f"dis.b{i}.conv"] = dis[f"b{i}"].weight
    if 0 < i < DEPTH:
        dis[f"b{i}bn"] = nn.BatchNorm2d(cout)
        named[f"dis.b{i}.bn.scale"] = dis[f"b{i}bn"].weight
        named[f"dis.b{i}.bn.shift"] = dis[f"b{i}bn"].bias
    cin = cout
for m in list(gen.values()) + list(dis.values()):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    else:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def generate(z):
    x = z
    for i in range(DEPTH):
        x = torch.relu(gen[f"b{i}bn"](gen[f"b{i}"](x)))
    return torch.tanh(gen[f"b{DEPTH}"](x))


def discriminate(x):
    for i in range(DEPTH):
        x = dis[f"b{i}"](x)
        if i > 0:
            x = dis[f"b{i}bn"](x)
        x = nn.functional.leaky_relu(x, 0.2)
    return dis[f"b{DEPTH}"](x).reshape(-1)


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
    path = os.path.join(out, f"step-{t}.safetensors")
    save_file(tensors, path + ".tmp", metadata={"format": "pouw-gan-checkpoint-v2"})
    os.replace(path + ".tmp", path)
    print(f"saved {t}", flush=True)


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
