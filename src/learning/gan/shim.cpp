// Process-wide libtorch switches that tch has no binding for. Compiled by build.rs against the
// headers of the libtorch that torch-sys links.
#include <ATen/Context.h>
#include <exception>

extern "C" {

// Deterministic algorithms on (error, not warn, on a nondeterministic op), cuDNN deterministic
// with benchmarking off, TF32 off for cuBLAS and cuDNN, float32 matmul at full precision, and
// oneDNN (mkldnn) and NNPACK on or off. Returns 0 on success, 1 if libtorch threw.
int pouw_torch_configure(int mkldnn_enabled, int nnpack_enabled) {
  try {
    auto& ctx = at::globalContext();
    ctx.setDeterministicAlgorithms(true, false);
    ctx.setDeterministicCuDNN(true);
    ctx.setBenchmarkCuDNN(false);
    ctx.setAllowTF32CuBLAS(false);
    ctx.setAllowTF32CuDNN(false);
    ctx.setFloat32MatmulPrecision("highest");
    ctx.setUserEnabledMkldnn(mkldnn_enabled != 0);
    ctx.setUserEnabledNNPACK(nnpack_enabled != 0);
    return 0;
  } catch (const std::exception&) {
    return 1;
  }
}

// Whether deterministic algorithms are on (for tests).
int pouw_torch_deterministic(void) {
  return at::globalContext().deterministicAlgorithms() ? 1 : 0;
}

}
