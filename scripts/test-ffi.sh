#!/usr/bin/env bash
# The C API and Go binding tests: builds the C library (cargo build -p pouw-ffi), runs the ffi
# crate's tests (header up to date, C API edge cases, the C example plain and under valgrind),
# then the Go binding's tests over cgo. Exits non-zero on any failure.
#
#   bash scripts/test-ffi.sh            # debug build
#   POUW_FFI_PROFILE=release bash scripts/test-ffi.sh
#   POUW_FFI_CARGO_TESTS=0 bash scripts/test-ffi.sh   # Go tests only (cargo tests ran elsewhere)
#
# Offline: the Go module has no dependencies and GOPROXY is off.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
profile=${POUW_FFI_PROFILE:-debug}

echo "== build the C library (pouw-ffi, $profile)"
if [ "$profile" = release ]; then
  cargo build -p pouw-ffi --release
  cargo_profile=(--release)
else
  cargo build -p pouw-ffi
  cargo_profile=()
fi
target_dir=${CARGO_TARGET_DIR:-$root/target}
case "$target_dir" in /*) ;; *) target_dir=$root/$target_dir ;; esac
lib_dir=$target_dir/$profile
test -f "$lib_dir/libpouw_ffi.so" || { echo "test-ffi: no $lib_dir/libpouw_ffi.so" >&2; exit 1; }

if [ "${POUW_FFI_CARGO_TESTS:-1}" != 0 ]; then
  # The C example runs under valgrind: install it when missing (Debian's package), like
  # scripts/setup.sh does for Go.
  if ! command -v valgrind >/dev/null 2>&1; then
    echo "test-ffi: installing valgrind from Debian"
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq valgrind >/dev/null
  fi
  echo "== cargo test -p pouw-ffi (header, C API, C example under valgrind)"
  # --nocapture shows the valgrind summary line of the C example.
  cargo test -p pouw-ffi "${cargo_profile[@]}" -- --nocapture
fi

if [ -z "${POUW_IPFS_A:-}" ]; then
  # The IPFS store's round trip needs a node; scripts/test.sh starts them, this does when run
  # alone.
  echo "== loopback IPFS nodes (stopped on exit)"
  bash scripts/ipfs-node.sh install
  trap 'bash scripts/ipfs-node.sh stop >/dev/null 2>&1 || true' EXIT
  eval "$(bash scripts/ipfs-node.sh start-pair)"
  export POUW_IPFS_A POUW_IPFS_B
fi

echo "== Go binding (ffi/go) against $lib_dir"
command -v go >/dev/null 2>&1 || { echo "test-ffi: Go is not installed (scripts/setup.sh installs golang-go)" >&2; exit 1; }
(
  cd ffi/go
  export CGO_ENABLED=1 GOPROXY=off GOFLAGS=-mod=readonly GOTOOLCHAIN=local
  # Listed before the package's own #cgo flags (which name target/release), so these win.
  export CGO_LDFLAGS="-L$lib_dir -Wl,-rpath,$lib_dir ${CGO_LDFLAGS:-}"
  go vet ./...
  go test -count=1 -v ./...
  # The README's Go snippet, compiled as a package of its own against this module.
  snippet=$(mktemp -d)
  trap 'rm -rf "$snippet"' EXIT
  python3 - "$root/README.md" > "$snippet/chain.go" <<'PY'
import re, sys
print(re.search(r"```go\n(.*?)```", open(sys.argv[1]).read(), re.S).group(1), end="")
PY
  printf 'module readme\n\ngo 1.19\n\nrequire example.invalid/pouw v0.0.0\n\nreplace example.invalid/pouw => %s\n' "$root/ffi/go" > "$snippet/go.mod"
  (cd "$snippet" && GOFLAGS=-mod=mod go vet ./...)
  echo "README Go snippet: compiles"
)
echo "test-ffi: all passed"
