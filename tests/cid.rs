//! CIDs against golden vectors computed independently (Python's hashlib.sha3_256 and
//! base64.b32encode: bytes 0x01 0x55 0x16 0x20 + digest, text "b" + lower-case base32 unpadded).

mod common;

use pouw::ident::{
    cid_from_bytes, cid_from_sha3, cid_of, sha3_of_cid, verify_cid, Cid, RAW_CODEC, SHA3_256_CODE,
};
use pouw::Error;

const EMPTY_CID: &str = "bafkrmifh77dprpy625tfdqkhk2qgdvtc6wap6tpehne7vawybjfyb6cdji";
const EMPTY_SHA3: &str = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";
const HELLO_CID: &str = "bafkrmibthc7gst2qyxztrakjq3g7a2dekouirocpijgxskxuxeqchghtsi";
const HELLO_SHA3: &str = "3338be694f50c5f338814986cdf0686453a888b84f424d792af4b9202398f392";
/// Of `../shared/data/digits.csv.gz` as shipped (sha256 09f66e6d...aa22).
const DIGITS_CID: &str = "bafkrmibd7dwhdqqo2njgopl5gskwenmp4cczz3zjfnirtytaxf2qqwewdq";

fn unhex(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

/// The binary CIDv1 of this profile for a digest, built by hand.
fn cid_bytes(digest: &[u8; 32]) -> Vec<u8> {
    [&[0x01, 0x55, 0x16, 0x20][..], digest].concat()
}

fn invalid_cid(r: pouw::Result<impl std::fmt::Debug>) -> bool {
    matches!(r, Err(Error::InvalidField { what: "cid", .. }))
}

#[test]
fn golden_vectors() {
    assert_eq!(cid_of(b"").to_string(), EMPTY_CID);
    assert_eq!(cid_of(b"hello").to_string(), HELLO_CID);
    assert_eq!(cid_of(b"").to_bytes(), cid_bytes(&unhex(EMPTY_SHA3)));
    assert_eq!(cid_of(b"hello").to_bytes(), cid_bytes(&unhex(HELLO_SHA3)));
    assert_eq!(RAW_CODEC, 0x55);
    assert_eq!(SHA3_256_CODE, 0x16);
}

#[test]
fn golden_vector_of_the_digits_file() {
    let bytes = std::fs::read(common::digits_path()).unwrap();
    assert_eq!(cid_of(&bytes).to_string(), DIGITS_CID);
    verify_cid(&DIGITS_CID.parse().unwrap(), &bytes).unwrap();
}

#[test]
fn text_and_binary_forms_round_trip() {
    for (text, digest) in [(EMPTY_CID, EMPTY_SHA3), (HELLO_CID, HELLO_SHA3)] {
        let parsed: Cid = text.parse().unwrap();
        let d = unhex(digest);
        assert_eq!(parsed, cid_from_sha3(&d));
        assert_eq!(cid_from_bytes(&parsed.to_bytes()).unwrap(), parsed);
        assert_eq!(cid_from_bytes(&cid_bytes(&d)).unwrap(), parsed);
        assert_eq!(sha3_of_cid(&parsed).unwrap(), d);
    }
    let c = cid_of(b"some bytes");
    assert_eq!(cid_from_bytes(&c.to_bytes()).unwrap(), c);
    assert_eq!(Cid::try_from(c.to_string().as_str()).unwrap(), c);
}

#[test]
fn verify_cid_binds_the_bytes() {
    let c = cid_of(b"hello");
    verify_cid(&c, b"hello").unwrap();
    assert!(invalid_cid(verify_cid(&c, b"hello!")));
    assert!(invalid_cid(verify_cid(&c, b"")));
}

#[test]
fn other_profiles_are_refused() {
    let d = unhex(HELLO_SHA3);
    // CIDv0: a bare sha2-256 multihash.
    let v0 = [&[0x12, 0x20][..], &d].concat();
    let parsed_v0 = Cid::try_from(&v0[..]).expect("a valid CIDv0");
    assert_eq!(parsed_v0.version(), cid::Version::V0);
    assert!(invalid_cid(cid_from_bytes(&v0)));
    assert!(invalid_cid(sha3_of_cid(&parsed_v0)));
    // dag-pb (0x70) names a file's root node: a valid CID, but not the digest of bytes.
    let dag_pb = [&[0x01, 0x70, 0x16, 0x20][..], &d].concat();
    assert!(cid_from_bytes(&dag_pb).is_ok());
    assert!(invalid_cid(sha3_of_cid(
        &Cid::try_from(&dag_pb[..]).unwrap()
    )));
    // CIDv1 of another codec (dag-cbor 0x71, dag-json 0x0129).
    for codec in [&[0x71u8][..], &[0xa9, 0x02]] {
        let other = [&[0x01][..], codec, &[0x16, 0x20], &d].concat();
        let parsed = Cid::try_from(&other[..]).unwrap();
        assert!(invalid_cid(cid_from_bytes(&other)), "codec {codec:x?}");
        assert!(invalid_cid(sha3_of_cid(&parsed)));
    }
    // Another hash: sha2-256 (0x12), sha3-512 with a 32-byte digest (0x14), blake2b-256 (0xb220).
    for hash in [&[0x12u8][..], &[0x14], &[0xa0, 0xe4, 0x02]] {
        let other = [&[0x01, 0x55][..], hash, &[0x20], &d].concat();
        let parsed = Cid::try_from(&other[..]).unwrap();
        assert!(invalid_cid(cid_from_bytes(&other)), "hash {hash:x?}");
        assert!(invalid_cid(sha3_of_cid(&parsed)));
    }
    // sha3-256 with a short digest.
    let short = [&[0x01, 0x55, 0x16, 0x10][..], &d[..16]].concat();
    assert!(invalid_cid(cid_from_bytes(&short)));
    // Malformed: truncated, trailing bytes, empty, unknown version.
    let good = cid_bytes(&d);
    assert!(invalid_cid(cid_from_bytes(&good[..good.len() - 1])));
    assert!(invalid_cid(cid_from_bytes(
        &[good.as_slice(), &[0]].concat()
    )));
    assert!(invalid_cid(cid_from_bytes(&[])));
    assert!(invalid_cid(cid_from_bytes(
        &[&[0x02][..], &good[1..]].concat()
    )));
}

#[test]
fn both_versions_names_name_the_same_bytes_and_each_has_its_form() {
    use pouw::ident::CidProfile;
    let big = vec![5u8; 300_000];
    let (unixfs, whole) = (cid_of(&big), CidProfile::WholeFile.cid_of(&big));
    assert_ne!(unixfs, whole);
    verify_cid(&unixfs, &big).unwrap();
    verify_cid(&whole, &big).unwrap();
    assert!(invalid_cid(verify_cid(&whole, &big[1..])));
    assert!(invalid_cid(verify_cid(&unixfs, &big[1..])));
    let n = big.len() as u64;
    assert!(CidProfile::UnixFs.has_form(&unixfs, n) && !CidProfile::UnixFs.has_form(&whole, n));
    assert!(CidProfile::WholeFile.has_form(&whole, n));
    assert!(!CidProfile::WholeFile.has_form(&unixfs, n));
    // Up to one chunk, the two names are one.
    let small = vec![5u8; 1000];
    assert_eq!(cid_of(&small), CidProfile::WholeFile.cid_of(&small));
    assert!(CidProfile::UnixFs.has_form(&cid_of(&small), 1000));
}
