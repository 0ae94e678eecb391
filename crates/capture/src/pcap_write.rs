//! Writing packets as a classic pcap of raw IPv4 headers: what an observer sees of a trace
//! (sizes, times, directions), in a file tshark and every capture tool reads.

use crate::{Direction, LinkType, TracePacket};
use std::io::{self, Write};

/// The 24-byte header of a classic pcap file as libpcap writes it: little-endian, version 2.4,
/// microsecond timestamps, `link` and `snaplen` as given. With [`pcap_record_header`], for
/// writing frames captured elsewhere (tests, benchmarks, a mix of captures).
///
/// ```
/// use tapir_capture::{pcap_file_header, pcap_record_header, CaptureReader, LinkType};
/// let frame = [0x45u8, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
/// let mut file = pcap_file_header(LinkType::RAW, 65_535).to_vec();
/// file.extend(pcap_record_header(1_700_000_000_000_042, 20, 20));
/// file.extend(frame);
/// let mut r = CaptureReader::new(&file[..]).unwrap();
/// let p = r.next_packet().unwrap().unwrap();
/// assert_eq!((p.ts.as_nanos(), p.data.len()), (1_700_000_000_000_042_000, 20));
/// ```
pub fn pcap_file_header(link: LinkType, snaplen: u32) -> [u8; 24] {
    let mut h = [0u8; 24];
    let fields = [
        0xa1b2_c3d4u32,
        0x0004_0002,
        0,
        0,
        snaplen,
        u32::from(link.0),
    ];
    for (out, v) in h.chunks_exact_mut(4).zip(fields) {
        out.copy_from_slice(&v.to_le_bytes());
    }
    h
}

/// The 16-byte header of a record of a [`pcap_file_header`] file: the time in microseconds
/// since the epoch, the bytes captured and the frame's length on the wire.
pub fn pcap_record_header(t_us: u64, caplen: u32, orig_len: u32) -> [u8; 16] {
    let mut h = [0u8; 16];
    let fields = [
        (t_us / 1_000_000) as u32,
        (t_us % 1_000_000) as u32,
        caplen,
        orig_len,
    ];
    for (out, v) in h.chunks_exact_mut(4).zip(fields) {
        out.copy_from_slice(&v.to_le_bytes());
    }
    h
}

/// LINKTYPE_RAW: each record starts with the IP header.
const LINKTYPE_RAW: u32 = 101;

/// Writes [`TracePacket`]s as a nanosecond pcap of raw IPv4 frames. Each record holds only a
/// 20-byte IPv4 header whose total length is the packet's size (the original length in the
/// record says the same), with a valid checksum; the client is `client`, the peer `server`,
/// and the protocol `proto` (17, UDP: what a tunnel carries). Packets shorter than 20 bytes are
/// written as 20.
///
/// ```
/// use tapir_capture::{Direction, PcapWriter, Timestamp, TracePacket};
/// let mut w = PcapWriter::new(Vec::new(), [10, 0, 0, 1], [10, 0, 0, 2], 17).unwrap();
/// w.write(&TracePacket::new(Timestamp::from_nanos(5), 1500, Direction::Down)).unwrap();
/// let bytes = w.into_inner();
/// assert_eq!(bytes.len(), 24 + 16 + 20);
/// ```
pub struct PcapWriter<W: Write> {
    inner: W,
    client: [u8; 4],
    server: [u8; 4],
    proto: u8,
    id: u16,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header.
    pub fn new(mut inner: W, client: [u8; 4], server: [u8; 4], proto: u8) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xA1B2_3C4Du32.to_le_bytes()); // nanosecond magic
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&65_535u32.to_le_bytes());
        h.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
        inner.write_all(&h)?;
        Ok(PcapWriter {
            inner,
            client,
            server,
            proto,
            id: 0,
        })
    }

    /// Writes one packet.
    pub fn write(&mut self, p: &TracePacket) -> io::Result<()> {
        let ns = p.ts.as_nanos().max(0);
        let size = p.size.clamp(20, 65_535);
        let mut rec = [0u8; 16 + 20];
        rec[0..4].copy_from_slice(&((ns / 1_000_000_000) as u32).to_le_bytes());
        rec[4..8].copy_from_slice(&((ns % 1_000_000_000) as u32).to_le_bytes());
        rec[8..12].copy_from_slice(&20u32.to_le_bytes());
        rec[12..16].copy_from_slice(&size.to_le_bytes());
        let ip = &mut rec[16..];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&(size as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&self.id.to_be_bytes());
        self.id = self.id.wrapping_add(1);
        ip[8] = 64;
        ip[9] = self.proto;
        let (src, dst) = match p.dir {
            Direction::Up => (self.client, self.server),
            Direction::Down => (self.server, self.client),
        };
        ip[12..16].copy_from_slice(&src);
        ip[16..20].copy_from_slice(&dst);
        let mut sum: u32 = ip
            .chunks_exact(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .sum();
        while sum > 0xFFFF {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        self.inner.write_all(&rec)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CaptureReader, Timestamp};

    #[test]
    fn written_pcap_reads_back_with_sizes_times_and_directions() {
        let pkts = [
            TracePacket::new(Timestamp::from_nanos(1_000_000_123), 60, Direction::Up),
            TracePacket::new(Timestamp::from_nanos(2_500_000_000), 1500, Direction::Down),
        ];
        let mut w = PcapWriter::new(Vec::new(), [10, 0, 0, 1], [10, 0, 0, 2], 17).unwrap();
        for p in &pkts {
            w.write(p).unwrap();
        }
        let bytes = w.into_inner();
        let mut r = CaptureReader::new(&bytes[..]).unwrap();
        let mut n = 0;
        while let Some(raw) = r.next_packet() {
            let raw = raw.unwrap();
            let ip = crate::decode(raw.link_type, raw.data, raw.orig_len).unwrap();
            assert_eq!(raw.ts, pkts[n].ts);
            assert_eq!(ip.ip_len, pkts[n].size);
            n += 1;
        }
        assert_eq!(n, 2);
    }
}
