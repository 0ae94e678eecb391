//! [`visit_source`] is the path of [`visit_windows`], fed frame by frame: a live capture and a
//! file of the same frames give the same units and windows.

use std::path::Path;
use tapir_capture::{CaptureReader, TracePacket};
use tapir_dataset::{
    stream_file, stream_source, visit_source, visit_windows, ExtractSettings, RowRef, UnitEvent,
    Visit,
};
use tapir_features::{Extractor, WindowSpec};
use tapir_flow::{ClientRule, Unit};

/// (unit description, window index, packets) of every window.
type Windows = Vec<(String, u32, Vec<TracePacket>)>;

/// Every window, and every unit end (unit, packets).
fn collect(
    run: impl FnOnce(&mut dyn FnMut(UnitEvent<'_>) -> Result<Visit, tapir_dataset::DatasetError>),
) -> (Windows, Vec<(u64, u64)>) {
    let (mut windows, mut ends) = (Vec::new(), Vec::new());
    run(&mut |ev| {
        match ev {
            UnitEvent::Window(w) => {
                windows.push((w.unit_desc.to_string(), w.index, w.packets.to_vec()))
            }
            UnitEvent::UnitEnd { unit, packets } => ends.push((unit, packets)),
            UnitEvent::Packet { .. } => {}
        }
        Ok(Visit::Continue)
    });
    (windows, ends)
}

#[test]
fn a_packet_source_gives_the_windows_of_the_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../capture/tests/data/lo-http.pcap");
    for unit in [Unit::Flow, Unit::Pair, Unit::Capture] {
        let settings = ExtractSettings {
            unit,
            // A client given: the file path would find the host by a first pass, which a
            // live source has no way to do.
            client: ClientRule::Prefixes(vec!["127.0.0.1/32".parse().unwrap()]),
            window: WindowSpec::new(4, None).unwrap(),
            ..ExtractSettings::default()
        };
        let from_file = collect(|f| {
            visit_windows(&path, &settings, f).unwrap();
        });
        let from_source = collect(|f| {
            let mut r = CaptureReader::open(&path).unwrap();
            let stats = visit_source(Path::new("lo"), &mut r, None, &settings, f).unwrap();
            assert!(stats.packets > 0);
        });
        assert!(!from_file.0.is_empty(), "{unit:?}: no window");
        assert_eq!(from_file, from_source, "{unit:?}");
    }
}

/// (unit description, window index, start, end, features) of every row.
type Rows = Vec<(String, u32, i64, i64, Vec<f32>)>;

fn rows_of(
    run: impl FnOnce(&mut dyn FnMut(RowRef<'_>) -> Result<Visit, tapir_dataset::DatasetError>),
) -> Rows {
    let mut rows = Vec::new();
    run(&mut |r| {
        rows.push((
            r.unit_desc.to_string(),
            r.index,
            r.start.0,
            r.end.0,
            r.features.to_vec(),
        ));
        Ok(Visit::Continue)
    });
    rows
}

#[test]
fn a_packet_source_gives_the_feature_rows_of_the_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../capture/tests/data/lo-http.pcap");
    // min_packets 6 holds the first window of each flow back until its sixth packet, and
    // drops flows that never get there: the same in both.
    for min_packets in [0, 6] {
        let settings = ExtractSettings {
            unit: Unit::Flow,
            window: WindowSpec::new(4, None).unwrap(),
            min_packets,
            ..ExtractSettings::default()
        };
        let ex = Extractor::new(&settings.features).unwrap();
        let from_file = rows_of(|f| {
            stream_file(&path, &settings, &ex, f).unwrap();
        });
        let from_source = rows_of(|f| {
            let mut r = CaptureReader::open(&path).unwrap();
            stream_source(Path::new("lo"), &mut r, None, &settings, &ex, f).unwrap();
        });
        assert!(!from_file.is_empty(), "min_packets {min_packets}: no row");
        assert_eq!(from_file, from_source, "min_packets {min_packets}");
    }
}
