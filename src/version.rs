//! The consensus version: anything that changes the bytes a proof holds or the verdict a
//! verifier reaches bumps it.

/// The protocol version this build proves and verifies.
pub const PROTOCOL_VERSION: u32 = 5;

/// The crate version (from Cargo).
pub const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");
