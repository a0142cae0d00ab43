//! Bakes libtorch's directory into the rpath of every binary, test and example of this crate, so
//! nothing needs LD_LIBRARY_PATH (torch-sys exports it as DEP_TCH_LIBTORCH_LIB).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
