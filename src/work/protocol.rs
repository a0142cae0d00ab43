//! The protocol versions this build verifies, and what differs between them. A node syncing
//! history verifies every block under the version its parameters state: each version's
//! verification path stays, and a new version is added beside the old ones. Mining, audits and
//! fraud proofs are of the current version only.
//!
//! | version | differs from the one before |
//! | --- | --- |
//! | 3 | (oldest verified) checkpoints and companions named by the raw CID of their whole bytes |
//! | 4 | files over 256 KiB named by their UnixFS CID; dataset manifests name their records' CID |

use crate::error::{Error, Result};
use crate::ident::CidProfile;
use crate::version::PROTOCOL_VERSION;

/// The oldest protocol version this build verifies.
pub const OLDEST_VERIFIED_VERSION: u32 = 3;

/// A protocol version this build verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProtocolVersion(u32);

impl ProtocolVersion {
    /// The version this build mines ([`PROTOCOL_VERSION`]).
    pub const CURRENT: ProtocolVersion = ProtocolVersion(PROTOCOL_VERSION);

    /// Version `number`, if this build verifies it (`what` names the value, for the error).
    pub fn new(number: u32, what: &'static str) -> Result<Self> {
        if (OLDEST_VERIFIED_VERSION..=PROTOCOL_VERSION).contains(&number) {
            Ok(ProtocolVersion(number))
        } else {
            Err(Error::UnsupportedVersion {
                what,
                found: number,
                supported: PROTOCOL_VERSION,
            })
        }
    }

    /// The version's number.
    pub fn number(self) -> u32 {
        self.0
    }

    /// How the version names checkpoints and trajectory companions.
    pub fn names(self) -> CidProfile {
        if self.0 <= 3 {
            CidProfile::WholeFile
        } else {
            CidProfile::UnixFs
        }
    }

    /// Fails unless this is the current version (`what`: the operation, for the error).
    pub fn require_current(self, what: &'static str) -> Result<()> {
        if self != Self::CURRENT {
            return Err(Error::UnsupportedVersion {
                what,
                found: self.0,
                supported: PROTOCOL_VERSION,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ProtocolVersion;
    use crate::ident::CidProfile;

    #[test]
    fn each_version_names_files_its_own_way() {
        let names = |v| ProtocolVersion::new(v, "test").map(ProtocolVersion::names);
        assert_eq!(names(3).ok(), Some(CidProfile::WholeFile));
        assert_eq!(names(4).ok(), Some(CidProfile::UnixFs));
        assert!(names(2).is_err());
    }
}
