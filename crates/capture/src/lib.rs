//! tapir-capture: streaming readers for captures (pcap, pcapng) and trace files, and the
//! IP-layer decoding every other crate starts from.
//!
//! Entry points:
//! - [`CaptureReader`] reads pcap and pcapng (format chosen by magic), one packet at a time,
//!   with one reusable buffer: memory stays bounded whatever the size of the file.
//! - [`decode`] (or [`RawPacket::decode`]) turns a link-layer frame into an [`IpInfo`]:
//!   addresses, protocol, the IP length from the IP header (right even under snaplen), ports,
//!   IPsec SPI, fragment status. Zero-copy, no allocation.
//! - [`TraceReader`] / [`TraceWriter`] read and write `.trace` files
//!   (`<seconds> <signed size>`), the interchange format of website-fingerprinting datasets.
//! - [`open`] opens a path (`-` for standard input), decompresses gzip and zstd on the fly,
//!   tells a capture from a trace by peeking, and returns the matching reader: one pass, so
//!   pipes and FIFOs work. [`Stream`] is the same in steps; [`sniff`] only tells.
//! - [`PacketSource`] is what the pipeline reads frames from: a [`CaptureReader`], or with the
//!   `live` feature a `LiveCapture` on a network interface (libpcap).
//!
//! Every reader reports errors with their place (byte offset, line number) and never panics,
//! whatever the input.
//!
//! # Example
//!
//! Read a capture and count the bytes each IP address sent:
//!
//! ```
//! use std::collections::HashMap;
//! use tapir_capture::{CaptureReader, DecodeError};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lo-http.pcap");
//! let mut reader = CaptureReader::open(&path)?;
//! let mut sent: HashMap<std::net::IpAddr, u64> = HashMap::new();
//! while let Some(packet) = reader.next_packet() {
//!     let packet = packet?; // e.g. "at byte 1234: truncated record: need 90 bytes, have 40"
//!     match packet.decode() {
//!         Ok(ip) => *sent.entry(ip.src).or_default() += u64::from(ip.ip_len),
//!         Err(DecodeError::NotIp) => continue, // ARP and friends
//!         Err(e) => eprintln!("packet at {}: {e}", packet.ts),
//!     }
//! }
//! assert!(sent.contains_key(&"127.0.0.1".parse()?));
//! # Ok(())
//! # }
//! ```
#![deny(unsafe_code)]

mod atomic;
mod error;
mod input;
mod ip;
mod link;
mod linktype;
#[cfg(feature = "live")]
mod live;
mod packet;
mod pcap;
mod pcap_write;
mod pcapng;
mod reader;
mod rng;
mod sniff;
mod source;
mod stream;
mod time;
mod trace;

pub use atomic::write_atomic;
pub use error::{
    CaptureError, CaptureErrorKind, Compression, CompressionError, DecodeError, Layer, TraceError,
    TraceErrorKind,
};
pub use ip::{decode, decode_ip, Fragment, IpInfo};
pub use linktype::LinkType;
#[cfg(feature = "live")]
pub use live::{LiveCapture, LiveError, LiveNext, LiveOptions, LiveStats, SharedStats};
pub use packet::{Direction, TracePacket};
pub use pcap_write::{pcap_file_header, pcap_record_header, PcapWriter};
pub use reader::{CaptureFormat, CaptureReader, RawPacket, MAX_CAPLEN};
pub use rng::SplitMix64;
pub use sniff::{kind_from_name, sniff, sniff_bytes, FileKind};
pub use source::{PacketSource, Position, SourceItem};
pub use stream::{open, Decoder, Opened, Stream, ZSTD_MAX_WINDOW};
pub use time::{civil_from_days, days_from_civil, Timestamp, UtcDateTime};
pub use trace::{TraceReader, TraceWriter, MAX_LINE_LEN};
