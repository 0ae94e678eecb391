//! A capture read into records: its own flows and the records of the export packets it
//! carries, on the ports asked for.

use tapir_capture::CaptureReader;
use tapir_flow::{FlowTable, FlowTableConfig, RecordSource};
use tapir_netflow::{capture_records, CapturedExports, Decoder};

fn records(ports: Vec<u16>) -> (Vec<tapir_flow::FlowRecord>, u64) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/softflowd-v9-lo-http.pcap"
    );
    let mut r = CaptureReader::open(std::path::Path::new(path)).unwrap();
    let table = FlowTable::new(FlowTableConfig::default()).unwrap();
    let mut exports = CapturedExports::new(ports, Decoder::new(16));
    let mut out = Vec::new();
    let got = capture_records::<_, std::convert::Infallible>(
        &mut r,
        table,
        &mut exports,
        &|| false,
        &mut |rec| {
            out.push(rec);
            Ok(())
        },
    );
    let got = got.unwrap();
    assert!(got.cut.is_none());
    (out, exports.decoded())
}

#[test]
fn exports_on_the_given_port_are_decoded_beside_the_flows() {
    let (recs, decoded) = records(vec![20555]);
    assert_eq!(decoded, 6);
    let v9 = recs
        .iter()
        .filter(|r| matches!(r.source, RecordSource::NetflowV9 { .. }))
        .count();
    assert_eq!(v9, 6);
    // The export packets are one UDP flow of the capture too.
    let own: Vec<_> = recs
        .iter()
        .filter(|r| r.source == RecordSource::Capture)
        .collect();
    assert_eq!(own.len(), 1);
    assert_eq!((own[0].dst_port, own[0].proto), (20555, 17));
}

#[test]
fn no_port_no_exports() {
    let (recs, decoded) = records(Vec::new());
    assert_eq!((recs.len(), decoded), (1, 0));
    let (recs, decoded) = records(vec![2055]);
    assert_eq!((recs.len(), decoded), (1, 0));
}
