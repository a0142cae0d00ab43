//! Real crashes: a child process appends to a growing dataset (or writes checkpoints to a
//! `DirStore`) in a loop and is killed with SIGKILL at pseudo-random moments. After every kill
//! the dataset opens, scrubs clean and is exactly one of the generations the child could have
//! committed (never a mix), at least the last one the child reported; every file of the store
//! holds exactly the bytes its CID names, and every checkpoint the child reported
//! stored is there. And one writer per dataset: a second process is refused with
//! `Error::Locked` while readers go on.
//!
//! The children are this test binary itself, running the `#[ignore]`d `child_*` tests with
//! their instructions in environment variables.

mod common;

use pouw::dataset::import::import_digits_csv;
use pouw::growth::GrowingDataset;
use pouw::hash::{sha3_256, Digest};
use pouw::learning::{BlobStore, DirStore};
use pouw::merkle::{leaf_hash, MerkleTree};
use pouw::Error;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_HOME: &str = "POUW_CRASH_CHILD_HOME";
const CHILD_STORE: &str = "POUW_CRASH_CHILD_STORE";
const CHILD_HOLD: &str = "POUW_CRASH_CHILD_HOLD";
/// Records per append.
const CHUNK: u64 = 8;
/// Records in the dataset the children grow.
const BASE: u64 = 100;
/// Kills per test.
const KILLS: u64 = 40;

/// The `j`-th appended record: deterministic, so the parent knows every generation's root.
fn record(j: u64) -> Vec<u8> {
    let h = sha3_256(&j.to_le_bytes());
    (0..64)
        .map(|i| h[i % 32].wrapping_add(i as u8) % 17)
        .collect()
}

/// The length of the `i`-th checkpoint a store child writes: 4 to 8 MiB, so that writing one
/// takes long enough for a kill to land inside it.
fn checkpoint_len(i: u64) -> usize {
    let h = sha3_256(&i.to_le_bytes());
    (4 << 20) + (u32::from_le_bytes([h[0], h[1], h[2], 0]) % (4 << 20)) as usize
}

/// The `i`-th checkpoint a store child writes.
fn checkpoint(i: u64) -> Vec<u8> {
    let h = sha3_256(&i.to_le_bytes());
    (0..checkpoint_len(i))
        .map(|k| h[k % 32] ^ (k >> 5) as u8)
        .collect()
}

/// A pseudo-random delay in `[0, max)`, the same on every run.
fn delay(i: u64, max: Duration) -> Duration {
    let h = sha3_256(&[b"delay".as_slice(), &i.to_le_bytes()].concat());
    max.mul_f64(f64::from(u32::from_le_bytes([h[0], h[1], h[2], h[3]])) / 2f64.powi(32))
}

/// A child process, killed if the test panics first.
struct Running {
    child: Child,
    out: Option<BufReader<ChildStdout>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a child prints after `MARK`, line by line (libtest may print before it on a line).
fn after_mark(line: &str) -> Option<&str> {
    line.split_once(MARK).map(|(_, rest)| rest.trim())
}

const MARK: &str = "crash-test: ";

/// Starts this test binary running the child test `name` with `env`; returns it once it has
/// printed `ready` (it holds what it needs by then).
fn spawn_child(name: &str, env: &[(&str, &Path)]) -> Running {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        name,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = Running {
        out: None,
        child: cmd.spawn().unwrap(),
    };
    let mut out = BufReader::new(child.child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "child {name} exited before it was ready"
        );
        if after_mark(&line) == Some("ready") {
            child.out = Some(out);
            return child;
        }
    }
}

/// SIGKILLs `child` and returns what it printed after the mark since it was ready.
fn kill(mut child: Running) -> Vec<String> {
    child.child.kill().unwrap(); // SIGKILL on Unix
    child.child.wait().unwrap();
    let out = child.out.take().unwrap();
    out.lines()
        .map_while(Result::ok)
        .filter_map(|l| after_mark(&l).map(str::to_owned))
        .collect()
}

/// The dataset the append children grow: the first `BASE` digits.
fn base(dir: &Path) -> GrowingDataset {
    let src = dir.join("src");
    import_digits_csv(common::digits_path(), &src, Some(BASE)).unwrap();
    GrowingDataset::create(dir.join("home"), &src).unwrap()
}

/// The roots of every generation the children can make: `roots[k]` after `k` appends.
struct Generations {
    tree: MerkleTree,
    roots: Vec<Digest>,
}

impl Generations {
    fn new(g: &GrowingDataset) -> Self {
        let leaves = (0..g.current().len())
            .map(|i| leaf_hash(&g.current().record(i).unwrap()))
            .collect();
        let tree = MerkleTree::from_leaves(leaves);
        let roots = vec![tree.root()];
        Generations { tree, roots }
    }

    /// The root after `k` appends.
    fn root(&mut self, k: u64) -> Digest {
        while self.roots.len() as u64 <= k {
            let j = self.tree.len() - BASE;
            for r in j..j + CHUNK {
                self.tree.push(leaf_hash(&record(r)));
            }
            self.roots.push(self.tree.root());
        }
        self.roots[k as usize]
    }
}

#[test]
#[ignore = "child process of the crash tests"]
fn child_appends_until_killed() {
    let home = std::env::var_os(CHILD_HOME).expect("run by appends_survive_sigkill");
    let mut g = GrowingDataset::open(&home).unwrap();
    println!("{MARK}ready");
    loop {
        let j = g.current().len() - BASE;
        let recs: Vec<Vec<u8>> = (j..j + CHUNK).map(record).collect();
        let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
        g.append(&refs).unwrap();
        g.prune().unwrap();
        println!("{MARK}committed {}", g.current().len());
        std::io::stdout().flush().unwrap();
    }
}

/// Checks the dataset at `home` after a kill: it opens, scrubs clean and is a whole generation,
/// the last one the child reported (`last_reported` before the kill; `lines` what it printed
/// since) or the one in flight after it. Returns its record count and whether it was the one in
/// flight.
fn check_after_kill(
    kill: &str,
    home: &Path,
    generations: &mut Generations,
    last_reported: u64,
    lines: &[String],
) -> (u64, bool) {
    let reported = match lines.last().and_then(|l| l.strip_prefix("committed ")) {
        Some(n) => n.parse().unwrap(),
        None => last_reported,
    };
    // What a restarted writer sees: the lock is free again (the kernel dropped it).
    let g = GrowingDataset::open(home).unwrap_or_else(|e| panic!("{kill}: {e}"));
    let ds = g.current();
    ds.scrub().unwrap_or_else(|e| panic!("{kill}: {e}"));
    let n = ds.len();
    assert_eq!(
        (n - BASE) % CHUNK,
        0,
        "{kill}: a partial append ({n} records)"
    );
    assert_eq!(
        ds.root(),
        generations.root((n - BASE) / CHUNK),
        "{kill}: {n} records that are not the ones appended"
    );
    // Durable once reported; at most the one in flight beyond it.
    assert!(
        n == reported || n == reported + CHUNK,
        "{kill}: {n} records, the child reported {reported}"
    );
    g.prune().unwrap();
    (n, n != reported)
}

#[test]
fn appends_survive_sigkill_at_any_point() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut generations = Generations::new(&base(dir.path()));
    // Calibrate the kill window on one child (itself a kill): the window covers a few appends.
    let started = Instant::now();
    let child = spawn_child("child_appends_until_killed", &[(CHILD_HOME, &home)]);
    std::thread::sleep(Duration::from_millis(300));
    let lines = kill(child);
    let per_append = started.elapsed() / (lines.len() as u32 + 1);
    let window = (per_append * 3).clamp(Duration::from_millis(5), Duration::from_millis(300));
    let (mut last_reported, _) =
        check_after_kill("calibration kill", &home, &mut generations, BASE, &lines);

    let mut mid_append = 0;
    for i in 0..KILLS {
        let child = spawn_child("child_appends_until_killed", &[(CHILD_HOME, &home)]);
        std::thread::sleep(delay(i, window));
        let lines = kill(child);
        let (n, in_flight) = check_after_kill(
            &format!("kill {i}"),
            &home,
            &mut generations,
            last_reported,
            &lines,
        );
        mid_append += u64::from(in_flight);
        last_reported = n;
    }
    let grown = (last_reported - BASE) / CHUNK;
    eprintln!(
        "{KILLS} kills within {window:?} of start; {grown} appends survived; \
         {mid_append} kills after a commit the child had not reported"
    );
    assert!(
        grown > 0,
        "no append ever completed: the kills came too early"
    );
}

#[test]
#[ignore = "child process of the crash tests"]
fn child_stores_until_killed() {
    let dir = std::env::var_os(CHILD_STORE).expect("run by store_writes_survive_sigkill");
    let store = DirStore::new(&dir).unwrap();
    println!("{MARK}ready");
    for i in 0.. {
        let bytes = checkpoint(i);
        println!("{MARK}putting {i}");
        std::io::stdout().flush().unwrap();
        let cid = store.put(&bytes).unwrap();
        println!("{MARK}stored {i} {cid}");
        std::io::stdout().flush().unwrap();
    }
}

/// The next line `child` printed after the mark (`None` once it exited).
fn next_line(child: &mut Running) -> Option<String> {
    let out = child.out.as_mut()?;
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(rest) = after_mark(&line) {
            return Some(rest.to_owned());
        }
    }
}

/// Waits until a file that was not in `before` holds more than nothing and less than `len`
/// bytes in `dir` (a write in progress), or `patience` passes.
fn wait_for_partial_file(
    dir: &Path,
    before: &std::collections::HashSet<std::ffi::OsString>,
    len: u64,
    patience: Duration,
) -> bool {
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            if before.contains(&entry.file_name()) {
                continue;
            }
            if let Ok(m) = entry.metadata() {
                if m.len() > 0 && m.len() < len {
                    return true;
                }
            }
        }
    }
    false
}

#[test]
fn store_writes_survive_sigkill_at_any_point() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let store = DirStore::new(&path).unwrap();
    let mut reported: Vec<(u64, pouw::ident::Cid)> = Vec::new();
    let mut checked = std::collections::HashSet::new();
    let window = Duration::from_millis(100);
    let mut mid_write = 0;
    for i in 0..KILLS {
        let mut child = spawn_child("child_stores_until_killed", &[(CHILD_STORE, &path)]);
        let mut lines = Vec::new();
        if i % 2 == 0 {
            // At a pseudo-random moment.
            std::thread::sleep(delay(i, window));
        } else {
            // In the middle of writing a file: once one is partly there.
            while let Some(line) = next_line(&mut child) {
                let putting = line
                    .strip_prefix("putting ")
                    .map(|n| n.parse::<u64>().unwrap());
                lines.push(line);
                if let Some(n) = putting {
                    let before = std::fs::read_dir(&path)
                        .unwrap()
                        .map(|e| e.unwrap().file_name())
                        .collect();
                    let len = checkpoint_len(n) as u64;
                    if wait_for_partial_file(&path, &before, len, Duration::from_secs(5)) {
                        mid_write += 1;
                    }
                    break;
                }
            }
        }
        lines.extend(kill(child));
        for line in lines {
            if let Some(rest) = line.strip_prefix("stored ") {
                let (n, cid) = rest.split_once(' ').unwrap();
                reported.push((n.parse::<u64>().unwrap(), cid.parse().unwrap()));
            }
        }
        // Every checkpoint file holds exactly the bytes its name says (files are only ever
        // renamed into place, so one checked stays right); leftovers of a write in flight are
        // temporary files (`.<cid>.tmp-*`) no CID names.
        for entry in std::fs::read_dir(&path).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.starts_with('.') {
                continue;
            }
            let cid = name.as_str();
            if !checked.insert(name.clone()) {
                continue;
            }
            let cid = cid.parse().unwrap();
            let bytes = store.get_unchecked(&cid, u64::MAX).unwrap();
            pouw::ident::verify_cid(&cid, &bytes)
                .unwrap_or_else(|e| panic!("kill {i}: {name} holds other bytes: {e}"));
        }
        // Durable once reported.
        for (_, cid) in &reported {
            assert!(
                checked.contains(&cid.to_string()),
                "kill {i}: {cid} was reported stored and is gone"
            );
        }
    }
    for (n, cid) in &reported {
        assert_eq!(store.get(cid, u64::MAX).unwrap(), checkpoint(*n), "{n}");
    }
    eprintln!(
        "{KILLS} kills, {mid_write} of them while a file was partly written; {} checkpoints \
         reported stored and intact",
        reported.len()
    );
    assert!(!reported.is_empty(), "no write ever completed");
    assert!(
        mid_write >= KILLS / 4,
        "only {mid_write} kills landed inside a write"
    );
}

#[test]
#[ignore = "child process of the crash tests"]
fn child_holds_the_writer_lock() {
    let home = std::env::var_os(CHILD_HOLD).expect("run by one_writer_per_dataset");
    let _g = GrowingDataset::open(&home).unwrap();
    println!("{MARK}ready");
    std::io::stdout().flush().unwrap();
    // Hold the lock until the parent closes our stdin.
    let _ = std::io::stdin().read_line(&mut String::new());
}

#[test]
fn one_writer_per_dataset_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    drop(base(dir.path()));

    let mut child = spawn_child("child_holds_the_writer_lock", &[(CHILD_HOLD, &home)]);
    let locked = GrowingDataset::open(&home);
    assert!(
        matches!(&locked, Err(Error::Locked { path }) if path == &home),
        "{:?}",
        locked.err()
    );
    let created = GrowingDataset::create(&home, dir.path().join("src"));
    assert!(
        matches!(created, Err(Error::Locked { .. })),
        "{:?}",
        created.err()
    );
    // Readers are not blocked.
    let reader = GrowingDataset::read_current(&home).unwrap();
    reader.scrub().unwrap();
    assert_eq!(reader.len(), BASE);

    // The writer exits normally: the lock is free.
    drop(child.child.stdin.take());
    assert!(child.child.wait().unwrap().success());
    let mut g = GrowingDataset::open(&home).unwrap();
    g.append(&[&record(0)]).unwrap();

    // In-process too: a second writer beside a live one is refused.
    let second = GrowingDataset::open(&home);
    assert!(
        matches!(second, Err(Error::Locked { .. })),
        "{:?}",
        second.err()
    );
    drop(g);

    // A writer killed with SIGKILL leaves the dataset unlocked.
    let child = spawn_child("child_holds_the_writer_lock", &[(CHILD_HOLD, &home)]);
    assert!(matches!(
        GrowingDataset::open(&home),
        Err(Error::Locked { .. })
    ));
    kill(child);
    GrowingDataset::open(&home).unwrap();
}
