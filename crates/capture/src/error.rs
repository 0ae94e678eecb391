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
        match &self.kind {
            CaptureErrorKind::Compressed(_) => write!(
                f,
                "at byte {} of the decompressed data: {}",
                self.offset, self.kind
            ),
            kind => write!(f, "at byte {}: {kind}", self.offset),
        }
    }
}

/// An I/O error as a capture error: a fault of the decompressor under the reader becomes
/// [`CaptureErrorKind::Compressed`], anything else [`CaptureErrorKind::Io`].
pub(crate) fn io_kind(e: io::Error) -> CaptureErrorKind {
    match CompressionError::take(e) {
        Ok(c) => CaptureErrorKind::Compressed(c),
        Err(e) => CaptureErrorKind::Io(e),
    }
}

/// The compression of an input, told by its magic number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    None,
    /// gzip (RFC 1952), several members one after the other included.
    Gzip,
    /// Zstandard (RFC 8878), several frames and skippable frames included.
    Zstd,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        })
    }
}

/// A compressed input is cut short or corrupt. Everything decompressed before the fault was
/// handed out; the readers stop here as they do at a cut record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressionError {
    pub format: Compression,
    /// Bytes of compressed input consumed when the fault was found.
    pub compressed_offset: u64,
    /// Bytes decompressed and handed out before the fault.
    pub decompressed: u64,
    /// The compressed input ended before the stream's end marker (a file cut short), rather
    /// than holding bytes that do not decode.
    pub cut: bool,
    /// The decompressor's own words.
    pub detail: String,
}

impl CompressionError {
    /// Recovers a compression error carried through `io::Read` inside an `io::Error`.
    pub(crate) fn take(e: io::Error) -> Result<CompressionError, io::Error> {
        if !e.get_ref().is_some_and(|r| r.is::<CompressionError>()) {
            return Err(e);
        }
        let kind = e.kind();
        match e.into_inner().map(|b| b.downcast::<CompressionError>()) {
            Some(Ok(c)) => Ok(*c),
            Some(Err(other)) => Err(io::Error::new(kind, other)),
            None => Err(io::Error::from(kind)),
        }
    }
}

impl fmt::Display for CompressionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cut {
            write!(
                f,
                "{} stream cut short: the compressed data ends at byte {} before the stream's end \
                 ({} bytes decompressed; {})",
                self.format, self.compressed_offset, self.decompressed, self.detail
            )
        } else {
            write!(
                f,
                "{} stream corrupt at compressed byte {} ({} bytes decompressed): {}",
                self.format, self.compressed_offset, self.decompressed, self.detail
            )
        }
    }
}

impl std::error::Error for CompressionError {}

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
    /// The gzip or zstd stream around the capture is cut short or corrupt.
    #[error("{0}")]
    Compressed(CompressionError),
    #[error("I/O error: {0}")]
    Io(io::Error),
}

impl From<io::Error> for CaptureErrorKind {
    fn from(e: io::Error) -> Self {
        io_kind(e)
    }
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
            TraceErrorKind::Compressed(e) => write!(f, "after line {}: {e}", self.line),
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
    /// The gzip or zstd stream around the trace is cut short or corrupt; the lines before it
    /// were read.
    #[error("{0}")]
    Compressed(CompressionError),
    #[error("{0}")]
    Io(io::Error),
}

impl From<io::Error> for TraceErrorKind {
    fn from(e: io::Error) -> Self {
        match CompressionError::take(e) {
            Ok(c) => TraceErrorKind::Compressed(c),
            Err(e) => TraceErrorKind::Io(e),
        }
    }
}
