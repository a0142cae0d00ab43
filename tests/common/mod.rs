//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The bundled UCI digits: `POUW_DIGITS`, else `../shared/data/digits.csv.gz` beside the
/// workspace, else the copy in `tests/data/`.
pub fn digits_path() -> PathBuf {
    if let Some(p) = std::env::var_os("POUW_DIGITS") {
        return p.into();
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/data/digits.csv.gz");
    if shared.exists() {
        shared
    } else {
        root.join("tests/data/digits.csv.gz")
    }
}

/// The digits imported into a fresh temporary directory.
pub fn digits_dataset() -> (tempfile::TempDir, pouw::Dataset) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds =
        pouw::dataset::import::import_digits_csv(digits_path(), dir.path().join("digits"), None)
            .expect("import digits");
    (dir, ds)
}
#[cfg(feature = "torch")]
pub mod work;
