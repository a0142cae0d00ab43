//! Datasets on disk: the digits, IDX and image-folder importers, the manifest encoding, and the
//! detection of every kind of on-disk damage.

mod common;

#[cfg(feature = "images")]
use pouw::dataset::import::import_image_folder;
use pouw::dataset::import::{import_digits_csv, import_idx, DIGITS_LICENCE};
use pouw::dataset::{DType, DatasetWriter, Manifest, MANIFEST_FILE, RECORDS_FILE, TREE_FILE};
use pouw::ident::cid_of;
use pouw::merkle::{leaf_hash, prefix_root, MerkleTree, TreeFile};
use pouw::{Dataset, Error};
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::Path;

/// The digits rows (64 pixels each, label dropped), parsed here independently of the importer.
fn csv_rows() -> Vec<Vec<u8>> {
    let raw = std::fs::read(common::digits_path()).unwrap();
    let mut text = String::new();
    if raw.starts_with(&[0x1f, 0x8b]) {
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_string(&mut text)
            .unwrap();
    } else {
        text = String::from_utf8(raw).unwrap();
    }
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let fields: Vec<u8> = l
                .trim()
                .split(',')
                .map(|f| f.trim().parse().unwrap())
                .collect();
            assert_eq!(fields.len(), 65);
            fields[..64].to_vec()
        })
        .collect()
}

fn import(dir: &Path) -> Dataset {
    import_digits_csv(common::digits_path(), dir, None).unwrap()
}

/// XORs `mask` into the byte at `offset` of `path` (rewriting the file in place).
fn flip_byte(path: &Path, offset: u64, mask: u8) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset as usize] ^= mask;
    let mut f = OpenOptions::new().write(true).open(path).unwrap();
    f.write_all(&bytes).unwrap();
}

const HEADER_LEN: u64 = 88;

/// Byte offset of node `(level, index)` in the tree file of `size` leaves.
fn node_offset(size: u64, level: u32, index: u64) -> u64 {
    let mut at = HEADER_LEN;
    let mut w = size;
    for _ in 0..level {
        at += w * 32;
        w = w.div_ceil(2);
    }
    at + index * 32
}

// ---- Digits ----

#[test]
fn digits_import_matches_the_csv() {
    let rows = csv_rows();
    assert_eq!(rows.len(), 1797);
    assert_eq!(rows[0][..8], [0, 0, 5, 13, 9, 1, 0, 0]);
    let dir = tempfile::tempdir().unwrap();
    let ds = import(dir.path());
    assert_eq!(ds.len(), 1797);
    assert_eq!(ds.record_size(), 64);
    let m = ds.manifest();
    assert_eq!(m.shape, vec![1, 8, 8]);
    assert_eq!(m.image_dims(), Some((1, 8, 8)));
    assert_eq!(m.dtype, DType::U8);
    assert_eq!(m.value_max, 16);
    assert_eq!(m.count, 1797);
    assert_eq!(m.record_size, 64);
    assert_eq!(m.licence, DIGITS_LICENCE);
    assert_eq!(ds.record(0).unwrap(), rows[0]);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(&ds.record(i as u64).unwrap(), row, "record {i}");
    }
    // The root, computed here from the independently parsed rows.
    let tree = MerkleTree::from_leaves(rows.iter().map(|r| leaf_hash(r)).collect());
    assert_eq!(ds.root(), tree.root());
    assert!(matches!(
        ds.record(1797),
        Err(Error::IndexOutOfRange {
            index: 1797,
            size: 1797
        })
    ));
    ds.scrub().unwrap();
}

#[test]
fn open_round_trip_and_cids() {
    let dir = tempfile::tempdir().unwrap();
    let ds = import(dir.path());
    let again = Dataset::open(dir.path()).unwrap();
    assert_eq!(again.manifest(), ds.manifest());
    assert_eq!(again.root(), ds.root());
    assert_eq!(again.cid(), ds.cid());
    assert_eq!(again.len(), ds.len());
    for i in [0, 1, 900, 1796] {
        assert_eq!(again.record(i).unwrap(), ds.record(i).unwrap());
    }
    // The dataset's CID names the manifest file's exact bytes.
    let manifest_bytes = std::fs::read(dir.path().join(MANIFEST_FILE)).unwrap();
    assert_eq!(ds.cid(), cid_of(&manifest_bytes));
    assert_eq!(ds.manifest().cid(), ds.cid());
    assert_eq!(ds.manifest().to_bytes(), manifest_bytes);
    // Proofs from the reopened dataset.
    let (records, proof) = again.prove(&[3, 500, 1796]).unwrap();
    assert_eq!(records[1], ds.record(500).unwrap());
    let leaves: Vec<_> = records.iter().map(|r| leaf_hash(r)).collect();
    pouw::merkle::verify_multiproof(&ds.root(), ds.len(), &[3, 500, 1796], &leaves, &proof)
        .unwrap();
}

#[test]
fn a_prefix_import_is_a_prefix_tree() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let full = import(a.path());
    let small = import_digits_csv(common::digits_path(), b.path(), Some(100)).unwrap();
    assert_eq!(small.len(), 100);
    assert_eq!(small.root(), prefix_root(full.tree(), 100).unwrap());
    assert_ne!(small.cid(), full.cid());
}

#[test]
fn prove_refuses_bad_index_lists_with_their_own_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ds = import_digits_csv(common::digits_path(), dir.path(), Some(50)).unwrap();
    assert!(matches!(
        ds.prove(&[4, 4]),
        Err(Error::IndicesNotAscending { position: 1 })
    ));
    assert!(matches!(
        ds.prove(&[1, 50]),
        Err(Error::IndexOutOfRange { index: 50, .. })
    ));
    // An empty list is the caller's mistake, not a corrupt tree.
    let r = ds.prove(&[]);
    assert!(matches!(r, Err(Error::InvalidParameters(_))), "{r:?}");
}

// ---- Manifest encoding ----

fn sample_manifest() -> Manifest {
    Manifest {
        shape: vec![3, 4, 5],
        dtype: DType::U8,
        value_max: 255,
        count: 123_456_789,
        record_size: 60,
        source: "synthétique ✓".into(),
        licence: "CC0".into(),
        root: [0xA5; 32],
        records: pouw::ident::cid_of(&[7u8; 300_000]),
    }
}

#[test]
fn manifest_round_trips_and_refuses_every_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let digits = import_digits_csv(common::digits_path(), dir.path(), Some(10)).unwrap();
    for m in [digits.manifest().clone(), sample_manifest()] {
        let bytes = m.to_bytes();
        let back = Manifest::from_bytes(&bytes).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.to_bytes(), bytes);
        for len in 0..bytes.len() {
            let r = Manifest::from_bytes(&bytes[..len]);
            assert!(
                matches!(r, Err(Error::Truncated { .. })),
                "prefix of {len}: {r:?}"
            );
        }
        for extra in [&[0u8][..], b"xyz"] {
            let mut long = bytes.clone();
            long.extend_from_slice(extra);
            let r = Manifest::from_bytes(&long);
            assert!(
                matches!(r, Err(Error::TrailingBytes(n)) if n == extra.len()),
                "{r:?}"
            );
        }
    }
}

#[test]
fn manifest_refuses_invalid_fields() {
    let good = sample_manifest().to_bytes();
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        Manifest::from_bytes(&b)
    };
    assert!(matches!(
        with(&|b| b[0] = b'X'),
        Err(Error::BadMagic { .. })
    ));
    assert!(matches!(
        with(&|b| b[4] = 1),
        Err(Error::UnsupportedVersion { found: 1, .. })
    ));
    assert!(matches!(
        with(&|b| b[4] = 3),
        Err(Error::UnsupportedVersion { found: 3, .. })
    ));
    // Dimension count 9 (over MAX_DIMS = 8).
    assert!(matches!(
        with(&|b| b[8] = 9),
        Err(Error::LimitExceeded {
            what: "shape",
            found: 9,
            ..
        })
    ));
    // dtype code (after magic, version, count and three dims).
    let dtype_at = 4 + 4 + 4 + 3 * 4;
    assert_eq!(good[dtype_at], 1);
    assert!(matches!(
        with(&|b| b[dtype_at] = 2),
        Err(Error::InvalidField { what: "dtype", .. })
    ));
    // value_max = 0.
    assert!(matches!(
        with(&|b| b[dtype_at + 1..dtype_at + 5].fill(0)),
        Err(Error::InvalidField {
            what: "value max",
            ..
        })
    ));
    // A record size that the shape does not imply.
    let rs_at = dtype_at + 1 + 4 + 8;
    assert_eq!(good[rs_at], 60);
    assert!(matches!(
        with(&|b| b[rs_at] = 61),
        Err(Error::InvalidField {
            what: "record size",
            ..
        })
    ));
    // A zero dimension.
    assert!(matches!(
        with(&|b| b[12..16].fill(0)),
        Err(Error::InvalidField {
            what: "record shape",
            ..
        })
    ));
    // Source text that is not UTF-8.
    let src_at = rs_at + 8 + 4;
    assert!(matches!(
        with(&|b| b[src_at] = 0xFF),
        Err(Error::InvalidField { what: "source", .. })
    ));
}

// ---- Damage on disk ----

#[test]
fn any_tree_header_byte_corrupted_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    import_digits_csv(common::digits_path(), dir.path(), Some(300)).unwrap();
    let tree = dir.path().join(TREE_FILE);
    for at in 0..HEADER_LEN {
        flip_byte(&tree, at, 0x10);
        let r = Dataset::open(dir.path());
        assert!(
            matches!(r, Err(Error::TreeCorrupt { .. })),
            "header byte {at}: {r:?}"
        );
        assert!(
            matches!(TreeFile::open(&tree), Err(Error::TreeCorrupt { .. })),
            "header byte {at}"
        );
        flip_byte(&tree, at, 0x10);
    }
    Dataset::open(dir.path()).unwrap().scrub().unwrap();
}

#[test]
fn tree_file_of_the_wrong_length_or_root_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    import_digits_csv(common::digits_path(), dir.path(), Some(300)).unwrap();
    let tree = dir.path().join(TREE_FILE);
    let len = std::fs::metadata(&tree).unwrap().len();
    assert_eq!(
        len,
        node_offset(300, 9, 1),
        "300 leaves: 9 levels above the leaves, root last"
    );
    // The stored top node.
    flip_byte(&tree, len - 32, 1);
    assert!(matches!(
        Dataset::open(dir.path()),
        Err(Error::TreeCorrupt { .. })
    ));
    flip_byte(&tree, len - 32, 1);
    // Too short, too long.
    let f = OpenOptions::new().write(true).open(&tree).unwrap();
    f.set_len(len - 32).unwrap();
    assert!(matches!(
        Dataset::open(dir.path()),
        Err(Error::TreeCorrupt { .. })
    ));
    f.set_len(10).unwrap();
    assert!(matches!(
        Dataset::open(dir.path()),
        Err(Error::TreeCorrupt { .. })
    ));
    f.set_len(len + 32).unwrap();
    assert!(matches!(
        Dataset::open(dir.path()),
        Err(Error::TreeCorrupt { .. })
    ));
}

#[test]
fn corrupt_interior_node_fails_the_proofs_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let n = import(dir.path()).len();
    // Node (1, 1) covers leaves 2 and 3: it is a sibling on the path of leaves 0 and 1.
    flip_byte(&dir.path().join(TREE_FILE), node_offset(n, 1, 1) + 5, 0x40);
    let ds = Dataset::open(dir.path()).expect("open checks the header and root only");
    for indices in [&[0u64][..], &[1], &[0, 1000]] {
        let r = ds.prove(indices);
        assert!(
            matches!(r, Err(Error::TreeCorrupt { .. })),
            "{indices:?}: {r:?}"
        );
    }
    // Records are still readable, and proofs that do not use the node still work.
    ds.record(0).unwrap();
    ds.prove(&[1796]).unwrap();
    ds.prove(&[2, 3]).unwrap();
    assert!(matches!(ds.scrub(), Err(Error::TreeCorrupt { .. })));
    assert!(matches!(ds.tree().scrub(), Err(Error::TreeCorrupt { .. })));
}

#[test]
fn corrupt_leaf_node_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let n = import(dir.path()).len();
    flip_byte(&dir.path().join(TREE_FILE), node_offset(n, 0, 7), 0x01);
    let ds = Dataset::open(dir.path()).unwrap();
    assert!(matches!(
        ds.record(7),
        Err(Error::RecordCorrupt { index: 7 })
    ));
    // As the sibling of leaf 6, it breaks the proof of 6.
    assert!(matches!(ds.prove(&[6]), Err(Error::TreeCorrupt { .. })));
    // A full check tells which file is damaged: the tree's own nodes disagree, so it is the tree.
    assert!(matches!(ds.scrub(), Err(Error::TreeCorrupt { .. })));
}

#[test]
fn corrupt_record_byte_is_record_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    import(dir.path());
    flip_byte(&dir.path().join(RECORDS_FILE), 5 * 64 + 3, 0x02);
    let ds = Dataset::open(dir.path()).unwrap();
    assert!(matches!(
        ds.record(5),
        Err(Error::RecordCorrupt { index: 5 })
    ));
    assert!(matches!(
        ds.prove(&[1, 5, 9]),
        Err(Error::RecordCorrupt { index: 5 })
    ));
    assert!(matches!(ds.scrub(), Err(Error::RecordCorrupt { index: 5 })));
    ds.record(4).unwrap();
    ds.prove(&[4, 6]).unwrap();
    let mut buf = vec![0u8; 64];
    ds.read_record_unchecked(5, &mut buf).unwrap();
}

#[test]
fn records_file_of_the_wrong_length_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    import(dir.path());
    let records = dir.path().join(RECORDS_FILE);
    let f = OpenOptions::new().write(true).open(&records).unwrap();
    let len = f.metadata().unwrap().len();
    assert_eq!(len, 1797 * 64);
    for bad in [len - 1, len - 64, 0, len + 1, len + 64] {
        f.set_len(bad).unwrap();
        let r = Dataset::open(dir.path());
        assert!(
            matches!(r, Err(Error::DatasetMismatch { .. })),
            "{bad} bytes: {r:?}"
        );
    }
    f.set_len(len).unwrap();
    Dataset::open(dir.path()).unwrap();
}

#[test]
fn another_datasets_tree_is_tree_corrupt() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let full = import(a.path());
    // A tree of another size.
    import_digits_csv(common::digits_path(), b.path(), Some(1000)).unwrap();
    // A tree of the same size and record size over other records.
    let mut w =
        DatasetWriter::create(c.path(), vec![1, 8, 8], DType::U8, 16, "zeros", "CC0").unwrap();
    for i in 0..full.len() {
        w.push(&[(i % 17) as u8; 64]).unwrap();
    }
    let same_shape = w.finish().unwrap();
    assert_eq!(same_shape.len(), full.len());
    drop(full);
    let tree = a.path().join(TREE_FILE);
    let original = std::fs::read(&tree).unwrap();
    for other in [b.path(), c.path()] {
        std::fs::copy(other.join(TREE_FILE), &tree).unwrap();
        let r = Dataset::open(a.path());
        assert!(matches!(r, Err(Error::TreeCorrupt { .. })), "{r:?}");
    }
    std::fs::write(&tree, &original).unwrap();
    Dataset::open(a.path()).unwrap();
}

#[test]
fn manifest_naming_another_root_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    let ds = import_digits_csv(common::digits_path(), dir.path(), Some(64)).unwrap();
    let path = dir.path().join(MANIFEST_FILE);
    let len = std::fs::metadata(&path).unwrap().len();
    // The root's last byte comes before the records CID (length-prefixed), the last field.
    let at = len - 4 - ds.manifest().records.to_bytes().len() as u64 - 1;
    drop(ds);
    flip_byte(&path, at, 0x80);
    assert!(matches!(
        Dataset::open(dir.path()),
        Err(Error::TreeCorrupt { .. })
    ));
    flip_byte(&path, at, 0x80);
    // A count that disagrees with the records file.
    let mut m = Manifest::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
    m.count = 63;
    std::fs::write(&path, m.to_bytes()).unwrap();
    assert!(matches!(
        Dataset::open(dir.path()),
        Err(Error::DatasetMismatch { .. })
    ));
}

// ---- MNIST IDX ----

fn idx_bytes(magic: u32, count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for w in [magic, count, rows, cols] {
        b.extend_from_slice(&w.to_be_bytes());
    }
    b.extend_from_slice(pixels);
    b
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn synthetic_pixels(count: usize, size: usize) -> Vec<u8> {
    (0..count * size).map(|i| (i * 37 % 256) as u8).collect()
}

fn assert_import_error(r: pouw::Result<Dataset>, dest: &Path) {
    assert!(matches!(r, Err(Error::Import { .. })), "{r:?}");
    // A failed import leaves no dataset behind.
    assert!(!dest.join(MANIFEST_FILE).exists());
    let opened = Dataset::open(dest);
    assert!(matches!(opened, Err(Error::Io { .. })), "{opened:?}");
}

#[test]
fn idx_import_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let pixels = synthetic_pixels(5, 12);
    let plain = idx_bytes(0x0803, 5, 3, 4, &pixels);
    let mut roots = Vec::new();
    for (name, bytes) in [
        ("images-idx3-ubyte", plain.clone()),
        ("images-idx3-ubyte.gz", gzip(&plain)),
    ] {
        let src = dir.path().join(name);
        std::fs::write(&src, &bytes).unwrap();
        let ds = import_idx(&src, dir.path().join(format!("ds-{name}")), "test licence").unwrap();
        assert_eq!(ds.len(), 5);
        assert_eq!(ds.manifest().shape, vec![1, 3, 4]);
        assert_eq!(ds.record_size(), 12);
        assert_eq!(ds.manifest().value_max, 255);
        assert_eq!(ds.manifest().licence, "test licence");
        for i in 0..5 {
            assert_eq!(
                ds.record(i).unwrap(),
                pixels[i as usize * 12..(i as usize + 1) * 12],
                "{name} record {i}"
            );
        }
        ds.scrub().unwrap();
        roots.push(ds.root());
    }
    assert_eq!(roots[0], roots[1]);
}

#[test]
fn idx_import_refuses_malformed_files() {
    let dir = tempfile::tempdir().unwrap();
    let pixels = synthetic_pixels(5, 12);
    let good = idx_bytes(0x0803, 5, 3, 4, &pixels);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("magic 0801", idx_bytes(0x0801, 5, 3, 4, &pixels)),
        ("magic 0c03", idx_bytes(0x0C03, 5, 3, 4, &pixels)),
        ("truncated pixels", good[..good.len() - 1].to_vec()),
        ("one image short", good[..good.len() - 12].to_vec()),
        ("truncated header", good[..10].to_vec()),
        ("empty", Vec::new()),
        (
            "count over the data",
            idx_bytes(0x0803, 1_000_000, 3, 4, &pixels),
        ),
        ("zero rows", idx_bytes(0x0803, 5, 0, 4, &pixels)),
        ("trailing byte", [good.as_slice(), &[0]].concat()),
        ("trailing image", [good.as_slice(), &[1u8; 12]].concat()),
    ];
    cases.push((
        "gzip trailing byte",
        gzip(&[good.as_slice(), &[0]].concat()),
    ));
    cases.push(("gzip one image short", gzip(&good[..good.len() - 12])));
    cases.push(("gzip bad magic", gzip(&idx_bytes(0x0801, 5, 3, 4, &pixels))));
    for (i, (what, bytes)) in cases.into_iter().enumerate() {
        let src = dir.path().join(format!("case-{i}"));
        std::fs::write(&src, &bytes).unwrap();
        let dest = dir.path().join(format!("ds-{i}"));
        let r = import_idx(&src, &dest, "x");
        assert!(matches!(r, Err(Error::Import { .. })), "{what}: {r:?}");
        assert_import_error(r, &dest);
    }
}

// ---- Image folders ----

#[cfg(feature = "images")]
fn solid(w: u32, h: u32, rgb: [u8; 3]) -> image::RgbImage {
    image::RgbImage::from_pixel(w, h, image::Rgb(rgb))
}

/// Record pixel `(x, y)` of a `[3, size, size]` channel-major record.
#[cfg(feature = "images")]
fn pixel(record: &[u8], size: usize, x: usize, y: usize) -> [u8; 3] {
    let plane = size * size;
    [0, 1, 2].map(|c| record[c * plane + y * size + x])
}

#[cfg(feature = "images")]
#[test]
fn image_folder_import() {
    const S: usize = 16;
    let src = tempfile::tempdir().unwrap();
    let p = |name: &str| src.path().join(name);
    let (red, blue, green, grey, band, edge) = (
        [200, 10, 10],
        [12, 34, 240],
        [20, 180, 40],
        [128, 128, 128],
        [10, 200, 30],
        [250, 5, 5],
    );
    // Written out of order: the import follows the sorted file names.
    solid(40, 20, blue).save(p("b_blue.png")).unwrap();
    solid(20, 50, red).save(p("a_red.png")).unwrap();
    solid(30, 30, green).save(p("c_green.jpg")).unwrap();
    // Wide and tall images whose centre band is one colour: the centre crop keeps only the band.
    let wide = image::RgbImage::from_fn(128, 32, |x, _| {
        image::Rgb(if (40..88).contains(&x) { band } else { edge })
    });
    wide.save(p("d_wide.png")).unwrap();
    let tall = image::RgbImage::from_fn(32, 128, |_, y| {
        image::Rgb(if (40..88).contains(&y) { band } else { edge })
    });
    tall.save(p("e_tall.png")).unwrap();
    solid(16, 16, grey)
        .save_with_format(p("Z.PNG"), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(p("notes.txt"), "not an image").unwrap();

    let dest = tempfile::tempdir().unwrap();
    let ds = import_image_folder(src.path(), dest.path(), S as u32, "CC0").unwrap();
    assert_eq!(ds.len(), 6);
    assert_eq!(ds.manifest().shape, vec![3, S as u32, S as u32]);
    assert_eq!(ds.record_size(), 3 * S * S);
    assert_eq!(ds.manifest().value_max, 255);
    // Byte order of names: "Z.PNG" sorts before the lower-case ones.
    let expected: [([u8; 3], u8); 6] = [
        (grey, 0),
        (red, 0),
        (blue, 0),
        (green, 4),
        (band, 0),
        (band, 0),
    ];
    for (i, (colour, tolerance)) in expected.iter().enumerate() {
        let r = ds.record(i as u64).unwrap();
        for y in 0..S {
            for x in 0..S {
                let got = pixel(&r, S, x, y);
                let close = got
                    .iter()
                    .zip(colour)
                    .all(|(g, e)| g.abs_diff(*e) <= *tolerance);
                assert!(
                    close,
                    "record {i} pixel ({x}, {y}): {got:?}, expected {colour:?} ± {tolerance}"
                );
            }
        }
    }
    ds.scrub().unwrap();
}

#[cfg(feature = "images")]
#[test]
fn image_folder_import_keeps_detail_in_channel_major_order() {
    // A 16x16 image imported at 16: no resize, no crop, so the record is the image exactly.
    let src = tempfile::tempdir().unwrap();
    let img = image::RgbImage::from_fn(16, 16, |x, y| {
        image::Rgb([(x * 16) as u8, (y * 16) as u8, (x ^ y) as u8])
    });
    img.save(src.path().join("one.png")).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let ds = import_image_folder(src.path(), dest.path(), 16, "CC0").unwrap();
    let r = ds.record(0).unwrap();
    for y in 0..16u32 {
        for x in 0..16u32 {
            assert_eq!(pixel(&r, 16, x as usize, y as usize), img.get_pixel(x, y).0);
        }
    }
}

#[cfg(feature = "images")]
#[test]
fn image_folder_import_refuses_bad_input() {
    let src = tempfile::tempdir().unwrap();
    solid(20, 20, [1, 2, 3])
        .save(src.path().join("a.png"))
        .unwrap();
    let dest = tempfile::tempdir().unwrap();
    assert!(matches!(
        import_image_folder(src.path(), dest.path().join("x"), 0, "CC0"),
        Err(Error::InvalidParameters(_))
    ));
    assert!(matches!(
        import_image_folder(src.path(), dest.path().join("y"), 2000, "CC0"),
        Err(Error::InvalidParameters(_))
    ));

    // Garbage under an image name.
    std::fs::write(src.path().join("b.png"), b"this is not a png at all").unwrap();
    let out = dest.path().join("garbage");
    assert_import_error(import_image_folder(src.path(), &out, 8, "CC0"), &out);
    std::fs::remove_file(src.path().join("b.png")).unwrap();

    // A real PNG cut short: the header decodes, the pixels do not.
    let mut png = Vec::new();
    image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8, y as u8, (x * y) as u8]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(src.path().join("c.png"), &png[..png.len() / 2]).unwrap();
    let out = dest.path().join("truncated");
    assert_import_error(import_image_folder(src.path(), &out, 8, "CC0"), &out);
    std::fs::remove_file(src.path().join("c.png")).unwrap();

    // A truncated JPEG.
    let mut jpg = Vec::new();
    solid(64, 64, [9, 9, 9])
        .write_to(
            &mut std::io::Cursor::new(&mut jpg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    std::fs::write(src.path().join("d.jpg"), &jpg[..20]).unwrap();
    let out = dest.path().join("jpeg");
    assert_import_error(import_image_folder(src.path(), &out, 8, "CC0"), &out);
    std::fs::remove_file(src.path().join("d.jpg")).unwrap();

    // With the bad files gone the folder imports.
    import_image_folder(src.path(), dest.path().join("ok"), 8, "CC0").unwrap();

    // A folder without images.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("readme.txt"), "no images").unwrap();
    let out = dest.path().join("empty");
    assert_import_error(import_image_folder(empty.path(), &out, 8, "CC0"), &out);
}

#[test]
fn scrub_checks_the_records_cid_the_manifest_names() {
    let dir = tempfile::tempdir().unwrap();
    let ds = import_digits_csv(common::digits_path(), dir.path(), Some(64)).unwrap();
    ds.scrub().unwrap();
    let mut m = ds.manifest().clone();
    drop(ds);
    m.records = pouw::ident::cid_of(b"other records");
    std::fs::write(dir.path().join(MANIFEST_FILE), m.to_bytes()).unwrap();
    // Opening is O(1) and does not hash the records; scrubbing does.
    let ds = Dataset::open(dir.path()).unwrap();
    let r = ds.scrub();
    assert!(matches!(r, Err(Error::DatasetMismatch { .. })), "{r:?}");
}

#[test]
fn imports_report_their_progress() {
    use pouw::dataset::import::{import_digits_csv_with, ImportProgress};
    let dir = tempfile::tempdir().unwrap();
    let mut seen: Vec<ImportProgress> = Vec::new();
    let ds = import_digits_csv_with(
        common::digits_path(),
        dir.path().join("digits"),
        Some(50),
        &mut |p| seen.push(*p),
    )
    .unwrap();
    assert_eq!(ds.len(), 50);
    assert_eq!(seen.len(), 50);
    assert!(seen
        .iter()
        .enumerate()
        .all(|(i, p)| p.records == i as u64 + 1 && p.total == Some(50)));
    #[cfg(feature = "images")]
    {
        let faces = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lfw-faces");
        let mut last = None;
        let ds = pouw::dataset::import::import_image_folder_with(
            faces,
            dir.path().join("faces"),
            16,
            "test",
            &mut |p| last = Some(*p),
        )
        .unwrap();
        assert_eq!(
            last,
            Some(ImportProgress {
                records: 100,
                total: Some(100)
            })
        );
        assert_eq!(ds.len(), 100);
    }
}
