//! A minimal client of an IPFS node's HTTP RPC API (Kubo's `/api/v0`, which js-ipfs also
//! serves): the calls a checkpoint store needs, over plain HTTP, with deadlines, bounded reads and
//! typed errors.

use crate::error::{Error, Result};
use crate::ident::Cid;
use std::io::Read;
use std::time::Duration;

/// Where the node is and how long to wait for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpfsOptions {
    /// The RPC API's base address, e.g. `http://127.0.0.1:5001`.
    pub endpoint: String,
    /// Deadline to connect to the node.
    pub connect_timeout: Duration,
    /// How long the node may search for a block it does not hold (its `timeout` option): a
    /// block not found by then is [`Error::NotFound`].
    pub block_timeout: Duration,
    /// How much longer than `block_timeout` the node has to answer at all: past it, the request
    /// is [`Error::Timeout`] (the node is stuck or gone).
    pub answer_grace: Duration,
    /// Deadline for adding one file, per MiB of the file (plus one `block_timeout`).
    pub add_timeout_per_mib: Duration,
    /// Ask the node for blocks it holds only (`offline=true`): Kubo then reports a block it lacks
    /// at once instead of searching the network for `block_timeout` (js-ipfs ignores it).
    pub local_only: bool,
    /// Blocks fetched at once.
    pub parallel_fetches: usize,
}

impl IpfsOptions {
    /// The longest any of the timeouts may be (one day): longer is
    /// [`Error::InvalidParameters`], as is a timeout of zero.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);
    /// The most blocks fetched at once.
    pub const MAX_PARALLEL_FETCHES: usize = 64;

    /// Checks every option is in its domain (the endpoint an `http://` address, each timeout
    /// from 1 ms to [`Self::MAX_TIMEOUT`], `parallel_fetches` from 1 to
    /// [`Self::MAX_PARALLEL_FETCHES`]); [`Error::InvalidParameters`] names the one that is not.
    pub fn validate(&self) -> Result<()> {
        if !self.endpoint.starts_with("http://") {
            return Err(Error::InvalidParameters(format!(
                "IPFS endpoint {:?} is not an http:// address",
                self.endpoint
            )));
        }
        let timeouts = [
            ("connect_timeout", self.connect_timeout),
            ("block_timeout", self.block_timeout),
            ("answer_grace", self.answer_grace),
            ("add_timeout_per_mib", self.add_timeout_per_mib),
        ];
        for (name, value) in timeouts {
            if value < Duration::from_millis(1) || value > Self::MAX_TIMEOUT {
                return Err(Error::InvalidParameters(format!(
                    "IPFS option {name} is {value:?}, not from 1 ms to {:?}",
                    Self::MAX_TIMEOUT
                )));
            }
        }
        if !(1..=Self::MAX_PARALLEL_FETCHES).contains(&self.parallel_fetches) {
            return Err(Error::InvalidParameters(format!(
                "IPFS option parallel_fetches is {}, not from 1 to {}",
                self.parallel_fetches,
                Self::MAX_PARALLEL_FETCHES
            )));
        }
        Ok(())
    }

    /// Defaults for a node at `endpoint`: 5 s to connect, 60 s to find a block and 10 s more to
    /// answer, 2 s per MiB added, network search allowed, 8 blocks fetched at once.
    pub fn new(endpoint: impl Into<String>) -> Self {
        IpfsOptions {
            endpoint: endpoint.into().trim_end_matches('/').to_owned(),
            connect_timeout: Duration::from_secs(5),
            block_timeout: Duration::from_secs(60),
            answer_grace: Duration::from_secs(10),
            add_timeout_per_mib: Duration::from_secs(2),
            local_only: false,
            parallel_fetches: 8,
        }
    }
}

/// The RPC client: one connection pool, shared by every call (thread-safe).
#[derive(Debug)]
pub(crate) struct Rpc {
    agent: ureq::Agent,
    pub(crate) options: IpfsOptions,
}

/// The longest error message read from the node.
const MAX_ERROR_BODY: u64 = 64 << 10;
/// The longest an `add` may take, however large the file (30 days).
const MAX_ADD_DEADLINE: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// The longest answer to `add` read from the node.
const MAX_ADD_ANSWER: u64 = 64 << 10;

impl Rpc {
    pub(crate) fn new(options: IpfsOptions) -> Result<Self> {
        options.validate()?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(options.connect_timeout))
            .max_idle_connections_per_host(options.parallel_fetches.max(2))
            .build()
            .into();
        Ok(Rpc { agent, options })
    }

    fn url(&self, command: &str, query: &str) -> String {
        format!("{}/api/v0/{command}?{query}", self.options.endpoint)
    }

    fn store_error(&self, detail: impl Into<String>) -> Error {
        Error::Store {
            endpoint: self.options.endpoint.clone(),
            detail: detail.into(),
        }
    }

    fn transport_error(&self, what: String, deadline: Duration, e: ureq::Error) -> Error {
        match e {
            ureq::Error::Timeout(_) => timeout(what, deadline),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                timeout(what, deadline)
            }
            other => self.store_error(format!("{what}: {other}")),
        }
    }

    /// The node's error answer (`{"Message": ...}`) as a typed error. For a block, the node
    /// reporting that it does not have it, or that its own search deadline passed without
    /// finding it, is [`Error::NotFound`] (js-ipfs and Kubo search the network for a block they
    /// lack until that deadline; Kubo with `offline=true` says at once).
    fn node_error(&self, status: u16, body: &[u8], cid: Option<&Cid>, what: &str) -> Error {
        let text = String::from_utf8_lossy(body);
        let message = json_string_field(&text, "Message").unwrap_or_else(|| text.trim().into());
        let lower = message.to_ascii_lowercase();
        let missing = [
            "not found",
            "could not find",
            "timed out",
            "deadline exceeded",
        ];
        if let Some(cid) = cid {
            if missing.iter().any(|m| lower.contains(m)) {
                return Error::NotFound {
                    cid: cid.to_string(),
                };
            }
        }
        self.store_error(format!("{what}: HTTP {status}: {message}"))
    }

    /// Asks the node for block `cid` with `command` (`block/get`, `block/stat`), under the
    /// block deadline (the node's search) and the client's (the node's answer): the response,
    /// what was asked (for errors) and the client's deadline.
    fn block_request(
        &self,
        command: &str,
        cid: &Cid,
    ) -> Result<(ureq::http::Response<ureq::Body>, String, Duration)> {
        let deadline = self.options.block_timeout;
        let mut query = format!("arg={cid}&timeout={}ms", deadline.as_millis());
        if self.options.local_only {
            query.push_str("&offline=true");
        }
        let what = format!("{command} {cid}");
        // The client's own deadline leaves the node time to report its own first: past it, the
        // node itself is not answering.
        let client_deadline = deadline + self.options.answer_grace;
        let response = self
            .agent
            .post(&self.url(command, &query))
            .config()
            .timeout_global(Some(client_deadline))
            .build()
            .send_empty()
            .map_err(|e| self.transport_error(what.clone(), client_deadline, e))?;
        Ok((response, what, client_deadline))
    }

    /// The bytes of block `cid`, at most `limit` (more is the node's fault).
    pub(crate) fn block_get(&self, cid: &Cid, limit: usize) -> Result<Vec<u8>> {
        let (mut response, what, client_deadline) = self.block_request("block/get", cid)?;
        let status = response.status().as_u16();
        let body = response.body_mut();
        if status != 200 {
            let bytes = body
                .with_config()
                .limit(MAX_ERROR_BODY)
                .read_to_vec()
                .unwrap_or_default();
            return Err(self.node_error(status, &bytes, Some(cid), &what));
        }
        let mut bytes = Vec::new();
        let read = body
            .as_reader()
            .take(limit as u64 + 1)
            .read_to_end(&mut bytes);
        match read {
            Ok(_) if bytes.len() > limit => Err(Error::BadBlock {
                cid: cid.to_string(),
                detail: format!("the node sent more than {limit} bytes"),
            }),
            Ok(_) => Ok(bytes),
            Err(e) => Err(self.io_error(what, client_deadline, e)),
        }
    }

    /// Has the node hold block `cid` (fetching it from its peers if it lacks it, as `block/get`
    /// would) and answer with its size alone: the block's bytes are not sent here.
    pub(crate) fn block_stat(&self, cid: &Cid) -> Result<u64> {
        let (mut response, what, client_deadline) = self.block_request("block/stat", cid)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ERROR_BODY)
            .read_to_string()
            .map_err(|e| self.transport_error(what.clone(), client_deadline, e))?;
        if status != 200 {
            return Err(self.node_error(status, text.as_bytes(), Some(cid), &what));
        }
        json_number_field(&text, "Size")
            .ok_or_else(|| self.store_error(format!("{what} answered without a Size: {text:?}")))
    }

    fn io_error(&self, what: String, deadline: Duration, e: std::io::Error) -> Error {
        if e.kind() == std::io::ErrorKind::TimedOut {
            return timeout(what, deadline);
        }
        // ureq reports its own errors inside io::Error when reading a body.
        match e.into_inner().map(|inner| inner.downcast::<ureq::Error>()) {
            Some(Ok(ureq_error)) => self.transport_error(what, deadline, *ureq_error),
            Some(Err(other)) => self.store_error(format!("{what}: {other}")),
            None => self.store_error(format!("{what}: read failed")),
        }
    }

    /// Adds a file of `len` bytes read from `body` with pouw's CID options (CIDv1, raw leaves,
    /// sha3-256, 256 KiB chunks) and pins it; the CID the node gives it.
    pub(crate) fn add(&self, body: &mut dyn Read, len: u64) -> Result<Cid> {
        const BOUNDARY: &str = "pouw-7d1e0b6c9a2f4e58b3c1";
        let head = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        );
        let tail = format!("\r\n--{BOUNDARY}--\r\n");
        let total = head.len() as u64 + len + tail.len() as u64;
        let mut reader = std::io::Cursor::new(head.into_bytes())
            .chain(body.take(len))
            .chain(std::io::Cursor::new(tail.into_bytes()));
        let mib = u32::try_from(len.div_ceil(1 << 20)).unwrap_or(u32::MAX);
        let deadline = self
            .options
            .add_timeout_per_mib
            .saturating_mul(mib)
            .saturating_add(self.options.block_timeout)
            .min(MAX_ADD_DEADLINE);
        let query = "cid-version=1&raw-leaves=true&hash=sha3-256&chunker=size-262144\
                     &pin=true&progress=false&quieter=true&cid-base=base32";
        let what = "add".to_owned();
        let response = self
            .agent
            .post(&self.url("add", query))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header("Content-Length", total.to_string())
            .config()
            .timeout_global(Some(deadline))
            .build()
            .send(ureq::SendBody::from_reader(&mut reader));
        let mut response = response.map_err(|e| self.transport_error(what.clone(), deadline, e))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ADD_ANSWER)
            .read_to_string()
            .map_err(|e| self.transport_error(what.clone(), deadline, e))?;
        if status != 200 {
            return Err(self.node_error(status, text.as_bytes(), None, &what));
        }
        // One JSON object per line; the last one names the file.
        let hash = text
            .lines()
            .rev()
            .find_map(|line| json_string_field(line, "Hash"))
            .ok_or_else(|| self.store_error(format!("add answered without a Hash: {text:?}")))?;
        hash.parse::<Cid>()
            .map_err(|e| self.store_error(format!("add answered an unparsable CID {hash:?}: {e}")))
    }
}

fn timeout(what: String, deadline: Duration) -> Error {
    Error::Timeout {
        what: format!("{what} (deadline {} ms)", deadline.as_millis()),
    }
}

/// The value of the string field `field` in a flat JSON object (enough for the node's `add` and
/// error answers: strings without escapes other than `\"` and `\\`).
fn json_string_field(json: &str, field: &str) -> Option<String> {
    let key = format!("\"{field}\"");
    let at = json.find(&key)? + key.len();
    let rest = json[at..].trim_start().strip_prefix(':')?.trim_start();
    let mut chars = rest.strip_prefix('"')?.chars();
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => out.push(chars.next()?),
            c => out.push(c),
        }
    }
}

/// The value of the unsigned integer field `field` in a flat JSON object (the node's
/// `block/stat` answer).
fn json_number_field(json: &str, field: &str) -> Option<u64> {
    let key = format!("\"{field}\"");
    let at = json.find(&key)? + key.len();
    let rest = json[at..].trim_start().strip_prefix(':')?.trim_start();
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{json_number_field, json_string_field, IpfsOptions};
    use crate::error::Error;
    use std::time::Duration;

    #[test]
    fn options_out_of_their_domain_are_refused() {
        let ok = IpfsOptions::new("http://127.0.0.1:5001");
        assert!(ok.validate().is_ok());
        let mut bad = Vec::new();
        for (i, value) in [
            Duration::ZERO,
            IpfsOptions::MAX_TIMEOUT + Duration::from_millis(1),
        ]
        .into_iter()
        .enumerate()
        {
            for field in 0..4 {
                let mut o = ok.clone();
                *[
                    &mut o.connect_timeout,
                    &mut o.block_timeout,
                    &mut o.answer_grace,
                    &mut o.add_timeout_per_mib,
                ][field] = value;
                bad.push((format!("timeout {field} case {i}"), o));
            }
        }
        for n in [0, IpfsOptions::MAX_PARALLEL_FETCHES + 1] {
            let mut o = ok.clone();
            o.parallel_fetches = n;
            bad.push((format!("{n} parallel fetches"), o));
        }
        bad.push(("ftp".into(), IpfsOptions::new("ftp://127.0.0.1:5001")));
        for (what, o) in bad {
            assert!(
                matches!(o.validate(), Err(Error::InvalidParameters(_))),
                "{what}"
            );
        }
        let mut edge = ok;
        edge.block_timeout = IpfsOptions::MAX_TIMEOUT;
        edge.answer_grace = Duration::from_millis(1);
        edge.parallel_fetches = IpfsOptions::MAX_PARALLEL_FETCHES;
        assert!(edge.validate().is_ok());
    }

    #[test]
    fn json_fields() {
        let add = r#"{"Name":"file","Hash":"bafkabc","Size":"12"}"#;
        assert_eq!(json_string_field(add, "Hash").as_deref(), Some("bafkabc"));
        assert_eq!(json_string_field(add, "Missing"), None);
        let err = r#"{"Message": "block \"x\" not found", "Code": 0}"#;
        assert_eq!(
            json_string_field(err, "Message").as_deref(),
            Some("block \"x\" not found")
        );
        assert_eq!(json_string_field(r#"{"Message": "cut"#, "Message"), None);
        let stat = r#"{"Key":"bafkabc","Size":262144}"#;
        assert_eq!(json_number_field(stat, "Size"), Some(262144));
        assert_eq!(json_number_field(r#"{"Size": 7 }"#, "Size"), Some(7));
        for bad in [
            r#"{"Size":-1}"#,
            r#"{"Size":"12"}"#,
            r#"{"Size":}"#,
            r#"{"Key":"x"}"#,
        ] {
            assert_eq!(json_number_field(bad, "Size"), None, "{bad}");
        }
    }
}
