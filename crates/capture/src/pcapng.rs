//! pcapng files: a sequence of sections, each a Section Header Block followed by Interface
//! Description Blocks and packet blocks (draft-ietf-opsawg-pcapng, "PCAP Next Generation
//! Dump File Format"). Section and block numbers below refer to that draft.

use crate::error::{CaptureError, CaptureErrorKind};
use crate::input::{array, Endian, Input};
use crate::pcap::io_at;
use crate::reader::Record;
use crate::{LinkType, Timestamp, MAX_CAPLEN};
use std::io::Read;

pub(crate) const SECTION_HEADER_BLOCK: u32 = 0x0a0d_0d0a;
const INTERFACE_DESCRIPTION_BLOCK: u32 = 1;
/// Obsolete Packet Block (appendix A), still written by some old tools.
const PACKET_BLOCK: u32 = 2;
const SIMPLE_PACKET_BLOCK: u32 = 3;
const ENHANCED_PACKET_BLOCK: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

/// Largest block read whole. Packet blocks hold at most [`MAX_CAPLEN`] bytes of data plus their
/// fixed fields and options; header blocks carry only a few options. Other blocks are skipped
/// without being buffered, whatever their length.
pub(crate) const MAX_BLOCK_LEN: u32 = MAX_CAPLEN + 64 * 1024;

/// Section Header Block: type, length, byte-order magic, version, section length, trailer.
const SHB_MIN_LEN: u32 = 28;
const IDB_MIN_LEN: u32 = 20;
const EPB_MIN_LEN: u32 = 32;
const SPB_MIN_LEN: u32 = 16;
const PB_MIN_LEN: u32 = 32;

const OPT_END_OF_OPT: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// How one interface's timestamps become nanoseconds.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link_type: LinkType,
    snaplen: u32,
    /// Timestamp units per second (`if_tsresol`; 10^6 when absent, section 4.2).
    units_per_sec: u64,
    /// `if_tsoffset`, in nanoseconds, added to every timestamp.
    offset_ns: i64,
}

impl Interface {
    fn timestamp(&self, raw: u64) -> Timestamp {
        let ns = match self.units_per_sec {
            1_000_000_000 => i64::try_from(raw).unwrap_or(i64::MAX),
            1_000_000 => i64::try_from(raw).unwrap_or(i64::MAX).saturating_mul(1_000),
            ups => {
                let secs = i64::try_from(raw / ups).unwrap_or(i64::MAX);
                Timestamp::from_parts(secs, raw % ups, ups).as_nanos()
            }
        };
        Timestamp::from_nanos(ns.saturating_add(self.offset_ns))
    }
}

pub(crate) struct PcapNgState {
    endian: Endian,
    interfaces: Vec<Interface>,
    /// A Simple Packet Block has no timestamp; it gets the previous packet's, which keeps
    /// inter-arrival times at zero instead of jumping back to 1970.
    last_ts: Timestamp,
}

impl PcapNgState {
    /// Reads the first Section Header Block. The caller has seen its block type.
    pub(crate) fn read_header<R: Read>(input: &mut Input<R>) -> Result<Self, CaptureError> {
        let mut state = PcapNgState {
            endian: Endian::Little,
            interfaces: Vec::new(),
            last_ts: Timestamp::ZERO,
        };
        state.read_section_header(input)?;
        Ok(state)
    }

    /// The link type of the first interface of the current section, if one has been seen.
    pub(crate) fn first_link_type(&self) -> Option<LinkType> {
        self.interfaces.first().map(|i| i.link_type)
    }

    fn read_section_header<R: Read>(&mut self, input: &mut Input<R>) -> Result<(), CaptureError> {
        let at = input.pos();
        let have = input.fill(12).map_err(io_at(at))?;
        let head =
            array::<12>(input.peek(), 0).ok_or_else(|| truncated(at, "block header", 12, have))?;
        let bom = [head[8], head[9], head[10], head[11]];
        let endian = if u32::from_le_bytes(bom) == BYTE_ORDER_MAGIC {
            Endian::Little
        } else if u32::from_be_bytes(bom) == BYTE_ORDER_MAGIC {
            Endian::Big
        } else {
            return Err(CaptureError::new(
                at,
                CaptureErrorKind::BadByteOrderMagic {
                    magic: u32::from_be_bytes(bom),
                },
            ));
        };
        let len = endian.u32([head[4], head[5], head[6], head[7]]);
        let block = read_block(input, endian, len, SHB_MIN_LEN)?;
        let major = endian.u16([block[12], block[13]]);
        let minor = endian.u16([block[14], block[15]]);
        // Section 4.1: a reader must not parse a section whose major version it does not know.
        if major != 1 {
            return Err(CaptureError::new(
                at,
                CaptureErrorKind::UnsupportedVersion { major, minor },
            ));
        }
        input.consume(len as usize);
        self.endian = endian;
        self.interfaces.clear();
        Ok(())
    }

    /// Reads blocks until the next packet, or `None` at a clean end of file.
    pub(crate) fn next_record<R: Read>(
        &mut self,
        input: &mut Input<R>,
    ) -> Result<Option<Record>, CaptureError> {
        loop {
            let at = input.pos();
            let have = input.fill(8).map_err(io_at(at))?;
            let head = match array::<8>(input.peek(), 0) {
                Some(h) => h,
                None if have == 0 => return Ok(None),
                None => return Err(truncated(at, "block header", 8, have)),
            };
            let e = self.endian;
            let block_type = e.u32([head[0], head[1], head[2], head[3]]);
            let len = e.u32([head[4], head[5], head[6], head[7]]);
            match block_type {
                // The type reads the same in both byte orders, which is what lets a reader find
                // a section whose byte order differs from the previous one.
                SECTION_HEADER_BLOCK => self.read_section_header(input)?,
                INTERFACE_DESCRIPTION_BLOCK => self.read_interface(input, len)?,
                ENHANCED_PACKET_BLOCK => return self.read_enhanced(input, len).map(Some),
                SIMPLE_PACKET_BLOCK => return self.read_simple(input, len).map(Some),
                PACKET_BLOCK => return self.read_obsolete(input, len).map(Some),
                _ => {
                    check_len(at, len, 12)?;
                    let skipped = input.skip(len as u64).map_err(io_at(at))?;
                    if skipped < len as u64 {
                        return Err(truncated(at, "block", len as usize, skipped as usize));
                    }
                }
            }
        }
    }

    fn read_interface<R: Read>(
        &mut self,
        input: &mut Input<R>,
        len: u32,
    ) -> Result<(), CaptureError> {
        let at = input.pos();
        let e = self.endian;
        let block = read_block(input, e, len, IDB_MIN_LEN)?;
        let link_type = LinkType(e.u16([block[8], block[9]]));
        let snaplen = e.u32([block[12], block[13], block[14], block[15]]);
        let mut iface = Interface {
            link_type,
            snaplen,
            units_per_sec: 1_000_000,
            offset_ns: 0,
        };
        let options = block.get(16..block.len() - 4).unwrap_or(&[]);
        for (code, value) in Options::new(options, e) {
            match code {
                OPT_IF_TSRESOL => {
                    if let Some(&v) = value.first() {
                        iface.units_per_sec = units_per_sec(v).ok_or_else(|| {
                            CaptureError::new(at, CaptureErrorKind::BadTimeResolution { value: v })
                        })?;
                    }
                }
                OPT_IF_TSOFFSET => {
                    if let Some(b) = array::<8>(value, 0) {
                        iface.offset_ns = (e.u64(b) as i64).saturating_mul(1_000_000_000);
                    }
                }
                _ => {}
            }
        }
        input.consume(len as usize);
        self.interfaces.push(iface);
        Ok(())
    }

    fn interface(&self, at: u64, id: u32) -> Result<Interface, CaptureError> {
        self.interfaces.get(id as usize).copied().ok_or_else(|| {
            CaptureError::new(
                at,
                CaptureErrorKind::UnknownInterface {
                    id,
                    defined: self.interfaces.len() as u32,
                },
            )
        })
    }

    /// Enhanced Packet Block (section 4.3).
    fn read_enhanced<R: Read>(
        &mut self,
        input: &mut Input<R>,
        len: u32,
    ) -> Result<Record, CaptureError> {
        let at = input.pos();
        let e = self.endian;
        let block = read_block(input, e, len, EPB_MIN_LEN)?;
        let word = |i: usize| e.u32([block[i], block[i + 1], block[i + 2], block[i + 3]]);
        let id = word(8);
        let ts_raw = (u64::from(word(12)) << 32) | u64::from(word(16));
        let caplen = word(20);
        let orig_len = word(24);
        let iface = self.interface(at, id)?;
        check_caplen(at, caplen, len - EPB_MIN_LEN)?;
        let ts = iface.timestamp(ts_raw);
        Ok(self.finish(input, len, ts, iface.link_type, orig_len, 28, caplen, id))
    }

    /// Simple Packet Block (section 4.4): interface 0, no timestamp, data cut to the snaplen.
    fn read_simple<R: Read>(
        &mut self,
        input: &mut Input<R>,
        len: u32,
    ) -> Result<Record, CaptureError> {
        let at = input.pos();
        let e = self.endian;
        let block = read_block(input, e, len, SPB_MIN_LEN)?;
        let orig_len = e.u32([block[8], block[9], block[10], block[11]]);
        let iface = self.interface(at, 0)?;
        let room = len - SPB_MIN_LEN;
        // The captured length is not stored: it is the original length cut to the snaplen
        // (0 meaning no limit) and to the block.
        let snaplen = if iface.snaplen == 0 {
            u32::MAX
        } else {
            iface.snaplen
        };
        let caplen = orig_len.min(snaplen).min(room).min(MAX_CAPLEN);
        let ts = self.last_ts;
        Ok(self.finish(input, len, ts, iface.link_type, orig_len, 12, caplen, 0))
    }

    /// Obsolete Packet Block (appendix A): like an EPB with a 16-bit interface id.
    fn read_obsolete<R: Read>(
        &mut self,
        input: &mut Input<R>,
        len: u32,
    ) -> Result<Record, CaptureError> {
        let at = input.pos();
        let e = self.endian;
        let block = read_block(input, e, len, PB_MIN_LEN)?;
        let word = |i: usize| e.u32([block[i], block[i + 1], block[i + 2], block[i + 3]]);
        let id = u32::from(e.u16([block[8], block[9]]));
        let ts_raw = (u64::from(word(12)) << 32) | u64::from(word(16));
        let caplen = word(20);
        let orig_len = word(24);
        let iface = self.interface(at, id)?;
        check_caplen(at, caplen, len - PB_MIN_LEN)?;
        let ts = iface.timestamp(ts_raw);
        Ok(self.finish(input, len, ts, iface.link_type, orig_len, 28, caplen, id))
    }

    #[allow(clippy::too_many_arguments)]
    fn finish<R: Read>(
        &mut self,
        input: &mut Input<R>,
        len: u32,
        ts: Timestamp,
        link_type: LinkType,
        orig_len: u32,
        data_offset: usize,
        caplen: u32,
        interface: u32,
    ) -> Record {
        self.last_ts = ts;
        let data_start = input.start() + data_offset;
        input.consume(len as usize);
        Record {
            ts,
            link_type,
            orig_len,
            data_start,
            data_len: caplen as usize,
            interface,
        }
    }
}

/// `if_tsresol`: the high bit selects a power of two, otherwise a power of ten (section 4.2).
fn units_per_sec(v: u8) -> Option<u64> {
    let exp = u32::from(v & 0x7f);
    if v & 0x80 != 0 {
        1u64.checked_shl(exp).filter(|_| exp < 64)
    } else {
        10u64.checked_pow(exp)
    }
}

fn truncated(at: u64, what: &'static str, need: usize, have: usize) -> CaptureError {
    CaptureError::new(
        at,
        CaptureErrorKind::Truncated {
            what,
            need: need as u64,
            have: have as u64,
        },
    )
}

fn check_len(at: u64, len: u32, min: u32) -> Result<(), CaptureError> {
    if len < min || len % 4 != 0 {
        return Err(CaptureError::new(
            at,
            CaptureErrorKind::BadBlockLength { len, min },
        ));
    }
    Ok(())
}

fn check_caplen(at: u64, caplen: u32, room: u32) -> Result<(), CaptureError> {
    if caplen > MAX_CAPLEN {
        return Err(CaptureError::new(
            at,
            CaptureErrorKind::CaplenTooLarge {
                caplen,
                limit: MAX_CAPLEN,
            },
        ));
    }
    if caplen > room {
        return Err(CaptureError::new(
            at,
            CaptureErrorKind::CaplenExceedsBlock { caplen, room },
        ));
    }
    Ok(())
}

/// Validates a block's length, buffers it whole and checks the trailing copy of the length.
/// Returns the block's bytes (at least `min` of them), still unconsumed.
fn read_block<R: Read>(
    input: &mut Input<R>,
    e: Endian,
    len: u32,
    min: u32,
) -> Result<&[u8], CaptureError> {
    let at = input.pos();
    check_len(at, len, min)?;
    if len > MAX_BLOCK_LEN {
        return Err(CaptureError::new(
            at,
            CaptureErrorKind::BlockTooLarge {
                len,
                limit: MAX_BLOCK_LEN,
            },
        ));
    }
    let need = len as usize;
    let have = input.fill(need).map_err(io_at(at))?;
    if have < need {
        return Err(truncated(at, "block", need, have));
    }
    let Some(block) = input.peek().get(..need) else {
        return Err(truncated(at, "block", need, have));
    };
    let tail = array::<4>(block, need - 4).map(|b| e.u32(b)).unwrap_or(0);
    if tail != len {
        return Err(CaptureError::new(
            at,
            CaptureErrorKind::BlockLengthMismatch { head: len, tail },
        ));
    }
    Ok(block)
}

/// Iterator over a block's options (section 3.5): code, length, value padded to 32 bits.
/// Stops at `opt_endofopt` or at the first option that runs past the block: options are
/// advisory, so a writer's sloppy padding should not cost the user the packets.
struct Options<'a> {
    rest: &'a [u8],
    endian: Endian,
}

impl<'a> Options<'a> {
    fn new(rest: &'a [u8], endian: Endian) -> Self {
        Options { rest, endian }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let head = array::<4>(self.rest, 0)?;
        let code = self.endian.u16([head[0], head[1]]);
        let len = usize::from(self.endian.u16([head[2], head[3]]));
        if code == OPT_END_OF_OPT {
            self.rest = &[];
            return None;
        }
        let value = self.rest.get(4..4 + len)?;
        let padded = 4 + ((len + 3) & !3);
        self.rest = self.rest.get(padded..).unwrap_or(&[]);
        Some((code, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsresol_powers_of_ten_and_two() {
        assert_eq!(units_per_sec(6), Some(1_000_000));
        assert_eq!(units_per_sec(9), Some(1_000_000_000));
        assert_eq!(units_per_sec(19), Some(10_000_000_000_000_000_000));
        assert_eq!(units_per_sec(20), None);
        assert_eq!(units_per_sec(0x80 | 10), Some(1024));
        assert_eq!(units_per_sec(0x80 | 63), Some(1 << 63));
        assert_eq!(units_per_sec(0x80 | 64), None);
        assert_eq!(units_per_sec(0xff), None);
    }

    #[test]
    fn interface_timestamps() {
        let mut iface = Interface {
            link_type: LinkType::ETHERNET,
            snaplen: 0,
            units_per_sec: 1024,
            offset_ns: 0,
        };
        // 1.5 s in 1/1024 s units.
        assert_eq!(iface.timestamp(1536).as_nanos(), 1_500_000_000);
        iface.units_per_sec = 1_000_000;
        iface.offset_ns = 10_000_000_000;
        assert_eq!(iface.timestamp(2).as_nanos(), 10_000_002_000);
        // Saturates rather than wrapping.
        assert_eq!(iface.timestamp(u64::MAX).as_nanos(), i64::MAX);
    }

    #[test]
    fn options_stop_at_end_and_at_overruns() {
        // if_tsresol = 9, then a comment whose length runs past the block.
        let bytes = [9, 0, 1, 0, 9, 0, 0, 0, 1, 0, 200, 0, b'x', 0, 0, 0];
        let opts: Vec<_> = Options::new(&bytes, Endian::Little).collect();
        assert_eq!(opts, vec![(9u16, &[9u8][..])]);
        let ended = [0, 0, 0, 0, 9, 0, 1, 0, 9, 0, 0, 0];
        assert_eq!(Options::new(&ended, Endian::Little).count(), 0);
    }
}
