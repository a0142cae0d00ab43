//! Helpers shared by the C API tests: the digits, scratch directories, and one small mined block
//! made through the C API.
#![allow(dead_code)]

use pouw_ffi::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The UCI digits: `POUW_DIGITS`, else `../shared/data/digits.csv.gz` beside the workspace, else
/// the copy in `tests/data/`.
pub fn digits_path() -> PathBuf {
    if let Some(p) = std::env::var_os("POUW_DIGITS") {
        return p.into();
    }
    let shared = root().join("../shared/data/digits.csv.gz");
    if shared.exists() {
        shared
    } else {
        root().join("tests/data/digits.csv.gz")
    }
}

/// A scratch directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh directory under the system's temporary directory.
    pub fn new(label: &str) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "pouw-ffi-{label}-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A path as the C API takes it.
pub fn bytes_of(p: &Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes()
}

/// Copies a library buffer into a `Vec` and frees it.
pub fn take(buffer: *mut pouw_buffer) -> Vec<u8> {
    assert!(!buffer.is_null());
    unsafe {
        let v =
            std::slice::from_raw_parts(pouw_buffer_data(buffer), pouw_buffer_len(buffer)).to_vec();
        pouw_buffer_free(buffer);
        v
    }
}

/// Asserts a call returned `expected`.
#[track_caller]
pub fn check(got: PouwResult, expected: PouwResult) {
    assert_eq!(
        got,
        expected,
        "expected {expected:?} ({}), got {got:?} ({})",
        expected.message(),
        got.message()
    );
}

/// The small test parameters: filters 16/8, batch 16, 4 opened steps, 8 capacity challenges,
/// at most 200 steps, on the CPU.
pub fn small_options() -> pouw_params_options {
    pouw_params_options {
        struct_size: std::mem::size_of::<pouw_params_options>(),
        set: POUW_PARAMS_OPTION_G_FILTERS
            | POUW_PARAMS_OPTION_D_FILTERS
            | POUW_PARAMS_OPTION_BATCH_SIZE
            | POUW_PARAMS_OPTION_OPENED_STEPS
            | POUW_PARAMS_OPTION_CAPACITY_CHALLENGES
            | POUW_PARAMS_OPTION_MAX_STEPS
            | POUW_PARAMS_OPTION_DEVICE,
        g_filters: 16,
        d_filters: 8,
        batch_size: 16,
        opened_steps: 4,
        capacity_challenges: 8,
        max_steps: 200,
        device: POUW_DEVICE_CPU,
        ..Default::default()
    }
}

/// Expected steps per block of the fixture.
pub const EXPECTED_STEPS: u64 = 6;
/// The fixture's miner.
pub const MINER: &[u8] = b"miner-1";
/// The fixture block's header.
pub const HEADER: [u8; 32] = [3; 32];

/// Handles and one mined block shared by the tests of a binary (handles are immutable and
/// thread-safe; they live for the whole process).
pub struct Fixture {
    pub dir: TempDir,
    pub dataset: *mut pouw_dataset,
    pub params: *mut pouw_params,
    pub store: *mut pouw_store,
    pub genesis: Vec<u8>,
    pub genesis_cid: Vec<u8>,
    pub start: pouw_start,
    pub target: [u8; 32],
    pub proof: Vec<u8>,
    pub winning: Vec<u8>,
}

unsafe impl Send for Fixture {}
unsafe impl Sync for Fixture {}

/// Mines `header` from `start` through the C API; returns (proof, winning checkpoint) or the code.
pub fn mine(
    f: &Fixture,
    header: &[u8; 32],
    start: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), PouwResult> {
    let (mut proof, mut winning) = (std::ptr::null_mut(), std::ptr::null_mut());
    let r = unsafe {
        pouw_mine(
            f.params,
            f.dataset,
            f.store,
            header.as_ptr(),
            MINER.as_ptr(),
            MINER.len(),
            start.as_ptr(),
            start.len(),
            f.target.as_ptr(),
            u64::MAX,
            None,
            std::ptr::null_mut(),
            std::ptr::null(),
            &mut proof,
            &mut winning,
        )
    };
    if r != PouwResult::Ok {
        assert!(
            proof.is_null() && winning.is_null(),
            "outputs written on failure"
        );
        return Err(r);
    }
    Ok((take(proof), take(winning)))
}

/// What `call` writes through its out pointer, when it returns OK.
pub fn written<T>(call: impl FnOnce(*mut T) -> PouwResult) -> Result<T, PouwResult> {
    let mut out = std::mem::MaybeUninit::<T>::zeroed();
    match call(out.as_mut_ptr()) {
        PouwResult::Ok => Ok(unsafe { out.assume_init() }),
        r => Err(r),
    }
}

/// Verifies `proof` for `header` from the genesis through the C API.
pub fn verify(f: &Fixture, header: &[u8; 32], proof: &[u8]) -> Result<pouw_verdict, PouwResult> {
    written(|out| unsafe {
        pouw_verify(
            f.params,
            f.store,
            header.as_ptr(),
            MINER.as_ptr(),
            MINER.len(),
            &f.start,
            f.target.as_ptr(),
            proof.as_ptr(),
            proof.len(),
            out,
        )
    })
}

/// Scores `proof` (record-free when `dataset` is not NULL) with [`pouw_assess`].
pub fn assess(
    params: *const pouw_params,
    dataset: *const pouw_dataset,
    store: *const pouw_store,
    start: &pouw_start,
    proof: &[u8],
) -> Result<pouw_assessment, PouwResult> {
    written(|out| unsafe {
        pouw_assess(
            params,
            dataset,
            store,
            start,
            proof.as_ptr(),
            proof.len(),
            out,
        )
    })
}

/// The shared fixture: the digits imported, small parameters, an in-memory store holding the
/// genesis checkpoint, and the block mined on `HEADER`.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| unsafe {
        let dir = TempDir::new("fixture");
        let src = digits_path();
        let dest = dir.path().join("digits");
        let mut dataset = std::ptr::null_mut();
        let (s, d) = (bytes_of(&src), bytes_of(&dest));
        check(
            pouw_dataset_import_digits(s.as_ptr(), s.len(), d.as_ptr(), d.len(), &mut dataset),
            PouwResult::Ok,
        );
        let mut params = std::ptr::null_mut();
        check(
            pouw_params_new_gan(dataset, &small_options(), &mut params),
            PouwResult::Ok,
        );
        let mut store = std::ptr::null_mut();
        check(pouw_store_new_memory(&mut store), PouwResult::Ok);
        let mut genesis = std::ptr::null_mut();
        check(
            pouw_genesis_checkpoint(params, [0u8; 32].as_ptr(), &mut genesis),
            PouwResult::Ok,
        );
        let genesis = take(genesis);
        let mut cid = std::ptr::null_mut();
        check(
            pouw_store_put(store, genesis.as_ptr(), genesis.len(), &mut cid),
            PouwResult::Ok,
        );
        let genesis_cid = take(cid);
        let mut start = std::mem::MaybeUninit::<pouw_start>::zeroed();
        check(
            pouw_start_of_checkpoint(params, genesis.as_ptr(), genesis.len(), start.as_mut_ptr()),
            PouwResult::Ok,
        );
        let start = start.assume_init();
        assert_eq!(&start.cid[..start.cid_len], genesis_cid.as_slice());
        let mut target = [0u8; 32];
        check(
            pouw_target_from_expected_steps(EXPECTED_STEPS, target.as_mut_ptr()),
            PouwResult::Ok,
        );
        let mut f = Fixture {
            dir,
            dataset,
            params,
            store,
            genesis,
            genesis_cid,
            start,
            target,
            proof: Vec::new(),
            winning: Vec::new(),
        };
        let (proof, winning) = mine(&f, &HEADER, &f.genesis).expect("fixture block");
        f.proof = proof;
        f.winning = winning;
        f
    })
}
