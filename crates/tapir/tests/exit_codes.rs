//! One exit-code rule for every command: 0 when every input was read; 1 when an input could not
//! be read (the others are still used; with --strict the first stops the run); 2 for usage.

mod common;

use common::{repo, temp_dir};
use std::fs;
use std::path::Path;
use std::process::Command;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn tapir(args: &[&str]) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .output()
        .expect("run tapir");
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// A file that is no capture, trace, mail or flow record.
fn garbage(dir: &Path, name: &str) -> String {
    let p = dir.join(name);
    fs::write(&p, b"\x00\x01 not a capture\n").unwrap();
    p.display().to_string()
}

fn assert_code(r: &Run, code: i32, what: &str) {
    assert_eq!(
        r.code,
        Some(code),
        "{what}\nstdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
}

/// The summary line of a run with a skipped input.
fn assert_skipped(r: &Run, what: &str) {
    assert_code(r, 1, what);
    assert!(
        r.stderr.contains("1 input could not be read"),
        "{what}: {}",
        r.stderr
    );
}

const CAPTURE: &str = "crates/capture/tests/data/lo-http.pcap";

#[test]
fn inspect() {
    let dir = temp_dir("inspect");
    let bad = garbage(&dir, "bad.pcap");
    let good = repo(CAPTURE);
    assert_code(&tapir(&["inspect", &good]), 0, "good");
    let r = tapir(&["inspect", &good, &bad]);
    assert_skipped(&r, "good + bad");
    assert!(r.stdout.contains("lo-http.pcap"), "{}", r.stdout);
    let r = tapir(&["inspect", "--strict", &bad, &good]);
    assert_code(&r, 1, "strict");
    assert!(!r.stdout.contains("lo-http.pcap"), "{}", r.stdout);
    assert_code(&tapir(&["inspect", "--no-such-flag", &good]), 2, "usage");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn extract_and_train() {
    let dir = temp_dir("extract");
    for label in ["web", "voip"] {
        let d = dir.join("data").join(label);
        fs::create_dir_all(&d).unwrap();
        let src = Path::new(&repo("data/sample/plain")).join(label);
        for e in fs::read_dir(src).unwrap().take(3) {
            let e = e.unwrap();
            fs::copy(e.path(), d.join(e.file_name())).unwrap();
        }
    }
    let data = dir.join("data").display().to_string();
    let out = dir.join("f.csv").display().to_string();
    assert_code(
        &tapir(&["extract", &data, "--window", "64", "-o", &out]),
        0,
        "good",
    );
    garbage(&dir.join("data/web"), "bad.pcap");
    let _ = fs::remove_file(&out);
    let r = tapir(&["extract", &data, "--window", "64", "-o", &out]);
    assert_skipped(&r, "extract with a bad file");
    // The others are still used.
    assert!(fs::read_to_string(&out).unwrap().lines().count() > 1);
    let _ = fs::remove_file(&out);
    let r = tapir(&["extract", &data, "--window", "64", "--strict", "-o", &out]);
    assert_code(&r, 1, "extract --strict");
    assert!(!Path::new(&out).exists(), "nothing written with --strict");
    assert_code(
        &tapir(&["extract", &data, "--window", "0", "-o", &out]),
        2,
        "extract usage",
    );

    let model = dir.join("m.tapir").display().to_string();
    let r = tapir(&[
        "train", &data, "--model", "nb", "--window", "64", "-o", &model,
    ]);
    assert_skipped(&r, "train with a bad file");
    assert!(Path::new(&model).exists(), "the model of the other files");
    assert_code(
        &tapir(&["train", &data, "--model", "nope", "-o", &model]),
        2,
        "train usage",
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// A file with no label (directly in the dataset folder) holds nothing `train` or `eval` use:
/// it is named on stderr, the others are used, and the run ends with 1 (with --strict it stops
/// the run). `extract`, which needs no label, reads it and ends with 0.
#[test]
fn unlabelled_files_in_a_labelled_dataset() {
    let dir = temp_dir("unlabelled");
    for label in ["web", "voip"] {
        let d = dir.join("data").join(label);
        fs::create_dir_all(&d).unwrap();
        let src = Path::new(&repo("data/sample/plain")).join(label);
        for e in fs::read_dir(src).unwrap().take(2) {
            let e = e.unwrap();
            fs::copy(e.path(), d.join(e.file_name())).unwrap();
        }
    }
    let stray = dir.join("data/stray.pcap");
    fs::copy(repo(CAPTURE), &stray).unwrap();
    let data = dir.join("data").display().to_string();
    let model = dir.join("m.tapir").display().to_string();
    let r = tapir(&[
        "train", &data, "--model", "nb", "--window", "64", "-o", &model,
    ]);
    assert_skipped(&r, "train with an unlabelled file");
    assert!(r.stderr.contains("stray.pcap: no label"), "{}", r.stderr);
    assert!(Path::new(&model).exists(), "the model of the other files");
    let r = tapir(&[
        "eval",
        &data,
        "--models",
        "nb",
        "--features",
        "size-iat",
        "--window",
        "64",
    ]);
    assert_skipped(&r, "eval with an unlabelled file");
    let r = tapir(&[
        "eval", &data, "--models", "nb", "--window", "64", "--strict",
    ]);
    assert_code(&r, 1, "eval --strict");
    assert!(r.stderr.contains("stray.pcap: no label"), "{}", r.stderr);
    assert!(
        r.stdout.is_empty(),
        "no evaluation with --strict: {}",
        r.stdout
    );
    let out = dir.join("f.csv").display().to_string();
    let r = tapir(&["extract", &data, "--window", "64", "-o", &out]);
    assert_code(&r, 0, "extract reads unlabelled files");
    fs::remove_dir_all(&dir).unwrap();
}

/// The limit on windows held in memory: more than `--max-windows` ends `train` with exit code 1
/// and a message naming the limit and the flag, before any output is written; under the limit
/// the same run succeeds; 0 is a usage error. `extract` writes its windows as they come and
/// holds none, so the limit does not cut its output.
#[test]
fn max_windows() {
    let dir = temp_dir("max-windows");
    for label in ["web", "voip"] {
        let d = dir.join("data").join(label);
        fs::create_dir_all(&d).unwrap();
        let src = Path::new(&repo("data/sample/plain")).join(label);
        for e in fs::read_dir(src).unwrap().take(2) {
            let e = e.unwrap();
            fs::copy(e.path(), d.join(e.file_name())).unwrap();
        }
    }
    let data = dir.join("data").display().to_string();
    let out = dir.join("f.csv");
    let o = out.display().to_string();
    let r = tapir(&[
        "extract",
        &data,
        "--window",
        "64",
        "--max-windows",
        "100",
        "-o",
        &o,
    ]);
    assert_code(&r, 0, "extract streams past --max-windows");
    let limited = fs::read_to_string(&out).unwrap();
    let r = tapir(&["extract", &data, "--window", "64", "-o", &o]);
    assert_code(&r, 0, "extract under the default limit");
    let all = fs::read_to_string(&out).unwrap();
    assert_eq!(
        limited, all,
        "the limit does not change what extract writes"
    );
    let rows = all.lines().count() - 1;
    assert!(rows > 100, "{rows} windows");
    let model = dir.join("m.tapir");
    let r = tapir(&[
        "train",
        &data,
        "--model",
        "nb",
        "--window",
        "64",
        "--max-windows",
        &rows.to_string(),
        "-o",
        &model.display().to_string(),
    ]);
    // Four augmented copies of each window are held as well.
    assert_code(&r, 1, "train over the limit");
    assert!(r.stderr.contains("--augment-copies"), "{}", r.stderr);
    assert!(!model.exists());
    assert_code(
        &tapir(&["extract", &data, "--max-windows", "0"]),
        2,
        "--max-windows 0",
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn classify_and_flows() {
    let dir = temp_dir("classify");
    let bad = garbage(&dir, "bad.pcap");
    let good = repo(CAPTURE);
    assert_code(&tapir(&["classify", &good]), 0, "classify good");
    assert_skipped(&tapir(&["classify", &good, &bad]), "classify good + bad");
    assert_code(
        &tapir(&["classify", "--strict", &bad, &good]),
        1,
        "classify strict",
    );
    assert_code(&tapir(&["classify", "--by", "nope", &good]), 2, "usage");

    assert_code(&tapir(&["flows", &good]), 0, "flows good");
    let r = tapir(&["flows", "--format", "jsonl", &good, &bad]);
    assert_skipped(&r, "flows good + bad");
    assert!(r.stdout.lines().count() > 0, "records of the good capture");
    assert_code(&tapir(&["flows", "--format", "nope", &good]), 2, "usage");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn analysis_commands() {
    let dir = temp_dir("analysis");
    let bad = garbage(&dir, "bad.jsonl");
    let good = repo("crates/analysis/tests/data/list-mail.jsonl");
    for cmd in ["watch", "volume", "sequence"] {
        assert_code(&tapir(&[cmd, &good]), 0, cmd);
        assert_skipped(&tapir(&[cmd, &good, &bad]), cmd);
        assert_code(&tapir(&[cmd, "--strict", &good, &bad]), 1, cmd);
        assert_code(&tapir(&[cmd, "--no-such-flag", &good]), 2, cmd);
    }
    let who = "ann@example.org";
    assert_code(&tapir(&["timeline", who, &good]), 0, "timeline");
    assert_skipped(&tapir(&["timeline", who, &good, &bad]), "timeline");
    assert_code(
        &tapir(&["timeline", "--no-such-flag", who, &good]),
        2,
        "timeline",
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mail() {
    let dir = temp_dir("mail");
    let good = repo("crates/mail/tests/data/list.mbox");
    let missing = dir.join("missing.mbox").display().to_string();
    assert_code(&tapir(&["mail", &good]), 0, "good");
    assert_skipped(&tapir(&["mail", &good, &missing]), "good + missing");
    assert_code(&tapir(&["mail", "--strict", &missing, &good]), 1, "strict");
    // Nothing readable at all: exit 1 and no empty table on stdout.
    let o = tapir(&["mail", &missing]);
    assert_code(&o, 1, "only missing");
    assert!(o.stdout.is_empty(), "{}", o.stdout);
    assert_code(&tapir(&["mail", "--no-such-flag", &good]), 2, "usage");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn defend() {
    let dir = temp_dir("defend");
    let bad = garbage(&dir, "bad.pcap");
    let good = repo(CAPTURE);
    let out = dir.join("d.trace").display().to_string();
    assert_code(
        &tapir(&["defend", &good, "-d", "pad-mtu", "-o", &out]),
        0,
        "good",
    );
    let _ = fs::remove_file(&out);
    let r = tapir(&["defend", &bad, "-d", "pad-mtu", "-o", &out]);
    assert_code(&r, 1, "bad");
    assert!(!Path::new(&out).exists());
    assert_code(&tapir(&["defend", &good, "-d", "nope"]), 2, "usage");
    fs::remove_dir_all(&dir).unwrap();
}
