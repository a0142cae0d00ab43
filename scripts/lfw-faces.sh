#!/usr/bin/env bash
# Regenerates tests/data/lfw-faces/face-*.png and tests/data/lfw-nonfaces/nonface-*.png from
# scikit-image 0.25.2's wheel (PyPI): the 100 face crops and the 100 non-face crops of
# skimage/data/lfw_subset.npy as 8-bit grayscale PNGs. Needs the project's .venv (numpy;
# scripts/setup.sh makes it) and pip.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python -m pip download --quiet --no-deps scikit-image==0.25.2 -d "$work"
mkdir -p tests/data/lfw-faces tests/data/lfw-nonfaces
.venv/bin/python - "$work"/scikit_image-*.whl tests/data <<'PY'
import io, struct, sys, zipfile, zlib
import numpy as np
# The wheel is a zip file: Python reads the array out of it (no unzip needed).
with zipfile.ZipFile(sys.argv[1]) as wheel:
    sys.argv[1] = io.BytesIO(wheel.read("skimage/data/lfw_subset.npy"))
crops = np.clip(np.rint(np.load(sys.argv[1]) * 255), 0, 255).astype(np.uint8)
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
def png(img):
    h, w = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
for i, img in enumerate(crops[:100]):
    open(f"{sys.argv[2]}/lfw-faces/face-{i:03}.png", "wb").write(png(img))
for i, img in enumerate(crops[100:200]):
    open(f"{sys.argv[2]}/lfw-nonfaces/nonface-{i:03}.png", "wb").write(png(img))
print(f"wrote 100 faces and {len(crops[100:200])} non-faces under {sys.argv[2]}")
PY
