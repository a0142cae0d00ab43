//! Helpers shared by the integration tests.
#![allow(dead_code)]

#[path = "../../examples/support/mod.rs"]
pub mod support;
pub use support::digits_path;
pub mod unixfs_golden;

/// The digits imported into a fresh temporary directory.
pub fn digits_dataset() -> (tempfile::TempDir, pouw::Dataset) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds =
        pouw::dataset::import::import_digits_csv(digits_path(), dir.path().join("digits"), None)
            .expect("import digits");
    (dir, ds)
}
/// A store that serves every object under both of its names: the UnixFS CID (protocol 4) and
/// the raw CID of its whole bytes (protocol 3).
#[derive(Default)]
pub struct BothNames(std::sync::Mutex<std::collections::HashMap<pouw::ident::Cid, Vec<u8>>>);

impl pouw::learning::BlobStore for BothNames {
    fn put(&self, bytes: &[u8]) -> pouw::Result<pouw::ident::Cid> {
        let mut map = self.0.lock().unwrap();
        map.insert(
            pouw::ident::CidProfile::WholeFile.cid_of(bytes),
            bytes.to_vec(),
        );
        map.insert(pouw::ident::cid_of(bytes), bytes.to_vec());
        Ok(pouw::ident::cid_of(bytes))
    }

    fn get_unchecked(&self, cid: &pouw::ident::Cid, _limit: u64) -> pouw::Result<Vec<u8>> {
        self.0
            .lock()
            .unwrap()
            .get(cid)
            .cloned()
            .ok_or_else(|| pouw::Error::NotFound {
                cid: cid.to_string(),
            })
    }
}

#[cfg(feature = "torch")]
pub mod attack;
#[cfg(feature = "torch")]
pub mod flat;
#[cfg(feature = "torch")]
pub mod golden;
#[allow(dead_code)]
pub mod mine;
#[cfg(feature = "torch")]
pub mod work;
