// What tch has no binding for: running the host kernels of pouw's exact arithmetic on libtorch's
// intra-op thread pool (the one its matrix products use, so the two never compete for cores),
// and CPU tensors over memory that pouw pools between steps. Compiled by build.rs against the
// headers of the libtorch that torch-sys links.
#include <ATen/Parallel.h>
#include <ATen/ops/from_blob.h>
#include <cstdint>

extern "C" {

// Calls body(ctx, begin, end) on disjoint ranges covering [0, n), in parallel on libtorch's
// intra-op threads (inline when already inside a parallel region). body must not throw or
// unwind; returns 0, or 1 if libtorch threw.
int pouw_parallel_for(int64_t n, void* ctx, void (*body)(void*, int64_t, int64_t)) {
  try {
    at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) { body(ctx, begin, end); });
    return 0;
  } catch (...) {
    return 1;
  }
}

}

extern "C" {

// A CPU tensor of `ndim` sizes over `data` (contiguous, dtype 0: float32, 1: float64,
// 2: bool), which calls release(ctx) when libtorch frees it. Returns a new handle (a heap
// at::Tensor, as tch's), or null if libtorch threw (release is then not called).
at::Tensor* pouw_tensor_over(void* data, const int64_t* sizes, int64_t ndim, int dtype,
                             void (*release)(void*), void* ctx) {
  try {
    at::ScalarType type = dtype == 0 ? at::kFloat : dtype == 1 ? at::kDouble : at::kBool;
    auto options = at::TensorOptions().dtype(type).device(at::kCPU);
    return new at::Tensor(at::from_blob(
        data, at::IntArrayRef(sizes, ndim), [release, ctx](void*) { release(ctx); }, options));
  } catch (...) {
    return nullptr;
  }
}

}
