//! Paying for accepted records: a deterministic ledger a chain applies block by block, and
//! reverts when a block is reorganised away.
//!
//! ## What it holds
//! - per open request ([`RequestAccount`]): the price of an accepted record, the records it
//!   still pays for (`limit`: the request's target, cut to what its cap pays for) and the
//!   records accepted so far; a request whose limit is reached is *filled* and takes no more;
//! - per submitter: the credits earned (integer units of the chain's choosing) and, through
//!   the [`Reputation`] table, the counts that ban and promote.
//!
//! ## Blocks
//! A [`LedgerBlock`] lists what one chain block did: requests opened (a chain opens one when
//! its vote becomes active, [`super::VoteState::Active`]) and submissions settled, each with
//! its accepted and rejected counts (from the judge's verdicts, which every node recomputes).
//! [`Ledger::apply`] takes a block whose parent is the ledger's tip and either applies every
//! entry or, on the first entry it refuses (unknown or filled request, more accepted records
//! than the request still pays for, banned submitter, arithmetic overflow), none.
//! [`Ledger::revert`] undoes the tip block exactly: every change is an addition of counts, so
//! reverting subtracts them, in reverse order; no undo data is kept. Apply, revert and
//! re-apply give the same bytes ([`Ledger::to_bytes`]).
//!
//! All amounts are `u64` in checked integer arithmetic; nothing depends on floats, threads or
//! the platform.

use super::reputation::{tally, Reputation, ReputationRule, Standing, MAX_SUBMITTERS};
use super::request::{DatasetRequest, MAX_CID_BYTES};
use super::submission::{Verdict, MAX_SUBMITTER_ID};
use crate::codec::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::hash::{tag, tagged_hash, Digest};
use crate::ident::{cid_from_bytes, Cid};
use std::collections::BTreeMap;

const LEDGER_MAGIC: &[u8; 4] = b"PWLG";
const BLOCK_MAGIC: &[u8; 4] = b"PWLB";
const FORMAT_VERSION: u32 = 1;
/// The most open requests a decoded ledger may hold.
pub const MAX_OPEN_REQUESTS: u64 = 1 << 20;
/// The most entries one ledger block may carry.
pub const MAX_BLOCK_ENTRIES: u64 = 1 << 16;

/// What a request pays: `price` credits per accepted record, `cap` credits in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Credits per accepted record (at least 1).
    pub price: u64,
    /// Most credits the request pays in all (at least `price`).
    pub cap: u64,
}

/// An open request's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestAccount {
    /// The request's target count ([`DatasetRequest::target_count`]).
    pub target: u64,
    /// Credits per accepted record.
    pub price: u64,
    /// Records the request pays for: `min(target, cap / price)`.
    pub limit: u64,
    /// Records accepted so far.
    pub accepted: u64,
}

impl RequestAccount {
    /// Records the request still takes.
    pub fn remaining(&self) -> u64 {
        self.limit - self.accepted
    }

    /// Whether the request takes no more records.
    pub fn is_filled(&self) -> bool {
        self.accepted == self.limit
    }

    /// The `accepted_so_far` to give `Judge::check`, so that its verdicts accept no more
    /// records than the budget still pays for (the judge counts against the request's target).
    pub fn accepted_for_judge(&self) -> u64 {
        self.target - self.remaining()
    }
}

/// One change a block makes to the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedgerEntry {
    /// A request opens (its vote became active) with its target and budget.
    Open {
        /// The request's CID.
        request: Cid,
        /// The request's target count.
        target: u64,
        /// What it pays.
        budget: Budget,
    },
    /// A checked submission settles: its accepted records are paid and both counts go to the
    /// submitter's reputation.
    Submission {
        /// The request's CID.
        request: Cid,
        /// The submitter's identifier (1 to 64 bytes).
        submitter: Vec<u8>,
        /// Records accepted.
        accepted: u64,
        /// Records rejected for reasons that count against the submitter.
        rejected: u64,
    },
}

impl LedgerEntry {
    /// Opens `request` with `budget`.
    pub fn open(request: &DatasetRequest, budget: Budget) -> Self {
        LedgerEntry::Open {
            request: request.cid(),
            target: request.target_count,
            budget,
        }
    }

    /// Settles `submitter`'s submission to `request` from the judge's `verdicts` (rejections
    /// that are no fault of the record, such as a filled request, count for nothing).
    pub fn submission(request: &DatasetRequest, submitter: &[u8], verdicts: &[Verdict]) -> Self {
        let (accepted, rejected) = tally(verdicts);
        LedgerEntry::Submission {
            request: request.cid(),
            submitter: submitter.to_vec(),
            accepted,
            rejected,
        }
    }
}

/// What one chain block did to the ledger: its height, its identifier and its parent's (the
/// chain's block hashes), and its entries in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerBlock {
    /// The block's height (the ledger's height plus one when applied).
    pub height: u64,
    /// The block's identifier.
    pub id: Digest,
    /// The parent block's identifier (the ledger's tip when applied).
    pub parent: Digest,
    /// The entries, applied in order.
    pub entries: Vec<LedgerEntry>,
}

impl LedgerBlock {
    /// The canonical encoding: magic `PWLB`, format version `u32`, height `u64`, id and parent
    /// (32 bytes each), entry count `u32`, then each entry: kind `u8` (0 open, 1 submission),
    /// request CID (length-prefixed), then for an open target `u64`, price `u64`, cap `u64`;
    /// for a submission the submitter (length-prefixed), accepted `u64`, rejected `u64`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(BLOCK_MAGIC).u32(FORMAT_VERSION).u64(self.height);
        e.digest(&self.id)
            .digest(&self.parent)
            .len(self.entries.len());
        for entry in &self.entries {
            match entry {
                LedgerEntry::Open {
                    request,
                    target,
                    budget,
                } => {
                    e.u8(0).bytes(&request.to_bytes()).u64(*target);
                    e.u64(budget.price).u64(budget.cap);
                }
                LedgerEntry::Submission {
                    request,
                    submitter,
                    accepted,
                    rejected,
                } => {
                    e.u8(1).bytes(&request.to_bytes()).bytes(submitter);
                    e.u64(*accepted).u64(*rejected);
                }
            }
        }
        e.finish()
    }

    /// Decodes a block from untrusted bytes (entries are checked when applied).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(BLOCK_MAGIC, "ledger block")?;
        check_version(d.u32("ledger block version")?, "ledger block")?;
        let height = d.u64("block height")?;
        let id = d.digest("block id")?;
        let parent = d.digest("parent id")?;
        // An entry is at least a kind, a CID length and 24 bytes of counts.
        let n = d.count("ledger entries", MAX_BLOCK_ENTRIES, 1 + 4 + 24)?;
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            let kind = d.u8("entry kind")?;
            let request = cid_from_bytes(d.bytes("request cid", MAX_CID_BYTES)?)?;
            entries.push(match kind {
                0 => LedgerEntry::Open {
                    request,
                    target: d.u64("target")?,
                    budget: Budget {
                        price: d.u64("price")?,
                        cap: d.u64("cap")?,
                    },
                },
                1 => LedgerEntry::Submission {
                    request,
                    submitter: d.bytes("submitter", MAX_SUBMITTER_ID)?.to_vec(),
                    accepted: d.u64("accepted")?,
                    rejected: d.u64("rejected")?,
                },
                k => {
                    return Err(Error::InvalidField {
                        what: "entry kind",
                        detail: format!("{k}"),
                    })
                }
            });
        }
        d.finish()?;
        Ok(LedgerBlock {
            height,
            id,
            parent,
            entries,
        })
    }
}

/// The ledger: the tip it has applied up to, the open requests, the credits and the
/// reputation table (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ledger {
    height: u64,
    tip: Digest,
    requests: BTreeMap<Vec<u8>, RequestAccount>,
    credits: BTreeMap<Vec<u8>, u64>,
    reputation: Reputation,
}

impl Ledger {
    /// An empty ledger at the chain block `genesis` (height 0) under the reputation `rule`.
    pub fn new(rule: ReputationRule, genesis: Digest) -> Result<Self> {
        Ok(Ledger {
            height: 0,
            tip: genesis,
            requests: BTreeMap::new(),
            credits: BTreeMap::new(),
            reputation: Reputation::new(rule)?,
        })
    }

    /// The height of the last applied block.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The identifier of the last applied block.
    pub fn tip(&self) -> Digest {
        self.tip
    }

    /// An open request's account.
    pub fn request(&self, request: &Cid) -> Option<RequestAccount> {
        self.requests.get(&request.to_bytes()).copied()
    }

    /// The credits `submitter` has earned (0 when unknown).
    pub fn credits(&self, submitter: &[u8]) -> u64 {
        self.credits.get(submitter).copied().unwrap_or(0)
    }

    /// The reputation table.
    pub fn reputation(&self) -> &Reputation {
        &self.reputation
    }

    /// Applies `block` on top of the tip: all its entries, or on error none (see the module
    /// docs for what is refused).
    pub fn apply(&mut self, block: &LedgerBlock) -> Result<()> {
        if block.parent != self.tip || Some(block.height) != self.height.checked_add(1) {
            return Err(Error::LedgerRefused(format!(
                "the block at height {} does not extend the ledger's tip at height {}",
                block.height, self.height
            )));
        }
        for (i, entry) in block.entries.iter().enumerate() {
            if let Err(e) = self.apply_entry(entry) {
                for done in block.entries[..i].iter().rev() {
                    let undone = self.revert_entry(done);
                    debug_assert!(undone.is_ok(), "an entry just applied reverts");
                }
                return Err(e);
            }
        }
        self.height = block.height;
        self.tip = block.id;
        Ok(())
    }

    /// Reverts the tip block `block` (the same block that was applied; its parent becomes the
    /// tip). Refused, with the ledger unchanged, for any other block.
    pub fn revert(&mut self, block: &LedgerBlock) -> Result<()> {
        if block.id != self.tip || block.height != self.height || block.height == 0 {
            return Err(Error::LedgerRefused(format!(
                "the block at height {} is not the ledger's tip (height {})",
                block.height, self.height
            )));
        }
        for (i, entry) in block.entries.iter().enumerate().rev() {
            if let Err(e) = self.revert_entry(entry) {
                for undone in &block.entries[i + 1..] {
                    let redone = self.restore_entry(undone);
                    debug_assert!(redone.is_ok(), "an entry just reverted applies again");
                }
                return Err(e);
            }
        }
        self.height = block.height - 1;
        self.tip = block.parent;
        Ok(())
    }

    fn apply_entry(&mut self, entry: &LedgerEntry) -> Result<()> {
        if let LedgerEntry::Submission { submitter, .. } = entry {
            if self.reputation.standing(submitter) == Standing::Banned {
                return Err(refused("the submitter is banned"));
            }
        }
        self.restore_entry(entry)
    }

    /// Applies an entry without the ban check (re-applying what a failed revert undid).
    fn restore_entry(&mut self, entry: &LedgerEntry) -> Result<()> {
        match entry {
            LedgerEntry::Open {
                request,
                target,
                budget,
            } => {
                let key = request.to_bytes();
                if self.requests.contains_key(&key) {
                    return Err(refused("the request is already open"));
                }
                if *target == 0 || budget.price == 0 || budget.cap < budget.price {
                    return Err(Error::InvalidField {
                        what: "request budget",
                        detail: format!(
                            "target {target}, price {}, cap {}",
                            budget.price, budget.cap
                        ),
                    });
                }
                if self.requests.len() as u64 >= MAX_OPEN_REQUESTS {
                    return Err(refused("too many open requests"));
                }
                let account = RequestAccount {
                    target: *target,
                    price: budget.price,
                    limit: (*target).min(budget.cap / budget.price),
                    accepted: 0,
                };
                self.requests.insert(key, account);
            }
            LedgerEntry::Submission {
                request,
                submitter,
                accepted,
                rejected,
            } => {
                let key = request.to_bytes();
                let account = self
                    .requests
                    .get(&key)
                    .copied()
                    .ok_or_else(|| refused("the request is not open"))?;
                if account.is_filled() {
                    return Err(refused("the request is filled"));
                }
                if *accepted > account.remaining() {
                    return Err(refused("more records accepted than the request pays for"));
                }
                let earned = accepted * account.price;
                let credit = self
                    .credits(submitter)
                    .checked_add(earned)
                    .ok_or_else(|| refused("credits overflow"))?;
                self.reputation.add_exact(submitter, *accepted, *rejected)?;
                if earned > 0 {
                    self.credits.insert(submitter.clone(), credit);
                }
                self.requests.insert(
                    key,
                    RequestAccount {
                        accepted: account.accepted + accepted,
                        ..account
                    },
                );
            }
        }
        Ok(())
    }

    fn revert_entry(&mut self, entry: &LedgerEntry) -> Result<()> {
        match entry {
            LedgerEntry::Open { request, .. } => {
                let key = request.to_bytes();
                match self.requests.get(&key) {
                    Some(a) if a.accepted == 0 => {
                        self.requests.remove(&key);
                    }
                    _ => return Err(refused("the request was not opened by this block")),
                }
            }
            LedgerEntry::Submission {
                request,
                submitter,
                accepted,
                rejected,
            } => {
                let key = request.to_bytes();
                let account = self
                    .requests
                    .get(&key)
                    .copied()
                    .filter(|a| a.accepted >= *accepted)
                    .ok_or_else(|| refused("the submission was not applied"))?;
                let earned = accepted * account.price;
                let credit = self
                    .credits(submitter)
                    .checked_sub(earned)
                    .ok_or_else(|| refused("the submission was not applied"))?;
                self.reputation
                    .subtract_exact(submitter, *accepted, *rejected)?;
                if credit == 0 {
                    self.credits.remove(submitter);
                } else {
                    self.credits.insert(submitter.clone(), credit);
                }
                self.requests.insert(
                    key,
                    RequestAccount {
                        accepted: account.accepted - accepted,
                        ..account
                    },
                );
            }
        }
        Ok(())
    }

    /// The canonical encoding: magic `PWLG`, format version `u32`, height `u64`, tip (32
    /// bytes), the reputation table's encoding (length-prefixed), request count `u32` then per
    /// request in ascending CID-byte order: CID (length-prefixed), target, price, limit,
    /// accepted (`u64` each); credit count `u32` then per submitter in ascending identifier
    /// order: identifier (length-prefixed), credits `u64`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(LEDGER_MAGIC).u32(FORMAT_VERSION).u64(self.height);
        e.digest(&self.tip).bytes(&self.reputation.to_bytes());
        e.len(self.requests.len());
        for (cid, a) in &self.requests {
            e.bytes(cid).u64(a.target).u64(a.price).u64(a.limit);
            e.u64(a.accepted);
        }
        e.len(self.credits.len());
        for (id, c) in &self.credits {
            e.bytes(id).u64(*c);
        }
        e.finish()
    }

    /// Decodes and validates a ledger from untrusted bytes: keys strictly ascending, every
    /// account consistent (`accepted <= limit <= target`, price at least 1), no zero credit.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(LEDGER_MAGIC, "ledger")?;
        check_version(d.u32("ledger version")?, "ledger")?;
        let height = d.u64("ledger height")?;
        let tip = d.digest("ledger tip")?;
        let reputation = Reputation::from_bytes(d.bytes("reputation", u64::from(u32::MAX))?)?;
        let n = d.count("open requests", MAX_OPEN_REQUESTS, 4 + 32)?;
        let mut requests = BTreeMap::new();
        for _ in 0..n {
            let key = d.bytes("request cid", MAX_CID_BYTES)?.to_vec();
            cid_from_bytes(&key)?;
            let a = RequestAccount {
                target: d.u64("target")?,
                price: d.u64("price")?,
                limit: d.u64("limit")?,
                accepted: d.u64("accepted")?,
            };
            if a.price == 0 || a.accepted > a.limit || a.limit > a.target {
                return Err(Error::InvalidField {
                    what: "request account",
                    detail: format!("{a:?}"),
                });
            }
            insert_ascending(&mut requests, key, a, "open requests")?;
        }
        let n = d.count("credits", MAX_SUBMITTERS, 4 + 1 + 8)?;
        let mut credits = BTreeMap::new();
        for _ in 0..n {
            let id = d.bytes("submitter", MAX_SUBMITTER_ID)?.to_vec();
            let c = d.u64("credits")?;
            if id.is_empty() || c == 0 {
                return Err(Error::InvalidField {
                    what: "credits",
                    detail: "empty identifier or zero credits".into(),
                });
            }
            insert_ascending(&mut credits, id, c, "credits")?;
        }
        d.finish()?;
        Ok(Ledger {
            height,
            tip,
            requests,
            credits,
            reputation,
        })
    }

    /// `H("pouw/ledger", encoding)`: the digest a chain commits to.
    pub fn digest(&self) -> Digest {
        tagged_hash(tag::LEDGER, &[&self.to_bytes()])
    }
}

fn refused(why: &str) -> Error {
    Error::LedgerRefused(why.to_owned())
}

fn check_version(found: u32, what: &'static str) -> Result<()> {
    if found != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion {
            what,
            found,
            supported: FORMAT_VERSION,
        });
    }
    Ok(())
}

fn insert_ascending<V>(
    map: &mut BTreeMap<Vec<u8>, V>,
    key: Vec<u8>,
    value: V,
    what: &'static str,
) -> Result<()> {
    if map.last_key_value().is_some_and(|(last, _)| *last >= key) {
        return Err(Error::InvalidField {
            what,
            detail: "keys not strictly ascending".into(),
        });
    }
    map.insert(key, value);
    Ok(())
}
