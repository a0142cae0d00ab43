//! Builds the C examples (`examples/c/mine_verify.c`, `examples/c/grow.c`) with the system C
//! compiler against `include/pouw.h` and the C library this build made (`libpouw_ffi.so`, which
//! carries libtorch's rpath), runs each, and runs it again under valgrind: no memory errors and
//! no definite or indirect leaks.
//! (libtorch's own process-lifetime allocations are "still reachable" or, for its thread
//! pools, "possibly lost"; neither counts.)
//!
//! Fails, saying what to install, when `cc` or valgrind is missing (`scripts/setup.sh` installs
//! both).
#![cfg(feature = "torch")]

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The directory holding this build's `libpouw_ffi.so`. The test binary is
/// `target/<profile>/deps/<test>`; `cargo test` builds the C library next to it in `deps/` (it
/// copies it up to `target/<profile>/` only on `cargo build`), so `deps/` holds the fresh one.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().expect("target/<profile>/deps").to_path_buf();
    for dir in [deps.clone(), deps.parent().unwrap().to_path_buf()] {
        if dir.join("libpouw_ffi.so").exists() {
            return dir;
        }
    }
    panic!(
        "no libpouw_ffi.so in {} or its parent; build it with `cargo build -p pouw-ffi`",
        deps.display()
    );
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` to completion within `limit`, returning (success, stdout, stderr).
fn run(mut cmd: Command, limit: Duration) -> (bool, String, String) {
    let out_dir = common::TempDir::new("c-example-out");
    let (out, err) = (out_dir.path().join("stdout"), out_dir.path().join("stderr"));
    let mut child = cmd
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} ran over {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (
        status.success(),
        std::fs::read_to_string(out).unwrap_or_default(),
        std::fs::read_to_string(err).unwrap_or_default(),
    )
}

#[test]
fn c_example_builds_runs_and_is_clean_under_valgrind() {
    build_run_and_valgrind("mine_verify", &["all checks passed", "verdict: steps"]);
}

#[test]
fn c_growth_example_builds_runs_and_is_clean_under_valgrind() {
    build_run_and_valgrind("grow", &["all checks passed", "record 5:", "submitter:"]);
}

/// Builds `examples/c/<name>.c`, runs it on the digits, and runs it again under valgrind; its
/// output must contain each of `expected`.
fn build_run_and_valgrind(name: &str, expected: &[&str]) {
    assert!(
        have("cc"),
        "no C compiler `cc` on PATH (scripts/setup.sh installs one)"
    );
    let root = common::root();
    let lib = lib_dir();
    let scratch = common::TempDir::new(&format!("c-example-{name}"));
    let exe = scratch.path().join(name);
    let mut cc = Command::new("cc");
    cc.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .arg("-I")
        .arg(root.join("include"))
        .arg(root.join(format!("examples/c/{name}.c")))
        .arg("-L")
        .arg(&lib)
        .arg("-lpouw_ffi")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-o")
        .arg(&exe);
    let (ok, out, err) = run(cc, Duration::from_secs(120));
    assert!(ok, "cc failed:\n{out}\n{err}");

    let digits = common::digits_path();
    let example = |work: &str| {
        let mut cmd = Command::new(&exe);
        cmd.arg(&digits).arg(scratch.path().join(work));
        cmd
    };
    let (ok, out, err) = run(example("plain"), Duration::from_secs(300));
    assert!(ok, "{name} failed:\n{out}\n{err}");
    for want in expected {
        assert!(out.contains(want), "{name} printed no {want:?}:\n{out}");
    }

    assert!(
        have("valgrind"),
        "valgrind is not installed (scripts/setup.sh installs it: apt-get install valgrind)"
    );
    let mut vg = Command::new("valgrind");
    vg.args([
        "--error-exitcode=99",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite,indirect",
        "--num-callers=30",
    ]);
    let supp = root.join("ffi/tests/valgrind.supp");
    if supp.exists() {
        vg.arg(format!("--suppressions={}", supp.display()));
    }
    vg.arg(&exe)
        .arg(&digits)
        .arg(scratch.path().join("valgrind"));
    let (ok, out, err) = run(vg, Duration::from_secs(1200));
    let summary: Vec<&str> = err
        .lines()
        .filter(|l| {
            l.contains("ERROR SUMMARY")
                || l.contains("definitely lost")
                || l.contains("indirectly lost")
        })
        .collect();
    eprintln!("valgrind ({name}): {}", summary.join(" | "));
    assert!(
        ok,
        "{name} under valgrind failed (exit 99: memory errors or leaks):\n{out}\n{err}"
    );
    assert!(out.contains("all checks passed"), "{out}");
    assert!(err.contains("ERROR SUMMARY: 0 errors"), "{err}");
}
