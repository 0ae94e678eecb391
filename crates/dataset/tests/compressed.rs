//! Datasets of gzip and zstd files, and captures that arrive through a pipe: found by a folder
//! scan with the right kind, listed in manifests, and read into exactly the windows the plain
//! files give.

use std::io::Write;
use std::path::{Path, PathBuf};
use tapir_capture::{kind_from_name, sniff, Compression, FileKind};
use tapir_dataset::{discover, extract_file, read_manifest, ExtractSettings, FileWindows};
use tapir_features::{Extractor, FeatureSpace, WindowSpec};
use tapir_flow::Unit;

fn capture_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../capture/tests/data")
        .join(name)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

/// A fresh folder under the temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("tapir-ds-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Windows of 8 packets: the 37-packet test captures give several.
fn settings(unit: Unit) -> ExtractSettings {
    ExtractSettings {
        unit,
        window: WindowSpec::disjoint(8).unwrap(),
        space: FeatureSpace::Combined,
        ..Default::default()
    }
}

fn extract(path: &Path, s: &ExtractSettings) -> FileWindows {
    let extractor = Extractor::new(&s.features).unwrap();
    extract_file(path, 0, s, &extractor).unwrap_or_else(|e| panic!("{e}"))
}

type Row = (u64, u32, i64, i64, Vec<f32>);

fn rows(f: &FileWindows) -> Vec<Row> {
    f.rows
        .iter()
        .map(|r| {
            (
                r.unit,
                r.index,
                r.start.as_nanos(),
                r.end.as_nanos(),
                r.features.clone(),
            )
        })
        .collect()
}

#[test]
fn a_folder_scan_finds_compressed_files_with_their_kind() {
    let dir = TempDir::new("scan");
    let pcap = std::fs::read(capture_data("lo-http.pcap")).unwrap();
    let pcapng = std::fs::read(capture_data("lo-http.pcapng")).unwrap();
    let trace = std::fs::read(capture_data("sample.trace")).unwrap();
    dir.write("web/a.pcap.gz", &gzip(&pcap));
    dir.write("web/b.pcap.zst", &zstd(&pcap));
    dir.write("voip/c.trace.gz", &gzip(&trace));
    dir.write("voip/d.trace.zst", &zstd(&trace));
    dir.write("video/e.pcapng.zst", &zstd(&pcapng));
    dir.write("video/f.pcapng", &pcapng);
    dir.write("video/notes.csv.gz", &gzip(b"a,b\n"));
    dir.write("video/archive.gz", &gzip(b"x"));
    let found = discover(std::slice::from_ref(&dir.0)).unwrap();
    let names: Vec<(String, Vec<String>)> = found
        .iter()
        .map(|s| {
            (
                s.path.strip_prefix(&dir.0).unwrap().display().to_string(),
                s.labels.clone(),
            )
        })
        .collect();
    let l = |s: &str| vec![s.to_string()];
    assert_eq!(
        names,
        vec![
            ("video/e.pcapng.zst".to_string(), l("video")),
            ("video/f.pcapng".to_string(), l("video")),
            ("voip/c.trace.gz".to_string(), l("voip")),
            ("voip/d.trace.zst".to_string(), l("voip")),
            ("web/a.pcap.gz".to_string(), l("web")),
            ("web/b.pcap.zst".to_string(), l("web")),
        ]
    );
    let want = [
        (FileKind::PcapNg, Compression::Zstd),
        (FileKind::PcapNg, Compression::None),
        (FileKind::Trace, Compression::Gzip),
        (FileKind::Trace, Compression::Zstd),
        (FileKind::Pcap, Compression::Gzip),
        (FileKind::Pcap, Compression::Zstd),
    ];
    for (s, want) in found.iter().zip(want) {
        // The name and the content agree.
        assert_eq!(kind_from_name(&s.path), Some(want), "{}", s.path.display());
        assert_eq!(sniff(&s.path).unwrap(), want.0, "{}", s.path.display());
    }
}

#[test]
fn compressed_files_give_the_windows_of_the_plain_file() {
    let dir = TempDir::new("same");
    for name in ["lo-http.pcap", "lo-http.pcapng", "sample.trace"] {
        let plain = capture_data(name);
        let bytes = std::fs::read(&plain).unwrap();
        for unit in [Unit::Capture, Unit::Flow] {
            let s = settings(unit);
            let want = extract(&plain, &s);
            assert!(!want.rows.is_empty(), "{name}");
            for (ext, packed) in [("gz", gzip(&bytes)), ("zst", zstd(&bytes))] {
                let p = dir.write(&format!("{name}.{ext}"), &packed);
                let got = extract(&p, &s);
                assert_eq!(rows(&got), rows(&want), "{name}.{ext} {unit:?}");
                assert_eq!(got.packets, want.packets);
                assert_eq!(got.skipped, want.skipped);
            }
        }
    }
}

#[test]
fn a_manifest_row_is_read_from_its_compressed_copy() {
    let dir = TempDir::new("manifest");
    let pcap = std::fs::read(capture_data("lo-http.pcap")).unwrap();
    let trace = std::fs::read(capture_data("sample.trace")).unwrap();
    dir.write("web/a.pcap.gz", &gzip(&pcap));
    dir.write("voip/b.trace.zst", &zstd(&trace));
    dir.write("voip/c.trace.gz", &gzip(&trace));
    let m = dir.write(
        "manifest.csv",
        b"path,label\nweb/a.pcap,web\nvoip/b.trace,voip\nvoip/c.trace.gz,voip\n",
    );
    let rows = read_manifest(&m).unwrap();
    let paths: Vec<String> = rows
        .iter()
        .map(|s| s.path.strip_prefix(&dir.0).unwrap().display().to_string())
        .collect();
    assert_eq!(
        paths,
        vec!["web/a.pcap.gz", "voip/b.trace.zst", "voip/c.trace.gz"]
    );
    // The group stays the name the manifest gives.
    assert!(rows[0].group.ends_with("web/a.pcap"), "{}", rows[0].group);
    assert_eq!(rows[1].labels, vec!["voip"]);
}

/// `mkfifo` from coreutils; the FIFO tests are skipped, saying so, where it is missing.
fn fifo(dir: &TempDir, name: &str) -> Option<PathBuf> {
    let p = dir.0.join(name);
    match std::process::Command::new("mkfifo").arg(&p).status() {
        Ok(s) if s.success() => Some(p),
        _ => {
            eprintln!("note: mkfifo not available, FIFO test skipped");
            None
        }
    }
}

/// Reads `bytes` written into a FIFO by another thread, as `tapir eval <(zcat x.pcap.gz)` does.
fn extract_through_fifo(dir: &TempDir, bytes: Vec<u8>, s: &ExtractSettings) -> Option<FileWindows> {
    let p = fifo(dir, "pipe")?;
    let writer = {
        let p = p.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
            // The reader may stop early on damaged input: a broken pipe is fine here.
            let _ = f.write_all(&bytes);
        })
    };
    let got = extract(&p, s);
    writer.join().unwrap();
    std::fs::remove_file(&p).unwrap();
    Some(got)
}

#[test]
fn a_capture_through_a_fifo_gives_the_windows_of_the_file() {
    let dir = TempDir::new("fifo");
    let plain = capture_data("lo-http.pcap");
    let bytes = std::fs::read(&plain).unwrap();
    // By capture with the automatic client rule the capture's host is found in a first pass:
    // a FIFO can be read once, so it is copied aside first. By flow it is read in one pass.
    for unit in [Unit::Capture, Unit::Flow] {
        let s = settings(unit);
        let want = extract(&plain, &s);
        for packed in [bytes.clone(), gzip(&bytes), zstd(&bytes)] {
            let Some(got) = extract_through_fifo(&dir, packed, &s) else {
                return;
            };
            assert_eq!(rows(&got), rows(&want), "{unit:?}");
            assert!(got.warnings.is_empty(), "{:?}", got.warnings);
        }
    }
    // A cut gzip through the FIFO: the packets before the cut, and a warning that says so.
    let big: Vec<u8> = {
        let trace: String = (0..5000)
            .map(|i| format!("{}.{:06} {}\n", i / 1000, i % 1000, 40 + i % 1400))
            .collect();
        trace.into_bytes()
    };
    let packed = gzip(&big);
    let s = settings(Unit::Capture);
    let Some(got) = extract_through_fifo(&dir, packed[..packed.len() / 2].to_vec(), &s) else {
        return;
    };
    assert!(got.packets > 100 && got.packets < 5000, "{}", got.packets);
    assert_eq!(got.warnings.len(), 1, "{:?}", got.warnings);
    assert!(
        got.warnings[0].contains("gzip stream cut short")
            && got.warnings[0].contains("kept what came before"),
        "{}",
        got.warnings[0]
    );
    // The same for a capture, which by capture goes through the copy aside.
    let packed = gzip(&bytes);
    let Some(got) = extract_through_fifo(&dir, packed[..packed.len() * 2 / 3].to_vec(), &s) else {
        return;
    };
    let full = extract(&plain, &s);
    assert!(
        got.packets > 0 && got.packets < full.packets,
        "{}",
        got.packets
    );
    assert_eq!(got.warnings.len(), 1, "{:?}", got.warnings);
    assert!(
        got.warnings[0].contains("gzip stream cut short"),
        "{}",
        got.warnings[0]
    );
}
