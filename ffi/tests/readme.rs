//! The README's C snippet compiles against the generated header.

use std::path::Path;
use std::process::Command;

/// The first fenced block of `lang` in the README.
fn snippet(lang: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let start = readme
        .find(&format!("```{lang}\n"))
        .unwrap_or_else(|| panic!("no ```{lang} block in README.md"))
        + lang.len()
        + 4;
    let len = readme[start..].find("```").expect("closing fence");
    readme[start..start + len].to_owned()
}

#[test]
fn readme_c_snippet_compiles() {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    assert!(
        Command::new(&cc).arg("--version").output().is_ok(),
        "no C compiler ({cc}; scripts/setup.sh installs one)"
    );
    let dir = tempfile_dir();
    let file = dir.join("readme.c");
    std::fs::write(&file, snippet("c")).unwrap();
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include");
    let out = Command::new(&cc)
        .args([
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
            "-I",
        ])
        .arg(&include)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "README C snippet does not compile:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pouw-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
