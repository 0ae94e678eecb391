//! Error types: one per reader, each saying where (byte offset or line) and what is wrong.

use crate::LinkType;
use std::fmt;
use std::io;

/// A capture file could not be read past `offset`.
///
/// `offset` is the byte offset of the record or block at fault (0 for the file header), so a
/// user can look at it with `xxd -s OFFSET`. After returning one, [`crate::CaptureReader`]
/// stops: callers report it and move on to the next file.
#[derive(Debug)]
pub struct CaptureError {
    pub offset: u64,
    pub kind: CaptureErrorKind,
}

impl CaptureError {
    pub(crate) fn new(offset: u64, kind: CaptureErrorKind) -> Self {
        CaptureError { offset, kind }
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            CaptureErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// What is wrong with a capture file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    #[error("empty file: not a pcap or pcapng capture")]
    Empty,
    #[error("not a pcap or pcapng file (first four bytes {magic:#010x})")]
    BadMagic { magic: u32 },
    /// The file ends inside a header, record or block. `what` names the part that was cut.
    #[error("truncated {what}: need {need} bytes, have {have}")]
    Truncated {
        what: &'static str,
        need: u64,
        have: u64,
    },
    /// A record's captured length is above [`crate::MAX_CAPLEN`]; refused rather than allocated.
    #[error("record claims caplen {caplen}, limit {limit}")]
    CaplenTooLarge { caplen: u32, limit: u32 },
    /// A pcapng packet block's captured length does not fit inside the block.
    #[error("record claims caplen {caplen}, but its block holds only {room} bytes of data")]
    CaplenExceedsBlock { caplen: u32, room: u32 },
    #[error("block claims length {len}, limit {limit}")]
    BlockTooLarge { len: u32, limit: u32 },
    /// pcapng block lengths are multiples of 4 and at least 12 (pcapng draft, section 3.1).
    #[error("invalid block length {len} (must be a multiple of 4 and at least {min})")]
    BadBlockLength { len: u32, min: u32 },
    #[error("block length {head} at the start but {tail} at the end: the file is corrupt")]
    BlockLengthMismatch { head: u32, tail: u32 },
    #[error("section header has unknown byte-order magic {magic:#010x}")]
    BadByteOrderMagic { magic: u32 },
    #[error("pcapng section version {major}.{minor} is not supported (only 1.x)")]
    UnsupportedVersion { major: u16, minor: u16 },
    #[error("packet refers to interface {id}, but the section defines {defined}")]
    UnknownInterface { id: u32, defined: u32 },
    /// `if_tsresol` asks for more than 2^63 or 10^19 units per second.
    #[error("interface time resolution {value:#04x} is out of range")]
    BadTimeResolution { value: u8 },
    /// A text file that is neither a capture nor a trace file (only from [`crate::sniff`]).
    #[error("not a capture or trace file: {reason}")]
    Unrecognised { reason: String },
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// A link-layer frame could not be decoded down to its IP header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not an IP packet (ARP, LLDP, STP, ...). Callers skip these silently.
    #[error("not an IP packet")]
    NotIp,
    /// The frame ends before a header that is needed to find the IP packet's size.
    #[error("truncated {layer} header: need {need} bytes, have {have}")]
    Truncated {
        layer: Layer,
        need: usize,
        have: usize,
    },
    /// A header field makes no sense (e.g. an IPv4 header length below 20 bytes).
    #[error("malformed {layer} header: {reason}")]
    Malformed { layer: Layer, reason: &'static str },
    #[error("link type {0} is not supported")]
    UnsupportedLinkType(LinkType),
}

/// The protocol layer a [`DecodeError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layer {
    Link,
    Vlan,
    Ipv4,
    Ipv6,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Link => "link-layer",
            Layer::Vlan => "VLAN",
            Layer::Ipv4 => "IPv4",
            Layer::Ipv6 => "IPv6",
        })
    }
}

/// A `.trace` line could not be read. [`crate::TraceReader`] goes on with the next line after
/// a [`TraceErrorKind::Syntax`] error; I/O errors end the reader.
#[derive(Debug)]
pub struct TraceError {
    /// 1-based line number (0 when the error is not tied to a line).
    pub line: u64,
    pub kind: TraceErrorKind,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TraceErrorKind::Io(e) => write!(f, "line {}: I/O error: {e}", self.line),
            kind => write!(f, "line {}: {kind}", self.line),
        }
    }
}

impl std::error::Error for TraceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            TraceErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// What is wrong with a `.trace` line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceErrorKind {
    /// The line is not `<seconds> <signed size>`; `text` is the line (cut to 80 characters).
    #[error("{reason} in {text:?} (expected \"<seconds> <signed size>\")")]
    Syntax { reason: &'static str, text: String },
    #[error("{0}")]
    Io(#[from] io::Error),
}
