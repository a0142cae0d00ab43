//! Parallel lanes: a miner with `L` devices runs `L` trajectories (one per miner id) and the
//! first winning ticket ends the block, so the block holds the steps of one lane while all
//! lanes spent steps. Simulates blocks with 1, 4 and 16 lanes, without a minimum block length
//! and with the consensus parameter `min_steps` (tickets count from that step on), and prints
//! the useful fraction (steps in the winning trajectory over steps mined by all lanes) and the
//! steps a block holds (how far each block advances the network's model).
//!
//! ```text
//! cargo run --release --example lanes -- [EXPECTED_STEPS] [MIN_STEPS] [BLOCKS]
//! ```
//!
//! Tickets are SHAKE256 draws against the target of `EXPECTED_STEPS` (default 64); lanes step
//! in lockstep; `MIN_STEPS` defaults to `EXPECTED_STEPS`; 20 000 blocks per row.

use pouw::hash::Xof;
use pouw::work::Target;

/// Steps a block holds and steps all lanes spent, for one block.
fn block(lanes: u32, min_steps: u64, target: &Target, xof: &mut Xof) -> (u64, u64) {
    let mut ticket = [0u8; 32];
    for step in 1.. {
        let mut won = false;
        for _ in 0..lanes {
            xof.fill(&mut ticket);
            won |= step >= min_steps && target.is_met_by(&ticket);
        }
        if won {
            return (step, step * u64::from(lanes));
        }
    }
    unreachable!("a ticket wins eventually")
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u64>().expect("a number"));
    let expected = args.next().unwrap_or(64);
    let min = args.next().unwrap_or(expected);
    let blocks = args.next().unwrap_or(20_000);
    let target = Target::from_expected_steps(expected);
    println!("target: {expected} expected steps; {blocks} blocks a row");
    println!("lanes  min_steps  steps per block  useful fraction");
    for lanes in [1u32, 4, 16] {
        for min_steps in [1, min] {
            let mut xof = Xof::new("pouw/lanes-simulation", &[lanes as u8, min_steps as u8]);
            let (mut held, mut spent) = (0u64, 0u64);
            for _ in 0..blocks {
                let (h, s) = block(lanes, min_steps, &target, &mut xof);
                held += h;
                spent += s;
            }
            println!(
                "{lanes:>5}  {min_steps:>9}  {:>15.1}  {:>15.3}",
                held as f64 / blocks as f64,
                held as f64 / spent as f64
            );
        }
    }
}
