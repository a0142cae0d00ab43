//! The protocol versions this build verifies, and what differs between them. A node syncing
//! history verifies every block under the version its parameters state: each version's
//! verification path stays, and a new version is added beside the old ones. Every version this
//! build verifies it also audits, checks segment by segment and fraud-proves; mining is of the
//! current version only.
//!
//! | version | differs from the one before |
//! | --- | --- |
//! | 3 | (oldest verified) checkpoints and companions named by the raw CID of their whole bytes |
//! | 4 | files over 256 KiB named by their UnixFS CID; dataset manifests name their records' CID |
//! | 5 | tickets bind the step seed; the block ends at its first winning ticket; the proof names a checkpoint every `opened_steps + 1` steps (segment starts) |

use crate::error::{Error, Result};
use crate::hash::Digest;
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

    /// Whether a step's ticket binds its seed (`H(header, s_i, d_i)`) rather than the header and
    /// digest alone (`H(header, d_i)`, versions 3 and 4).
    pub fn ticket_binds_seed(self) -> bool {
        self.0 >= 5
    }

    /// Whether a block must end at its first ticket below the target (from `min_steps` on):
    /// verification and audits check every earlier ticket. Versions 3 and 4 checked the winning
    /// ticket alone.
    pub fn first_ticket_wins(self) -> bool {
        self.0 >= 5
    }

    /// Steps per segment when the proof names segment-start checkpoints (every
    /// `opened_steps + 1`-th checkpoint, version 5 on); `None` where the version names none
    /// (a segment check then replays from the block's start).
    pub fn segment_steps(self, opened_steps: u32) -> Option<u64> {
        (self.0 >= 5).then(|| u64::from(opened_steps) + 1)
    }

    /// Step `step`'s ticket under this version (`seed`: the step's seed `s_i`).
    pub fn ticket(self, header_hash: &Digest, seed: &Digest, digest: &Digest) -> Digest {
        if self.ticket_binds_seed() {
            super::difficulty::ticket(header_hash, seed, digest)
        } else {
            super::difficulty::ticket_without_seed(header_hash, digest)
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
        assert_eq!(names(5).ok(), Some(CidProfile::UnixFs));
        assert!(names(2).is_err());
    }
}
