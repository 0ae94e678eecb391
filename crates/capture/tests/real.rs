//! Captures recorded with tcpdump and dumpcap on loopback (see tests/data/README.md); the
//! expected counts were read off with tshark and capinfos.

use std::path::PathBuf;
use tapir_capture::{
    sniff, CaptureFormat, CaptureReader, FileKind, IpInfo, LinkType, Timestamp, TraceReader,
};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

struct Summary {
    format: CaptureFormat,
    link_types: Vec<LinkType>,
    first_ts: Timestamp,
    infos: Vec<IpInfo>,
    max_caplen: usize,
}

fn summarise(name: &str) -> Summary {
    let mut reader = CaptureReader::open(&data(name)).unwrap();
    let format = reader.format();
    let mut s = Summary {
        format,
        link_types: Vec::new(),
        first_ts: Timestamp::ZERO,
        infos: Vec::new(),
        max_caplen: 0,
    };
    while let Some(p) = reader.next_packet() {
        let p = p.unwrap();
        if s.infos.is_empty() {
            s.first_ts = p.ts;
        }
        if !s.link_types.contains(&p.link_type) {
            s.link_types.push(p.link_type);
        }
        s.max_caplen = s.max_caplen.max(p.data.len());
        s.infos.push(p.decode().unwrap());
    }
    s
}

#[test]
fn tcpdump_nanosecond_pcap() {
    let s = summarise("lo-http.pcap");
    assert_eq!(s.format, CaptureFormat::Pcap);
    assert_eq!(s.link_types, vec![LinkType::ETHERNET]);
    assert_eq!(s.infos.len(), 37);
    assert_eq!(
        s.infos.iter().map(|i| u64::from(i.ip_len)).sum::<u64>(),
        30158
    );
    assert_eq!(
        s.infos.iter().filter(|i| i.tcp_flags & 0x02 != 0).count(),
        6
    );
    // tshark -T fields -e frame.time_epoch: 1795314586.533979440
    assert_eq!(s.first_ts, Timestamp(1_795_314_586_533_979_440));
    assert!(s
        .infos
        .iter()
        .all(|i| i.src.to_string() == "127.0.0.1" && (i.src_port == 18080 || i.dst_port == 18080)));
}

#[test]
fn dumpcap_pcapng_matches_the_pcap_of_the_same_session() {
    let ng = summarise("lo-http.pcapng");
    assert_eq!(ng.format, CaptureFormat::PcapNg);
    assert_eq!(ng.link_types, vec![LinkType::ETHERNET]);
    assert_eq!(ng.infos.len(), 37);
    assert_eq!(ng.first_ts, Timestamp(1_795_314_586_533_980_645));
    // Same packets, seen by two capturing processes: identical IP views.
    let pcap = summarise("lo-http.pcap");
    assert_eq!(ng.infos, pcap.infos);
}

#[test]
fn sll2_ipv6_with_snaplen_96_keeps_true_sizes() {
    let s = summarise("any-v6-snap96.pcap");
    assert_eq!(s.link_types, vec![LinkType::LINUX_SLL2]);
    assert_eq!(s.infos.len(), 13);
    assert!(s.max_caplen <= 96);
    // Sum of (ipv6.plen + 40) from tshark: far more than 13 * 96 bytes were kept.
    assert_eq!(
        s.infos.iter().map(|i| u64::from(i.ip_len)).sum::<u64>(),
        28242
    );
    assert_eq!(s.infos.iter().map(|i| i.ip_len).max(), Some(27091));
    assert!(s.infos.iter().all(|i| i.src.is_ipv6() && i.proto == 6));
    assert!(s
        .infos
        .iter()
        .all(|i| i.src_port == 18081 || i.dst_port == 18081));
}

#[test]
fn sniff_tells_the_files_apart() {
    assert_eq!(sniff(&data("lo-http.pcap")).unwrap(), FileKind::Pcap);
    assert_eq!(sniff(&data("lo-http.pcapng")).unwrap(), FileKind::PcapNg);
    assert_eq!(sniff(&data("sample.trace")).unwrap(), FileKind::Trace);
    assert!(sniff(&data("README.md")).is_err());
    assert!(sniff(&data("no-such-file")).is_err());
}

#[test]
fn sample_trace_reports_its_bad_line_and_goes_on() {
    let mut reader = TraceReader::open(&data("sample.trace")).unwrap();
    let mut sizes = Vec::new();
    let mut errors = Vec::new();
    while let Some(p) = reader.next_packet() {
        match p {
            Ok(p) => sizes.push(p.signed_size()),
            Err(e) => errors.push(e.to_string()),
        }
    }
    assert_eq!(sizes, vec![60, -60, 52, 380, -1500, -1500, 52, -240]);
    assert_eq!(
        errors,
        vec!["line 8: size is not an integer in \"0.002100 oops\" (expected \"<seconds> <signed size>\")"]
    );
}
