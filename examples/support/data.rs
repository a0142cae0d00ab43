//! The datasets the examples name on their command line: the bundled digits and LFW faces, or
//! an operator's folder of images.

use pouw::dataset::import::{import_digits_csv, import_image_folder};
use pouw::{Dataset, Result};
use std::path::{Path, PathBuf};

/// The bundled faces: 100 LFW crops (`tests/data/lfw-faces`).
pub const BUNDLED_FACES: &str = "tests/data/lfw-faces";
const FACES_LICENCE: &str = "LFW crops as shipped in scikit-image (see tests/data/lfw-faces)";

/// The dataset named `data` (`digits`, `faces32`, `faces64`, else a folder of images imported
/// at 32x32), imported into `dir` once and opened after.
pub fn named_dataset(data: &str, dir: &Path) -> Result<Dataset> {
    if dir.exists() {
        return Dataset::open(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    match data {
        "digits" => import_digits_csv(super::digits_path(), dir, None),
        "faces32" => import_image_folder(root.join(BUNDLED_FACES), dir, 32, FACES_LICENCE),
        "faces64" => import_image_folder(root.join(BUNDLED_FACES), dir, 64, FACES_LICENCE),
        folder => import_image_folder(folder, dir, 32, "the operator's images"),
    }
}

/// A file name for the data named `data` (a folder's last component).
pub fn data_label(data: &str) -> String {
    match data {
        "digits" | "faces32" | "faces64" => data.to_owned(),
        folder => Path::new(folder)
            .file_name()
            .map_or_else(|| "folder".into(), |n| n.to_string_lossy().into_owned()),
    }
}
