//! Requests decided by the miners' vote: a dataset request becomes active only when enough
//! blocks signal for it, by the state machine of Bitcoin's version-bits deployments (BIP9), with
//! block heights for its start and timeout (as BIP8 does).
//!
//! ## Signalling
//! A block signals in a 32-bit *signal word* its header carries (BIP9's `nVersion`, 4 bytes
//! little-endian; [`signal_word`] reads it from those bytes): the top three bits are `001`
//! ([`SIGNAL_TOP_BITS`]) and each of the low 29 bits is one vote. A word with other top bits
//! signals nothing. A [`RequestVote`] assigns a bit to a request for the heights
//! `start_height..timeout_height`; two votes on one bit must not overlap in those heights
//! ([`check_disjoint`]).
//!
//! ## The state machine
//! Blocks are grouped in windows of `window` blocks (heights `k * window ..`). Every block of
//! a window has the state computed at the window's first height `b` from the state of the
//! window before and that window's signals:
//! - `Defined` (the first window's state) becomes `Started` once `b >= start_height`;
//! - `Started` becomes `LockedIn` when at least `threshold` blocks of the window before
//!   signalled the bit, else `Failed` once `b >= timeout_height`;
//! - `LockedIn` becomes `Active` once `b >= min_activation_height`;
//! - `Active` and `Failed` are final.
//!
//! The threshold is counted before the timeout: a window that reached it locks in even when it
//! was the last one (Bitcoin Core's order since it added `min_activation_height`; BIP9's first
//! text failed such a deployment). The state is a pure function of the signal words of the
//! chain's blocks, so after a reorganisation a chain recomputes it from its new branch; no
//! cache is part of consensus.

use crate::codec::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::ident::{cid_from_bytes, cid_of, Cid};

use super::request::MAX_CID_BYTES;

const MAGIC: &[u8; 4] = b"PWVT";
const FORMAT_VERSION: u32 = 1;

/// The top three bits of a signalling word (`001`, as BIP9).
pub const SIGNAL_TOP_BITS: u32 = 0x2000_0000;
/// The mask of the top three bits.
pub const SIGNAL_TOP_MASK: u32 = 0xE000_0000;
/// Bits a word can signal (0 to 28).
pub const SIGNAL_BITS: u8 = 29;
/// The longest window a vote may have, in blocks.
pub const MAX_VOTE_WINDOW: u32 = 1 << 20;

/// Reads a block's signal word from the 4 bytes its header carries for it (little-endian, as
/// Bitcoin's `nVersion`). Untrusted bytes: any other length is refused.
pub fn signal_word(field: &[u8]) -> Result<u32> {
    let bytes: [u8; 4] = field.try_into().map_err(|_| Error::InvalidField {
        what: "signal word",
        detail: format!("{} bytes, expected 4", field.len()),
    })?;
    Ok(u32::from_le_bytes(bytes))
}

/// The bits a signal word votes for, as a mask of the low 29 bits: empty when its top bits are
/// not `001`.
pub fn signalled_bits(word: u32) -> u32 {
    if word & SIGNAL_TOP_MASK == SIGNAL_TOP_BITS {
        word & !SIGNAL_TOP_MASK
    } else {
        0
    }
}

/// The signal word that votes for exactly `bits` (each below [`SIGNAL_BITS`]).
pub fn signal_word_for(bits: &[u8]) -> Result<u32> {
    bits.iter().try_fold(SIGNAL_TOP_BITS, |word, &bit| {
        check_bit(bit)?;
        Ok(word | 1 << bit)
    })
}

fn check_bit(bit: u8) -> Result<()> {
    if bit >= SIGNAL_BITS {
        return Err(Error::InvalidField {
            what: "signal bit",
            detail: format!("{bit} outside 0..{SIGNAL_BITS}"),
        });
    }
    Ok(())
}

/// Where a request's vote stands for a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteState {
    /// Before the start height: signals are not counted.
    Defined,
    /// Signals are counted window by window.
    Started,
    /// A window reached the threshold; the request activates at the next window on or after
    /// the minimum activation height.
    LockedIn,
    /// The request is active: submissions to it are taken.
    Active,
    /// The timeout passed without a window reaching the threshold.
    Failed,
}

impl VoteState {
    /// A stable number for the state (0 defined, 1 started, 2 locked in, 3 active, 4 failed).
    pub fn code(self) -> u32 {
        match self {
            VoteState::Defined => 0,
            VoteState::Started => 1,
            VoteState::LockedIn => 2,
            VoteState::Active => 3,
            VoteState::Failed => 4,
        }
    }
}

/// A vote's state for a block and the height of the first block that had it (Bitcoin's
/// `GetStateSinceHeightFor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoteStatus {
    /// The state.
    pub state: VoteState,
    /// The first height of the run of windows in this state (0 for `Defined`).
    pub since: u64,
}

/// The vote that decides whether a dataset request becomes active (see the module docs).
/// Its canonical encoding ([`RequestVote::to_bytes`]) is what its CID names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestVote {
    /// CID of the request voted on ([`super::DatasetRequest::cid`]).
    pub request: Cid,
    /// The signal bit (0 to 28).
    pub bit: u8,
    /// Blocks per window (1 to [`MAX_VOTE_WINDOW`]).
    pub window: u32,
    /// Signalling blocks in a window that lock the request in (1 to `window`).
    pub threshold: u32,
    /// The first height whose window counts signals (a multiple of `window`).
    pub start_height: u64,
    /// The height from which a window that missed the threshold fails the vote (a multiple of
    /// `window`, above `start_height`).
    pub timeout_height: u64,
    /// The earliest height at which a locked-in request becomes active.
    pub min_activation_height: u64,
}

impl RequestVote {
    /// Checks every field's domain.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &'static str, detail: String| Err(Error::InvalidField { what, detail });
        check_bit(self.bit)?;
        if self.window == 0 || self.window > MAX_VOTE_WINDOW {
            return bad(
                "vote window",
                format!("{} outside 1..={MAX_VOTE_WINDOW}", self.window),
            );
        }
        if self.threshold == 0 || self.threshold > self.window {
            return bad(
                "vote threshold",
                format!("{} outside 1..={}", self.threshold, self.window),
            );
        }
        let w = u64::from(self.window);
        if !self.start_height.is_multiple_of(w) || !self.timeout_height.is_multiple_of(w) {
            return bad(
                "vote heights",
                format!(
                    "start {} and timeout {} must be multiples of the window {w}",
                    self.start_height, self.timeout_height
                ),
            );
        }
        if self.start_height >= self.timeout_height {
            return bad(
                "vote heights",
                format!(
                    "start {} not below timeout {}",
                    self.start_height, self.timeout_height
                ),
            );
        }
        Ok(())
    }

    /// Whether a block with signal `word` votes for this request.
    pub fn signalled_by(&self, word: u32) -> bool {
        signalled_bits(word) & (1 << self.bit) != 0
    }

    /// The vote's state for the block at height `words.len()`, where `words[h]` is the signal
    /// word of the chain's block at height `h` (every ancestor of that block, in order). Reads
    /// only the words of windows in the `Started` state: O(`words.len()`) at most.
    pub fn status(&self, words: &[u32]) -> Result<VoteStatus> {
        self.validate()?;
        let w = u64::from(self.window);
        let windows = words.len() as u64 / w;
        let mut status = VoteStatus {
            state: VoteState::Defined,
            since: 0,
        };
        // Windows wholly before the start stay defined: begin at the start's window.
        let mut k = (self.start_height / w).max(1);
        while k <= windows {
            let first = k * w;
            let next = match status.state {
                VoteState::Defined if first >= self.start_height => VoteState::Started,
                VoteState::Started => {
                    let previous = &words[((k - 1) * w) as usize..first as usize];
                    let count = previous.iter().filter(|&&x| self.signalled_by(x)).count();
                    if count as u64 >= u64::from(self.threshold) {
                        VoteState::LockedIn
                    } else if first >= self.timeout_height {
                        VoteState::Failed
                    } else {
                        VoteState::Started
                    }
                }
                VoteState::LockedIn if first >= self.min_activation_height => VoteState::Active,
                VoteState::Active | VoteState::Failed => break,
                state => state,
            };
            if next != status.state {
                status = VoteStatus {
                    state: next,
                    since: first,
                };
            }
            k += 1;
        }
        Ok(status)
    }

    /// The canonical encoding: magic `PWVT`, format version `u32`, request CID
    /// (length-prefixed bytes), bit `u8`, window `u32`, threshold `u32`, start height `u64`,
    /// timeout height `u64`, minimum activation height `u64` (little-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(MAGIC)
            .u32(FORMAT_VERSION)
            .bytes(&self.request.to_bytes())
            .u8(self.bit)
            .u32(self.window)
            .u32(self.threshold);
        e.u64(self.start_height)
            .u64(self.timeout_height)
            .u64(self.min_activation_height);
        e.finish()
    }

    /// Decodes and validates a vote from untrusted bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(MAGIC, "request vote")?;
        let version = d.u32("vote version")?;
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "request vote",
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let vote = RequestVote {
            request: cid_from_bytes(d.bytes("request cid", MAX_CID_BYTES)?)?,
            bit: d.u8("signal bit")?,
            window: d.u32("vote window")?,
            threshold: d.u32("vote threshold")?,
            start_height: d.u64("start height")?,
            timeout_height: d.u64("timeout height")?,
            min_activation_height: d.u64("min activation height")?,
        };
        d.finish()?;
        vote.validate()?;
        Ok(vote)
    }

    /// The CID of the canonical encoding.
    pub fn cid(&self) -> Cid {
        cid_of(&self.to_bytes())
    }
}

/// Checks that no two votes share a bit over overlapping heights (`start_height..timeout_height`),
/// so that a signal word is never counted for two requests.
pub fn check_disjoint(votes: &[RequestVote]) -> Result<()> {
    for (i, a) in votes.iter().enumerate() {
        a.validate()?;
        for b in &votes[i + 1..] {
            let overlap = a.start_height < b.timeout_height && b.start_height < a.timeout_height;
            if a.bit == b.bit && overlap {
                return Err(Error::InvalidField {
                    what: "request votes",
                    detail: format!(
                        "bit {} used by {} and {} over overlapping heights",
                        a.bit, a.request, b.request
                    ),
                });
            }
        }
    }
    Ok(())
}
