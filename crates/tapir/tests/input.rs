//! Input as users give it: `-` for standard input, pipes and `<(…)`, gzip and zstd. Every run
//! must count what the plain-file run counts.

mod common;

use common::{repo, stderr, stdout, temp_dir};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn tapir(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run tapir")
}

/// Runs tapir with `input` written to its standard input by another thread, as a pipe does.
fn tapir_fed(args: &[&str], input: Vec<u8>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tapir");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // Written in small pieces, so that the reader sees a pipe's short reads.
        for chunk in input.chunks(1000) {
            if stdin.write_all(chunk).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().expect("wait for tapir");
    writer.join().unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The bytes of the bundled sample's first ipsec web capture (stored as `.pcap.gz`), and a
/// plain copy of it in a temporary folder.
fn sample_capture(tag: &str) -> (Vec<u8>, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/ipsec/web");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".pcap.gz"))
        .collect();
    names.sort();
    let gz = std::fs::read(&names[0]).unwrap();
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).unwrap();
    let out = std::env::temp_dir().join(format!("tapir-input-{tag}-{}.pcap", std::process::id()));
    std::fs::write(&out, &plain).unwrap();
    (plain, out.display().to_string())
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

/// The counts of one `tapir inspect --json` line.
#[derive(Debug, PartialEq)]
struct Counts {
    frames: u64,
    ip_packets: u64,
    ip_bytes: u64,
    flows: u64,
}

fn inspect_counts(o: &Output) -> (Counts, String) {
    assert!(o.status.success(), "{}", stderr(o));
    // The file's line comes first, then its tunnel and flow lines.
    let first = stdout(o)
        .lines()
        .next()
        .map(str::to_string)
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&first).expect("a JSON line");
    assert_eq!(v["type"], "file", "{v}");
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    (
        Counts {
            frames: n("frames"),
            ip_packets: n("ip_packets"),
            ip_bytes: n("ip_bytes"),
            flows: n("flows"),
        },
        v["compression"].as_str().unwrap().to_string(),
    )
}

#[test]
fn inspect_reads_standard_input_plain_gzip_and_zstd() {
    for rel in [
        "crates/capture/tests/data/lo-http.pcap",
        "crates/capture/tests/data/lo-http.pcapng",
        "crates/capture/tests/data/sample.trace",
    ] {
        let file = repo(rel);
        let (want, compression) = inspect_counts(&tapir(&["inspect", "--json", &file]));
        assert_eq!(compression, "none");
        assert!(want.frames > 0, "{rel}");
        let plain = std::fs::read(&file).unwrap();
        for (name, bytes) in [
            ("none", plain.clone()),
            ("gzip", gzip(&plain)),
            ("zstd", zstd(&plain)),
        ] {
            let o = tapir_fed(&["inspect", "--json", "-"], bytes);
            let (got, compression) = inspect_counts(&o);
            assert_eq!(got, want, "{rel} through stdin, {name}");
            assert_eq!(compression, name, "{rel}");
        }
    }
}

#[test]
fn inspect_reads_process_substitution() {
    if Command::new("bash").arg("-c").arg("true").status().is_err() {
        eprintln!("note: no bash, <(…) test skipped");
        return;
    }
    let file = repo("crates/capture/tests/data/lo-http.pcapng");
    let (want, _) = inspect_counts(&tapir(&["inspect", "--json", &file]));
    // `<(cat x)` hands tapir a /dev/fd path to a pipe: it can be opened, and read only once.
    let script = format!(
        "\"{}\" inspect --json <(cat \"{file}\")",
        env!("CARGO_BIN_EXE_tapir")
    );
    let o = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (got, _) = inspect_counts(&o);
    assert_eq!(got, want);
}

#[test]
fn a_cut_gzip_on_stdin_keeps_the_packets_before_the_cut() {
    let file = repo("crates/capture/tests/data/lo-http.pcap");
    let (want, _) = inspect_counts(&tapir(&["inspect", "--json", &file]));
    let packed = gzip(&std::fs::read(&file).unwrap());
    let o = tapir_fed(
        &["inspect", "--json", "-"],
        packed[..packed.len() / 2].to_vec(),
    );
    // Some packets were read: a warning, not a failure.
    let (got, compression) = inspect_counts(&o);
    assert_eq!(compression, "gzip");
    assert!(
        got.frames > 0 && got.frames < want.frames,
        "{} of {}",
        got.frames,
        want.frames
    );
    let err = stderr(&o);
    assert!(
        err.contains("-: at byte") && err.contains("gzip stream cut short"),
        "{err}"
    );
    // Corrupt from the first byte on: nothing read, exit code 1, and the reason.
    let mut bad = packed.clone();
    bad[3] = 0xff; // reserved gzip header flags
    let o = tapir_fed(&["inspect", "-"], bad);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("gzip stream corrupt"), "{}", stderr(&o));
}

/// The rows of `tapir extract` without the file and group columns, which name the input.
fn feature_rows(o: &Output) -> Vec<String> {
    assert!(o.status.success(), "{}", stderr(o));
    stdout(o)
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{}", f[1], f[3..].join(","))
        })
        .collect()
}

#[test]
fn extract_reads_a_capture_from_stdin_like_the_file() {
    // By capture (the default) the capture's own host is found in a first pass: from stdin
    // the capture is copied aside for it. By flow it is read in one pass.
    let (plain, file) = sample_capture("extract");
    for by in ["capture", "flow"] {
        let want = feature_rows(&tapir(&["extract", "--by", by, &file]));
        assert!(!want.is_empty(), "{by}");
        for bytes in [plain.clone(), gzip(&plain), zstd(&plain)] {
            let got = feature_rows(&tapir_fed(&["extract", "--by", by, "-"], bytes));
            assert!(
                got == want,
                "--by {by}: {} rows, want {}",
                got.len(),
                want.len()
            );
        }
    }
    let _ = std::fs::remove_file(&file);
}

#[test]
fn flows_reads_a_compressed_capture_from_stdin() {
    let (plain, file) = sample_capture("flows");
    let want = tapir(&["flows", "--json", &file]);
    assert!(want.status.success(), "{}", stderr(&want));
    let got = tapir_fed(&["flows", "--json", "-"], zstd(&plain));
    assert!(got.status.success(), "{}", stderr(&got));
    assert!(!stdout(&want).is_empty());
    assert_eq!(stdout(&got), stdout(&want));
    let _ = std::fs::remove_file(&file);
}

/// A folder given to `inspect` or `flows` stands for every capture below it; a folder with none
/// is an error that names it, with exit code 1 and no table.
#[test]
fn inspect_and_flows_read_the_captures_of_a_folder() {
    let folder = repo("data/sample/plain/background");
    let files: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    assert!(files.len() >= 2, "{files:?}");
    let o = tapir(&["inspect", &folder, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o)
            .lines()
            .filter(|l| l.starts_with(r#"{"type":"file""#))
            .count(),
        files.len(),
        "one summary per capture"
    );
    let by_folder = tapir(&["flows", &folder, "--format", "csv"]);
    assert!(by_folder.status.success(), "{}", stderr(&by_folder));
    let mut args = vec!["flows", "--format", "csv"];
    let mut sorted = files.clone();
    sorted.sort();
    args.extend(sorted.iter().map(String::as_str));
    let by_files = tapir(&args);
    assert!(stdout(&by_folder).lines().count() > 1);
    assert_eq!(stdout(&by_folder), stdout(&by_files));

    let empty = temp_dir("no-captures");
    std::fs::write(empty.join("notes.md"), "not a capture").unwrap();
    for cmd in ["inspect", "flows"] {
        let o = tapir(&[cmd, &empty.display().to_string()]);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{cmd}: {}", stdout(&o));
        assert!(
            stderr(&o).contains("no capture or trace files found in")
                && stderr(&o).contains(&empty.display().to_string()),
            "{cmd}: {}",
            stderr(&o)
        );
    }
    std::fs::remove_dir_all(&empty).unwrap();
}
