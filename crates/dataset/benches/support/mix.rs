//! A seeded mix of a folder's captures: shared by the `mix_capture` example (the input of
//! `bench/compare`) and its test.
//!
//! Every classic pcap with Ethernet frames under a folder (other files are skipped) gets a seeded
//! start offset in 0..300 s; its timestamps are shifted so its first packet falls there, and all
//! of them are merged by time, each read as a stream (one packet held per open capture, a
//! capture opened when its start comes). When the captures hold fewer packets than asked for,
//! another round starts after the last packet of the one before, with new offsets.
//!
//! The lab reuses its addresses in every capture, so each (capture, round) has its addresses
//! moved to a set of hosts of its own: octets 2-3 of IPv4 addresses (bytes 6-7 of IPv6 ones) are
//! XORed with a 16-bit value of that (capture, round), the same for source and destination, so
//! private addresses stay private and a capture's hosts keep talking to each other. The IPv4
//! header checksum and the TCP, UDP and ICMPv6 checksums are updated incrementally (RFC 1624)
//! where the checksum field was captured; a UDP checksum of 0 (none) stays 0.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tapir_capture::{
    pcap_file_header, pcap_record_header, CaptureReader, Decoder, FileKind, LinkType, SplitMix64,
    Stream,
};

/// Start offsets of the captures in a round are drawn uniformly in 0..OFFSET_SPAN_US.
const OFFSET_SPAN_US: usize = 300_000_000;

/// What [`mix`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Packets written.
    pub packets: u64,
    /// Bytes of the output file.
    pub bytes: u64,
    /// Captures found under the folder (classic pcap, Ethernet, at least one packet).
    pub captures: usize,
    /// Files under the folder that were not such captures.
    pub skipped: usize,
    /// (capture, round) pairs that gave at least one packet.
    pub streams: usize,
    /// Rounds started.
    pub rounds: usize,
    /// Time from the first packet written to the last, in nanoseconds.
    pub span_ns: i64,
    /// Snaplen of the output: the largest of the inputs'.
    pub snaplen: u32,
    /// Packets earlier than the one before them in their capture, written at that one's time
    /// (so the output is in time order).
    pub reordered: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} packets, {} bytes, snaplen {}: {} (capture, round) streams from {} captures \
             ({} other files skipped), {} round{}, {:.3} s from first packet to last",
            self.packets,
            self.bytes,
            self.snaplen,
            self.streams,
            self.captures,
            self.skipped,
            self.rounds,
            if self.rounds == 1 { "" } else { "s" },
            self.span_ns as f64 / 1e9,
        )?;
        if self.reordered > 0 {
            write!(
                f,
                "; {} packets earlier than the one before them in their capture were written at its time",
                self.reordered
            )?;
        }
        Ok(())
    }
}

/// One capture found under the folder.
struct Input {
    path: PathBuf,
    first_ns: i64,
}

/// A capture being read in a round: its next packet, already shifted in time.
struct Source {
    reader: CaptureReader<Decoder>,
    shift_ns: i64,
    mask: u16,
    ts_ns: i64,
    orig_len: u32,
    data: Vec<u8>,
}

impl Source {
    /// Loads the next packet; `Ok(false)` at the end of the capture. A packet earlier than the
    /// one before it keeps the time before it, so each capture stays in order.
    fn advance(&mut self, reordered: &mut u64) -> Result<bool, String> {
        match self.reader.next_packet() {
            None => Ok(false),
            Some(Err(e)) => Err(e.to_string()),
            Some(Ok(p)) => {
                let ts = p.ts.as_nanos().saturating_add(self.shift_ns);
                if ts < self.ts_ns {
                    *reordered += 1;
                } else {
                    self.ts_ns = ts;
                }
                self.orig_len = p.orig_len.max(p.data.len() as u32);
                self.data.clear();
                self.data.extend_from_slice(p.data);
                Ok(true)
            }
        }
    }
}

/// Where a capture stands in a round.
enum Slot {
    /// Not opened yet: its entry in the heap is its start time.
    Waiting,
    Open(Source),
    Done,
}

/// Mixes the captures under `dir` into `out` (a microsecond pcap of Ethernet frames) until
/// `packets` packets are written. The same folder, count and seed give the same file.
pub fn mix(dir: &Path, out: &Path, packets: u64, seed: u64) -> Result<Summary, String> {
    let mut files = Vec::new();
    walk(dir, &mut files).map_err(|e| format!("{}: {e}", dir.display()))?;
    files.sort();
    let mut inputs = Vec::new();
    let mut snaplen = 0u32;
    let mut skipped = 0;
    for path in files {
        match probe(&path).map_err(|e| format!("{}: {e}", path.display()))? {
            Some((first_ns, snap)) => {
                snaplen = snaplen.max(snap);
                inputs.push(Input { path, first_ns });
            }
            None => skipped += 1,
        }
    }
    let Some(mut base_ns) = inputs.iter().map(|i| i.first_ns).min() else {
        return Err(format!("{}: no Ethernet pcap found", dir.display()));
    };

    let file = File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let io_err = |e: io::Error| format!("{}: {e}", out.display());
    w.write_all(&pcap_file_header(LinkType::ETHERNET, snaplen))
        .map_err(io_err)?;

    let mut rng = SplitMix64::new(seed);
    let mut s = Summary {
        packets: 0,
        bytes: 24,
        captures: inputs.len(),
        skipped,
        streams: 0,
        rounds: 0,
        span_ns: 0,
        snaplen,
        reordered: 0,
    };
    let mut first_ns = None;
    let mut last_ns = base_ns;
    while s.packets < packets {
        let round = s.rounds;
        s.rounds += 1;
        let written_before = s.packets;
        let starts: Vec<i64> = inputs
            .iter()
            .map(|_| base_ns + rng.below(OFFSET_SPAN_US) as i64 * 1000)
            .collect();
        let mut slots: Vec<Slot> = inputs.iter().map(|_| Slot::Waiting).collect();
        // Min-heap of (time of the next packet or start, capture): ties go to the lower index.
        let mut heap: BinaryHeap<Reverse<(i64, usize)>> = starts
            .iter()
            .enumerate()
            .map(|(i, &t)| Reverse((t, i)))
            .collect();
        while s.packets < packets {
            let Some(Reverse((_, i))) = heap.pop() else {
                break;
            };
            let input = &inputs[i];
            let at = |e: String| format!("{}: {e}", input.path.display());
            let more = match &mut slots[i] {
                Slot::Waiting => {
                    let reader = CaptureReader::open(&input.path).map_err(|e| at(e.to_string()))?;
                    let k = (round * inputs.len() + i) as u64;
                    let mut src = Source {
                        reader,
                        shift_ns: starts[i] - input.first_ns,
                        // An odd multiplier is a bijection of 16 bits: no two (capture, round)
                        // pairs get the same value before 65,536 of them.
                        mask: (k.wrapping_mul(0x9E37) ^ seed) as u16,
                        ts_ns: i64::MIN,
                        orig_len: 0,
                        data: Vec::with_capacity(snaplen as usize),
                    };
                    let more = src.advance(&mut s.reordered).map_err(at)?;
                    s.streams += usize::from(more);
                    slots[i] = Slot::Open(src);
                    more
                }
                Slot::Open(src) => {
                    rewrite(&mut src.data, src.mask);
                    let us = src.ts_ns.div_euclid(1000).max(0) as u64;
                    let rec = pcap_record_header(us, src.data.len() as u32, src.orig_len);
                    w.write_all(&rec).map_err(io_err)?;
                    w.write_all(&src.data).map_err(io_err)?;
                    s.packets += 1;
                    s.bytes += 16 + src.data.len() as u64;
                    first_ns.get_or_insert(src.ts_ns);
                    last_ns = src.ts_ns;
                    src.advance(&mut s.reordered).map_err(at)?
                }
                Slot::Done => unreachable!("a finished capture is not in the heap"),
            };
            match &slots[i] {
                Slot::Open(src) if more => heap.push(Reverse((src.ts_ns, i))),
                // Closing a finished capture frees its reader.
                _ => slots[i] = Slot::Done,
            }
        }
        if s.packets == written_before {
            return Err(format!("{}: the captures hold no packets", dir.display()));
        }
        base_ns = last_ns;
    }
    w.flush().map_err(io_err)?;
    s.span_ns = last_ns - first_ns.unwrap_or(last_ns);
    Ok(s)
}

/// Every file under `dir`, at any depth.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// The first packet's time and the snaplen of a classic pcap of Ethernet frames with at least
/// one packet; `None` for any other file (a trace, pcapng, another link type, not a capture).
fn probe(path: &Path) -> Result<Option<(i64, u32)>, String> {
    let mut stream = Stream::open(path).map_err(|e| e.to_string())?;
    if !matches!(stream.kind(), Ok(FileKind::Pcap)) {
        return Ok(None);
    }
    let head = stream.peek(24).map_err(|e| e.to_string())?;
    let Some(head) = head.first_chunk::<24>() else {
        return Err("truncated pcap header".into());
    };
    let magic = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let field = [head[16], head[17], head[18], head[19]];
    let snaplen = if matches!(magic, 0xa1b2_c3d4 | 0xa1b2_3c4d) {
        u32::from_le_bytes(field)
    } else {
        u32::from_be_bytes(field)
    };
    let mut reader = stream.into_capture().map_err(|e| e.to_string())?;
    if reader.link_type() != Some(LinkType::ETHERNET) {
        return Ok(None);
    }
    match reader.next_packet() {
        None => Ok(None),
        Some(Err(e)) => Err(e.to_string()),
        Some(Ok(p)) => Ok(Some((p.ts.as_nanos(), snaplen))),
    }
}

/// Moves an Ethernet frame's addresses by `mask` (see the module's comment) and updates the
/// checksums that cover them. Frames that are not IPv4 or IPv6 (after any VLAN tags), or too
/// short to hold both addresses, are left as they are.
fn rewrite(frame: &mut [u8], mask: u16) {
    let mut off = 12;
    let ethertype = loop {
        let Some(et) = be16(frame, off) else { return };
        match et {
            0x8100 | 0x88a8 | 0x9100 => off += 4,
            _ => break et,
        }
    };
    let ip = off + 2;
    let (src, dst, l4) = match ethertype {
        0x0800 if frame.len() >= ip + 20 && frame[ip] >> 4 == 4 => {
            let ihl = usize::from(frame[ip] & 0x0f) * 4;
            let first_fragment = be16(frame, ip + 6).is_some_and(|f| f & 0x1fff == 0);
            (
                ip + 14,
                ip + 18,
                first_fragment.then(|| (frame[ip + 9], ip + ihl)),
            )
        }
        0x86dd if frame.len() >= ip + 40 && frame[ip] >> 4 == 6 => {
            (ip + 8 + 6, ip + 24 + 6, ipv6_upper(frame, ip))
        }
        _ => return,
    };
    let mut changes = [(0u16, 0u16); 2];
    for (change, at) in changes.iter_mut().zip([src, dst]) {
        let old = be16(frame, at).unwrap_or(0);
        *change = (old, old ^ mask);
        frame[at..at + 2].copy_from_slice(&(old ^ mask).to_be_bytes());
    }
    if ethertype == 0x0800 {
        update_checksum(frame, ip + 10, &changes, false);
    }
    let Some((proto, l4)) = l4 else { return };
    match proto {
        6 => update_checksum(frame, l4 + 16, &changes, false),
        17 => update_checksum(frame, l4 + 6, &changes, true),
        58 if ethertype == 0x86dd => update_checksum(frame, l4 + 2, &changes, false),
        _ => {}
    }
}

/// The upper-layer protocol of an IPv6 packet and where its header starts, past hop-by-hop,
/// routing, destination-options and fragment headers; `None` for a later fragment or headers
/// cut by the snaplen.
fn ipv6_upper(frame: &[u8], ip: usize) -> Option<(u8, usize)> {
    let mut next = frame[ip + 6];
    let mut at = ip + 40;
    for _ in 0..8 {
        match next {
            0 | 43 | 60 => {
                let len = (usize::from(*frame.get(at + 1)?) + 1) * 8;
                next = frame[at];
                at += len;
            }
            44 => {
                if be16(frame, at + 2)? >> 3 != 0 {
                    return None;
                }
                next = frame[at];
                at += 8;
            }
            _ => return Some((next, at)),
        }
    }
    None
}

/// Updates the one's complement checksum at `at`, if it was captured, for 16-bit words that
/// changed from `.0` to `.1` (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')). With `udp`, a zero
/// checksum (none sent) stays zero and a result of zero is sent as 0xffff (RFC 768).
fn update_checksum(frame: &mut [u8], at: usize, changes: &[(u16, u16)], udp: bool) {
    let Some(hc) = be16(frame, at) else { return };
    if udp && hc == 0 {
        return;
    }
    let mut sum = u32::from(!hc);
    for &(old, new) in changes {
        sum += u32::from(!old) + u32::from(new);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let mut hc = !(sum as u16);
    if udp && hc == 0 {
        hc = 0xffff;
    }
    frame[at..at + 2].copy_from_slice(&hc.to_be_bytes());
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}
