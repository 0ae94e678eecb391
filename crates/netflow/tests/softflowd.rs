//! Export packets of a real exporter: softflowd 1.1.0 (Debian) read
//! `crates/capture/tests/data/lo-http.pcap` (37 IP packets, 30,158 IP bytes, 3 TCP connections)
//! and exported it to 127.0.0.1:20555 while tcpdump recorded the export packets
//! (`scripts/netflow-peer.sh -v 5|9|10 [-b] -w …`). Decoding them must give back the capture's
//! totals: softflowd counts every packet of the capture in some record.

use std::path::Path;
use tapir_capture::CaptureReader;
use tapir_flow::{FlowRecord, RecordSource};
use tapir_netflow::{is_export, udp_payload, Decoder};

fn decode(name: &str) -> Vec<FlowRecord> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let mut r = CaptureReader::open(&path).unwrap();
    let mut d = Decoder::new(64);
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        let ip = p.decode().unwrap();
        assert!(is_export(&ip, &[20555]));
        let payload = udp_payload(p.data, &ip).expect("whole export packet captured");
        out.extend(d.decode(ip.src, payload).unwrap());
    }
    assert_eq!(d.stats().bad_packets, 0);
    out
}

fn check(name: &str, kind: &str) {
    let recs = decode(name);
    // Three connections, one record per direction.
    assert_eq!(recs.len(), 6, "{name}");
    assert_eq!(recs.iter().map(|r| r.packets()).sum::<u64>(), 37, "{name}");
    assert_eq!(
        recs.iter().map(|r| r.bytes()).sum::<u64>(),
        30_158,
        "{name}"
    );
    assert!(recs.iter().all(|r| r.source.name() == kind && r.proto == 6));
    assert!(recs
        .iter()
        .all(|r| r.src_port == 18080 || r.dst_port == 18080));
    // FIN, SYN, ACK, PSH were all seen on every connection.
    assert!(recs.iter().all(|r| r.tcp_flags & 0x1b == 0x1b), "{name}");
    let exporter = recs[0].source.exporter();
    assert_eq!(exporter, Some("127.0.0.1".parse().unwrap()));
    assert!(recs.iter().all(|r| r.end >= r.start));
}

#[test]
fn netflow_v5_from_softflowd() {
    check("softflowd-v5-lo-http.pcap", "netflow_v5");
}

#[test]
fn netflow_v9_from_softflowd() {
    check("softflowd-v9-lo-http.pcap", "netflow_v9");
    let recs = decode("softflowd-v9-lo-http.pcap");
    assert!(matches!(
        recs[0].source,
        RecordSource::NetflowV9 { domain: 0, .. }
    ));
    // The v9 times come from uptime: they fall on the capture's day (2026-11-22), not 49.7 days
    // later as an unwrapped uptime difference would put them.
    let day = recs[0].start.0.div_euclid(86_400_000_000_000);
    assert_eq!(day, 1_795_314_586 / 86_400);
}

#[test]
fn ipfix_from_softflowd() {
    check("softflowd-v10-lo-http.pcap", "ipfix");
    check("softflowd-v10-biflow-lo-http.pcap", "ipfix");
}
