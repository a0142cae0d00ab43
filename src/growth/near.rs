//! The near-copy rule's scan: a record compared with every dataset record and every earlier
//! record of its submission, counting the elements that lie more than a tolerance apart and
//! stopping once more than the rule's share do (at each of the rule's points, [`Nearness`]).

use rayon::prelude::*;

/// The dataset side of the near-copy rule: the records themselves (a near copy differs from
/// its record in a few elements anywhere, which no hash of the record finds).
///
/// Records are kept with their elements in [`NearCopies::order`], the positions where the
/// dataset's records vary most first, and every record compared with them is put in that
/// order too: the count of differing elements is the same in any order, but a comparison
/// with a record that is no near copy stops after fewer elements (the digits' blank border
/// last).
#[derive(Clone, Debug)]
pub(super) struct NearCopies {
    /// When two records lie near: at any of these points (none with the rule off).
    pub(super) points: Vec<Nearness>,
    /// Element positions by the dataset's variance at each, largest first (ties in position
    /// order), as the index was built; empty with the rule off.
    pub(super) order: Vec<u32>,
    /// The records' bytes in `order`, concatenated in index order (empty with the rule off).
    pub(super) records: Vec<u8>,
    /// The first [`HEAD`] elements of each record in `order` (zero-padded): a scan compares
    /// these first, and the whole record only when the head alone does not already differ in
    /// more elements than the rule allows.
    pub(super) heads: Heads,
}

/// One point of a near-copy rule: two records lie near when their elements lie more than
/// `tolerance` apart in at most `per_mille` thousandths of them (rounded down). A patched copy
/// lies near its record at a small tolerance and a share; a copy with a little noise on every
/// element at a larger tolerance and a smaller share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Nearness {
    pub(super) per_mille: u32,
    pub(super) tolerance: u32,
}

impl Nearness {
    /// The points of `(per_mille, tolerance)` pairs that are on (a share of 0 is off).
    pub(super) fn points(pairs: &[(u32, u32)]) -> Vec<Nearness> {
        pairs
            .iter()
            .filter(|(per_mille, _)| *per_mille > 0)
            .map(|&(per_mille, tolerance)| Nearness {
                per_mille,
                tolerance,
            })
            .collect()
    }

    /// The tolerance as an element value (below `value_max`, at most 255, for a valid request).
    fn tolerance(&self) -> u8 {
        u8::try_from(self.tolerance).unwrap_or(u8::MAX)
    }

    /// The most elements of a record of `size` that may lie apart.
    fn allowance(&self, size: usize) -> usize {
        size * self.per_mille as usize / 1000
    }

    /// The point as a tolerance and an allowance for records of `size`.
    fn bounds(&self, size: usize) -> (u8, usize) {
        (self.tolerance(), self.allowance(size))
    }
}

/// A rule's points as tolerances and allowances for records of one size (at most
/// [`MAX_POINTS`]), kept inline: a scan makes one per record and transform.
#[derive(Clone, Copy, Debug)]
struct Bounds {
    points: [(u8, usize); MAX_POINTS],
    len: usize,
}

/// The most points a near-copy rule has (the patched copies' and the noisy copies').
const MAX_POINTS: usize = 2;

impl Bounds {
    /// The tolerances and allowances of `points` (beyond [`MAX_POINTS`] ignored: no rule has
    /// more) for records of `size`.
    fn of(points: &[Nearness], size: usize) -> Self {
        let mut bounds = Bounds {
            points: [(0, 0); MAX_POINTS],
            len: points.len().min(MAX_POINTS),
        };
        for (b, p) in bounds.points.iter_mut().zip(points) {
            *b = p.bounds(size);
        }
        bounds
    }

    fn as_slice(&self) -> &[(u8, usize)] {
        &self.points[..self.len]
    }
}

/// Elements of a record the near-copy scan compares first ([`NearCopies::heads`]).
const HEAD: usize = 16;

/// The first [`HEAD`] elements of `record`, zero-padded.
fn head_of(record: &[u8]) -> [u8; HEAD] {
    let mut head = [0u8; HEAD];
    for (h, &v) in head.iter_mut().zip(record) {
        *h = v;
    }
    head
}

/// Records' heads, [`BLOCK`] records side by side: element `e` of the heads of records
/// `BLOCK * b ..` lies in `blocks[b][e]`, one byte per record, so that a head is compared with
/// [`BLOCK`] records at once ([`block_agreeing`]).
#[derive(Clone, Debug, Default)]
pub(super) struct Heads {
    blocks: Vec<[[u8; BLOCK]; HEAD]>,
    len: usize,
}

/// Records per block of [`Heads`].
const BLOCK: usize = 16;

impl Heads {
    /// The heads of `records` (of `size` elements each, in the near-copy order).
    fn of(records: &[u8], size: usize) -> Self {
        let mut heads = Heads::default();
        for record in records.chunks_exact(size.max(1)) {
            heads.push(&head_of(record));
        }
        heads
    }

    /// Adds a head after the others.
    fn push(&mut self, head: &[u8; HEAD]) {
        let lane = self.len % BLOCK;
        if lane == 0 {
            self.blocks.push([[0u8; BLOCK]; HEAD]);
        }
        if let Some(block) = self.blocks.last_mut() {
            for (element, &v) in block.iter_mut().zip(head) {
                element[lane] = v;
            }
        }
        self.len += 1;
    }

    /// The records (ascending) whose heads differ from `head`, at one of `bounds` (a tolerance
    /// and an allowance each), in at most the allowance of elements more than the tolerance
    /// apart: every record a near copy of the head's can be (the padding of two heads is
    /// equal).
    fn close_to(&self, head: [u8; HEAD], bounds: Bounds) -> impl Iterator<Item = usize> + '_ {
        // Heads that agree on at least this many elements, at each point.
        let agreeing = |(tolerance, allowance): (u8, usize)| {
            (
                tolerance,
                u8::try_from(HEAD.saturating_sub(allowance)).unwrap_or(0),
            )
        };
        let first = agreeing(bounds.points[0]);
        let second = (bounds.len > 1).then(|| agreeing(bounds.points[1]));
        self.blocks.iter().enumerate().flat_map(move |(b, block)| {
            let filled = (self.len - b * BLOCK).min(BLOCK);
            let mask = match second {
                None => block_agreeing(block, &head, first.0, first.1),
                Some(second) => block_agreeing_either(block, &head, first, second),
            };
            let mut mask = mask & ((1u32 << filled) - 1);
            std::iter::from_fn(move || {
                (mask != 0).then(|| {
                    let lane = mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    b * BLOCK + lane
                })
            })
        })
    }
}

/// Bit `r` set when the head of record `r` of `block` agrees with `head` (lies within
/// `tolerance`) on at least `agreeing` elements. With SSE2 (every x86-64 machine) the
/// [`BLOCK`] records are compared at once, element by element; elsewhere
/// [`block_agreeing_portable`]. Both give the same mask (exact byte arithmetic).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_agreeing(
    block: &[[u8; BLOCK]; HEAD],
    head: &[u8; HEAD],
    tolerance: u8,
    agreeing: u8,
) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_min_epu8,
        _mm_movemask_epi8, _mm_set1_epi8, _mm_setzero_si128, _mm_sub_epi8, _mm_subs_epu8,
    };
    if agreeing == 0 {
        return (1 << BLOCK) - 1;
    }
    // SAFETY: SSE2 is part of the x86-64 baseline; each load reads one 16-byte array.
    unsafe {
        let tolerance = _mm_set1_epi8(tolerance as i8);
        let zero = _mm_setzero_si128();
        let mut agree = zero;
        for (element, &q) in block.iter().zip(head) {
            let v = _mm_loadu_si128(element.as_ptr().cast());
            let q = _mm_set1_epi8(q as i8);
            let apart = _mm_sub_epi8(_mm_max_epu8(v, q), _mm_min_epu8(v, q));
            // 0xff (-1) where within the tolerance: subtracting it counts one.
            let within = _mm_cmpeq_epi8(_mm_subs_epu8(apart, tolerance), zero);
            agree = _mm_sub_epi8(agree, within);
        }
        // Counts are 0..=16: a signed comparison is exact.
        let enough = _mm_cmpgt_epi8(agree, _mm_set1_epi8((agreeing - 1) as i8));
        _mm_movemask_epi8(enough) as u32
    }
}

/// [`block_agreeing`] on machines without SSE2.
#[cfg(not(target_arch = "x86_64"))]
fn block_agreeing(
    block: &[[u8; BLOCK]; HEAD],
    head: &[u8; HEAD],
    tolerance: u8,
    agreeing: u8,
) -> u32 {
    block_agreeing_portable(block, head, tolerance, agreeing)
}

/// Bit `r` set when the head of record `r` of `block` agrees with `head` at either of two
/// points (`(tolerance, agreeing)` each, as for [`block_agreeing`]): the two masks of
/// [`block_agreeing`] or'ed, each difference computed once. With SSE2 (every x86-64 machine)
/// the [`BLOCK`] records at once; elsewhere the two masks of [`block_agreeing_portable`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_agreeing_either(
    block: &[[u8; BLOCK]; HEAD],
    head: &[u8; HEAD],
    first: (u8, u8),
    second: (u8, u8),
) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_min_epu8,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_setzero_si128, _mm_sub_epi8,
        _mm_subs_epu8,
    };
    if first.1 == 0 || second.1 == 0 {
        return (1 << BLOCK) - 1;
    }
    // SAFETY: SSE2 is part of the x86-64 baseline; each load reads one 16-byte array.
    unsafe {
        let (t1, t2) = (_mm_set1_epi8(first.0 as i8), _mm_set1_epi8(second.0 as i8));
        let zero = _mm_setzero_si128();
        let (mut agree1, mut agree2) = (zero, zero);
        for (element, &q) in block.iter().zip(head) {
            let v = _mm_loadu_si128(element.as_ptr().cast());
            let q = _mm_set1_epi8(q as i8);
            let apart = _mm_sub_epi8(_mm_max_epu8(v, q), _mm_min_epu8(v, q));
            // 0xff (-1) where within each tolerance: subtracting it counts one.
            agree1 = _mm_sub_epi8(agree1, _mm_cmpeq_epi8(_mm_subs_epu8(apart, t1), zero));
            agree2 = _mm_sub_epi8(agree2, _mm_cmpeq_epi8(_mm_subs_epu8(apart, t2), zero));
        }
        // Counts are 0..=16: a signed comparison is exact.
        let enough1 = _mm_cmpgt_epi8(agree1, _mm_set1_epi8((first.1 - 1) as i8));
        let enough2 = _mm_cmpgt_epi8(agree2, _mm_set1_epi8((second.1 - 1) as i8));
        _mm_movemask_epi8(_mm_or_si128(enough1, enough2)) as u32
    }
}

/// [`block_agreeing_either`] on machines without SSE2.
#[cfg(not(target_arch = "x86_64"))]
fn block_agreeing_either(
    block: &[[u8; BLOCK]; HEAD],
    head: &[u8; HEAD],
    first: (u8, u8),
    second: (u8, u8),
) -> u32 {
    block_agreeing_portable(block, head, first.0, first.1)
        | block_agreeing_portable(block, head, second.0, second.1)
}

/// [`block_agreeing`] record by record, for any machine.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn block_agreeing_portable(
    block: &[[u8; BLOCK]; HEAD],
    head: &[u8; HEAD],
    tolerance: u8,
    agreeing: u8,
) -> u32 {
    let mut mask = 0u32;
    for lane in 0..BLOCK {
        let agree = block
            .iter()
            .zip(head)
            .filter(|(element, &q)| element[lane].abs_diff(q) <= tolerance)
            .count();
        mask |= u32::from(agree >= usize::from(agreeing)) << lane;
    }
    mask
}

/// Dataset bytes from which the near-copy scan runs on the rayon pool (in tasks of at least
/// 64 KiB of comparisons); smaller datasets are scanned on the calling thread.
const PARALLEL_SCAN_BYTES: usize = 1 << 20;

/// The first dataset record (in index order) `record` (in the near-copy order) is a near copy
/// of, with the elements that differ; `None` with the rule off.
pub(super) fn near_in_dataset(near: &NearCopies, record: &[u8]) -> Option<(u64, u32)> {
    let within = near.within(record)?;
    let size = record.len();
    let i = if near.records.len() < PARALLEL_SCAN_BYTES {
        // Handing a small scan to the pool costs more than the scan. Heads first.
        near.heads
            .close_to(head_of(record), near.bounds(size))
            .find(|&i| within(&near.records[i * size..(i + 1) * size]).is_some())
    } else {
        near.records
            .par_chunks_exact(record.len())
            .with_min_len(((1 << 16) / record.len().max(1)).max(1))
            .position_first(|other| within(other).is_some())
    }?;
    let other = &near.records[i * record.len()..(i + 1) * record.len()];
    Some((i as u64, within(other).unwrap_or(0)))
}

/// The first earlier record of the submission (of the record's size; both in the near-copy
/// order) `record` is a near copy of, with the elements that differ; `None` with the rule off.
pub(super) fn near_in_earlier(
    near: &NearCopies,
    earlier: &Earlier,
    record: &[u8],
    ordered: &[u8],
) -> Option<(u32, u32)> {
    // The records in their own order: the count does not depend on it.
    let within = near.within(record)?;
    earlier
        .heads
        .close_to(head_of(ordered), near.bounds(record.len()))
        .find_map(|first| {
            let other = earlier.records.get(first)?;
            let differing = (other.len() == record.len())
                .then(|| within(other))
                .flatten()?;
            Some((first as u32, differing))
        })
}

/// A submission's records (in their own order) and the heads, in the near-copy order, of
/// those checked so far: the earlier records of the next one.
pub(super) struct Earlier<'a> {
    records: &'a [Vec<u8>],
    heads: Heads,
}

impl<'a> Earlier<'a> {
    /// None of `records` checked yet.
    pub(super) fn new(records: &'a [Vec<u8>]) -> Self {
        Earlier {
            records,
            heads: Heads::default(),
        }
    }

    /// The next record was checked: `ordered` is it in the near-copy order (any bytes for a
    /// record of another size, which no comparison reaches).
    pub(super) fn push_head(&mut self, ordered: &[u8]) {
        self.heads.push(&head_of(ordered));
    }
}

impl NearCopies {
    /// Sets [`NearCopies::order`] from the records (of `size` elements, in their own order)
    /// and puts each of them in it. The variances are compared exactly (integer sums).
    pub(super) fn order_by_variance(&mut self, size: usize) {
        let (mut sums, mut squares) = (vec![0u64; size], vec![0u64; size]);
        for record in self.records.chunks_exact(size) {
            for ((s, q), &v) in sums.iter_mut().zip(squares.iter_mut()).zip(record) {
                *s += u64::from(v);
                *q += u64::from(v) * u64::from(v);
            }
        }
        let n = (self.records.len() / size.max(1)) as u128;
        // n^2 times the variance: n * sum(v^2) - sum(v)^2 (not negative).
        let spread = |p: usize| n * u128::from(squares[p]) - u128::from(sums[p]).pow(2);
        let mut order: Vec<u32> = (0..size as u32).collect();
        order.sort_by(|&a, &b| spread(b as usize).cmp(&spread(a as usize)).then(a.cmp(&b)));
        self.order = order;
        let mut ordered = vec![0u8; size];
        for record in self.records.chunks_exact_mut(size) {
            for (o, &p) in ordered.iter_mut().zip(&self.order) {
                *o = record[p as usize];
            }
            record.copy_from_slice(&ordered);
        }
        self.heads = Heads::of(&self.records, size);
    }

    /// Adds a record (in its own order) after the others, in [`NearCopies::order`].
    pub(super) fn push(&mut self, record: &[u8]) {
        let mut ordered = vec![0u8; record.len()];
        self.put_in_order(record, &mut ordered);
        self.records.extend_from_slice(&ordered);
        self.heads.push(&head_of(&ordered));
    }

    /// Writes `record`'s elements into `out` (same length) in [`NearCopies::order`] (as they
    /// are when the order is empty: the rule is off).
    pub(super) fn put_in_order(&self, record: &[u8], out: &mut [u8]) {
        if self.order.len() != record.len() {
            out.copy_from_slice(record);
            return;
        }
        for (o, &p) in out.iter_mut().zip(&self.order) {
            *o = record[p as usize];
        }
    }

    /// Whether the rule is on (it has a point).
    pub(super) fn is_on(&self) -> bool {
        !self.points.is_empty()
    }

    /// The rule's points as tolerances and allowances for records of `size`.
    fn bounds(&self, size: usize) -> Bounds {
        Bounds::of(&self.points, size)
    }

    /// The near-copy comparison with `record` (in [`NearCopies::order`]: the elements lying
    /// apart at the first of the rule's points within whose allowance they stay, or `None`
    /// beyond every point's allowance); `None` with the rule off.
    fn within<'a>(&self, record: &'a [u8]) -> Option<impl Fn(&[u8]) -> Option<u32> + Sync + 'a> {
        if !self.is_on() {
            return None;
        }
        let bounds = self.bounds(record.len());
        Some(move |other: &[u8]| match bounds.as_slice() {
            [(tolerance, allowance)] => differing_within(record, other, *tolerance, *allowance),
            [first, second] => differing_within_either(record, other, *first, *second),
            _ => None,
        })
    }
}

/// How many elements of `a` and `b` (of one length) lie more than `tolerance` apart, or `None`
/// once more than `allowance` do. With SSE2 (every x86-64 machine) counted 16 elements at a
/// time and checked against the allowance every [`GROUP`] such chunks (and at the end);
/// elsewhere
/// [`differing_within_portable`]. Both give the same answer: the count only grows, so where
/// it is checked does not matter.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn differing_within(a: &[u8], b: &[u8], tolerance: u8, allowance: usize) -> Option<u32> {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cvtsi128_si32, _mm_loadu_si128, _mm_max_epu8, _mm_min_epu8,
        _mm_sad_epu8, _mm_set1_epi8, _mm_setzero_si128, _mm_srli_si128, _mm_sub_epi8,
        _mm_subs_epu8,
    };
    let len = a.len().min(b.len());
    let whole = len / 16 * 16;
    let mut count = 0usize;
    // SAFETY: SSE2 is part of the x86-64 baseline; every load reads the 16 bytes at `at` with
    // `at + 16 <= whole`, which is at most both lengths.
    unsafe {
        let tolerance = _mm_set1_epi8(tolerance as i8);
        let zero = _mm_setzero_si128();
        for group in (0..whole).step_by(16 * GROUP) {
            let end = (group + 16 * GROUP).min(whole);
            let mut agree = zero;
            for at in (group..end).step_by(16) {
                let p = _mm_loadu_si128(a.as_ptr().add(at).cast());
                let q = _mm_loadu_si128(b.as_ptr().add(at).cast());
                let apart = _mm_sub_epi8(_mm_max_epu8(p, q), _mm_min_epu8(p, q));
                // 0xff (-1) where within the tolerance: subtracting it counts one.
                agree = _mm_sub_epi8(agree, _mm_cmpeq_epi8(_mm_subs_epu8(apart, tolerance), zero));
            }
            // Lane counts are at most GROUP; their sum, in two halves.
            let sums = _mm_sad_epu8(agree, zero);
            let agreeing = _mm_cvtsi128_si32(sums) as usize
                + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8)) as usize;
            count += end - group - agreeing;
            if count > allowance {
                return None;
            }
        }
    }
    let rest = differing_within_portable(&a[whole..len], &b[whole..len], tolerance, allowance)?;
    let count = count + rest as usize;
    (count <= allowance).then_some(count as u32)
}

/// [`differing_within`] on machines without SSE2.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
pub(crate) fn differing_within(a: &[u8], b: &[u8], tolerance: u8, allowance: usize) -> Option<u32> {
    differing_within_portable(a, b, tolerance, allowance)
}

/// [`differing_within`] for any machine: 16 elements at a time in bytes (a loop the compiler
/// vectorises with no widening), checked after each.
fn differing_within_portable(a: &[u8], b: &[u8], tolerance: u8, allowance: usize) -> Option<u32> {
    let (xs, ys) = (a.chunks_exact(16), b.chunks_exact(16));
    let mut count = xs
        .remainder()
        .iter()
        .zip(ys.remainder())
        .filter(|(p, q)| p.abs_diff(**q) > tolerance)
        .count();
    for (x, y) in xs.zip(ys) {
        let mut lanes = [0u8; 16];
        for ((l, &p), &q) in lanes.iter_mut().zip(x).zip(y) {
            let apart = p.max(q) - p.min(q);
            *l = u8::from(apart.saturating_sub(tolerance) != 0);
        }
        count += usize::from(lanes.iter().sum::<u8>());
        if count > allowance {
            return None;
        }
    }
    (count <= allowance).then_some(count as u32)
}

/// [`differing_within`] at the first of two points (`(tolerance, allowance)` each), else at
/// the second: `differing_within(a, b, first..).or_else(|| differing_within(a, b, second..))`,
/// in one pass (with SSE2 each difference computed once, stopped once both counts exceed
/// their allowances; elsewhere the two calls).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn differing_within_either(
    a: &[u8],
    b: &[u8],
    first: (u8, usize),
    second: (u8, usize),
) -> Option<u32> {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cvtsi128_si32, _mm_loadu_si128, _mm_max_epu8, _mm_min_epu8,
        _mm_sad_epu8, _mm_set1_epi8, _mm_setzero_si128, _mm_srli_si128, _mm_sub_epi8,
        _mm_subs_epu8,
    };
    let len = a.len().min(b.len());
    let whole = len / 16 * 16;
    let (mut count1, mut count2) = (0usize, 0usize);
    // SAFETY: SSE2 is part of the x86-64 baseline; every load reads the 16 bytes at `at` with
    // `at + 16 <= whole`, which is at most both lengths.
    unsafe {
        let (t1, t2) = (_mm_set1_epi8(first.0 as i8), _mm_set1_epi8(second.0 as i8));
        let zero = _mm_setzero_si128();
        for group in (0..whole).step_by(16 * GROUP) {
            let end = (group + 16 * GROUP).min(whole);
            let (mut agree1, mut agree2) = (zero, zero);
            for at in (group..end).step_by(16) {
                let p = _mm_loadu_si128(a.as_ptr().add(at).cast());
                let q = _mm_loadu_si128(b.as_ptr().add(at).cast());
                let apart = _mm_sub_epi8(_mm_max_epu8(p, q), _mm_min_epu8(p, q));
                // 0xff (-1) where within each tolerance: subtracting it counts one.
                agree1 = _mm_sub_epi8(agree1, _mm_cmpeq_epi8(_mm_subs_epu8(apart, t1), zero));
                agree2 = _mm_sub_epi8(agree2, _mm_cmpeq_epi8(_mm_subs_epu8(apart, t2), zero));
            }
            // Lane counts are at most GROUP; each sum in two halves.
            let sum = |agree| {
                let sums = _mm_sad_epu8(agree, zero);
                _mm_cvtsi128_si32(sums) as usize
                    + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8)) as usize
            };
            let chunk = end - group;
            count1 += chunk - sum(agree1);
            count2 += chunk - sum(agree2);
            if count1 > first.1 && count2 > second.1 {
                return None;
            }
        }
    }
    let (xs, ys) = (&a[whole..len], &b[whole..len]);
    let rest = |(tolerance, _): (u8, usize)| {
        xs.iter()
            .zip(ys)
            .filter(|(p, q)| p.abs_diff(**q) > tolerance)
            .count()
    };
    let (count1, count2) = (count1 + rest(first), count2 + rest(second));
    if count1 <= first.1 {
        Some(count1 as u32)
    } else {
        (count2 <= second.1).then_some(count2 as u32)
    }
}

/// [`differing_within_either`] on machines without SSE2.
#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn differing_within_either(
    a: &[u8],
    b: &[u8],
    first: (u8, usize),
    second: (u8, usize),
) -> Option<u32> {
    differing_within(a, b, first.0, first.1).or_else(|| differing_within(a, b, second.0, second.1))
}

/// Chunks of 16 elements [`differing_within`] counts between checks against the allowance.
const GROUP: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Xof;

    /// The first near copy and its count (at the first point it is near at) by the plain
    /// definition: records in their own order, every element compared.
    fn plain_first(records: &[Vec<u8>], q: &[u8], points: &[Nearness]) -> Option<(u64, u32)> {
        records.iter().enumerate().find_map(|(i, r)| {
            points.iter().find_map(|p| {
                let n = r
                    .iter()
                    .zip(q)
                    .filter(|(a, b)| u32::from(a.abs_diff(**b)) > p.tolerance)
                    .count();
                (n <= p.allowance(q.len())).then_some((i as u64, n as u32))
            })
        })
    }

    #[test]
    fn record_comparison_agrees_with_the_portable_one() {
        let mut x = Xof::new("pouw/test", b"record comparison");
        for _ in 0..3000 {
            let len = x.uniform_below(400) as usize;
            let a: Vec<u8> = (0..len).map(|_| x.uniform_below(256) as u8).collect();
            let b: Vec<u8> = a
                .iter()
                .map(|&v| match x.uniform_below(4) {
                    0 => x.uniform_below(256) as u8,
                    _ => v.wrapping_add(x.uniform_below(7) as u8),
                })
                .collect();
            let tolerance = x.uniform_below(8) as u8;
            let allowance = x.uniform_below(len as u64 + 2) as usize;
            assert_eq!(
                differing_within(&a, &b, tolerance, allowance),
                differing_within_portable(&a, &b, tolerance, allowance),
                "{len} {tolerance} {allowance}"
            );
            let exact = a
                .iter()
                .zip(&b)
                .filter(|(p, q)| p.abs_diff(**q) > tolerance)
                .count();
            assert_eq!(differing_within(&a, &b, tolerance, len), Some(exact as u32));
            let second = (
                x.uniform_below(8) as u8,
                x.uniform_below(len as u64 + 2) as usize,
            );
            assert_eq!(
                differing_within_either(&a, &b, (tolerance, allowance), second),
                differing_within(&a, &b, tolerance, allowance)
                    .or_else(|| differing_within_portable(&a, &b, second.0, second.1)),
                "{len} {tolerance} {allowance} {second:?}"
            );
        }
    }

    #[test]
    fn block_comparison_agrees_with_the_portable_one() {
        let mut x = Xof::new("pouw/test", b"head blocks");
        for _ in 0..2000 {
            let mut block = [[0u8; BLOCK]; HEAD];
            let head: [u8; HEAD] = std::array::from_fn(|_| x.uniform_below(256) as u8);
            for element in block.iter_mut() {
                for (lane, v) in element.iter_mut().enumerate() {
                    // Near the head's values often, anywhere sometimes.
                    *v = if lane % 3 == 0 {
                        x.uniform_below(256) as u8
                    } else {
                        head[0].wrapping_add(x.uniform_below(9) as u8)
                    };
                }
            }
            let tolerance = x.uniform_below(20) as u8;
            for agreeing in 0..=HEAD as u8 {
                assert_eq!(
                    block_agreeing(&block, &head, tolerance, agreeing),
                    block_agreeing_portable(&block, &head, tolerance, agreeing)
                );
                let other = (x.uniform_below(20) as u8, x.uniform_below(17) as u8);
                assert_eq!(
                    block_agreeing_either(&block, &head, (tolerance, agreeing), other),
                    block_agreeing_portable(&block, &head, tolerance, agreeing)
                        | block_agreeing_portable(&block, &head, other.0, other.1)
                );
            }
        }
    }

    #[test]
    fn the_ordered_scan_with_heads_finds_what_a_plain_scan_finds() {
        let mut x = Xof::new("pouw/test", b"near scan");
        let cases: [(usize, &[(u32, u32)]); 5] = [
            (64, &[(164, 0)]),
            (37, &[(300, 2)]),
            (8, &[(500, 0)]),
            // A patched copy's point and a noisy copy's (as the digits' are fitted).
            (64, &[(164, 0), (19, 2)]),
            (37, &[(100, 1), (30, 3)]),
        ];
        for (size, pairs) in cases {
            let points = Nearness::points(pairs);
            // Sparse records (a blank border, like the digits) and near copies of them.
            let mut records: Vec<Vec<u8>> = (0..300)
                .map(|_| {
                    (0..size)
                        .map(|p| {
                            if p % 8 < 2 {
                                0
                            } else {
                                x.uniform_below(17) as u8
                            }
                        })
                        .collect()
                })
                .collect();
            let mut near = NearCopies {
                points: points.clone(),
                order: Vec::new(),
                records: records.concat(),
                heads: Heads::default(),
            };
            near.order_by_variance(size);
            // Appended records keep the order.
            for _ in 0..20 {
                let r: Vec<u8> = (0..size).map(|_| x.uniform_below(17) as u8).collect();
                near.push(&r);
                records.push(r);
            }
            let mut ordered = vec![0u8; size];
            let mut earlier = Earlier::new(&records);
            let (mut hits, mut second) = (0, 0);
            for k in 0..400usize {
                let mut q = records[x.uniform_below(records.len() as u64) as usize].clone();
                for _ in 0..x.uniform_below((k % 12 + 1) as u64) {
                    let at = x.uniform_below(size as u64) as usize;
                    q[at] = x.uniform_below(17) as u8;
                }
                if k % 3 == 0 {
                    // Noise of up to 2 either way on every element.
                    for v in &mut q {
                        *v = (*v as i64 + x.uniform_below(5) as i64 - 2).clamp(0, 16) as u8;
                    }
                }
                near.put_in_order(&q, &mut ordered);
                let expected = plain_first(&records, &q, &points);
                hits += usize::from(expected.is_some());
                // Near at a later point only: what the scan would miss with one point.
                second += usize::from(
                    expected.is_some() && plain_first(&records, &q, &points[..1]).is_none(),
                );
                assert_eq!(near_in_dataset(&near, &ordered), expected);
                if k < records.len() {
                    let mut e = vec![0u8; size];
                    near.put_in_order(&records[k], &mut e);
                    earlier.push_head(&e);
                }
                let before = &records[..records.len().min(k + 1)];
                let expected = plain_first(before, &q, &points).map(|(i, n)| (i as u32, n));
                assert_eq!(near_in_earlier(&near, &earlier, &q, &ordered), expected);
            }
            assert!(hits > 100, "{hits} near copies among 400");
            if points.len() > 1 {
                assert!(second > 20, "{second} near at the second point only");
            }
        }
    }
}
