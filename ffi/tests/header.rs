//! The committed header `include/pouw.h` must be what cbindgen generates from this crate now.
//! Regenerate it with `POUW_UPDATE_HEADER=1 cargo test -p pouw-ffi --test header`, or with the
//! cbindgen CLI: `cbindgen --config ffi/cbindgen.toml --crate pouw-ffi --output include/pouw.h ffi`.

use std::path::PathBuf;

const REGENERATE: &str = "POUW_UPDATE_HEADER=1 cargo test -p pouw-ffi --test header \
     (or: cbindgen --config ffi/cbindgen.toml --crate pouw-ffi --output include/pouw.h ffi)";

#[test]
fn header_is_up_to_date() {
    let ffi = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let header = ffi.join("../include/pouw.h");
    let config =
        cbindgen::Config::from_file(ffi.join("cbindgen.toml")).expect("read ffi/cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_crate(&ffi)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);

    if std::env::var_os("POUW_UPDATE_HEADER").is_some() {
        std::fs::create_dir_all(header.parent().unwrap()).unwrap();
        std::fs::write(&header, &generated).unwrap();
        eprintln!("wrote {}", header.display());
        return;
    }
    let committed = std::fs::read(&header).unwrap_or_default();
    if committed != generated {
        let (old, new) = (
            String::from_utf8_lossy(&committed),
            String::from_utf8_lossy(&generated),
        );
        let first = old
            .lines()
            .zip(new.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| old.lines().count().min(new.lines().count()));
        panic!(
            "include/pouw.h is stale: first difference at line {}:\n  committed: {:?}\n  generated: {:?}\nregenerate it with `{REGENERATE}`",
            first + 1,
            old.lines().nth(first).unwrap_or("<end of file>"),
            new.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}
