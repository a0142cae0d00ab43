//! A chain on the mock learner (`fuzz/shared/mock.rs`: cheap, exact steps) for attack tests, with a
//! block builder that lets a test fake, splice or grind what a miner commits to.

#[path = "../../fuzz/shared/mock.rs"]
pub mod mock;

#[allow(unused_imports)]
pub use mock::{counters, reset_counters, Mock, MockSpec};
use pouw::hash::{tagged_hash, Digest};
use pouw::ident::Cid;
use pouw::learning::DeviceChoice;
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, Batch, BlobStore, MemStore, ProofOfLearning,
    StepOpening, TaskSpec, Trajectory,
};
use pouw::work::{
    anchor, opened_steps, segment_starts, verify, BlockProof, ConsensusParams, Start, Target,
    Verdict, VerifyInput,
};
use pouw::Result;
use std::sync::atomic::{AtomicU64, Ordering};

pub const MINER: &[u8] = b"attacker";

/// The digits as the dataset, the mock learner, a memory store with the genesis.
pub struct MockChain {
    pub _dir: tempfile::TempDir,
    pub dataset: pouw::Dataset,
    pub params: ConsensusParams<MockSpec>,
    pub store: MemStore,
    pub genesis: Vec<u8>,
    pub start: Start,
}

/// A chain whose blocks open `opened` steps besides the winning one and ask `capacity` records.
pub fn mock_chain(opened: u32, capacity: u32) -> MockChain {
    let (dir, dataset) = super::digits_dataset();
    let spec = MockSpec {
        dataset: dataset.cid(),
        batch_size: 4,
        record_size: 64,
    };
    let mut params = ConsensusParams::new(spec, dataset.root(), dataset.len());
    params.opened_steps = opened;
    params.capacity_challenges = capacity;
    params.max_steps = 100_000;
    let genesis = Mock::from_seed(&params.spec, &[0; 32], DeviceChoice::Cpu)
        .unwrap()
        .checkpoint()
        .unwrap();
    let store = MemStore::default();
    store.put(&genesis).unwrap();
    let start = Start::of_checkpoint::<Mock>(&params.spec, &genesis).unwrap();
    MockChain {
        _dir: dir,
        dataset,
        params,
        store,
        genesis,
        start,
    }
}

impl MockChain {
    /// The anchor of `header` and the attacker.
    pub fn anchor(&self, header: &Digest) -> Digest {
        anchor(&self.params.digest(), header, MINER)
    }

    /// Step `i`'s ticket for `header`, its digest `d` and the trajectory before it.
    pub fn ticket(&self, header: &Digest, so_far: &Trajectory, i: u64, d: &Digest) -> Digest {
        let seed = step_seed(&self.anchor(header), &so_far.root(), i);
        pouw::work::ticket(header, &seed, d)
    }

    /// The batch a step seed draws.
    pub fn batch(&self, seed: &Digest) -> Batch {
        let indices = batch_indices(seed, 4, self.dataset.len()).unwrap();
        Batch::from_dataset(&self.dataset, &indices).unwrap()
    }

    /// One honest step from `state` at position `i` of the trajectory so far.
    pub fn step(&self, header: &Digest, so_far: &Trajectory, state: &[u8], i: u64) -> Vec<u8> {
        let seed = step_seed(&self.anchor(header), &so_far.root(), i);
        let mut m = Mock::from_checkpoint(&self.params.spec, state, DeviceChoice::Cpu).unwrap();
        m.step(&seed, &self.batch(&seed)).unwrap();
        m.checkpoint().unwrap()
    }

    /// Trains `n` steps from the genesis; where `splice(i)` gives a digest, step `i`'s result is
    /// replaced by a made-up state (the same counter, that digest as its accumulator): a faked
    /// transition that the next step continues honestly from. Returns every checkpoint
    /// `W_0 .. W_n` and the trajectory.
    pub fn run(
        &self,
        header: &Digest,
        n: u64,
        splice: impl Fn(u64) -> Option<Digest>,
    ) -> (Vec<Vec<u8>>, Trajectory) {
        self.run_from(&self.genesis, header, n, splice)
    }

    /// [`MockChain::run`] from the checkpoint `start` (a later block's start).
    pub fn run_from(
        &self,
        start: &[u8],
        header: &Digest,
        n: u64,
        splice: impl Fn(u64) -> Option<Digest>,
    ) -> (Vec<Vec<u8>>, Trajectory) {
        let start_steps = Mock::from_checkpoint(&self.params.spec, start, DeviceChoice::Cpu)
            .unwrap()
            .steps();
        let mut checkpoints = vec![start.to_vec()];
        let mut trajectory = Trajectory::new(checkpoint_digest(start));
        for i in 1..=n {
            let next = match splice(i) {
                None => self.step(header, &trajectory, &checkpoints[i as usize - 1], i),
                Some(acc) => Mock::new(start_steps + i, acc).checkpoint().unwrap(),
            };
            trajectory.push(checkpoint_digest(&next));
            checkpoints.push(next);
        }
        (checkpoints, trajectory)
    }

    /// The proof of a run whose last step is the winning one: opens the Fiat-Shamir steps,
    /// publishing the checkpoints it has (`checkpoints[j]` where present: opened steps' starts,
    /// the winning checkpoint and the segment starts) and the companion, and answers the
    /// capacity challenge.
    pub fn prove(
        &self,
        header: &Digest,
        checkpoints: &[Option<&[u8]>],
        trajectory: &Trajectory,
    ) -> BlockProof {
        prove_block(
            &self.params,
            &self.dataset,
            &self.store,
            header,
            MINER,
            checkpoints,
            trajectory,
        )
    }

    /// Verifies `proof` at `target` through `store` (the chain's store by default).
    pub fn verify_with(
        &self,
        header: &Digest,
        target: Target,
        store: &dyn BlobStore,
        proof: &BlockProof,
    ) -> Result<Verdict> {
        self.verify_from(&self.start, header, target, store, proof)
    }

    /// Verifies `proof` of a block that starts at `start`.
    pub fn verify_from(
        &self,
        start: &Start,
        header: &Digest,
        target: Target,
        store: &dyn BlobStore,
        proof: &BlockProof,
    ) -> Result<Verdict> {
        verify::<Mock>(
            &VerifyInput {
                header_hash: *header,
                miner_id: MINER,
                start,
                params: &self.params,
                target,
                store,
                device: DeviceChoice::Cpu,
            },
            &proof.to_bytes(),
        )
        .map_err(pouw::Error::from)
    }

    /// Verifies `proof` at `target` through the chain's store.
    pub fn verify(&self, header: &Digest, target: Target, proof: &BlockProof) -> Result<Verdict> {
        self.verify_with(header, target, &self.store, proof)
    }
}

/// All checkpoints present.
pub fn all(checkpoints: &[Vec<u8>]) -> Vec<Option<&[u8]>> {
    checkpoints.iter().map(|c| Some(c.as_slice())).collect()
}

/// A distinct made-up digest for `(label, i)`.
pub fn made_up(label: &str, i: u64) -> Digest {
    tagged_hash("pouw/test-made-up", &[label.as_bytes(), &i.to_le_bytes()])
}

/// A store that counts the objects it hands out.
#[derive(Default)]
pub struct CountingStore {
    pub inner: MemStore,
    pub gets: AtomicU64,
}

impl BlobStore for CountingStore {
    fn put(&self, bytes: &[u8]) -> Result<Cid> {
        self.inner.put(bytes)
    }

    fn get_unchecked(&self, cid: &Cid, limit: u64) -> Result<Vec<u8>> {
        self.gets.fetch_add(1, Ordering::Relaxed);
        self.inner.get_unchecked(cid, limit)
    }
}

/// The proof of a run of any learner whose last step is the winning one (see
/// [`MockChain::prove`]): the checkpoints it has (`checkpoints[j]` where present) and the
/// companion are published to `store`.
pub fn prove_block<S: TaskSpec>(
    params: &ConsensusParams<S>,
    dataset: &pouw::Dataset,
    store: &dyn BlobStore,
    header: &Digest,
    miner: &[u8],
    checkpoints: &[Option<&[u8]>],
    trajectory: &Trajectory,
) -> BlockProof {
    let n = trajectory.steps();
    let root = trajectory.root();
    let schedule = params.schedule(header, miner);
    let cid = |j: u64| -> Cid {
        match checkpoints[j as usize] {
            Some(bytes) => store.put(bytes).unwrap(),
            None => pouw::ident::cid_of(b"never published"),
        }
    };
    let openings = opened_steps(&root, header, n, params.opened_steps)
        .unwrap()
        .into_iter()
        .map(|j| {
            let end = (j == n).then(|| cid(j));
            StepOpening::new(trajectory, j, &schedule, dataset, cid(j - 1), end).unwrap()
        })
        .collect();
    let challenge = params.capacity_challenge(header, miner, &root).unwrap();
    let c = u64::from(params.opened_steps) + 1;
    BlockProof {
        version: pouw::work::ProtocolVersion::CURRENT,
        params_digest: params.digest(),
        header_hash: *header,
        miner_id: miner.to_vec(),
        start_proof: trajectory.prove(0).unwrap(),
        steps: n,
        trajectory_root: root,
        trajectory_cid: store.put(&trajectory.to_bytes()).unwrap(),
        segments: (1..=segment_starts(n, c)).map(|m| cid(m * c)).collect(),
        openings,
        capacity: challenge.respond(dataset).unwrap(),
    }
}

/// Trains `n` steps of learner `P` from `start` for `header` and `miner`; where
/// `splice(i, honest)` gives bytes, step `i`'s result is replaced by them (a faked transition
/// the next step continues honestly from). Returns every checkpoint and the trajectory.
pub fn run_steps<P: ProofOfLearning>(
    params: &ConsensusParams<P::Spec>,
    dataset: &pouw::Dataset,
    start: &[u8],
    header: &Digest,
    miner: &[u8],
    n: u64,
    splice: impl Fn(u64, &[u8]) -> Option<Vec<u8>>,
) -> (Vec<Vec<u8>>, Trajectory) {
    let schedule = params.schedule(header, miner);
    let mut checkpoints = vec![start.to_vec()];
    let mut trajectory = Trajectory::new(checkpoint_digest(start));
    for i in 1..=n {
        let (seed, batch) = schedule.batch_of(&trajectory, i, dataset).unwrap();
        let mut state = P::from_checkpoint(
            &params.spec,
            &checkpoints[i as usize - 1],
            DeviceChoice::Cpu,
        )
        .unwrap();
        state.step(&seed, &batch).unwrap();
        let honest = state.checkpoint().unwrap();
        let next = splice(i, &honest).unwrap_or(honest);
        trajectory.push(checkpoint_digest(&next));
        checkpoints.push(next);
    }
    (checkpoints, trajectory)
}
