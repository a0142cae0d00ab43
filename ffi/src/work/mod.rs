//! The work function: genesis checkpoints, mining with progress and cancellation, verification
//! of block proofs into a verdict, quality scores, reward by quality and the tie-break, audits and fraud proofs. One file a concern.

mod audit;
mod cancel;
mod chain;
mod mine;
mod reward;
mod verify;

pub use audit::{
    pouw_audit, pouw_audit_callback, pouw_fraud_proof_verify, pouw_segment_count, POUW_SEGMENT_ALL,
    POUW_SEGMENT_RANDOM,
};
pub use cancel::{
    pouw_cancel_token, pouw_cancel_token_cancel, pouw_cancel_token_free, pouw_cancel_token_new,
};
pub use chain::{
    pouw_genesis_checkpoint, pouw_start, pouw_start_of_checkpoint, pouw_work_add,
    pouw_work_of_target, POUW_MAX_CID_LEN,
};
pub use mine::{
    pouw_mine, pouw_mine_options, pouw_mine_with_options, pouw_progress_callback,
    POUW_MINE_OPTION_CHECKPOINT_INTERVAL, POUW_MINE_OPTION_KEPT_MEMORY, POUW_MINE_OPTION_MAX_KEPT,
    POUW_MINE_OPTION_SPILL_DIR, POUW_MINE_OPTION_STEP_LIMIT,
};
pub use reward::{
    pouw_break_tie, pouw_prefer, pouw_quality_points, pouw_reward, pouw_reward_rule, pouw_settle,
    pouw_tie_break, POUW_MAX_SETTLE_BLOCKS,
};
pub use verify::{
    pouw_assess, pouw_assessment, pouw_block_proof_id, pouw_block_proof_record_free, pouw_verdict,
    pouw_verify, pouw_verify_callback, pouw_verify_record_free, pouw_verify_with_progress,
    POUW_VERIFY_PHASE_CHECKS, POUW_VERIFY_PHASE_COMPANION, POUW_VERIFY_PHASE_SEGMENTS,
    POUW_VERIFY_PHASE_STEP,
};
