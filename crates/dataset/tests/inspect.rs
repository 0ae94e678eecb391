//! `inspect` counts the flows `tapir flows` writes (one flow engine), keeps the largest ones in
//! order, and sums the tunnels of those records.

use std::path::{Path, PathBuf};
use tapir_capture::{open, Opened};
use tapir_dataset::inspect::inspect_file;
use tapir_flow::{capture_records, ClientRule, FlowRecord, FlowTable, FlowTableConfig};

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn records(path: &Path) -> Vec<FlowRecord> {
    let Ok((Opened::Capture(mut r), _)) = open(path) else {
        panic!("{} is a capture", path.display());
    };
    let table = FlowTable::new(FlowTableConfig::default()).unwrap();
    let mut out = Vec::new();
    capture_records::<_, std::convert::Infallible>(&mut r, table, &mut |_, _| Ok(()), &mut |rec| {
        out.push(rec);
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn flows_tunnels_and_the_largest_are_the_flow_records() {
    for rel in [
        "data/sample/plain/multi/video_voip_web-0eb2055e.pcap.zst",
        "data/sample/ipsec/web/web-6e2d7882.pcap.zst",
        "data/sample/plain/background/background-485dfb1a.pcap.zst",
        "crates/capture/tests/data/lo-http.pcapng",
    ] {
        let path = sample(rel);
        let s = inspect_file(&path, &ClientRule::Auto, 3);
        assert!(s.error.is_none(), "{rel}: {:?}", s.error);
        let recs = records(&path);
        assert_eq!(s.flows, recs.len() as u64, "{rel}");
        // The three largest by bytes, largest first.
        let mut sizes: Vec<u64> = recs.iter().map(|r| r.bytes()).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes.truncate(3);
        let top: Vec<u64> = s.top_flows.iter().map(|r| r.bytes()).collect();
        assert_eq!(top, sizes, "{rel}");
        // Each tunnel kind sums its records.
        for t in &s.tunnels {
            let of_kind: Vec<&FlowRecord> =
                recs.iter().filter(|r| r.tunnel == Some(t.kind)).collect();
            assert_eq!(t.flows, of_kind.len() as u64, "{rel}");
            assert_eq!(t.packets, of_kind.iter().map(|r| r.packets()).sum::<u64>());
        }
        let tunnelled = recs.iter().filter(|r| r.tunnel.is_some()).count() as u64;
        assert_eq!(s.tunnels.iter().map(|t| t.flows).sum::<u64>(), tunnelled);
        if !rel.contains("lo-http") {
            // Every packet is from or to the capture's own host (on loopback it is both).
            assert_eq!(
                s.upstream_packets + s.downstream_packets,
                s.ip_packets,
                "{rel}"
            );
        }
    }
}

#[test]
fn a_missing_file_is_an_error_in_the_summary() {
    let s = inspect_file(Path::new("/nonexistent/x.pcap"), &ClientRule::Auto, 3);
    assert_eq!((s.frames, s.format.as_str()), (0, "unknown"));
    assert!(s.error.unwrap().contains("No such file"));
}
