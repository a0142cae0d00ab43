//! The consensus version: anything that changes the bytes a proof holds or the verdict a
//! verifier reaches bumps it ([`ProtocolVersion`](crate::work::ProtocolVersion) lists every
//! version this build verifies; this is its current one's number).

/// The protocol version this build proves and verifies.
pub const PROTOCOL_VERSION: u32 = crate::work::ProtocolVersion::CURRENT.number();

/// The crate version (from Cargo).
pub const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");
