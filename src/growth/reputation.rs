//! Submitter reputation: accepted and rejected counts per submitter, and the rule that bans and
//! promotes, as plain data a chain persists in its state.
//!
//! ## The rule
//! With `a` accepted and `r` rejected records (rejections that [count against the
//! submitter](super::Rejection::counts_against)), `n = a + r`:
//! - **banned** when `r >= ban_min_rejected` and `1000 r > ban_rejected_per_mille * n`
//!   (enough rejections, and a rejection rate over the ban rate);
//! - else **promoted** when `a >= promote_min_accepted` and
//!   `1000 r < promote_rejected_per_mille * n` (enough accepted records at a low rejection rate);
//! - else **normal**.
//!
//! The standing is a pure function of the counts and the rule, in integer arithmetic. A chain
//! refuses submissions from banned submitters, so their counts (and their ban) stay put; what a
//! promotion earns (priority, larger submissions, a reward multiplier) is the chain's policy.

use super::submission::{Verdict, MAX_SUBMITTER_ID};
use crate::codec::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::hash::{tag, tagged_hash, Digest};
use std::collections::BTreeMap;

const MAGIC: &[u8; 4] = b"PWRP";
const FORMAT_VERSION: u32 = 1;
/// The most submitters a decoded table may hold.
pub const MAX_SUBMITTERS: u64 = 1 << 24;

/// The parameters of the ban and promotion rule (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReputationRule {
    /// Fewest rejections before a ban (at least 1).
    pub ban_min_rejected: u64,
    /// Rejection rate, in thousandths, above which a submitter is banned.
    pub ban_rejected_per_mille: u32,
    /// Fewest accepted records before a promotion.
    pub promote_min_accepted: u64,
    /// Rejection rate, in thousandths, below which a submitter is promoted (at most the ban rate).
    pub promote_rejected_per_mille: u32,
}

impl Default for ReputationRule {
    /// Banned after 20 rejections at a rejection rate over 50%; promoted after 100 accepted
    /// records at a rejection rate under 10% (an honest submitter of real digits is rejected
    /// about 2-4% of the time, see the growth tests).
    fn default() -> Self {
        ReputationRule {
            ban_min_rejected: 20,
            ban_rejected_per_mille: 500,
            promote_min_accepted: 100,
            promote_rejected_per_mille: 100,
        }
    }
}

impl ReputationRule {
    /// Checks the fields' domains.
    pub fn validate(&self) -> Result<()> {
        let ok = self.ban_min_rejected >= 1
            && self.ban_rejected_per_mille <= 1000
            && self.promote_rejected_per_mille <= self.ban_rejected_per_mille;
        if !ok {
            return Err(Error::InvalidField {
                what: "reputation rule",
                detail: format!("{self:?}"),
            });
        }
        Ok(())
    }

    /// The standing of a submitter with these counts.
    pub fn standing(&self, counts: &SubmitterCounts) -> Standing {
        let (a, r) = (u128::from(counts.accepted), u128::from(counts.rejected));
        let n = a + r;
        if counts.rejected >= self.ban_min_rejected
            && r * 1000 > u128::from(self.ban_rejected_per_mille) * n
        {
            Standing::Banned
        } else if counts.accepted >= self.promote_min_accepted
            && r * 1000 < u128::from(self.promote_rejected_per_mille) * n
        {
            Standing::Promoted
        } else {
            Standing::Normal
        }
    }
}

/// A submitter's record so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubmitterCounts {
    /// Records accepted.
    pub accepted: u64,
    /// Records rejected (reasons that count against the submitter).
    pub rejected: u64,
}

/// Where a submitter stands under the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Submissions are refused.
    Banned,
    /// Neither banned nor promoted.
    Normal,
    /// A reliable submitter.
    Promoted,
}

/// The reputation table: the rule and every submitter's counts, keyed by submitter identifier
/// (sorted, so the encoding is canonical). Submitters with no counted record are absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reputation {
    rule: ReputationRule,
    submitters: BTreeMap<Vec<u8>, SubmitterCounts>,
}

impl Reputation {
    /// An empty table under `rule`.
    pub fn new(rule: ReputationRule) -> Result<Self> {
        rule.validate()?;
        Ok(Reputation {
            rule,
            submitters: BTreeMap::new(),
        })
    }

    /// The rule.
    pub fn rule(&self) -> &ReputationRule {
        &self.rule
    }

    /// A submitter's counts (zero when unknown).
    pub fn counts(&self, submitter: &[u8]) -> SubmitterCounts {
        self.submitters.get(submitter).copied().unwrap_or_default()
    }

    /// A submitter's standing.
    pub fn standing(&self, submitter: &[u8]) -> Standing {
        self.rule.standing(&self.counts(submitter))
    }

    /// Every submitter and its counts, in identifier order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &SubmitterCounts)> {
        self.submitters.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// Number of submitters in the table.
    pub fn len(&self) -> usize {
        self.submitters.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.submitters.is_empty()
    }

    /// Adds `accepted` and `rejected` records to a submitter's counts (saturating) and returns
    /// its new standing. Refused for a banned submitter (the chain should not have checked its
    /// submission) or an identifier of the wrong length.
    pub fn add(&mut self, submitter: &[u8], accepted: u64, rejected: u64) -> Result<Standing> {
        check_submitter(submitter)?;
        if self.standing(submitter) == Standing::Banned {
            return Err(Error::InvalidParameters("submitter is banned".into()));
        }
        if accepted == 0 && rejected == 0 {
            return Ok(self.standing(submitter));
        }
        let c = self.submitters.entry(submitter.to_vec()).or_default();
        c.accepted = c.accepted.saturating_add(accepted);
        c.rejected = c.rejected.saturating_add(rejected);
        Ok(self.standing(submitter))
    }

    /// Adds counts exactly (checked, no ban check): the ledger's settlement, which checks the
    /// ban itself and must be able to subtract what it added.
    pub(crate) fn add_exact(
        &mut self,
        submitter: &[u8],
        accepted: u64,
        rejected: u64,
    ) -> Result<()> {
        check_submitter(submitter)?;
        let c = self.counts(submitter);
        let next = SubmitterCounts {
            accepted: c.accepted.checked_add(accepted).ok_or_else(overflow)?,
            rejected: c.rejected.checked_add(rejected).ok_or_else(overflow)?,
        };
        self.set(submitter, next);
        Ok(())
    }

    /// Subtracts counts added by [`Reputation::add_exact`]; refused when they are not there.
    pub(crate) fn subtract_exact(
        &mut self,
        submitter: &[u8],
        accepted: u64,
        rejected: u64,
    ) -> Result<()> {
        let c = self.counts(submitter);
        let next = SubmitterCounts {
            accepted: c.accepted.checked_sub(accepted).ok_or_else(underflow)?,
            rejected: c.rejected.checked_sub(rejected).ok_or_else(underflow)?,
        };
        self.set(submitter, next);
        Ok(())
    }

    fn set(&mut self, submitter: &[u8], counts: SubmitterCounts) {
        if counts == SubmitterCounts::default() {
            self.submitters.remove(submitter);
        } else {
            self.submitters.insert(submitter.to_vec(), counts);
        }
    }

    /// Counts a submission's verdicts for its submitter (see [`Reputation::add`]).
    pub fn record(&mut self, submitter: &[u8], verdicts: &[Verdict]) -> Result<Standing> {
        let (accepted, rejected) = tally(verdicts);
        self.add(submitter, accepted, rejected)
    }

    /// The canonical encoding: magic `PWRP`, format version `u32`, the rule (`u64` ban minimum,
    /// `u32` ban rate, `u64` promotion minimum, `u32` promotion rate), submitter count `u32`,
    /// then per submitter in ascending identifier order: identifier (length-prefixed bytes),
    /// accepted `u64`, rejected `u64`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(MAGIC).u32(FORMAT_VERSION);
        e.u64(self.rule.ban_min_rejected)
            .u32(self.rule.ban_rejected_per_mille);
        e.u64(self.rule.promote_min_accepted)
            .u32(self.rule.promote_rejected_per_mille);
        e.len(self.submitters.len());
        for (id, c) in &self.submitters {
            e.bytes(id).u64(c.accepted).u64(c.rejected);
        }
        e.finish()
    }

    /// Decodes and validates a table from untrusted bytes: identifiers strictly ascending and
    /// of 1 to 64 bytes, no submitter with zero counts, a valid rule.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(MAGIC, "reputation")?;
        let version = d.u32("reputation version")?;
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "reputation",
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let rule = ReputationRule {
            ban_min_rejected: d.u64("ban min rejected")?,
            ban_rejected_per_mille: d.u32("ban rate")?,
            promote_min_accepted: d.u64("promote min accepted")?,
            promote_rejected_per_mille: d.u32("promote rate")?,
        };
        rule.validate()?;
        let n = d.count("submitters", MAX_SUBMITTERS, 4 + 1 + 16)?;
        let mut submitters = BTreeMap::new();
        let mut last: Option<Vec<u8>> = None;
        for _ in 0..n {
            let id = d.bytes("submitter", MAX_SUBMITTER_ID)?.to_vec();
            let counts = SubmitterCounts {
                accepted: d.u64("accepted")?,
                rejected: d.u64("rejected")?,
            };
            if id.is_empty() || counts == SubmitterCounts::default() {
                return Err(Error::InvalidField {
                    what: "submitter",
                    detail: "empty identifier or zero counts".into(),
                });
            }
            if last.as_ref().is_some_and(|l| *l >= id) {
                return Err(Error::InvalidField {
                    what: "submitter",
                    detail: "identifiers not strictly ascending".into(),
                });
            }
            last = Some(id.clone());
            submitters.insert(id, counts);
        }
        d.finish()?;
        Ok(Reputation { rule, submitters })
    }

    /// `H("pouw/reputation", encoding)`: the digest a chain commits to.
    pub fn digest(&self) -> Digest {
        tagged_hash(tag::REPUTATION, &[&self.to_bytes()])
    }
}

fn check_submitter(submitter: &[u8]) -> Result<()> {
    if submitter.is_empty() || submitter.len() as u64 > MAX_SUBMITTER_ID {
        return Err(Error::InvalidField {
            what: "submitter",
            detail: format!("{} bytes", submitter.len()),
        });
    }
    Ok(())
}

fn overflow() -> Error {
    Error::InvalidParameters("reputation counts overflow".into())
}

fn underflow() -> Error {
    Error::InvalidParameters("reputation counts were not added".into())
}

/// The records a submission's verdicts count for its submitter (accepted) and against it
/// (rejections that [count against](super::Rejection::counts_against) it).
pub(crate) fn tally(verdicts: &[Verdict]) -> (u64, u64) {
    let accepted = verdicts.iter().filter(|v| v.is_accepted()).count() as u64;
    let rejected = verdicts
        .iter()
        .filter(|v| matches!(v, Verdict::Rejected(r) if r.counts_against()))
        .count() as u64;
    (accepted, rejected)
}
