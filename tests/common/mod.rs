//! Helpers shared by the integration tests.
#![allow(dead_code)]

#[path = "../../examples/support/mod.rs"]
pub mod support;
pub use support::digits_path;

/// The digits imported into a fresh temporary directory.
pub fn digits_dataset() -> (tempfile::TempDir, pouw::Dataset) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds =
        pouw::dataset::import::import_digits_csv(digits_path(), dir.path().join("digits"), None)
            .expect("import digits");
    (dir, ds)
}
#[cfg(feature = "torch")]
pub mod attack;
#[cfg(feature = "torch")]
pub mod golden;
#[cfg(feature = "torch")]
pub mod work;
