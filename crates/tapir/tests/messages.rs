//! Errors from a bad model file name the model file, say what is wrong and what to do, and are
//! not usage errors (the user passed no bad flag); one test per kind of damage.

mod common;

use common::repo_path as repo;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

fn tapir(args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .output()
        .expect("run tapir");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("tapir-messages-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    })
}

/// A small naive Bayes model trained on the bundled sample (web and voip, three traces each).
fn model_bytes() -> &'static [u8] {
    static MODEL: OnceLock<Vec<u8>> = OnceLock::new();
    MODEL.get_or_init(|| {
        let data = dir().join("data");
        for label in ["web", "voip"] {
            let d = data.join(label);
            fs::create_dir_all(&d).unwrap();
            let mut src: Vec<_> = fs::read_dir(repo("data/sample/plain").join(label))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            src.sort();
            for p in src.iter().take(3) {
                fs::copy(p, d.join(p.file_name().unwrap())).unwrap();
            }
        }
        let out = dir().join("nb.tapir");
        let (code, err) = tapir(&[
            "train",
            data.to_str().unwrap(),
            "--model",
            "nb",
            "--features",
            "size-iat",
            "--augment",
            "none",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(0), "{err}");
        fs::read(&out).unwrap()
    })
}

/// CRC-32 (IEEE), as the model file's trailer.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The model with `from` replaced by `to` (same length) in its payload and the checksum
/// recomputed: a file edited by hand, which only its contents can reject.
fn edited(name: &str, from: &str, to: &str) -> String {
    assert_eq!(from.len(), to.len());
    let mut b = model_bytes().to_vec();
    let at = b
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("{from} in the model"));
    b[at..at + to.len()].copy_from_slice(to.as_bytes());
    let end = b.len() - 4;
    let crc = crc32(&b[20..end]);
    b[end..].copy_from_slice(&crc.to_le_bytes());
    let p = dir().join(name);
    fs::write(&p, b).unwrap();
    p.display().to_string()
}

fn classify(model: &str) -> (Option<i32>, String) {
    let cap = repo("crates/capture/tests/data/lo-http.pcap");
    tapir(&["classify", "-m", model, cap.to_str().unwrap()])
}

#[test]
fn edited_window_names_the_model_file() {
    let m = edited("window0.tapir", "\"window\":1024", "\"window\":   0");
    let (code, err) = classify(&m);
    assert_eq!(code, Some(1), "not a usage error: {err}");
    assert!(err.contains("window0.tapir"), "{err}");
    assert!(err.contains("train the model again"), "{err}");
    assert!(
        !err.contains("--window"),
        "the user gave no --window: {err}"
    );
}

#[test]
fn a_value_that_is_not_json_names_the_model_file() {
    let m = edited("nan.tapir", "\"window\":1024", "\"window\": NaN");
    let (code, err) = classify(&m);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("nan.tapir"), "{err}");
    assert!(err.contains("train the model again"), "{err}");
}

#[test]
fn a_payload_that_does_not_decode_names_the_model_file() {
    let mut b = model_bytes().to_vec();
    let end = b.len() - 4;
    // The class count and names come early in the payload: scramble them.
    for x in &mut b[30..60] {
        *x = 0xff;
    }
    let crc = crc32(&b[20..end]);
    b[end..].copy_from_slice(&crc.to_le_bytes());
    let p = dir().join("scrambled.tapir");
    fs::write(&p, b).unwrap();
    let (code, err) = classify(p.to_str().unwrap());
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("scrambled.tapir"), "{err}");
    assert!(err.contains("train the model again"), "{err}");
}

#[test]
fn a_model_above_the_size_limit_is_refused() {
    let p = dir().join("big.tapir");
    fs::write(&p, model_bytes()).unwrap();
    let cap = repo("crates/capture/tests/data/lo-http.pcap");
    let (code, err) = tapir(&[
        "classify",
        "-m",
        p.to_str().unwrap(),
        "--max-model-size",
        "1000",
        cap.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("big.tapir") && err.contains("above the limit of 1000 bytes"),
        "{err}"
    );
    assert!(err.contains("--max-model-size"), "{err}");
}

#[test]
fn a_cut_model_file_names_the_file_and_says_it_is_incomplete() {
    let p = dir().join("cut.tapir");
    fs::write(&p, &model_bytes()[..100]).unwrap();
    let (code, err) = classify(p.to_str().unwrap());
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("cut.tapir") && err.contains("the file is incomplete"),
        "{err}"
    );
}

/// Other inputs: each message names the file and the position, and says what is expected.
#[test]
fn feature_config_errors_give_file_line_column_and_where_the_fields_are() {
    let cfg = dir().join("cfg.json");
    fs::write(&cfg, "{\"size_axis\": nope}").unwrap();
    let data = repo("data/sample/plain/web");
    let out = dir().join("x.csv");
    let (code, err) = tapir(&[
        "extract",
        data.to_str().unwrap(),
        "--feature-config",
        cfg.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("cfg.json") && err.contains("line 1 column 16"),
        "{err}"
    );
    assert!(err.contains("docs/features.md"), "{err}");
}

#[test]
fn watchlist_errors_give_file_and_line() {
    let wl = dir().join("wl.txt");
    fs::write(&wl, "10.0.0.0/8 ok\nnot-a-pattern!! x\n").unwrap();
    let events = repo("crates/analysis/tests/data/list-mail.jsonl");
    let (code, err) = tapir(&[
        "watch",
        events.to_str().unwrap(),
        "--watchlist",
        wl.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("wl.txt line 2"), "{err}");
    assert!(err.contains("expected e.g. 10.0.0.0/8"), "{err}");
}

#[test]
fn defence_spec_errors_name_the_spec_and_the_value() {
    let trace = repo("crates/capture/tests/data/sample.trace");
    let (code, err) = tapir(&[
        "defend",
        trace.to_str().unwrap(),
        "-d",
        "constant:rate=x,size=600,min=1s",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("constant:rate=x") && err.contains("rate=x: not a number"),
        "{err}"
    );
}

#[test]
fn capture_and_trace_errors_give_file_and_position() {
    let cap = repo("crates/capture/tests/data/caplen-2g.pcap");
    let (code, err) = tapir(&["inspect", cap.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("caplen-2g.pcap: at byte 24") && err.contains("limit 262144"),
        "{err}"
    );
    let t = dir().join("b.trace");
    fs::write(&t, "0.0 100\nbad\n0.1 -200\n").unwrap();
    let (code, err) = tapir(&["inspect", t.to_str().unwrap()]);
    assert_eq!(code, Some(0), "a bad line is skipped: {err}");
    assert!(
        err.contains("b.trace: line 2") && err.contains("expected \"<seconds> <signed size>\""),
        "{err}"
    );
}

#[test]
fn manifest_errors_give_file_line_and_what_to_do() {
    let m = dir().join("manifest.csv");
    fs::write(&m, "file,class\nweb/a.pcap,web\n").unwrap();
    let (code, err) = tapir(&["eval", m.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("manifest.csv, line 1")
            && err.contains("must name the columns path and label"),
        "{err}"
    );
    fs::write(
        &m,
        "path,label\n# a comment\nweb/a.pcap,web\nweb/b.pcap,web,extra\n",
    )
    .unwrap();
    let (code, err) = tapir(&["eval", m.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("manifest.csv, line 4")
            && err.contains("3 fields where the header has 2")
            && err.contains("double quotes"),
        "{err}"
    );
    fs::write(&m, "path,label\n,web\n").unwrap();
    let (code, err) = tapir(&["train", m.to_str().unwrap(), "-o", "x.tapir"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("manifest.csv, line 2: empty path")
            && err.contains("relative to the manifest"),
        "{err}"
    );
}
