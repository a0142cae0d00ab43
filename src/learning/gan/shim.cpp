// What tch has no binding for: the process-wide libtorch switches, a leaky ReLU with its slope,
// and the per-thread pin of MKL's matrix products. Compiled by build.rs against the headers of
// the libtorch that torch-sys links.
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/ops/leaky_relu.h>
#include <exception>

// MKL's per-thread thread count, exported by x86-64 libtorch builds (which link MKL statically).
// Weak, so a libtorch without MKL still links and the pin reports itself unavailable.
extern "C" int MKL_Set_Num_Threads_Local(int nthreads) __attribute__((weak));

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

// LeakyReLU with its slope (tch's binding fixes it at 0.01), differentiable. Takes and returns
// tch's tensor handles (heap at::Tensor, freed by tch); returns null if libtorch threw.
at::Tensor* pouw_leaky_relu(const at::Tensor* x, double negative_slope) {
  try {
    return new at::Tensor(at::leaky_relu(*x, negative_slope));
  } catch (const std::exception&) {
    return nullptr;
  }
}

// Makes MKL run the matrix products of the calling thread on one thread; returns the previous
// per-thread count (0: the global one) to hand to pouw_blas_restore, or -1 without MKL.
// libtorch sets this per-thread count itself when a thread first enters a parallel region,
// so that first entry is forced here, before the pin.
int pouw_blas_pin_one_thread(void) {
  if (MKL_Set_Num_Threads_Local == nullptr) {
    return -1;
  }
  at::internal::lazy_init_num_threads();
  return MKL_Set_Num_Threads_Local(1);
}

// Restores the per-thread count pouw_blas_pin_one_thread returned.
void pouw_blas_restore(int previous) {
  if (MKL_Set_Num_Threads_Local != nullptr && previous >= 0) {
    MKL_Set_Num_Threads_Local(previous);
  }
}

}
