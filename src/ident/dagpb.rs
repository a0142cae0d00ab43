//! The two protobuf messages of a UnixFS file's interior node: dag-pb's `PBNode` (links, then
//! data) wrapping UnixFS's `Data` (type file, file size, one block size per link). Encoded the
//! way IPFS implementations encode them (links before data, every link with an empty name and
//! its cumulative size, block sizes unpacked), and decoded strictly: an untrusted node must be
//! a file node of this shape, with at most [`MAX_LINKS`] links, or it is refused.

use super::{cid_from_bytes, Cid};
use crate::error::{Error, Result};

/// The most links one interior node has (a node's links fit in 8 KiB, as IPFS's layout wants).
pub const MAX_LINKS: usize = 174;
/// The largest interior node this crate decodes, in bytes (174 links of ~50 bytes each, plus
/// the UnixFS data; real nodes stay under 10 KiB).
pub const MAX_NODE_BYTES: usize = 16 << 10;

const UNIXFS_FILE: u64 = 2;
const WIRE_VARINT: u64 = 0;
const WIRE_LEN: u64 = 2;

/// One link of an interior node: the child's CID, the file bytes under it and the cumulative
/// encoded size of its sub-DAG (IPFS's `Tsize`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// The child's CID (raw leaf or dag-pb node).
    pub cid: Cid,
    /// File bytes under the child.
    pub file_size: u64,
    /// Bytes of every block under (and including) the child.
    pub tsize: u64,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_key(out: &mut Vec<u8>, field: u64, wire: u64) {
    put_varint(out, field << 3 | wire);
}

fn put_len(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_key(out, field, WIRE_LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Encodes the interior file node over `links`.
pub fn encode_node(links: &[Link]) -> Vec<u8> {
    let mut data = Vec::with_capacity(16 + 10 * links.len());
    put_key(&mut data, 1, WIRE_VARINT);
    put_varint(&mut data, UNIXFS_FILE);
    put_key(&mut data, 3, WIRE_VARINT);
    put_varint(&mut data, links.iter().map(|l| l.file_size).sum());
    for l in links {
        put_key(&mut data, 4, WIRE_VARINT);
        put_varint(&mut data, l.file_size);
    }
    let mut node = Vec::with_capacity(data.len() + 56 * links.len());
    let mut link = Vec::with_capacity(64);
    for l in links {
        link.clear();
        put_len(&mut link, 1, &l.cid.to_bytes());
        put_len(&mut link, 2, b"");
        put_key(&mut link, 3, WIRE_VARINT);
        put_varint(&mut link, l.tsize);
        put_len(&mut node, 2, &link);
    }
    put_len(&mut node, 1, &data);
    node
}

/// A decoded interior file node: its children in order, each with the file bytes under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// `(child CID, file bytes under the child)`, in file order.
    pub children: Vec<(Cid, u64)>,
    /// The file bytes under the node (the sum of the children's).
    pub file_size: u64,
}

struct Reader<'a> {
    bytes: &'a [u8],
}

fn malformed(detail: impl Into<String>) -> Error {
    Error::InvalidField {
        what: "dag-pb node",
        detail: detail.into(),
    }
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.bytes.is_empty()
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self
                .bytes
                .split_first()
                .ok_or_else(|| malformed("truncated varint"))?;
            self.bytes = rest;
            if i == 9 && b > 1 {
                return Err(malformed("varint over 64 bits"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(malformed("non-minimal varint"));
                }
                return Ok(v);
            }
        }
        Err(malformed("varint over 64 bits"))
    }

    fn key(&mut self) -> Result<(u64, u64)> {
        let k = self.varint()?;
        Ok((k >> 3, k & 7))
    }

    fn len_delimited(&mut self) -> Result<&'a [u8]> {
        let n = self.varint()?;
        if n > self.bytes.len() as u64 {
            return Err(malformed("length past the end"));
        }
        let (head, rest) = self.bytes.split_at(n as usize);
        self.bytes = rest;
        Ok(head)
    }
}

fn expect_key(r: &mut Reader<'_>, field: u64, wire: u64, what: &str) -> Result<()> {
    if r.key()? != (field, wire) {
        return Err(malformed(format!("expected {what}")));
    }
    Ok(())
}

/// Decodes an untrusted interior file node, accepting exactly the shape [`encode_node`] writes
/// (so that one file has one DAG).
pub fn decode_node(bytes: &[u8]) -> Result<Node> {
    if bytes.len() > MAX_NODE_BYTES {
        return Err(Error::LimitExceeded {
            what: "dag-pb node bytes",
            found: bytes.len() as u64,
            limit: MAX_NODE_BYTES as u64,
        });
    }
    let mut r = Reader { bytes };
    let mut links = Vec::new();
    let data = loop {
        match r.key()? {
            (2, WIRE_LEN) => {
                if links.len() == MAX_LINKS {
                    return Err(malformed(format!("over {MAX_LINKS} links")));
                }
                let mut l = Reader {
                    bytes: r.len_delimited()?,
                };
                expect_key(&mut l, 1, WIRE_LEN, "link hash")?;
                let cid = cid_from_bytes(l.len_delimited()?)?;
                expect_key(&mut l, 2, WIRE_LEN, "link name")?;
                if !l.len_delimited()?.is_empty() {
                    return Err(malformed("named link in a file node"));
                }
                expect_key(&mut l, 3, WIRE_VARINT, "link size")?;
                let tsize = l.varint()?;
                if !l.done() {
                    return Err(malformed("trailing link fields"));
                }
                links.push((cid, tsize));
            }
            (1, WIRE_LEN) => break r.len_delimited()?,
            _ => return Err(malformed("unexpected field")),
        }
    };
    if !r.done() {
        return Err(malformed("fields after the data"));
    }
    if links.is_empty() {
        return Err(malformed("file node without links"));
    }
    let mut d = Reader { bytes: data };
    expect_key(&mut d, 1, WIRE_VARINT, "unixfs type")?;
    if d.varint()? != UNIXFS_FILE {
        return Err(malformed("not a UnixFS file node"));
    }
    expect_key(&mut d, 3, WIRE_VARINT, "unixfs file size")?;
    let file_size = d.varint()?;
    let mut children = Vec::with_capacity(links.len());
    let mut sum = 0u64;
    for (cid, _) in links {
        expect_key(&mut d, 4, WIRE_VARINT, "unixfs block size")?;
        let size = d.varint()?;
        sum = sum
            .checked_add(size)
            .ok_or_else(|| malformed("block sizes overflow"))?;
        children.push((cid, size));
    }
    if !d.done() {
        return Err(malformed("unexpected unixfs fields"));
    }
    if sum != file_size {
        return Err(malformed(format!(
            "block sizes sum to {sum}, file size says {file_size}"
        )));
    }
    Ok(Node {
        children,
        file_size,
    })
}
