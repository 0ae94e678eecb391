//! Captures built in memory (packets from etherparse's PacketBuilder, files from
//! `common`), read back through every format variant the reader supports.

mod common;

use common::{pcap, read_all, PcapNg, Pkt};
use etherparse::{PacketBuilder, VlanId};
use tapir_capture::{
    decode, CaptureErrorKind, CaptureFormat, CaptureReader, Fragment, LinkType, MAX_CAPLEN,
};

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

fn tcp_v4_eth(payload: usize) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40000, 443, 1, 1000)
        .ack(5);
    let mut out = Vec::with_capacity(b.size(payload));
    b.write(&mut out, &vec![0xaa; payload]).unwrap();
    out
}

#[test]
fn pcap_in_both_byte_orders_and_resolutions() {
    let frame = tcp_v4_eth(100);
    let ts = [1_700_000_000_123_456_789i64, 1_700_000_001_000_000_001, 5];
    for nanos in [false, true] {
        for be in [false, true] {
            let pkts: Vec<Pkt> = ts.iter().map(|&t| Pkt::new(t, &frame)).collect();
            let bytes = pcap(1, nanos, be, &pkts);
            let reader = CaptureReader::new(&bytes[..]).unwrap();
            assert_eq!(reader.format(), CaptureFormat::Pcap);
            assert_eq!(reader.link_type(), Some(LinkType::ETHERNET));
            let (got, err) = read_all(&bytes);
            assert!(err.is_none(), "{err:?}");
            let want: Vec<i64> = ts
                .iter()
                .map(|&t| if nanos { t } else { t / 1000 * 1000 })
                .collect();
            assert_eq!(
                got.iter().map(|p| p.0).collect::<Vec<_>>(),
                want,
                "nanos={nanos} be={be}"
            );
            assert!(got
                .iter()
                .all(|p| p.1 == 1 && p.3 == frame && p.2 == frame.len() as u32));
        }
    }
}

#[test]
fn offset_points_at_the_next_record() {
    let frame = tcp_v4_eth(10);
    let bytes = pcap(1, false, false, &[Pkt::new(0, &frame), Pkt::new(1, &frame)]);
    let mut reader = CaptureReader::new(&bytes[..]).unwrap();
    assert_eq!(reader.offset(), 24);
    reader.next_packet().unwrap().unwrap();
    assert_eq!(reader.offset(), 24 + 16 + frame.len() as u64);
    reader.next_packet().unwrap().unwrap();
    assert_eq!(reader.offset(), bytes.len() as u64);
    assert!(reader.next_packet().is_none());
}

#[test]
fn pcapng_sections_interfaces_resolutions_and_block_kinds() {
    let eth = tcp_v4_eth(20);
    let raw = &eth[14..];
    let mut ng = PcapNg::new(true); // big-endian first section
    ng.interface(1, 0, None, None); // default: microseconds
    ng.interface(101, 0, Some(9), None); // nanoseconds, raw IP
    ng.interface(1, 0, Some(0x80 | 10), Some(100)); // 1/1024 s, 100 s offset
    ng.enhanced(0, 1_500_000, &eth, eth.len() as u32);
    ng.enhanced(1, 2_000_000_001, raw, 1500);
    ng.enhanced(2, 1024 + 512, &eth, eth.len() as u32);
    ng.block(0x0000_0bad, &[1, 2, 3, 4]); // unknown: skipped
                                          // A custom block larger than the reader's buffer, skipped without being buffered.
    ng.block(0x0000_0bad, &vec![7; 3 * MAX_CAPLEN as usize]);
    // Second section, little-endian: interface ids start again.
    ng.section(false);
    ng.interface(113, 64, Some(6), None);
    let sll = {
        let b = PacketBuilder::linux_sll(
            etherparse::LinuxSllPacketType::HOST,
            6,
            [2, 0, 0, 0, 0, 1, 0, 0],
        )
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(5000, 5001);
        let mut out = Vec::new();
        b.write(&mut out, &[0; 100]).unwrap();
        out
    };
    ng.enhanced(0, 3_000_000, &sll, sll.len() as u32);
    // Simple Packet Block: cut to the interface's snaplen, previous packet's timestamp.
    ng.simple(&sll[..64], sll.len() as u32);
    ng.obsolete(0, 4_000_000, &sll, sll.len() as u32);

    let bytes = ng.out;
    let (got, err) = read_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    let summary: Vec<(i64, u16, u32, usize, u32)> = got
        .iter()
        .map(|p| (p.0, p.1, p.2, p.3.len(), p.4))
        .collect();
    assert_eq!(
        summary,
        vec![
            (1_500_000_000, 1, eth.len() as u32, eth.len(), 0),
            (2_000_000_001, 101, 1500, raw.len(), 1),
            (101_500_000_000, 1, eth.len() as u32, eth.len(), 2),
            (3_000_000_000, 113, sll.len() as u32, sll.len(), 0),
            (3_000_000_000, 113, sll.len() as u32, 64, 0),
            (4_000_000_000, 113, sll.len() as u32, sll.len(), 0),
        ]
    );
    assert_eq!(got[0].3, eth);
    assert_eq!(got[3].3, sll);
    // Every packet decodes to the same addresses whatever its link type.
    for p in &got {
        let info = decode(LinkType(p.1), &p.3, p.2).unwrap();
        assert_eq!(info.src.to_string(), "10.0.0.1");
    }
    let reader = CaptureReader::new(&bytes[..]).unwrap();
    assert_eq!(reader.format(), CaptureFormat::PcapNg);
}

fn ng_error(build: impl FnOnce(&mut PcapNg)) -> (usize, tapir_capture::CaptureError) {
    let mut ng = PcapNg::new(false);
    build(&mut ng);
    let (got, err) = read_all(&ng.out);
    (got.len(), err.expect("an error"))
}

#[test]
fn pcapng_errors_name_the_block() {
    let eth = tcp_v4_eth(0);
    let (n, e) = ng_error(|ng| {
        ng.interface(1, 0, None, None);
        ng.enhanced(0, 0, &eth, 54);
        ng.enhanced(3, 0, &eth, 54);
    });
    assert_eq!(n, 1);
    assert!(matches!(
        e.kind,
        CaptureErrorKind::UnknownInterface { id: 3, defined: 1 }
    ));
    // SHB (44 bytes with its comment) + IDB (32) + first EPB (32 + 56 data + 8 options).
    assert_eq!(e.offset, 44 + 32 + 96);
    assert_eq!(
        e.to_string(),
        "at byte 172: packet refers to interface 3, but the section defines 1"
    );

    let (_, e) = ng_error(|ng| ng.simple(&eth, 54));
    assert!(matches!(
        e.kind,
        CaptureErrorKind::UnknownInterface { id: 0, defined: 0 }
    ));

    let (_, e) = ng_error(|ng| ng.interface(1, 0, Some(20), None));
    assert!(matches!(
        e.kind,
        CaptureErrorKind::BadTimeResolution { value: 20 }
    ));

    // An EPB whose caplen runs past its own block.
    let (_, e) = ng_error(|ng| {
        ng.interface(1, 0, None, None);
        let mut body = Vec::new();
        for v in [0u32, 0, 0, 1000, 1000] {
            body.extend_from_slice(&v.to_le_bytes());
        }
        body.extend_from_slice(&[0; 64]);
        ng.block(6, &body);
    });
    assert!(matches!(
        e.kind,
        CaptureErrorKind::CaplenExceedsBlock {
            caplen: 1000,
            room: 64
        }
    ));

    let (_, e) = ng_error(|ng| {
        ng.out.extend_from_slice(&6u32.to_le_bytes());
        ng.out.extend_from_slice(&30u32.to_le_bytes());
    });
    assert!(matches!(
        e.kind,
        CaptureErrorKind::BadBlockLength { len: 30, .. }
    ));
    assert_eq!(e.offset, 44);

    let (_, e) = ng_error(|ng| {
        ng.out.extend_from_slice(&6u32.to_le_bytes());
        ng.out.extend_from_slice(&0x7fff_fff0u32.to_le_bytes());
    });
    assert!(matches!(
        e.kind,
        CaptureErrorKind::BlockTooLarge {
            len: 0x7fff_fff0,
            ..
        }
    ));

    // A skipped block that claims more than the file holds.
    let (_, e) = ng_error(|ng| {
        ng.out.extend_from_slice(&5u32.to_le_bytes());
        ng.out.extend_from_slice(&1000u32.to_le_bytes());
        ng.out.extend_from_slice(&[0; 20]);
    });
    assert_eq!(
        e.to_string(),
        "at byte 44: truncated block: need 1000 bytes, have 28"
    );
}

#[test]
fn pcapng_header_errors() {
    let mut v2 = PcapNg::new(false).out;
    v2[12] = 2; // major version
    let e = CaptureReader::new(&v2[..]).err().unwrap();
    assert!(matches!(
        e.kind,
        CaptureErrorKind::UnsupportedVersion { major: 2, minor: 0 }
    ));

    let mut bom = PcapNg::new(false).out;
    bom[8] = 0;
    let e = CaptureReader::new(&bom[..]).err().unwrap();
    assert!(matches!(e.kind, CaptureErrorKind::BadByteOrderMagic { .. }));
    assert_eq!(e.offset, 0);
}

/// Builds the same TCP/IPv4 (or UDP/IPv6) packet under every link type and checks that the
/// decoded IP view is identical.
#[test]
fn every_link_encoding_gives_the_same_ip_info() {
    let payload = [0x55u8; 300];
    let mut raw4 = Vec::new();
    PacketBuilder::ipv4([192, 0, 2, 1], [198, 51, 100, 2], 61)
        .tcp(50000, 443, 7, 100)
        .syn()
        .write(&mut raw4, &payload)
        .unwrap();
    let mut raw6 = Vec::new();
    PacketBuilder::ipv6([0x20; 16], [0x30; 16], 17)
        .udp(4500, 4500)
        .write(&mut raw6, &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1])
        .unwrap();

    for (raw, is_v6) in [(&raw4, false), (&raw6, true)] {
        let expected = decode(LinkType::RAW, raw, raw.len() as u32).unwrap();
        let mut encodings: Vec<(&str, LinkType, Vec<u8>)> = Vec::new();
        let ethertype: [u8; 2] = if is_v6 { [0x86, 0xdd] } else { [0x08, 0x00] };

        let mut eth = [MAC_B, MAC_A].concat();
        eth.extend_from_slice(&ethertype);
        eth.extend_from_slice(raw);
        encodings.push(("ethernet", LinkType::ETHERNET, eth));
        for (name, vlan) in [("802.1Q", false), ("QinQ", true)] {
            let builder = PacketBuilder::ethernet2(MAC_A, MAC_B);
            let builder = if vlan {
                builder.double_vlan(VlanId::try_new(100).unwrap(), VlanId::try_new(200).unwrap())
            } else {
                builder.single_vlan(VlanId::try_new(100).unwrap())
            };
            let mut out = Vec::new();
            if is_v6 {
                builder
                    .ipv6([0x20; 16], [0x30; 16], 17)
                    .udp(4500, 4500)
                    .write(&mut out, &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1])
                    .unwrap();
            } else {
                builder
                    .ipv4([192, 0, 2, 1], [198, 51, 100, 2], 61)
                    .tcp(50000, 443, 7, 100)
                    .syn()
                    .write(&mut out, &payload)
                    .unwrap();
            }
            encodings.push((name, LinkType::ETHERNET, out));
        }
        // 0x9100, the pre-standard QinQ tag, stacked on an 802.1Q tag.
        let mut tagged = [MAC_B, MAC_A].concat();
        tagged.extend_from_slice(&[0x91, 0x00, 0, 5, 0x81, 0x00, 0, 6]);
        tagged.extend_from_slice(&ethertype);
        tagged.extend_from_slice(raw);
        encodings.push(("9100", LinkType::ETHERNET, tagged));

        let mut sll = Vec::new();
        let b = PacketBuilder::linux_sll(
            etherparse::LinuxSllPacketType::OUTGOING,
            6,
            [2, 0, 0, 0, 0, 1, 0, 0],
        );
        if is_v6 {
            b.ipv6([0x20; 16], [0x30; 16], 17)
                .udp(4500, 4500)
                .write(&mut sll, &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1])
                .unwrap();
        } else {
            b.ipv4([192, 0, 2, 1], [198, 51, 100, 2], 61)
                .tcp(50000, 443, 7, 100)
                .syn()
                .write(&mut sll, &payload)
                .unwrap();
        }
        encodings.push(("sll", LinkType::LINUX_SLL, sll));

        let mut sll2 = ethertype.to_vec();
        sll2.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
        sll2.extend_from_slice(raw);
        encodings.push(("sll2", LinkType::LINUX_SLL2, sll2));

        encodings.push(("raw 101", LinkType::RAW, raw.clone()));
        encodings.push(("raw 12", LinkType::RAW_OPENBSD, raw.clone()));
        encodings.push(("raw 14", LinkType::RAW_BSDOS, raw.clone()));
        let typed = if is_v6 {
            LinkType::IPV6
        } else {
            LinkType::IPV4
        };
        encodings.push(("ipv4/ipv6", typed, raw.clone()));

        let families: &[u32] = if is_v6 { &[24, 28, 30] } else { &[2] };
        for &family in families {
            for (link, be) in [
                (LinkType::NULL, false),
                (LinkType::NULL, true),
                (LinkType::LOOP, true),
                (LinkType::LOOP, false),
            ] {
                let mut f = if be {
                    family.to_be_bytes()
                } else {
                    family.to_le_bytes()
                }
                .to_vec();
                f.extend_from_slice(raw);
                encodings.push(("loopback", link, f));
            }
        }

        for (name, link, frame) in &encodings {
            let got =
                decode(*link, frame, frame.len() as u32).unwrap_or_else(|e| panic!("{name}: {e}"));
            // The payload starts as far into the frame as its link header is long.
            let link_len = (frame.len() - raw.len()) as u32;
            let mut want = expected;
            if want.payload_offset != 0 {
                want.payload_offset += link_len;
            }
            assert_eq!(got, want, "{name}");
            // Cut the frame right after the transport header: the sizes must not change.
            let header_end = frame.len() - raw.len() + if is_v6 { 48 } else { 40 };
            let cut = decode(*link, &frame[..header_end], frame.len() as u32).unwrap();
            assert_eq!(cut.ip_len, expected.ip_len, "{name} cut");
            assert_eq!(cut.payload_len, expected.payload_len, "{name} cut");
            assert_eq!(cut.dst_port, expected.dst_port, "{name} cut");
        }
        if is_v6 {
            assert_eq!(expected.ip_len, 40 + 8 + 8);
            assert_eq!(expected.spi, Some(0xcafe_babe));
            assert_eq!(expected.proto, 17);
            assert_eq!(expected.ttl, 17);
        } else {
            assert_eq!(expected.ip_len, 20 + 20 + 300);
            assert_eq!(expected.tcp_flags, 0x02);
            assert_eq!((expected.src_port, expected.dst_port), (50000, 443));
            assert_eq!(expected.payload_len, 300);
            assert_eq!(expected.fragment, Fragment::None);
        }
    }
}

#[test]
fn kuznetsov_pcap_has_longer_record_headers() {
    let frame = tcp_v4_eth(10);
    let mut bytes = Vec::new();
    for v in [0xa1b2_cd34u32, 0x0004_0002, 0, 0, 65535, 1] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes.truncate(24);
    for (secs, usecs) in [(10u32, 5u32), (11, 6)] {
        for v in [secs, usecs, frame.len() as u32, frame.len() as u32] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.extend_from_slice(&[0; 8]); // ifindex, protocol, packet type, padding
        bytes.extend_from_slice(&frame);
    }
    let (got, err) = read_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].0, 11_000_006_000);
    assert_eq!(got[1].3, frame);
}

#[test]
fn caplen_limit_is_inclusive() {
    let big = vec![0u8; MAX_CAPLEN as usize];
    let bytes = pcap(1, false, false, &[Pkt::new(0, &big)]);
    let (got, err) = read_all(&bytes);
    assert!(err.is_none());
    assert_eq!(got[0].3.len(), MAX_CAPLEN as usize);

    let bigger = vec![0u8; MAX_CAPLEN as usize + 1];
    let bytes = pcap(1, false, false, &[Pkt::new(0, &big), Pkt::new(0, &bigger)]);
    let (got, err) = read_all(&bytes);
    assert_eq!(got.len(), 1);
    let err = err.unwrap();
    assert!(matches!(
        err.kind,
        CaptureErrorKind::CaplenTooLarge {
            caplen: 262_145,
            ..
        }
    ));
    assert_eq!(err.offset, 24 + 16 + MAX_CAPLEN as u64);
}
