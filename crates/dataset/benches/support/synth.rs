//! A synthetic capture for benchmarks: shared by the criterion bench and the
//! `synth_capture` example (which the tshark comparison script uses).

use etherparse::PacketBuilder;
use std::io::Write;
use tapir_capture::{pcap_file_header, pcap_record_header, LinkType};

/// A pcap (snaplen 96, as tcpdump -s 96 writes) of `count` packets between a client and a few
/// servers: downloads of MTU-sized packets with ACKs up, small two-way exchanges, varied gaps.
pub fn write_capture(path: &std::path::Path, count: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(&pcap_file_header(LinkType::ETHERNET, 96))
        .unwrap();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut t_us = 1_700_000_000_000_000u64;
    let mut frame = Vec::with_capacity(1600);
    for i in 0..count {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let server = [10, 0, 1, (rng % 8) as u8 + 1];
        let port = 40000 + (rng >> 8) as u16 % 64;
        let down = i % 3 != 0;
        let payload = if down {
            [1448usize, 1448, 900, 64][(rng >> 20) as usize % 4]
        } else {
            [0usize, 0, 32, 300][(rng >> 20) as usize % 4]
        };
        frame.clear();
        let b = if down {
            PacketBuilder::ethernet2([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1]).ipv4(
                server,
                [10, 0, 0, 1],
                64,
            )
        } else {
            PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]).ipv4(
                [10, 0, 0, 1],
                server,
                64,
            )
        };
        let (sp, dp) = if down { (443, port) } else { (port, 443) };
        if i % 5 == 4 {
            b.udp(sp, dp).write(&mut frame, &vec![0; payload]).unwrap();
        } else {
            b.tcp(sp, dp, i as u32, 1000)
                .ack(1)
                .write(&mut frame, &vec![0; payload])
                .unwrap();
        }
        t_us += (rng >> 40) % 2000;
        let caplen = frame.len().min(96);
        f.write_all(&pcap_record_header(t_us, caplen as u32, frame.len() as u32))
            .unwrap();
        f.write_all(&frame[..caplen]).unwrap();
    }
    f.flush().unwrap();
}
