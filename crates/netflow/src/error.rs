//! What can go wrong reading an export packet.

use std::net::SocketAddr;

/// Why an export packet, or part of it, could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetflowError {
    /// Fewer bytes than a header or set declares.
    #[error("{what} at byte {offset}: needs {need} bytes, {have} available")]
    Truncated {
        what: &'static str,
        offset: usize,
        need: usize,
        have: usize,
    },
    /// The first two bytes are not 5, 9 or 10.
    #[error("export version {0} is not NetFlow v5, v9 or IPFIX (10)")]
    UnsupportedVersion(u16),
    /// A header or set length that cannot be right (e.g. a set shorter than its own header).
    #[error("{what} at byte {offset}: bad length {len}")]
    BadLength {
        what: &'static str,
        offset: usize,
        len: usize,
    },
    /// The collector's socket failed.
    #[error("collector on {addr}: {source}")]
    Socket {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}
