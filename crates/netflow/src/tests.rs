//! Decoding hand-built export packets with known contents.

use super::*;
use proptest::prelude::*;
use std::net::Ipv6Addr;

fn exporter() -> IpAddr {
    "192.0.2.9".parse().unwrap()
}

/// A v9 header (20 bytes) followed by `sets`.
fn v9(uptime_ms: u32, secs: u32, source_id: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend(9u16.to_be_bytes());
    p.extend((sets.len() as u16).to_be_bytes());
    p.extend(uptime_ms.to_be_bytes());
    p.extend(secs.to_be_bytes());
    p.extend(1u32.to_be_bytes());
    p.extend(source_id.to_be_bytes());
    for s in sets {
        p.extend(s);
    }
    p
}

fn ipfix(secs: u32, domain: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let body: usize = sets.iter().map(|s| s.len()).sum();
    let mut p = Vec::new();
    p.extend(10u16.to_be_bytes());
    p.extend(((16 + body) as u16).to_be_bytes());
    p.extend(secs.to_be_bytes());
    p.extend(1u32.to_be_bytes());
    p.extend(domain.to_be_bytes());
    for s in sets {
        p.extend(s);
    }
    p
}

fn set(id: u16, body: &[u8]) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend(id.to_be_bytes());
    s.extend(((body.len() + 4) as u16).to_be_bytes());
    s.extend(body);
    s
}

/// Template `id` with (field id, length) pairs; ids ≥ 0x8000 take an enterprise number next.
fn tmpl(id: u16, fields: &[(u16, u16, Option<u32>)]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(id.to_be_bytes());
    b.extend((fields.len() as u16).to_be_bytes());
    for (f, l, pen) in fields {
        b.extend(f.to_be_bytes());
        b.extend(l.to_be_bytes());
        if let Some(p) = pen {
            b.extend(p.to_be_bytes());
        }
    }
    b
}

const V9_FIELDS: [(u16, u16, Option<u32>); 10] = [
    (8, 4, None),  // src v4
    (12, 4, None), // dst v4
    (7, 2, None),  // src port
    (11, 2, None), // dst port
    (4, 1, None),  // proto
    (6, 1, None),  // tcp flags
    (2, 4, None),  // packets
    (1, 4, None),  // octets
    (22, 4, None), // first switched
    (21, 4, None), // last switched
];

fn v9_record(src: [u8; 4], dst: [u8; 4], pk: u32, oc: u32, first: u32, last: u32) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend(src);
    r.extend(dst);
    r.extend(40000u16.to_be_bytes());
    r.extend(443u16.to_be_bytes());
    r.push(6);
    r.push(0x1b);
    r.extend(pk.to_be_bytes());
    r.extend(oc.to_be_bytes());
    r.extend(first.to_be_bytes());
    r.extend(last.to_be_bytes());
    r
}

#[test]
fn v9_template_then_data_with_padding() {
    let mut d = Decoder::new(16);
    // Data before its template: counted and skipped.
    let rec = v9_record([10, 0, 0, 1], [10, 0, 0, 2], 7, 700, 9_000, 9_500);
    let mut body = rec.clone();
    body.extend(v9_record([10, 0, 0, 3], [10, 0, 0, 4], 1, 40, 9_100, 9_100));
    body.extend([0, 0]); // padding to 4 bytes
    let early = v9(10_000, 1_700_000_000, 3, &[set(256, &body)]);
    assert!(d.decode(exporter(), &early).unwrap().is_empty());
    assert_eq!(d.stats().unknown_template_sets, 1);
    let p = v9(
        10_000,
        1_700_000_000,
        3,
        &[set(0, &tmpl(256, &V9_FIELDS)), set(256, &body)],
    );
    let recs = d.decode(exporter(), &p).unwrap();
    assert_eq!(recs.len(), 2);
    let r = &recs[0];
    assert_eq!(r.src, "10.0.0.1".parse::<IpAddr>().unwrap());
    assert_eq!((r.packets_fwd, r.bytes_fwd, r.packets_rev), (7, 700, 0));
    assert_eq!(r.tcp_flags, 0x1b);
    // Boot = 1_700_000_000 s - 10 s; first = boot + 9 s.
    assert_eq!(r.start, Timestamp(1_699_999_999 * 1_000_000_000));
    assert_eq!(r.end.nanos_since(r.start), 500_000_000);
    assert_eq!(r.tunnel, Some(tapir_flow::TunnelKind::Tls));
    assert_eq!(
        r.source,
        RecordSource::NetflowV9 {
            exporter: exporter(),
            domain: 3
        }
    );
    // The template belongs to source id 3: another source id cannot use it.
    let other = v9(10_000, 1_700_000_000, 4, &[set(256, &body)]);
    assert!(d.decode(exporter(), &other).unwrap().is_empty());
}

#[test]
fn ipfix_v6_biflow_variable_length_and_millis() {
    let fields = [
        (27, 16, None),                   // src v6
        (28, 16, None),                   // dst v6
        (7, 2, None),                     // src port
        (11, 2, None),                    // dst port
        (4, 1, None),                     // proto
        (152, 8, None),                   // start ms
        (153, 8, None),                   // end ms
        (2, 8, None),                     // packets
        (1, 8, None),                     // octets
        (0x8002, 4, Some(REVERSE_PEN_T)), // reverse packets (RFC 5103)
        (0x8001, 4, Some(REVERSE_PEN_T)), // reverse octets
        (0x8000 | 99, 65535, Some(9)),    // an enterprise field of variable length
    ];
    let mut rec = Vec::new();
    rec.extend(Ipv6Addr::LOCALHOST.octets());
    rec.extend("2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    rec.extend(5555u16.to_be_bytes());
    rec.extend(51820u16.to_be_bytes());
    rec.push(17);
    rec.extend(1_700_000_000_123u64.to_be_bytes());
    rec.extend(1_700_000_001_456u64.to_be_bytes());
    rec.extend(12u64.to_be_bytes());
    rec.extend(1200u64.to_be_bytes());
    rec.extend(10u32.to_be_bytes());
    rec.extend(9000u32.to_be_bytes());
    rec.extend([3, b'a', b'b', b'c']);
    let p = ipfix(
        1_700_000_002,
        42,
        &[set(2, &tmpl(300, &fields)), set(300, &rec)],
    );
    let mut d = Decoder::new(16);
    let recs = d.decode(exporter(), &p).unwrap();
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.dst, "2001:db8::1".parse::<IpAddr>().unwrap());
    assert_eq!((r.packets_fwd, r.bytes_fwd), (12, 1200));
    assert_eq!((r.packets_rev, r.bytes_rev), (10, 9000));
    assert_eq!(r.start, Timestamp(1_700_000_000_123_000_000));
    assert_eq!(r.end, Timestamp(1_700_000_001_456_000_000));
    assert_eq!(r.tunnel, Some(tapir_flow::TunnelKind::WireGuard));
    // Withdrawal (field count 0) forgets the template.
    let w = ipfix(1_700_000_003, 42, &[set(2, &tmpl(300, &[]))]);
    d.decode(exporter(), &w).unwrap();
    assert_eq!(d.templates(), 0);
}

const REVERSE_PEN_T: u32 = 29305;

#[test]
fn template_cache_is_bounded() {
    let mut d = Decoder::new(3);
    for id in 256..266u16 {
        let p = v9(0, 0, 0, &[set(0, &tmpl(id, &V9_FIELDS))]);
        d.decode(exporter(), &p).unwrap();
        assert!(d.templates() <= 3);
    }
    assert_eq!(d.stats().templates, 10);
    assert_eq!(d.stats().templates_dropped, 7);
}

#[test]
fn one_exporter_cannot_push_out_the_templates_of_another() {
    let mut d = Decoder::with_limits(100, 4);
    let other: std::net::IpAddr = "192.0.2.99".parse().unwrap();
    d.decode(other, &v9(0, 0, 0, &[set(0, &tmpl(300, &V9_FIELDS))]))
        .unwrap();
    // A flood of templates from one exporter: it keeps its 4 newest.
    for id in 256..290u16 {
        let p = v9(0, 0, 0, &[set(0, &tmpl(id, &V9_FIELDS))]);
        d.decode(exporter(), &p).unwrap();
    }
    assert_eq!(d.templates(), 5);
    assert_eq!(d.stats().templates_dropped, 30);
    // The other exporter's template still decodes its data.
    let rec = v9_record([10, 0, 0, 1], [10, 0, 0, 2], 3, 180, 0, 1);
    let data = v9(0, 0, 0, &[set(300, &rec)]);
    let recs = d.decode(other, &data).unwrap();
    assert_eq!(recs.len(), 1);
}

#[test]
fn malformed_packets_are_errors_not_panics() {
    let mut d = Decoder::new(8);
    assert!(matches!(
        d.decode(exporter(), &[0, 7, 0, 0]),
        Err(NetflowError::UnsupportedVersion(7))
    ));
    assert!(matches!(
        d.decode(exporter(), &[0, 5, 0, 1]),
        Err(NetflowError::Truncated { .. })
    ));
    // A set claiming 2 bytes (shorter than its own header).
    let mut bad = v9(0, 0, 0, &[]);
    bad.extend([1, 0, 0, 2]);
    assert!(matches!(
        d.decode(exporter(), &bad),
        Err(NetflowError::BadLength { .. })
    ));
    // A template whose records would be zero bytes long.
    let zero = v9(0, 0, 0, &[set(0, &tmpl(256, &[(8, 0, None)]))]);
    assert!(d.decode(exporter(), &zero).is_err());
    assert_eq!(d.stats().bad_packets, 4);
}

#[test]
fn udp_payload_is_found_in_a_frame() {
    // Ethernet + IPv4 + UDP 5000 > 2055 carrying 4 bytes.
    let mut f = vec![0u8; 14];
    f[12] = 0x08;
    let mut ip = vec![
        0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    ip.extend(5000u16.to_be_bytes());
    ip.extend(2055u16.to_be_bytes());
    ip.extend(12u16.to_be_bytes());
    ip.extend([0, 0, 0, 5, 0, 0]);
    f.extend(&ip);
    f.extend([0u8; 16]); // Ethernet padding
    let info =
        tapir_capture::decode(tapir_capture::LinkType::ETHERNET, &f, f.len() as u32).unwrap();
    assert!(is_export(&info, &DEFAULT_PORTS));
    assert_eq!(info.payload_offset, 42);
    assert_eq!(udp_payload(&f, &info), Some(&[0u8, 5, 0, 0][..]));
    // A capture cut inside the payload gives none.
    assert_eq!(udp_payload(&f[..44], &info), None);
}

proptest! {
    #[test]
    fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), v in 0usize..3) {
        let mut d = Decoder::new(4);
        let mut p = data;
        if p.len() >= 2 {
            p[0] = 0;
            p[1] = [5u8, 9, 10][v];
        }
        let _ = d.decode(exporter(), &p);
        // A template then random data for it.
        let t = v9(0, 0, 0, &[set(0, &tmpl(256, &V9_FIELDS))]);
        d.decode(exporter(), &t).unwrap();
        let mut q = v9(0, 0, 0, &[]);
        q.extend(&p);
        let _ = d.decode(exporter(), &q);
    }
}
