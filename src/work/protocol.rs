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

/// A protocol version this build verifies: parsed once where bytes are decoded (parameters,
/// proofs), then matched exhaustively, so a new version cannot fall into an old one's branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// Files named by the raw CID of their whole bytes (the oldest verified).
    V3 = 3,
    /// Large files named by their UnixFS CID; manifests name their records' CID.
    V4 = 4,
    /// Tickets bind the step seed; the first winning ticket ends a block; segment starts.
    V5 = 5,
}

impl ProtocolVersion {
    /// The version this build mines.
    pub const CURRENT: ProtocolVersion = ProtocolVersion::V5;
    /// The oldest version this build verifies.
    pub const OLDEST: ProtocolVersion = ProtocolVersion::V3;

    /// Version `number`, if this build verifies it (`what` names the value, for the error).
    pub fn from_number(number: u32, what: &'static str) -> Result<Self> {
        match number {
            3 => Ok(ProtocolVersion::V3),
            4 => Ok(ProtocolVersion::V4),
            5 => Ok(ProtocolVersion::V5),
            found => Err(Error::UnsupportedVersion {
                what,
                found,
                supported: Self::CURRENT.number(),
            }),
        }
    }

    /// The version's number (its encoding).
    pub const fn number(self) -> u32 {
        self as u32
    }

    /// How the version names checkpoints and trajectory companions.
    pub fn names(self) -> CidProfile {
        match self {
            ProtocolVersion::V3 => CidProfile::WholeFile,
            ProtocolVersion::V4 | ProtocolVersion::V5 => CidProfile::UnixFs,
        }
    }

    /// Whether a step's ticket binds its seed (`H(header, s_i, d_i)`) rather than the header and
    /// digest alone (`H(header, d_i)`, versions 3 and 4).
    pub fn ticket_binds_seed(self) -> bool {
        match self {
            ProtocolVersion::V3 | ProtocolVersion::V4 => false,
            ProtocolVersion::V5 => true,
        }
    }

    /// Whether a block must end at its first ticket below the target (from `min_steps` on):
    /// verification and audits check every earlier ticket. Versions 3 and 4 checked the winning
    /// ticket alone.
    pub fn first_ticket_wins(self) -> bool {
        match self {
            ProtocolVersion::V3 | ProtocolVersion::V4 => false,
            ProtocolVersion::V5 => true,
        }
    }

    /// Whether the proof names segment-start checkpoints.
    pub fn names_segment_starts(self) -> bool {
        match self {
            ProtocolVersion::V3 | ProtocolVersion::V4 => false,
            ProtocolVersion::V5 => true,
        }
    }

    /// Steps per segment when the proof names segment-start checkpoints (every
    /// `opened_steps + 1`-th checkpoint, version 5 on); `None` where the version names none
    /// (a segment check then replays from the block's start).
    pub fn segment_steps(self, opened_steps: u32) -> Option<u64> {
        self.names_segment_starts()
            .then(|| u64::from(opened_steps) + 1)
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
                found: self.number(),
                supported: Self::CURRENT.number(),
            });
        }
        Ok(())
    }
}

impl std::fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::ProtocolVersion;
    use crate::ident::CidProfile;

    #[test]
    fn each_version_names_files_its_own_way() {
        let names = |v| ProtocolVersion::from_number(v, "test").map(ProtocolVersion::names);
        assert_eq!(names(3).ok(), Some(CidProfile::WholeFile));
        assert_eq!(names(4).ok(), Some(CidProfile::UnixFs));
        assert_eq!(names(5).ok(), Some(CidProfile::UnixFs));
        assert!(names(2).is_err());
    }
}
