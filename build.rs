//! With the `torch` feature: compiles the C++ shim that runs host kernels on libtorch's
//! intra-op thread pool (`src/learning/exact/shim.cpp`), bakes libtorch's directory into the
//! rpath of every binary, test and example of this crate, so nothing needs LD_LIBRARY_PATH
//! (torch-sys exports it as DEP_TCH_LIBTORCH_LIB), and with `cuda` keeps libtorch_cuda linked.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/learning/exact/shim.cpp");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    let Some(include) = PathBuf::from(&lib).parent().map(|p| p.join("include")) else {
        panic!("libtorch's lib directory {lib} has no parent");
    };
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .warnings(false)
        .std("c++17")
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .file("src/learning/exact/shim.cpp")
        .compile("pouw_torch_shim");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_some() {
        // Keep libtorch_cuda as a dependency although no symbol of it is used directly:
        // without it libtorch registers no CUDA backend.
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
    println!("cargo:rustc-link-search=native={lib}");
    println!("cargo:rustc-link-lib=dylib=c10");
    println!("cargo:rustc-link-lib=dylib=torch_cpu");
}
