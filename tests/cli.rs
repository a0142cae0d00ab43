//! The `pouw` command, run as an operator would: a dataset imported, checked and named, a chain
//! initialised, a block mined, verified, audited and shown; and every kind of bad input answered
//! with its exit code and a one-line message naming the problem, never a panic.
#![cfg(feature = "cli")]

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn pouw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pouw"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run pouw")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `args` and checks the exit code; returns stdout.
fn expect(code: i32, args: &[&str]) -> String {
    let o = pouw(args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "pouw {args:?}\nstdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    stdout(&o)
}

/// Runs `args`, expects a failure with `code` and a message containing `needle`.
fn fails(code: i32, args: &[&str], needle: &str) {
    let o = pouw(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "pouw {args:?}: {err}");
    assert!(
        err.contains(needle),
        "pouw {args:?}: {err:?} lacks {needle:?}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

/// The value after `label` on the line starting with it.
fn field<'a>(out: &'a str, label: &str, word: usize) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().nth(word))
        .unwrap_or_else(|| panic!("no {label} in {out}"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn an_operator_mines_verifies_audits_and_reads_a_block() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let digits = common::digits_path();

    // Datasets.
    let out = expect(
        0,
        &[
            "dataset",
            "import",
            "digits",
            s(&digits),
            s(&d("ds")),
            "--limit",
            "400",
        ],
    );
    let cid = field(&out, "cid", 0).to_owned();
    let info = expect(0, &["dataset", "info", s(&d("ds"))]);
    assert_eq!(field(&info, "cid", 0), cid);
    assert!(info.contains("records   400 of 64 bytes"), "{info}");
    expect(0, &["dataset", "scrub", s(&d("ds"))]);
    let manifest = std::fs::read(d("ds").join("manifest.bin")).unwrap();
    let named = expect(0, &["cid", s(&d("ds").join("manifest.bin"))]);
    assert_eq!(named.split_whitespace().next().unwrap(), cid);
    assert_eq!(pouw::ident::cid_of(&manifest).to_string(), cid);

    // A chain, a block.
    let out = expect(
        0,
        &[
            "init",
            "--dataset",
            s(&d("ds")),
            "--store",
            s(&d("store")),
            "--params",
            s(&d("params.bin")),
            "--g-filters",
            "16",
            "--d-filters",
            "8",
            "--batch-size",
            "16",
            "--opened-steps",
            "4",
            "--capacity-challenges",
            "8",
        ],
    );
    let genesis = field(&out, "genesis", 0).to_owned();
    let header = "42".repeat(32);
    let chain = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "--params",
            s(&d("params.bin")),
            "--store",
            s(&d("store")),
            "--start",
            &genesis,
            "--header",
            &header,
            "--miner",
            "operator",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        a.extend(extra.iter().map(|x| x.to_string()));
        a
    };
    let run = |code: i32, cmd: &str, extra: &[&str]| -> String {
        let mut args = vec![cmd.to_owned()];
        args.extend(chain(extra));
        expect(code, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let mined = run(
        0,
        "mine",
        &[
            "--dataset",
            s(&d("ds")),
            "--expected-steps",
            "4",
            "--proof",
            s(&d("proof.bin")),
            "--record-free-proof",
            s(&d("proof-rf.bin")),
        ],
    );
    let steps: u64 = field(&mined, "block", 2)
        .trim_end_matches(';')
        .parse()
        .unwrap();
    let next = field(&mined, "next", 1).to_owned();
    let verified = run(0, "verify", &["--expected-steps", "4", s(&d("proof.bin"))]);
    assert!(
        verified.starts_with(&format!("valid     {steps} steps")),
        "{verified}"
    );
    assert_eq!(field(&verified, "next", 1), next);
    // The record-free form: the same verdict, from the operator's dataset.
    let rf_path = d("proof-rf.bin");
    let rf = s(&rf_path);
    assert!(
        std::fs::metadata(rf).unwrap().len() < std::fs::metadata(d("proof.bin")).unwrap().len()
    );
    let verified_rf = run(
        0,
        "verify",
        &["--expected-steps", "4", "--dataset", s(&d("ds")), rf],
    );
    assert_eq!(
        verified_rf
            .lines()
            .next()
            .unwrap()
            .split("; verified")
            .next(),
        verified.lines().next().unwrap().split("; verified").next()
    );
    let missing = run(3, "verify", &["--expected-steps", "4", rf]);
    assert!(missing.is_empty());
    run(
        0,
        "audit",
        &[
            "--dataset",
            s(&d("ds")),
            "--expected-steps",
            "4",
            s(&d("proof.bin")),
        ],
    );
    run(
        0,
        "audit",
        &[
            "--dataset",
            s(&d("ds")),
            "--expected-steps",
            "4",
            "--segment",
            "random",
            s(&d("proof.bin")),
        ],
    );
    // A block command names a store that is not there: refused, and nothing created.
    let nowhere = d("no-store");
    let mut args: Vec<String> = vec!["verify".into()];
    args.extend(chain(&["--expected-steps", "4", s(&d("proof.bin"))]));
    let at = args.iter().position(|a| a == "--store").unwrap() + 1;
    args[at] = s(&nowhere).to_owned();
    fails(
        3,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        "no such directory",
    );
    assert!(!nowhere.exists());

    let shown = expect(
        0,
        &[
            "proof",
            "show",
            s(&d("proof.bin")),
            "--params",
            s(&d("params.bin")),
        ],
    );
    assert_eq!(field(&shown, "steps", 0), steps.to_string());
    let json = expect(
        0,
        &[
            "proof",
            "show",
            s(&d("proof.bin")),
            "--params",
            s(&d("params.bin")),
            "--json",
        ],
    );
    assert!(
        json.trim().starts_with('{') && json.trim().ends_with('}'),
        "{json}"
    );
    assert!(json.contains(&format!("\"steps\":{steps},")), "{json}");
    assert!(json.contains(&format!("\"header\":\"{header}\"")), "{json}");

    // The block is invalid for another miner or header: exit 1.
    let other = chain(&["--expected-steps", "4", s(&d("proof.bin"))]);
    let mut args: Vec<&str> = vec!["verify"];
    args.extend(other.iter().map(String::as_str));
    let i = args.iter().position(|a| *a == "operator").unwrap();
    args[i] = "thief";
    fails(1, &args, "rejected");
    // A proof file with a flipped byte: exit 1, with the decoder's reason.
    let mut bytes = std::fs::read(d("proof.bin")).unwrap();
    bytes[40] ^= 1;
    std::fs::write(d("flipped.bin"), &bytes).unwrap();
    let mut args: Vec<String> = vec!["verify".into()];
    args.extend(chain(&["--expected-steps", "4", s(&d("flipped.bin"))]));
    fails(
        1,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        "rejected",
    );
    // A proof whose steps replay but whose capacity response is wrong (its last byte, a proof
    // node, flipped): a replay alone agrees with it, so `audit` verifies first and says it is
    // invalid.
    let mut bytes = std::fs::read(d("proof.bin")).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(d("bad-capacity.bin"), &bytes).unwrap();
    let ds_path = d("ds");
    let audit_args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = vec!["audit".into()];
        let mut rest = vec!["--dataset", s(&ds_path), "--expected-steps", "4"];
        rest.extend(extra);
        args.extend(chain(&rest));
        args
    };
    let bad = s(&d("bad-capacity.bin")).to_owned();
    let replayed = audit_args(&["--skip-verify", &bad]);
    let replayed = expect(0, &replayed.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(replayed.contains("agrees"), "{replayed}");
    let audited = audit_args(&[&bad]);
    fails(
        1,
        &audited.iter().map(String::as_str).collect::<Vec<_>>(),
        "rejected",
    );
    // Auditing against another dataset is this node's problem (exit 3), not the block's.
    expect(
        0,
        &[
            "dataset",
            "import",
            "digits",
            s(&digits),
            s(&d("other-ds")),
            "--limit",
            "300",
        ],
    );
    for proof in [d("proof.bin"), d("proof-rf.bin")] {
        let mut args: Vec<String> = vec!["audit".into()];
        args.extend(chain(&[
            "--dataset",
            s(&d("other-ds")),
            "--expected-steps",
            "4",
            s(&proof),
        ]));
        fails(
            3,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            "not the dataset the consensus parameters commit to",
        );
    }
    // The record-free proof `mine` wrote is audited and shown like the self-contained one.
    let audited = run(
        0,
        "audit",
        &[
            "--dataset",
            s(&d("ds")),
            "--expected-steps",
            "4",
            "--segment",
            "random",
            rf,
        ],
    );
    assert!(audited.contains("agrees"), "{audited}");
    let shown_rf = expect(0, &["proof", "show", rf, "--params", s(&d("params.bin"))]);
    assert!(shown_rf.contains("record-free"), "{shown_rf}");
    assert_eq!(field(&shown_rf, "steps", 0), steps.to_string());
    // Scores only when asked, after the verdict.
    let scored = run(
        0,
        "verify",
        &["--expected-steps", "4", "--quality", s(&d("proof.bin"))],
    );
    assert!(!verified.contains("quality"), "{verified}");
    assert!(
        scored.contains("quality") && scored.contains("lower is better"),
        "{scored}"
    );
    // A proof file larger than any proof these parameters allow is refused unread.
    let huge = d("huge.bin");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 31)
        .unwrap();
    for cmd in ["verify", "audit"] {
        let mut args: Vec<String> = vec![cmd.into()];
        args.extend(chain(&[
            "--dataset",
            s(&d("ds")),
            "--expected-steps",
            "4",
            s(&huge),
        ]));
        fails(
            1,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            "more than any block proof",
        );
    }
    fails(
        1,
        &["proof", "show", s(&huge), "--params", s(&d("params.bin"))],
        "more than any block proof",
    );
    // So is a parameters file larger than any encoding: this node's input, exit 3.
    fails(
        3,
        &["proof", "show", s(&d("proof.bin")), "--params", s(&huge)],
        "more than any consensus parameters file",
    );
    // Outputs are checked before any work: a directory, or a file in a missing directory, is
    // refused at once, naming the path, and leaves no temporary file.
    let (ds_dir, proof2) = (d("ds"), d("proof2.bin"));
    for bad in [d("store"), d("absent").join("proof.bin")] {
        for flag in ["--proof", "--record-free-proof"] {
            let mut extra = vec!["--dataset", s(&ds_dir), "--expected-steps", "4"];
            if flag != "--proof" {
                extra.extend(["--proof", s(&proof2)]);
            }
            extra.extend([flag, s(&bad)]);
            let mut args: Vec<String> = vec!["mine".into()];
            args.extend(chain(&extra));
            let started = std::time::Instant::now();
            fails(
                3,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
                s(&bad),
            );
            assert!(started.elapsed().as_secs() < 30, "refused before mining");
        }
        let mut args: Vec<String> = vec!["audit".into()];
        args.extend(chain(&[
            "--dataset",
            s(&d("ds")),
            "--expected-steps",
            "4",
            "--fraud",
            s(&bad),
            s(&d("proof.bin")),
        ]));
        fails(
            3,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            s(&bad),
        );
    }
    let store_dir = s(&d("store")).to_owned();
    let init_onto_a_directory = ["init", "--dataset", s(&ds_dir), "--store", &store_dir];
    let mut args = init_onto_a_directory.to_vec();
    args.extend(["--params", &store_dir]);
    fails(3, &args, "is a directory");
    assert!(!d("proof2.bin").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .chain(std::fs::read_dir(d("store")).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The device is a local choice on the command line; a bad one is a usage error.
    let mut args: Vec<String> = vec!["verify".into()];
    args.extend(chain(&[
        "--expected-steps",
        "4",
        "--device",
        "gpu",
        s(&d("proof.bin")),
    ]));
    fails(
        2,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        "--device",
    );
    run(
        0,
        "verify",
        &[
            "--expected-steps",
            "4",
            "--device",
            "cpu",
            s(&d("proof.bin")),
        ],
    );
}

#[test]
fn bad_input_gets_its_exit_code_and_a_message_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    // Usage errors: exit 2 (clap), at once, before any file is read.
    fails(2, &["mine", "--header", "zz"], "--header");
    fails(2, &["frobnicate"], "frobnicate");
    let block = |cmd: &'static str, extra: &[&'static str]| -> Vec<&'static str> {
        let mut args = vec![
            cmd,
            "--params",
            "nowhere.bin",
            "--store",
            "nowhere",
            "--start",
            "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
            "--miner",
            "m",
        ];
        args.extend_from_slice(extra);
        args
    };
    // A header with sign characters is not 64 hex digits (`+4` once parsed as 0x04).
    let signs: &'static str = "+4".repeat(32).leak();
    fails(
        2,
        &block("verify", &["--header", signs, "--expected-steps", "4", "p"]),
        "--header",
    );
    let header: &'static str = "42".repeat(32).leak();
    for (cmd, flag, value) in [
        ("verify", "--expected-steps", "0"),
        ("audit", "--expected-steps", "0"),
        ("mine", "--expected-steps", "0"),
        ("mine", "--threads", "100000"),
        ("verify", "--threads", "0"),
        ("audit", "--threads", "257"),
    ] {
        let mut args = block(cmd, &["--header", header, flag, value]);
        if flag != "--expected-steps" {
            args.extend(["--expected-steps", "4"]);
        }
        args.extend(["--dataset", "ds", "--proof", "p"]);
        if cmd != "mine" {
            args.pop();
            args.pop();
            args.push("p");
        }
        fails(2, &args, flag);
    }
    for (flag, value) in [
        ("--batch-size", "0"),
        ("--batch-size", "1"),
        ("--g-filters", "0"),
        ("--opened-steps", "257"),
    ] {
        fails(
            2,
            &[
                "init",
                "--dataset",
                "ds",
                "--store",
                "s",
                "--params",
                "p",
                flag,
                value,
            ],
            flag,
        );
    }
    fails(
        2,
        &[
            "dataset",
            "import",
            "images",
            "in",
            "out",
            "--size",
            "0",
            "--licence",
            "x",
        ],
        "--size",
    );
    assert!(!d("s").exists() && !std::path::Path::new("s").exists());
    // Missing and malformed files: exit 3, the path in the message.
    let missing = d("missing.csv");
    fails(
        3,
        &["dataset", "import", "digits", s(&missing), s(&d("x"))],
        s(&missing),
    );
    fails(3, &["dataset", "info", s(&d("nowhere"))], "nowhere");
    fails(3, &["cid", s(&missing)], s(&missing));
    std::fs::write(d("params.bin"), b"not parameters").unwrap();
    fails(
        3,
        &[
            "proof",
            "show",
            s(&d("params.bin")),
            "--params",
            s(&d("params.bin")),
        ],
        s(&d("params.bin")),
    );
    // A corrupted record: scrub fails, naming the record.
    let ds = common::digits_path();
    expect(
        0,
        &[
            "dataset",
            "import",
            "digits",
            s(&ds),
            s(&d("ds")),
            "--limit",
            "50",
        ],
    );
    // Importing over it is refused (the dataset stays); a failed import leaves nothing.
    fails(
        3,
        &["dataset", "import", "digits", s(&ds), s(&d("ds"))],
        "exists and is not empty",
    );
    expect(0, &["dataset", "scrub", s(&d("ds"))]);
    assert!(
        !d("x").exists(),
        "the failed import above left its directory"
    );
    let records = d("ds").join("records.bin");
    let mut bytes = std::fs::read(&records).unwrap();
    bytes[64 * 7 + 3] ^= 1;
    std::fs::write(&records, &bytes).unwrap();
    fails(3, &["dataset", "scrub", s(&d("ds"))], "record 7");
    std::fs::write(&records, {
        bytes[64 * 7 + 3] ^= 1;
        &bytes
    })
    .unwrap();
    expect(0, &["dataset", "scrub", s(&d("ds"))]);
    // A damaged tree file is named as such, not blamed on the records.
    let tree = d("ds").join("tree.bin");
    let mut tree_bytes = std::fs::read(&tree).unwrap();
    let last = tree_bytes.len() - 40;
    tree_bytes[last] ^= 1;
    std::fs::write(&tree, &tree_bytes).unwrap();
    let o = pouw(&["dataset", "scrub", s(&d("ds"))]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("tree.bin") && !stderr(&o).contains("record"),
        "{}",
        stderr(&o)
    );
    tree_bytes[last] ^= 1;
    std::fs::write(&tree, &tree_bytes).unwrap();
    // A damaged manifest: the error names the file.
    let manifest = d("ds").join("manifest.bin");
    let good = std::fs::read(&manifest).unwrap();
    std::fs::write(&manifest, &good[..good.len() / 2]).unwrap();
    fails(3, &["dataset", "info", s(&d("ds"))], "manifest.bin");
    std::fs::write(&manifest, &good).unwrap();
    // A store URL that is not plain http:// is refused, not made a directory of that name.
    let cwd = std::env::current_dir().unwrap();
    fails(
        3,
        &[
            "init",
            "--dataset",
            s(&d("ds")),
            "--store",
            "https://127.0.0.1:5001",
            "--params",
            s(&d("params2.bin")),
            "--g-filters",
            "16",
            "--d-filters",
            "8",
            "--batch-size",
            "16",
        ],
        "https:// is not supported",
    );
    assert!(!cwd.join("https:").exists());
    // A fetch from a node that does not answer fails and leaves no directory.
    let cid = pouw::ident::cid_of(b"no such manifest").to_string();
    let o = pouw(&[
        "dataset",
        "fetch",
        &cid,
        s(&d("fetched")),
        "--ipfs",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(!d("fetched").exists());
}

#[test]
fn bench_prints_the_ratios() {
    let out = expect(0, &["bench", "--mib", "8", "--block-steps", "16"]);
    for line in ["tree ", "cid ", "step ", "block "] {
        assert!(
            out.lines().any(|l| l.starts_with(line)),
            "{line:?} in {out}"
        );
    }
    assert_eq!(out.matches("ratio to").count(), 2, "{out}");
    assert!(out.contains("record-free"), "{out}");
}
