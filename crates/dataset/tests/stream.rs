//! `stream_file`: rows as windows end, the same rows as `extract_file` sorts, and the bounds on
//! live state (units, window buffers) with their counters.

use std::path::{Path, PathBuf};
use tapir_capture::{pcap_file_header, pcap_record_header, LinkType};
use tapir_dataset::{extract_file, stream_file, ExtractSettings, StateStats, Visit};
use tapir_features::{Extractor, WindowSpec};
use tapir_flow::Unit;

/// Ethernet + IPv4 + UDP frames as a pcap: (µs, source port, payload length) per packet, all
/// from 10.0.0.1 to 10.0.0.2:53.
fn pcap(tag: &str, packets: &[(u64, u16, usize)]) -> PathBuf {
    let mut v = pcap_file_header(LinkType::ETHERNET, 65_535).to_vec();
    for &(t_us, sport, n) in packets {
        let t_us = 1_700_000_000_000_000 + t_us;
        let b = etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(sport, 53);
        let mut f = Vec::new();
        b.write(&mut f, &vec![0u8; n]).unwrap();
        v.extend(pcap_record_header(t_us, f.len() as u32, f.len() as u32));
        v.extend(f);
    }
    let path =
        std::env::temp_dir().join(format!("tapir-ds-stream-{tag}-{}.pcap", std::process::id()));
    std::fs::write(&path, v).unwrap();
    path
}

/// `flows` flows of `each` packets, round robin, 1 ms apart.
fn round_robin(tag: &str, flows: u16, each: usize) -> PathBuf {
    let mut packets = Vec::new();
    for i in 0..each {
        for f in 0..flows {
            let t = (i * flows as usize + f as usize) as u64 * 1000;
            packets.push((t, 1000 + f, 10 + (i * 7 + f as usize) % 200));
        }
    }
    pcap(tag, &packets)
}

fn by_flow(window: usize) -> ExtractSettings {
    ExtractSettings {
        unit: Unit::Flow,
        window: WindowSpec::disjoint(window).unwrap(),
        ..ExtractSettings::default()
    }
}

/// (unit, index, copy, features) of one row.
type Row = (u64, u32, u32, Vec<f32>);

/// Every row, in the order `stream_file` gives them.
fn streamed(path: &Path, s: &ExtractSettings) -> (Vec<Row>, StateStats) {
    let ex = Extractor::new(&s.features).unwrap();
    let mut rows = Vec::new();
    let stats = stream_file(path, s, &ex, &mut |r| {
        rows.push((r.unit, r.index, r.copy, r.features.to_vec()));
        Ok(Visit::Continue)
    })
    .unwrap();
    (rows, stats.state)
}

/// Rows come as windows end (flows interleaved: unit 0's second window after unit 1's first),
/// and sorted they are exactly what `extract_file` holds.
#[test]
fn streamed_rows_sorted_are_the_extracted_rows() {
    let path = round_robin("order", 3, 40);
    let s = by_flow(16);
    let (rows, state) = streamed(&path, &s);
    let order: Vec<(u64, u32)> = rows.iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(order, [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]);
    assert_eq!(state.units, 3);
    assert_eq!(state.peak_units, 3);
    assert_eq!((state.units_evicted, state.dropped_windows), (0, 0));
    let ex = Extractor::new(&s.features).unwrap();
    let held = extract_file(&path, 0, &s, &ex).unwrap();
    let mut sorted = rows.clone();
    sorted.sort_by_key(|r| (r.0, r.1, r.2));
    let want: Vec<Row> = held
        .rows
        .iter()
        .map(|r| (r.unit, r.index, r.copy, r.features.clone()))
        .collect();
    assert_eq!(sorted, want);
    let _ = std::fs::remove_file(path);
}

/// A unit short of `min_packets` holds its windows back until it gets there, then they come
/// first and in order; a unit that never gets there gives none.
#[test]
fn min_packets_holds_windows_back_until_the_unit_gets_there() {
    let mut packets = Vec::new();
    // Flow 1000: 48 packets; flow 1001: 20. Interleaved while both run.
    for i in 0..48u64 {
        packets.push((i * 1000, 1000, 50));
        if i < 20 {
            packets.push((i * 1000 + 500, 1001, 60));
        }
    }
    let path = pcap("min", &packets);
    let s = ExtractSettings {
        min_packets: 40,
        ..by_flow(8)
    };
    let (rows, _) = streamed(&path, &s);
    let order: Vec<(u64, u32)> = rows.iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(order, [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (0, 5)]);
    let _ = std::fs::remove_file(path);
}

/// Window buffers past `max_held_packets` (raised to four windows): the partial windows of the
/// least recently seen units are given up and counted, the same ones on every run; with the
/// default bound the same file loses nothing.
#[test]
fn full_window_buffers_give_up_partial_windows_and_count_them() {
    // 40 flows of 30 packets, round robin, windows of 16: each flow holds up to 15 packets
    // between windows, 40 × 15 = 600 packets at once, far past 4 × 16 = 64.
    let path = round_robin("held", 40, 30);
    let tight = ExtractSettings {
        max_held_packets: 0,
        ..by_flow(16)
    };
    let (rows, state) = streamed(&path, &tight);
    assert!(state.dropped_windows > 0, "{state:?}");
    assert!(state.dropped_packets >= state.dropped_windows, "{state:?}");
    assert!(rows.len() < 40, "{} windows", rows.len());
    assert_eq!(streamed(&path, &tight), (rows, state), "deterministic");
    let (rows, state) = streamed(&path, &by_flow(16));
    assert_eq!((state.dropped_windows, state.dropped_packets), (0, 0));
    assert_eq!(rows.len(), 40, "one window of 16 per flow");
    let _ = std::fs::remove_file(path);
}

/// More flows live than `max_units`: the least recently seen are ended early and counted, and
/// live state never holds more than the cap.
#[test]
fn units_past_the_cap_are_evicted_and_counted() {
    let path = round_robin("cap", 100, 1);
    let s = ExtractSettings {
        max_units: 10,
        ..by_flow(16)
    };
    let (_, state) = streamed(&path, &s);
    assert_eq!(state.units, 100);
    assert_eq!(state.peak_units, 10);
    assert_eq!(state.units_evicted, 90);
    let (_, state) = streamed(&path, &by_flow(16));
    assert_eq!((state.peak_units, state.units_evicted), (100, 0));
    let _ = std::fs::remove_file(path);
}
