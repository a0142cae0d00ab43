#!/usr/bin/env bash
# One-time, idempotent set-up for a fresh clone: everything the demo and the tests need.
#   - libtorch: torch==2.11.0 from PyPI in the project-local virtualenv .venv (tch 0.24.0 expects
#     exactly this version), linked as .venv/libtorch where .cargo/config.toml points torch-sys
#   - Go (Debian's golang-go), valgrind and a C compiler for the C and Go binding tests
#   - cargo-fuzz (built on the installed nightly toolchain) for the fuzz smoke run
#   - a loopback IPFS node for the IPFS tests: js-ipfs from npm, pinned by
#     scripts/ipfs-node/package-lock.json (scripts/ipfs-node.sh install; Node.js and npm)
# Pass --no-torch to skip libtorch (capacity-only work), --no-extras to skip Go, cargo-fuzz and
# the IPFS node; --ipfs installs the IPFS node (with Node.js, npm and curl) even with --no-extras.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.11.0
want_torch=1 want_extras=1 want_ipfs=""
for arg in "$@"; do
  case "$arg" in
    --no-torch) want_torch=0 ;;
    --no-extras) want_extras=0 ;;
    --ipfs) want_ipfs=1 ;;
    *) echo "setup.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
# The IPFS test node comes with the extras unless asked for on its own.
[ -n "$want_ipfs" ] || want_ipfs=$want_extras

if [ "$want_torch" = 1 ]; then
  if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    python3 -m venv .venv
  fi
  have=$(.venv/bin/python -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)
  if [ "$have" != "$TORCH_VERSION" ]; then
    # torch and its CUDA libraries at exact versions, without triton (Python-only, 641 MB) and
    # without pip's cache (a second copy of every wheel): 4.1 GB installed, 6.4 GiB at the peak
    # (downloaded wheels and installed files), 86 s on a fresh machine here.
    need_kib=$((7 * 1024 * 1024))
    free_kib=$(df -Pk . | awk 'NR == 2 { print $4 }')
    if [ "$free_kib" -lt "$need_kib" ]; then
      echo "setup: torch needs 7 GiB free for its download and install; $((free_kib / 1024)) MiB free here" >&2
      exit 1
    fi
    echo "setup: installing torch==$TORCH_VERSION into .venv (about 4.1 GB)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-input --no-cache-dir \
      --no-deps -r scripts/torch-requirements.txt
  fi
  .venv/bin/python -c 'import safetensors' 2>/dev/null ||
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-input --no-cache-dir \
      safetensors==0.8.0 numpy==2.4.6
  # A stable path to the wheel's libtorch (include/ and lib/) for .cargo/config.toml.
  torch_dir=$(.venv/bin/python -c 'import os, torch; print(os.path.dirname(torch.__file__))')
  ln -sfn "$torch_dir" .venv/libtorch
fi

if [ "$want_extras" = 1 ]; then
  missing=""
  command -v go >/dev/null 2>&1 || missing="$missing golang-go"
  command -v valgrind >/dev/null 2>&1 || missing="$missing valgrind"
  command -v cc >/dev/null 2>&1 || missing="$missing gcc"
  if [ -n "$missing" ]; then
    echo "setup: installing$missing from Debian"
    export DEBIAN_FRONTEND=noninteractive
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq $missing >/dev/null
  fi
  if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "setup: installing cargo-fuzz"
    cargo +nightly install --locked --quiet cargo-fuzz
  fi
fi
if [ "$want_ipfs" = 1 ]; then
  missing=""
  command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
  command -v curl >/dev/null 2>&1 || missing="$missing curl"
  if [ -n "$missing" ]; then
    echo "setup: installing$missing from Debian"
    export DEBIAN_FRONTEND=noninteractive
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq $missing >/dev/null
  fi
  bash scripts/ipfs-node.sh install
fi
echo "setup: done"
