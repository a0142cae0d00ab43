//! Quality on records the miner could not choose: a block's reward settled on later blocks'
//! records, and the tie-break between two blocks at one height (the digits, the real GAN).
#![cfg(feature = "torch")]

mod common;

use common::work::{chain, Chain};
use pouw::learning::gan::GanTrainer;
use pouw::learning::DeviceChoice;
use pouw::work::{
    assess, break_tie, reward, settle, AssessInput, BlockProof, QualityPoints, RewardRule, Start,
};

fn scoring<'a>(c: &'a Chain, start: &'a Start) -> AssessInput<'a, pouw::learning::gan::GanSpec> {
    AssessInput {
        start,
        params: &c.params,
        store: &c.store,
        device: DeviceChoice::Cpu,
    }
}

/// Block 1 on the genesis, block 2 on block 1 (by another miner).
fn two_blocks(c: &Chain) -> (BlockProof, BlockProof) {
    let first = c.mine([1; 32], b"miner-a", &c.genesis);
    let second = c.mine([2; 32], b"miner-b", &first.winning_checkpoint);
    (first.proof, second.proof)
}

/// The settled scores come from the later block's records and seed alone: a block whose own
/// capacity records (which its miner knew before publishing) are replaced settles to the same
/// scores, while `assess` (on those records) changes; and a different later block settles it
/// differently. Removing the rule (scoring on the block's own records) fails the first check.
#[test]
fn a_block_settles_on_the_records_of_the_blocks_after_it() {
    let c = chain();
    let (block, next) = two_blocks(&c);
    let genesis = c.genesis_start();
    let input = scoring(&c, &genesis);
    let settled = settle::<GanTrainer>(&input, &block, std::slice::from_ref(&next)).unwrap();
    assert_eq!(
        settled,
        settle::<GanTrainer>(&input, &block, std::slice::from_ref(&next)).unwrap()
    );
    assert_ne!(settled, assess::<GanTrainer>(&input, &block).unwrap());

    let mut chosen = block.clone();
    chosen.capacity = next.capacity.clone();
    assert_ne!(
        assess::<GanTrainer>(&input, &chosen).unwrap(),
        assess::<GanTrainer>(&input, &block).unwrap()
    );
    assert_eq!(
        settle::<GanTrainer>(&input, &chosen, std::slice::from_ref(&next)).unwrap(),
        settled
    );

    // More later blocks, more records: another settlement.
    let deeper = c.mine([4; 32], b"miner-d", &c.genesis).proof;
    assert_ne!(
        settle::<GanTrainer>(&input, &block, &[next.clone(), deeper]).unwrap(),
        settled
    );

    let (start, end) = settled.points().unwrap();
    let rule = RewardRule {
        max_adjustment_ppm: 250_000,
        full_improvement: QualityPoints(QualityPoints::PER_UNIT / 100),
    };
    let paid = reward(1_000_000, start, end, &rule).unwrap();
    assert!((750_000..=1_250_000).contains(&paid), "{paid}");
    assert!(settle::<GanTrainer>(&input, &block, &[]).is_err());
}

/// Two blocks on one start: the scores do not depend on the order they are given in, the
/// preference is the same either way, and a block's score depends on its rival's records (its
/// miner could not compute it before the rival was published).
#[test]
fn a_tie_is_broken_the_same_way_in_either_order() {
    let c = chain();
    let a = c.mine([1; 32], b"miner-a", &c.genesis).proof;
    let b = c.mine([1; 32], b"miner-b", &c.genesis).proof;
    let genesis = c.genesis_start();
    let input = scoring(&c, &genesis);
    let ab = break_tie::<GanTrainer>(&input, &a, &b).unwrap();
    let ba = break_tie::<GanTrainer>(&input, &b, &a).unwrap();
    assert_eq!((ab.a, ab.b), (ba.b, ba.a));
    assert_ne!(ab.prefers_b(), ba.prefers_b());
    assert_eq!(ab.a.block_id, a.id());

    let rival = c.mine([1; 32], b"miner-c", &c.genesis).proof;
    let ac = break_tie::<GanTrainer>(&input, &a, &rival).unwrap();
    assert_ne!(ac.a.points, ab.a.points);
}
