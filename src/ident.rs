//! Content identifiers: CIDv1, codec raw (0x55), multihash sha3-256 (0x16), over the exact bytes
//! they name. Any IPFS tool hashing the same bytes with sha3-256 derives the same CID.

use crate::error::{Error, Result};
use crate::hash::{sha3_256, Digest};
pub use cid::Cid;

/// The multicodec code of raw bytes.
pub const RAW_CODEC: u64 = 0x55;
/// The multihash code of SHA3-256.
pub const SHA3_256_CODE: u64 = 0x16;

/// The CID of `bytes`.
pub fn cid_of(bytes: &[u8]) -> Cid {
    cid_from_sha3(&sha3_256(bytes))
}

/// The CID whose multihash is the given SHA3-256 digest of some bytes.
pub fn cid_from_sha3(digest: &Digest) -> Cid {
    // `wrap` fails only for digests over the 64-byte capacity; a SHA3-256 digest is 32 bytes.
    #[allow(clippy::expect_used)]
    let mh = multihash::Multihash::<64>::wrap(SHA3_256_CODE, digest).expect("32-byte digest fits");
    Cid::new_v1(RAW_CODEC, mh)
}

/// Checks that `cid` names `bytes` under this crate's CID profile.
pub fn verify_cid(cid: &Cid, bytes: &[u8]) -> Result<()> {
    let expected = cid_of(bytes);
    if *cid != expected {
        return Err(Error::InvalidField {
            what: "cid",
            detail: format!("{cid} does not name these bytes ({expected})"),
        });
    }
    Ok(())
}

/// Parses a CID from its binary form, accepting only this crate's profile.
pub fn cid_from_bytes(bytes: &[u8]) -> Result<Cid> {
    let cid = Cid::try_from(bytes).map_err(|e| Error::InvalidField {
        what: "cid",
        detail: e.to_string(),
    })?;
    check_profile(&cid)?;
    if cid.to_bytes() != bytes {
        return Err(Error::InvalidField {
            what: "cid",
            detail: "non-canonical encoding".into(),
        });
    }
    Ok(cid)
}

fn check_profile(cid: &Cid) -> Result<()> {
    let mh = cid.hash();
    if cid.version() != cid::Version::V1
        || cid.codec() != RAW_CODEC
        || mh.code() != SHA3_256_CODE
        || mh.size() != 32
    {
        return Err(Error::InvalidField {
            what: "cid",
            detail: format!("{cid} is not CIDv1 raw sha3-256"),
        });
    }
    Ok(())
}

/// The SHA3-256 digest inside a CID of this profile.
pub fn sha3_of_cid(cid: &Cid) -> Result<Digest> {
    check_profile(cid)?;
    let mut d = [0u8; 32];
    d.copy_from_slice(cid.hash().digest());
    Ok(d)
}
