//! Content identifiers: the CID an IPFS node gives a file added with
//! `ipfs add --cid-version 1 --raw-leaves --hash sha3-256 --chunker size-262144` (see
//! [`unixfs`]). A file of up to 256 KiB is one raw block: CIDv1, codec raw (0x55), multihash
//! sha3-256 (0x16) of its bytes. A larger file is named by the CIDv1 dag-pb (0x70) root of its
//! balanced UnixFS DAG. Either way, any IPFS node adding the same bytes with those options
//! derives the same CID, and can serve the file block by block.

mod dagpb;
pub mod unixfs;

pub use dagpb::{Link, Node, MAX_LINKS, MAX_NODE_BYTES};

use crate::error::{Error, Result};
use crate::hash::Digest;
pub use cid::Cid;

/// The multicodec code of raw bytes.
pub const RAW_CODEC: u64 = 0x55;
/// The multicodec code of dag-pb (a UnixFS file's interior nodes).
pub const DAG_PB_CODEC: u64 = 0x70;
/// The multihash code of SHA3-256.
pub const SHA3_256_CODE: u64 = 0x16;

/// The CID of `bytes`: their UnixFS CID (the raw CID of the bytes when they fit one chunk).
pub fn cid_of(bytes: &[u8]) -> Cid {
    unixfs::cid_of(bytes)
}

/// The raw CID (one block) whose multihash is the given SHA3-256 digest of some bytes.
pub fn cid_from_sha3(digest: &Digest) -> Cid {
    // `wrap` fails only for digests over the 64-byte capacity; a SHA3-256 digest is 32 bytes.
    #[allow(clippy::expect_used)]
    let mh = multihash::Multihash::<64>::wrap(SHA3_256_CODE, digest).expect("32-byte digest fits");
    Cid::new_v1(RAW_CODEC, mh)
}

/// How a protocol version names files: each version's verification keeps its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CidProfile {
    /// Protocol 3: the raw CID of a file's whole bytes, whatever its size (one IPFS block, which
    /// no node stores past 1 MiB).
    WholeFile,
    /// From protocol 4: the UnixFS CID ([`cid_of`]).
    UnixFs,
}

impl CidProfile {
    /// The CID of `bytes` under this profile.
    pub fn cid_of(self, bytes: &[u8]) -> Cid {
        match self {
            CidProfile::WholeFile => cid_from_sha3(&crate::hash::sha3_256(bytes)),
            CidProfile::UnixFs => cid_of(bytes),
        }
    }

    /// Whether `cid` has the form this profile gives a file of `len` bytes (raw, or dag-pb for
    /// UnixFS files over one chunk). With [`verify_cid`] (which accepts either profile's CID of
    /// the bytes) it makes a CID canonical, without hashing the bytes again.
    pub fn has_form(self, cid: &Cid, len: u64) -> bool {
        let raw = cid.codec() == RAW_CODEC;
        match self {
            CidProfile::WholeFile => raw,
            CidProfile::UnixFs => raw == (len <= unixfs::CHUNK_SIZE as u64),
        }
    }
}

/// Checks that `cid` names `bytes`: their UnixFS CID, or (protocol 3's name for files over
/// 256 KiB) the raw CID of their whole bytes. Both are collision-resistant names of exactly
/// these bytes; which one a proof must use is its protocol version's [`CidProfile`].
pub fn verify_cid(cid: &Cid, bytes: &[u8]) -> Result<()> {
    let expected = if cid.codec() == RAW_CODEC {
        CidProfile::WholeFile.cid_of(bytes)
    } else {
        cid_of(bytes)
    };
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
        || (cid.codec() != RAW_CODEC && cid.codec() != DAG_PB_CODEC)
        || mh.code() != SHA3_256_CODE
        || mh.size() != 32
    {
        return Err(Error::InvalidField {
            what: "cid",
            detail: format!("{cid} is not CIDv1 raw or dag-pb sha3-256"),
        });
    }
    Ok(())
}

/// The SHA3-256 digest of the bytes a raw CID names (a one-block file); a dag-pb CID names a
/// file's root node, whose digest is not the file's, and is refused.
pub fn sha3_of_cid(cid: &Cid) -> Result<Digest> {
    check_profile(cid)?;
    if cid.codec() != RAW_CODEC {
        return Err(Error::InvalidField {
            what: "cid",
            detail: format!("{cid} names a multi-block file, not one block"),
        });
    }
    let mut d = [0u8; 32];
    d.copy_from_slice(cid.hash().digest());
    Ok(d)
}
