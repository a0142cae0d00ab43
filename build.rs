//! With the `torch` feature: compiles the small C++ shim of libtorch switches that tch has no
//! binding for, and bakes libtorch's directory into the rpath of every binary, test and example
//! of this crate, so nothing needs LD_LIBRARY_PATH (torch-sys exports it as DEP_TCH_LIBTORCH_LIB).
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/learning/gan/shim.cpp");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    let include = PathBuf::from(&lib)
        .parent()
        .expect("libtorch lib dir has a parent")
        .join("include");
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .warnings(false)
        .std("c++17")
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .file("src/learning/gan/shim.cpp")
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
