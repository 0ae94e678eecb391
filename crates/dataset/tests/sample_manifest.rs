//! The bundled sample (`data/sample/`) matches its manifest: every row names a file that exists,
//! lies in its label's folder and holds the recorded number of packets (read with tapir's own
//! readers); every capture or trace in the sample is listed; every web, video and P2P trace has
//! sixteen 1024-packet windows and every VoIP trace at least four (a call may end sooner); every
//! condition has its traces per class, its concurrent captures (multi-label) and its background
//! captures.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tapir_capture::{sniff, CaptureReader, FileKind, TraceReader};
use tapir_dataset::read_manifest;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample")
}

fn count(path: &Path) -> u64 {
    match sniff(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
        FileKind::Trace => {
            let mut r = TraceReader::open(path).unwrap();
            let mut n = 0;
            while let Some(p) = r.next_packet() {
                p.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                n += 1;
            }
            n
        }
        FileKind::Pcap | FileKind::PcapNg => {
            let mut r = CaptureReader::open(path).unwrap();
            let mut n = 0;
            while let Some(p) = r.next_packet() {
                p.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                n += 1;
            }
            n
        }
    }
}

fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if tapir_capture::kind_from_name(&p).is_some() {
            out.insert(p);
        }
    }
}

/// Traces per class and condition the sample holds at least (docs/lab.md, "The bundled sample").
const MIN_TRACES: usize = 20;

#[test]
fn manifest_matches_the_files() {
    let root = sample();
    let sources = read_manifest(&root.join("manifest.csv")).expect("data/sample/manifest.csv");
    assert!(sources.len() >= 450, "{} rows", sources.len());
    let mut listed = BTreeSet::new();
    let mut per_cell = std::collections::BTreeMap::<(String, String), usize>::new();
    for s in &sources {
        assert!(s.path.is_file(), "{}: listed but missing", s.path.display());
        let folder = s
            .path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap()
            .to_string();
        let condition = s.extra.get("condition").expect("condition column").clone();
        let cond_folder = s
            .path
            .parent()
            .and_then(|p| p.parent())
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap();
        assert_eq!(cond_folder, condition, "{}", s.path.display());
        if folder != "multi" {
            assert_eq!(
                s.labels,
                vec![folder.clone()],
                "{}: label vs folder",
                s.path.display()
            );
        } else {
            assert!(
                s.labels.len() >= 2,
                "{}: multi needs several labels",
                s.path.display()
            );
        }
        let recorded: u64 = s.extra["packets"].parse().unwrap();
        assert_eq!(count(&s.path), recorded, "{}: packets", s.path.display());
        if ["web", "video", "p2p"].contains(&folder.as_str()) {
            assert!(
                recorded >= 16 * 1024,
                "{}: {recorded} packets, fewer than sixteen windows",
                s.path.display()
            );
        } else if folder == "voip" {
            assert!(
                recorded >= 4096,
                "{}: {recorded} packets, fewer than four windows",
                s.path.display()
            );
        }
        *per_cell.entry((condition, folder)).or_default() += 1;
        listed.insert(s.path.canonicalize().unwrap());
    }
    let mut on_disk = BTreeSet::new();
    walk(&root, &mut on_disk);
    for p in on_disk {
        assert!(
            listed.contains(&p.canonicalize().unwrap()),
            "{}: in the sample but not in the manifest",
            p.display()
        );
    }
    let cell = |cond: &str, folder: &str| {
        per_cell
            .get(&(cond.to_string(), folder.to_string()))
            .copied()
            .unwrap_or(0)
    };
    for cond in ["plain", "ipsec", "wireguard", "openvpn", "tor"] {
        for class in ["web", "voip", "video", "p2p"] {
            let n = cell(cond, class);
            assert!(
                n >= MIN_TRACES,
                "{cond}/{class}: {n} traces, want at least {MIN_TRACES}"
            );
        }
        let n = cell(cond, "multi");
        assert!(
            n >= 4,
            "{cond}/multi: {n} concurrent captures, want at least 4"
        );
        let n = cell(cond, "background");
        assert!(n >= 1, "{cond}/background: {n} captures, want at least 1");
    }
}
