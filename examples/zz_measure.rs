//! scratch: measure discriminator logits by category (deleted before hand-off)
use pouw::dataset::import::{import_digits_csv, DigitsCsv};
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::{batch_indices, checkpoint_digest, step_seed, Batch, ProofOfLearning, TaskSpec};
use pouw::hash::Xof;

fn shift(r: &[u8], dx: i32, dy: i32) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    for y in 0..8i32 { for x in 0..8i32 {
        let (sx, sy) = (x - dx, y - dy);
        if (0..8).contains(&sx) && (0..8).contains(&sy) { out[(y*8+x) as usize] = r[(sy*8+sx) as usize]; }
    }}
    out
}

fn stats(name: &str, logits: &[f32]) {
    let mut v = logits.to_vec(); v.sort_by(|a,b| a.partial_cmp(b).unwrap());
    let q = |p: f64| v[((v.len()-1) as f64 * p) as usize];
    println!("{name:>10}: n={} min {:.3} p01 {:.3} p05 {:.3} p10 {:.3} p50 {:.3} p90 {:.3} p99 {:.3} max {:.3}", v.len(), v[0], q(0.01), q(0.05), q(0.1), q(0.5), q(0.9), q(0.99), v[v.len()-1]);
}

fn main() -> pouw::Result<()> {
    tch::set_num_threads(1);
    let steps: u64 = std::env::args().nth(1).map_or(400, |s| s.parse().unwrap());
    let train_n: u64 = std::env::args().nth(2).map_or(1500, |s| s.parse().unwrap());
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/digits.csv.gz");
    let tmp = tempfile::tempdir().unwrap();
    let ds = import_digits_csv(&path, tmp.path().join("d"), Some(train_n))?;
    let rows: Vec<[u8; 64]> = DigitsCsv::open(&path)?.collect::<pouw::Result<_>>()?;
    let held: Vec<u8> = rows[train_n as usize..].iter().flatten().copied().collect();
    let train: Vec<u8> = rows[..train_n as usize].iter().flatten().copied().collect();
    let spec = GanSpec { device: pouw::learning::gan::DeviceChoice::Cpu, ..GanSpec::for_manifest(ds.manifest())? };
    let mut t = GanTrainer::from_seed(&spec, &[0u8; 32])?;
    let anchor = [2u8; 32];
    let mut prev = checkpoint_digest(&t.checkpoint()?);
    let st = std::time::Instant::now();
    let mut ck = Vec::new();
    for i in 1..=steps {
        let seed = step_seed(&anchor, &prev, i);
        let batch = Batch::from_dataset(&ds, &batch_indices(&seed, spec.batch_size(), ds.len())?)?;
        t.step(&seed, &batch)?;
        ck = t.checkpoint()?;
        prev = checkpoint_digest(&ck);
        if i % 100 == 0 || i == steps {
            let score = |recs: &[u8]| t.discriminator_logits(&Batch::from_records(vec![0; recs.len()/64], recs.to_vec(), 64).unwrap()).unwrap();
            let mut x = Xof::new("pouw/test", b"noise");
            let noise: Vec<u8> = (0..64*1000).map(|_| x.uniform_below(17) as u8).collect();
            let noise255: Vec<u8> = (0..64*1000).map(|_| x.uniform_below(256) as u8).collect();
            let blank = vec![0u8; 64*2];
            let full = vec![16u8; 64];
            let mut shifted = Vec::new();
            for (k, r) in rows[..train_n as usize].iter().enumerate().take(1000) {
                let (dx, dy) = [(1,0),(-1,0),(0,1),(0,-1)][k % 4];
                shifted.extend(shift(r, dx, dy));
            }
            let mut noise_sparse = Vec::new();
            for _ in 0..1000 { for _ in 0..64 { let on = x.uniform_below(2)==0; noise_sparse.push(if on { x.uniform_below(17) as u8 } else { 0 }); } }
            println!("--- step {i} ({:.1} ms/step)", st.elapsed().as_secs_f64()*1e3/i as f64);
            stats("held", &score(&held)); stats("train", &score(&train)); stats("noise", &score(&noise)); stats("sparse", &score(&noise_sparse));
            stats("blank", &score(&blank)); stats("full", &score(&full)); stats("shifted", &score(&shifted));
            // consistency batch vs single
            let a = score(&held); let b: Vec<f32> = held.chunks(64).map(|r| score(r)[0]).collect();
            println!("batch==single bitwise: {}", a.iter().zip(&b).all(|(p,q)| p.to_bits()==q.to_bits()));
            let _ = noise255;
        }
    }
    let canon = |recs: &[u8]| -> Vec<f32> {
        let n = recs.len()/64; let mut out = Vec::new();
        for c in recs.chunks(256*64) { let mut b = c.to_vec(); b.resize(256*64, 0);
            out.extend_from_slice(&t.discriminator_logits(&Batch::from_records(vec![0;256], b, 64).unwrap()).unwrap()[..c.len()/64]); }
        assert_eq!(out.len(), n); out };
    // position independence in a fixed-shape chunk
    { let a = canon(&held[..256*64]); let mut rev: Vec<u8> = held[..256*64].chunks(64).rev().flatten().copied().collect(); let b = canon(&rev); 
      let same = a.iter().zip(b.iter().rev()).all(|(p,q)| p.to_bits()==q.to_bits()); println!("fixed chunk position-independent: {same}"); rev.clear(); }
    let mut x = Xof::new("pouw/test", b"noise2");
    let noise: Vec<u8> = (0..64*1000).map(|_| x.uniform_below(17) as u8).collect();
    let mut shifted = Vec::new();
    for r in rows[..train_n as usize].iter().take(1000) { loop { let dx = x.uniform_below(5) as i32 - 2; let dy = x.uniform_below(5) as i32 - 2; if dx!=0||dy!=0 { shifted.extend(shift(r,dx,dy)); break; } } }
    let mut blank = vec![0u8; 64]; for v in 1..=16u8 { blank.extend(std::iter::repeat(v).take(64)); }
    for _ in 0..100 { let mut r = [0u8;64]; for _ in 0..3 { r[x.uniform_below(64) as usize] = 1 + x.uniform_below(16) as u8; } blank.extend(r); }
    let tr = canon(&train); let mut srt = tr.clone(); srt.sort_by(|a,b| a.partial_cmp(b).unwrap());
    let (h, nz_, b_, s_) = (canon(&held), canon(&noise), canon(&blank), canon(&shifted));
    for q in [10usize, 20, 50, 100] {
        let th = srt[srt.len()*q/1000];
        let acc = |v: &[f32]| 100.0 * v.iter().filter(|&&l| l >= th).count() as f64 / v.len() as f64;
        println!("q={q}/1000 threshold {th:.4}: held acc {:.1}% train acc {:.1}% noise rej {:.1}% blank rej {:.1}% shifted rej {:.1}%", acc(&h), acc(&tr), 100.0-acc(&nz_), 100.0-acc(&b_), 100.0-acc(&s_));
    }
    let trainset: std::collections::HashSet<&[u8]> = train.chunks(64).collect();
    println!("held-back rows that duplicate a training row: {}", held.chunks(64).filter(|r| trainset.contains(r)).count());
    let t0 = std::time::Instant::now(); for _ in 0..10 { let _ = canon(&noise); } println!("score 1000: {:.2} ms", t0.elapsed().as_secs_f64()*100.0);
    let t0 = std::time::Instant::now(); let mut acc = 0u8; for r in noise.chunks(64).cycle().take(100000) { acc ^= pouw::merkle::leaf_hash(r)[0]; } println!("leaf hash: {:.3} us ({acc})", t0.elapsed().as_secs_f64()*10.0);
    // ink stats
    let nz = |r: &[u8]| r.iter().filter(|&&v| v > 0).count();
    let sum = |r: &[u8]| r.iter().map(|&v| v as u32).sum::<u32>();
    let mut nzs: Vec<usize> = rows[..train_n as usize].iter().map(|r| nz(r)).collect(); nzs.sort();
    let mut sums: Vec<u32> = rows.iter().map(|r| sum(r)).collect(); sums.sort();
    println!("real nonzero: min {} p01 {} p50 {} p99 {} max {}", nzs[0], nzs[nzs.len()/100], nzs[nzs.len()/2], nzs[nzs.len()*99/100], nzs[nzs.len()-1]);
    println!("real sum: min {} p01 {} p50 {} p99 {} max {}", sums[0], sums[sums.len()/100], sums[sums.len()/2], sums[sums.len()*99/100], sums[sums.len()-1]);
    // border columns usage
    let edge = |r: &[u8]| (0..8).map(|y| r[y*8] as u32 + r[y*8+7] as u32).sum::<u32>();
    let mut e: Vec<u32> = rows.iter().map(|r| edge(r)).collect(); e.sort();
    println!("real left+right edge sum: p50 {} p90 {} max {}", e[e.len()/2], e[e.len()*9/10], e[e.len()-1]);
    let c0: usize = rows.iter().filter(|r| (0..8).all(|y| r[y*8]==0)).count();
    println!("rows with empty col0: {c0}/{}", rows.len());
    std::fs::write("/tmp/judge.ckpt", &ck).unwrap();
    Ok(())
}
