//! C API overhead on proof verification: `pouw_verify` against the Rust `verify` on the golden
//! proof (issue target: at most 1%). Prints both medians and the difference.
//! `cargo bench -p pouw-ffi --bench overhead`.

#[path = "../../tests/common/golden.rs"]
#[allow(dead_code)]
mod golden;

use golden::Golden;
use pouw::learning::gan::GanTrainer;
use pouw::work::{verify, Target};
use pouw_ffi::*;
use std::path::PathBuf;
use std::time::Instant;

const ROUNDS: usize = 41;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    tch::set_num_threads(1);
    let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden");
    let params_bytes = std::fs::read(golden.join("params.bin")).unwrap();
    let loaded = Golden::load_from(&golden);
    let (proof, genesis_bytes) = (&loaded.proof, &loaded.genesis);
    let (header, miner) = (golden::HEADER, golden::MINER);
    let target = Target::from_expected_steps(golden::EXPECTED_STEPS);
    let input = loaded.input();

    let dir = golden.join("store").to_string_lossy().into_owned();
    let (mut c_params, mut c_store) = (std::ptr::null_mut(), std::ptr::null_mut());
    unsafe {
        assert_eq!(
            pouw_params_from_bytes(
                params_bytes.as_ptr(),
                params_bytes.len(),
                POUW_DEVICE_CPU,
                0,
                &mut c_params
            ),
            PouwResult::Ok
        );
        assert_eq!(
            pouw_store_open_dir(dir.as_ptr(), dir.len(), &mut c_store),
            PouwResult::Ok
        );
    }
    let mut c_start = std::mem::MaybeUninit::<pouw_start>::zeroed();
    unsafe {
        assert_eq!(
            pouw_start_of_checkpoint(
                c_params,
                genesis_bytes.as_ptr(),
                genesis_bytes.len(),
                c_start.as_mut_ptr()
            ),
            PouwResult::Ok
        );
    }
    let c_start = unsafe { c_start.assume_init() };
    let c_call = || unsafe {
        let mut verdict = std::mem::zeroed();
        let rc = pouw_verify(
            c_params,
            c_store,
            header.as_ptr(),
            miner.as_ptr(),
            miner.len(),
            &c_start,
            target.0.as_ptr(),
            proof.as_ptr(),
            proof.len(),
            &mut verdict,
        );
        assert_eq!(rc, PouwResult::Ok);
    };
    let rust_call = || {
        verify::<GanTrainer>(&input, proof).unwrap();
    };
    for _ in 0..3 {
        rust_call();
        c_call();
    }
    let (mut rust, mut c) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t = Instant::now();
        rust_call();
        rust.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        c_call();
        c.push(t.elapsed().as_secs_f64());
    }
    let (r, cc) = (median(rust), median(c));
    println!(
        "golden proof verification, median of {ROUNDS}: Rust {:.3} ms, C API {:.3} ms, overhead {:+.2}% (target <= 1%)",
        r * 1e3,
        cc * 1e3,
        100.0 * (cc / r - 1.0)
    );
    unsafe {
        pouw_params_free(c_params);
        pouw_store_free(c_store);
    }
}
