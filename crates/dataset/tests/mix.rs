//! The seeded mix of `bench/compare` (benches/support/mix.rs): captures that reuse the same
//! addresses come out merged by time, each (capture, round) with hosts of its own, checksums
//! still valid, and the same bytes for the same seed.

#[path = "../benches/support/mix.rs"]
mod mix;

use etherparse::{PacketBuilder, VlanId};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use tapir_capture::{pcap_file_header, pcap_record_header, CaptureReader, LinkType};

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

/// A classic microsecond pcap of Ethernet frames, one every `gap_us` from `start_us`.
fn pcap(frames: &[Vec<u8>], start_us: u64, gap_us: u64) -> Vec<u8> {
    let mut out = pcap_file_header(LinkType::ETHERNET, 65_535).to_vec();
    for (i, f) in frames.iter().enumerate() {
        let t = start_us + i as u64 * gap_us;
        out.extend_from_slice(&pcap_record_header(t, f.len() as u32, f.len() as u32));
        out.extend_from_slice(f);
    }
    out
}

/// One's complement sum of 16-bit words (an odd last byte padded with zero).
fn sum(mut acc: u32, bytes: &[u8]) -> u32 {
    for c in bytes.chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc
}

/// Checks the IPv4 header checksum and the TCP or UDP checksum of a whole Ethernet frame.
fn assert_checksums(frame: &[u8]) {
    let mut ip = 14;
    while u16::from_be_bytes([frame[ip - 2], frame[ip - 1]]) == 0x8100 {
        ip += 4;
    }
    let (pseudo, proto, l4) = if frame[ip] >> 4 == 4 {
        let ihl = usize::from(frame[ip] & 15) * 4;
        assert_eq!(sum(0, &frame[ip..ip + ihl]), 0xffff, "IPv4 header checksum");
        (sum(0, &frame[ip + 12..ip + 20]), frame[ip + 9], ip + ihl)
    } else {
        (sum(0, &frame[ip + 8..ip + 40]), frame[ip + 6], ip + 40)
    };
    let len = (frame.len() - l4) as u32;
    let total = sum(pseudo + u32::from(proto) + len, &frame[l4..]);
    assert_eq!(total, 0xffff, "checksum of protocol {proto}");
}

struct Mixed {
    summary: mix::Summary,
    bytes: Vec<u8>,
    /// Per packet: time, address pair, protocol.
    packets: Vec<(i64, (IpAddr, IpAddr), u8)>,
}

fn run(dir: &Path, out: &Path, packets: u64, seed: u64) -> Mixed {
    let summary = mix::mix(dir, out, packets, seed).unwrap();
    let mut reader = CaptureReader::open(out).unwrap();
    let mut got = Vec::new();
    while let Some(p) = reader.next_packet() {
        let p = p.unwrap();
        assert_eq!(p.data.len() as u32, p.orig_len);
        assert_checksums(p.data);
        let ip = p.decode().unwrap();
        got.push((p.ts.as_nanos(), (ip.src, ip.dst), ip.proto));
    }
    Mixed {
        summary,
        bytes: std::fs::read(out).unwrap(),
        packets: got,
    }
}

#[test]
fn captures_on_the_same_addresses_mix_into_hosts_of_their_own() {
    let dir: PathBuf = std::env::temp_dir().join(format!("tapir-ds-mix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("in/b")).unwrap();
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    // TCP both ways, plain.
    let tcp: Vec<Vec<u8>> = (0..5u32)
        .map(|i| {
            let mut f = Vec::new();
            let (src, dst) = if i % 2 == 0 { (a, b) } else { (b, a) };
            PacketBuilder::ethernet2(MAC_A, MAC_B)
                .ipv4(src, dst, 64)
                .tcp(40000, 443, i, 1000)
                .write(&mut f, &[i as u8; 37])
                .unwrap();
            f
        })
        .collect();
    // UDP on the same addresses, behind a VLAN tag, and zstd-compressed.
    let udp: Vec<Vec<u8>> = (0..4u8)
        .map(|i| {
            let mut f = Vec::new();
            PacketBuilder::ethernet2(MAC_A, MAC_B)
                .single_vlan(VlanId::try_new(7).unwrap())
                .ipv4(a, b, 64)
                .udp(5060, 5060)
                .write(&mut f, &[i; 100])
                .unwrap();
            f
        })
        .collect();
    // TCP over IPv6.
    let (a6, b6) = (
        [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0xfd; 16],
    );
    let tcp6: Vec<Vec<u8>> = (0..3u32)
        .map(|i| {
            let mut f = Vec::new();
            PacketBuilder::ethernet2(MAC_A, MAC_B)
                .ipv6(a6, b6, 64)
                .tcp(40001, 443, i, 1000)
                .write(&mut f, &[1; 20])
                .unwrap();
            f
        })
        .collect();
    std::fs::write(
        dir.join("in/a.pcap"),
        pcap(&tcp, 1_700_000_000_000_000, 1000),
    )
    .unwrap();
    std::fs::write(
        dir.join("in/e.pcap"),
        pcap(&tcp6, 1_700_000_100_000_000, 5000),
    )
    .unwrap();
    let udp = pcap(&udp, 1_700_000_500_000_000, 20_000);
    let zst =
        ruzstd::encoding::compress_to_vec(&udp[..], ruzstd::encoding::CompressionLevel::Fastest);
    std::fs::write(dir.join("in/b/c.pcap.zst"), zst).unwrap();
    // Not captures: skipped.
    std::fs::write(dir.join("in/b/d.trace"), "0.0 100\n0.5 -1400\n").unwrap();
    std::fs::write(dir.join("in/notes.txt"), "").unwrap();

    // 12 packets in all: 30 takes two whole rounds and part of a third.
    let m = run(&dir.join("in"), &dir.join("mix.pcap"), 30, 3);
    let s = &m.summary;
    assert_eq!(s.packets, 30);
    assert_eq!(s.bytes, m.bytes.len() as u64);
    assert_eq!((s.captures, s.skipped, s.rounds), (3, 2, 3), "{s}");
    assert!((7..=9).contains(&s.streams), "{s}");
    assert_eq!(s.snaplen, 65_535);
    assert_eq!(s.reordered, 0);
    assert_eq!(m.packets.len(), 30);
    let times: Vec<i64> = m.packets.iter().map(|p| p.0).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(s.span_ns, times[29] - times[0]);

    // Each (capture, round) talks between two hosts of its own, in one protocol, with the
    // first two octets (IPv6: the first six bytes) kept.
    let mut hosts: BTreeMap<(IpAddr, IpAddr), BTreeSet<u8>> = BTreeMap::new();
    for &(_, (src, dst), proto) in &m.packets {
        let pair = if src < dst { (src, dst) } else { (dst, src) };
        hosts.entry(pair).or_default().insert(proto);
        for ip in [src, dst] {
            match ip {
                IpAddr::V4(v4) => assert_eq!(v4.octets()[..2], [10, 0]),
                IpAddr::V6(v6) => assert_eq!(v6.octets()[0], 0xfd),
            }
        }
    }
    assert_eq!(hosts.len(), s.streams, "{hosts:?}");
    assert!(hosts.values().all(|p| p.len() == 1));

    // The same folder, count and seed give the same bytes; another seed, other ones.
    assert_eq!(
        run(&dir.join("in"), &dir.join("again.pcap"), 30, 3).bytes,
        m.bytes
    );
    assert_ne!(
        run(&dir.join("in"), &dir.join("other.pcap"), 30, 4).bytes,
        m.bytes
    );
    let _ = std::fs::remove_dir_all(&dir);
}
