//! Classic libpcap files: a 24-byte file header, then records of a 16-byte header and the
//! captured bytes (draft-ietf-opsawg-pcap, "PCAP Capture File Format").

use crate::error::{CaptureError, CaptureErrorKind};
use crate::input::{array, Endian, Input};
use crate::reader::Record;
use crate::{LinkType, Timestamp, MAX_CAPLEN};
use std::io::Read;

pub(crate) const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
pub(crate) const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// Alexey Kuznetsov's patched libpcap: 8 more bytes per record header (ifindex, protocol,
/// packet type, padding), still found in old Red Hat captures.
pub(crate) const MAGIC_KUZNETSOV: u32 = 0xa1b2_cd34;

const FILE_HEADER_LEN: usize = 24;

/// Resolution of a pcap file's fractional timestamps.
#[derive(Clone, Copy, Debug)]
enum Resolution {
    Micros,
    Nanos,
}

pub(crate) struct PcapState {
    endian: Endian,
    resolution: Resolution,
    link_type: LinkType,
    record_header_len: usize,
}

impl PcapState {
    /// Whether the first four bytes (as read little-endian) are a pcap magic, in either byte order.
    pub(crate) fn recognise(first4: [u8; 4]) -> bool {
        let le = u32::from_le_bytes(first4);
        let be = u32::from_be_bytes(first4);
        [MAGIC_MICROS, MAGIC_NANOS, MAGIC_KUZNETSOV]
            .iter()
            .any(|&m| m == le || m == be)
    }

    /// Reads the file header. The caller has checked the magic with [`PcapState::recognise`].
    pub(crate) fn read_header<R: Read>(input: &mut Input<R>) -> Result<Self, CaptureError> {
        let have = input.fill(FILE_HEADER_LEN).map_err(io_at(input.pos()))?;
        let header = match array::<FILE_HEADER_LEN>(input.peek(), 0) {
            Some(h) => h,
            None => {
                return Err(CaptureError::new(
                    input.pos(),
                    CaptureErrorKind::Truncated {
                        what: "pcap file header",
                        need: FILE_HEADER_LEN as u64,
                        have: have as u64,
                    },
                ))
            }
        };
        let magic_bytes = [header[0], header[1], header[2], header[3]];
        let (endian, magic) = if PcapState::recognise_in(Endian::Little, magic_bytes) {
            (Endian::Little, u32::from_le_bytes(magic_bytes))
        } else {
            (Endian::Big, u32::from_be_bytes(magic_bytes))
        };
        let resolution = if magic == MAGIC_NANOS {
            Resolution::Nanos
        } else {
            Resolution::Micros
        };
        let record_header_len = if magic == MAGIC_KUZNETSOV { 24 } else { 16 };
        // The link type is the low 16 bits; the upper bits may carry the FCS length
        // (draft-ietf-opsawg-pcap, section 4, "LinkType and additional information").
        let network = endian.u32([header[20], header[21], header[22], header[23]]);
        input.consume(FILE_HEADER_LEN);
        Ok(PcapState {
            endian,
            resolution,
            link_type: LinkType((network & 0xffff) as u16),
            record_header_len,
        })
    }

    fn recognise_in(endian: Endian, b: [u8; 4]) -> bool {
        let m = endian.u32(b);
        m == MAGIC_MICROS || m == MAGIC_NANOS || m == MAGIC_KUZNETSOV
    }

    pub(crate) fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// Reads the next record, or `None` at a clean end of file.
    #[inline]
    pub(crate) fn next_record<R: Read>(
        &mut self,
        input: &mut Input<R>,
    ) -> Result<Option<Record>, CaptureError> {
        let at = input.pos();
        let hlen = self.record_header_len;
        let have = input.fill(hlen).map_err(io_at(at))?;
        let header = match array::<16>(input.peek(), 0) {
            Some(h) if have >= hlen => h,
            _ if have == 0 => return Ok(None),
            _ => {
                return Err(CaptureError::new(
                    at,
                    CaptureErrorKind::Truncated {
                        what: "record header",
                        need: hlen as u64,
                        have: have as u64,
                    },
                ))
            }
        };
        let e = self.endian;
        let secs = e.u32([header[0], header[1], header[2], header[3]]);
        let frac = e.u32([header[4], header[5], header[6], header[7]]);
        let caplen = e.u32([header[8], header[9], header[10], header[11]]);
        let orig_len = e.u32([header[12], header[13], header[14], header[15]]);
        if caplen > MAX_CAPLEN {
            return Err(CaptureError::new(
                at,
                CaptureErrorKind::CaplenTooLarge {
                    caplen,
                    limit: MAX_CAPLEN,
                },
            ));
        }
        let total = hlen + caplen as usize;
        let have = input.fill(total).map_err(io_at(at))?;
        if have < total {
            return Err(CaptureError::new(
                at,
                CaptureErrorKind::Truncated {
                    what: "record",
                    need: total as u64,
                    have: have as u64,
                },
            ));
        }
        // The seconds field is unsigned in current libpcap, which keeps it valid past 2038.
        let frac_ns = match self.resolution {
            Resolution::Micros => frac as i64 * 1_000,
            Resolution::Nanos => frac as i64,
        };
        let ts = Timestamp::from_nanos(secs as i64 * 1_000_000_000 + frac_ns);
        let data_start = input.start() + hlen;
        input.consume(total);
        Ok(Some(Record {
            ts,
            link_type: self.link_type,
            orig_len,
            data_start,
            data_len: caplen as usize,
            interface: 0,
        }))
    }
}

pub(crate) fn io_at(offset: u64) -> impl Fn(std::io::Error) -> CaptureError {
    move |e| CaptureError::new(offset, crate::error::io_kind(e))
}
