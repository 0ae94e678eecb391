//! [`CaptureReader`]: one streaming reader for pcap and pcapng, chosen by the file's magic.

use crate::error::{CaptureError, CaptureErrorKind};
use crate::input::{array, Input};
use crate::pcap::{io_at, PcapState};
use crate::pcapng::{PcapNgState, SECTION_HEADER_BLOCK};
use crate::stream::{Decoder, Stream};
use crate::{decode, DecodeError, IpInfo, LinkType, Timestamp};
use std::io::Read;
use std::path::Path;

/// Largest captured length accepted for one packet. 256 KiB is libpcap's own maximum snapshot
/// length (`MAXIMUM_SNAPLEN`); a larger claim means a corrupt file, and is reported instead of
/// being allocated.
pub const MAX_CAPLEN: u32 = 256 * 1024;

/// The container format of a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaptureFormat {
    Pcap,
    PcapNg,
}

/// One packet as stored in the capture: borrowed from the reader's buffer, valid until the next
/// call to [`CaptureReader::next_packet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawPacket<'a> {
    pub ts: Timestamp,
    pub link_type: LinkType,
    /// Length of the packet on the wire; `data` may be shorter (snaplen).
    pub orig_len: u32,
    /// The captured bytes, starting with the link-layer header.
    pub data: &'a [u8],
    /// Interface index within the pcapng section (always 0 for pcap).
    pub interface: u32,
}

impl RawPacket<'_> {
    /// Decodes the IP header (see [`crate::decode`]).
    #[inline]
    pub fn decode(&self) -> Result<IpInfo, DecodeError> {
        decode(self.link_type, self.data, self.orig_len)
    }

    /// Decodes the IP header only (see [`crate::decode_ip`]).
    #[inline]
    pub fn decode_ip(&self) -> Result<IpInfo, DecodeError> {
        crate::decode_ip(self.link_type, self.data, self.orig_len)
    }
}

/// Where a packet's bytes sit in the reader's buffer; turned into a [`RawPacket`] by the reader.
pub(crate) struct Record {
    pub(crate) ts: Timestamp,
    pub(crate) link_type: LinkType,
    pub(crate) orig_len: u32,
    pub(crate) data_start: usize,
    pub(crate) data_len: usize,
    pub(crate) interface: u32,
}

enum State {
    Pcap(PcapState),
    PcapNg(PcapNgState),
}

/// Streaming reader for pcap and pcapng captures.
///
/// Memory is one buffer (512 KiB, more only for a record that needs it, never more than about
/// [`MAX_CAPLEN`] + 64 KiB), whatever the size of the file; no allocation per packet.
///
/// Timestamps are returned as stored: time going backwards is not an error here.
///
/// After an error, [`CaptureReader::next_packet`] returns `None`: the file cannot be trusted
/// past a corrupt record, so callers report the error and go on with the next file.
pub struct CaptureReader<R: Read> {
    input: Input<R>,
    state: State,
    done: bool,
}

impl CaptureReader<Decoder> {
    /// Opens a capture file, or standard input for `-`; gzip and zstd are decompressed on the
    /// fly (told by magic number, not by name). An I/O error opening it is reported at offset 0.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        Stream::open(path)?.into_capture()
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header and picks the format from the magic number. `reader` is read as
    /// it is: to decompress gzip or zstd as well, use [`Stream::new`].
    pub fn new(reader: R) -> Result<Self, CaptureError> {
        CaptureReader::from_input(Input::new(reader))
    }

    /// [`CaptureReader::new`] on a buffer that may already hold the first bytes.
    pub(crate) fn from_input(mut input: Input<R>) -> Result<Self, CaptureError> {
        let have = input.fill(4).map_err(io_at(0))?;
        let magic = match array::<4>(input.peek(), 0) {
            Some(m) => m,
            None if have == 0 => return Err(CaptureError::new(0, CaptureErrorKind::Empty)),
            None => {
                return Err(CaptureError::new(
                    0,
                    CaptureErrorKind::Truncated {
                        what: "file header",
                        need: 4,
                        have: have as u64,
                    },
                ))
            }
        };
        let state = if u32::from_le_bytes(magic) == SECTION_HEADER_BLOCK {
            State::PcapNg(PcapNgState::read_header(&mut input)?)
        } else if PcapState::recognise(magic) {
            State::Pcap(PcapState::read_header(&mut input)?)
        } else {
            return Err(CaptureError::new(
                0,
                CaptureErrorKind::BadMagic {
                    magic: u32::from_be_bytes(magic),
                },
            ));
        };
        Ok(CaptureReader {
            input,
            state,
            done: false,
        })
    }

    /// The next packet, `None` at the end of the file or after an error.
    #[inline]
    pub fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        let next = match &mut self.state {
            State::Pcap(s) => s.next_record(&mut self.input),
            State::PcapNg(s) => s.next_record(&mut self.input),
        };
        match next {
            Ok(Some(r)) => Some(Ok(RawPacket {
                ts: r.ts,
                link_type: r.link_type,
                orig_len: r.orig_len,
                data: self.input.slice(r.data_start, r.data_len),
                interface: r.interface,
            })),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    pub fn format(&self) -> CaptureFormat {
        match self.state {
            State::Pcap(_) => CaptureFormat::Pcap,
            State::PcapNg(_) => CaptureFormat::PcapNg,
        }
    }

    /// Byte offset of the next record (or block) in the file.
    pub fn offset(&self) -> u64 {
        self.input.pos()
    }

    /// The link type of a pcap file, or of the first interface of the current pcapng section
    /// once its description has been read (pcapng files may mix link types: see
    /// [`RawPacket::link_type`]).
    pub fn link_type(&self) -> Option<LinkType> {
        match &self.state {
            State::Pcap(s) => Some(s.link_type()),
            State::PcapNg(s) => s.first_link_type(),
        }
    }
}
