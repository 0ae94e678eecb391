//! Every machine-readable output of tapir (CSV and JSON lines) loads in pandas and DuckDB as it
//! is: the same columns in CSV and JSON lines, flat columns, no comment line inside a `.jsonl`,
//! time columns in the documented unit. The outputs are written here from small inputs of the
//! repository; `scripts/check_outputs.py` loads them in a Python environment that
//! `scripts/test-deps.sh` sets up from `scripts/requirements-test.txt` (pip, PyPI).
//!
//! Without Python packages the test fails when `CI` is set (as `.ci/run` runs) and is skipped
//! with a message otherwise.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Outputs that do not pass yet, with what is wrong. The test fails when one of them passes, so
/// that the entry is removed with the fix.
const KNOWN_BAD: &[(&str, &str)] = &[];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn repo(rel: &str) -> String {
    root().join(rel).display().to_string()
}

/// Runs tapir and asserts that it succeeded.
fn tapir(args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .output()
        .expect("run tapir");
    assert!(
        o.status.success(),
        "tapir {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs tapir with stdout into `out`.
fn tapir_to(args: &[&str], out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .output()
        .expect("run tapir");
    assert!(
        o.status.success(),
        "tapir {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    fs::write(out, &o.stdout).unwrap();
}

/// The Python with pandas and DuckDB, or why there is none.
fn python() -> Result<PathBuf, String> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-test-deps");
    let o = Command::new("bash")
        .arg(root().join("scripts/test-deps.sh"))
        .arg(&venv)
        .output()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "scripts/test-deps.sh failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
}

struct Output {
    name: &'static str,
    csv: Option<PathBuf>,
    jsonl: Option<PathBuf>,
    /// As docs/flows.md says of flow records: integer nanoseconds since the epoch.
    time_unit: &'static str,
}

/// Writes every output from small inputs of the repository.
fn write_outputs(dir: &Path) -> Vec<Output> {
    let capture = repo("data/sample/plain/multi/video_web-31243478.pcap.zst");
    let background = repo("data/sample/plain/background/background-485dfb1a.pcap.zst");
    // A watchlist the background capture hits: watch's outputs then mix hits and talkers.
    let watchlist = dir.join("watchlist.txt");
    fs::write(&watchlist, "10.78.11.0/24 lab-servers\n").unwrap();
    let watchlist = watchlist.display().to_string();
    let mail_events = repo("crates/analysis/tests/data/list-mail.jsonl");
    let mbox = repo("crates/mail/tests/data/list.mbox");
    let voip = repo("data/sample/plain/voip");
    let p = |name: &str| dir.join(name);
    let s = |path: &PathBuf| path.display().to_string();
    let mut outs = Vec::new();
    let both = |name: &'static str, args: &[&str]| {
        let (csv, jsonl) = (p(&format!("{name}.csv")), p(&format!("{name}.jsonl")));
        let mut a: Vec<&str> = args.to_vec();
        let (c, j) = (s(&csv), s(&jsonl));
        a.extend(["--format", "csv", "-o", &c]);
        tapir(&a);
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--format", "jsonl", "-o", &j]);
        tapir(&a);
        Output {
            name,
            csv: Some(csv),
            jsonl: Some(jsonl),
            time_unit: "ns",
        }
    };
    outs.push(both("flows", &["flows", &capture, &background]));
    let mut extract = both("extract", &["extract", &voip, "--window", "256"]);
    // Window times are seconds from the start of their trace.
    extract.time_unit = "s (relative)";
    outs.push(extract);
    outs.push(both(
        "watch",
        &["watch", &capture, &background, "--watchlist", &watchlist],
    ));
    outs.push(both(
        "volume",
        &["volume", &capture, &background, "--interval", "10s"],
    ));
    outs.push(both(
        "sequence",
        &["sequence", &mail_events, "--occurrences"],
    ));
    outs.push(both("timeline", &["timeline", "10.77.9.1", &capture]));

    let jsonl_only = |name: &'static str| Output {
        name,
        csv: None,
        jsonl: Some(p(&format!("{name}.jsonl"))),
        time_unit: "ns",
    };
    tapir_to(
        &["inspect", &capture, &background, "--json"],
        &p("inspect.jsonl"),
    );
    outs.push(jsonl_only("inspect"));
    // Window lines, then summary lines only.
    for (name, extra) in [("classify", None), ("classify-summary", Some("--summary"))] {
        let out = s(&p(&format!("{name}.jsonl")));
        let mut args = vec!["classify", &capture, "--by", "flow", "-o", &out];
        args.extend(extra);
        tapir(&args);
        outs.push(jsonl_only(name));
    }
    tapir(&[
        "mail",
        &mbox,
        "--json",
        "-o",
        &s(&p("mail.jsonl")),
        "--events",
        &s(&p("mail-events.jsonl")),
    ]);
    outs.push(jsonl_only("mail"));
    outs.push(jsonl_only("mail-events"));
    tapir(&[
        "volume",
        &capture,
        &background,
        "--interval",
        "10s",
        "--counts",
        &s(&p("volume-counts.csv")),
    ]);
    outs.push(Output {
        name: "volume-counts",
        csv: Some(p("volume-counts.csv")),
        jsonl: None,
        time_unit: "ns",
    });
    outs
}

#[test]
fn outputs_load_in_pandas_and_duckdb_as_they_are() {
    let python = match python() {
        Ok(p) => p,
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("CI needs the Python test packages: {why}")
        }
        Err(why) => {
            eprintln!("skipped: no Python with pandas and DuckDB here ({why})");
            return;
        }
    };
    let dir = std::env::temp_dir().join(format!("tapir-outputs-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let outputs = write_outputs(&dir);
    let manifest: Vec<serde_json::Value> = outputs
        .iter()
        .map(|o| {
            serde_json::json!({
                "name": o.name,
                "csv": o.csv.as_ref().map(|p| p.display().to_string()),
                "jsonl": o.jsonl.as_ref().map(|p| p.display().to_string()),
                "time_unit": o.time_unit,
            })
        })
        .collect();
    let manifest_path = dir.join("manifest.json");
    fs::write(&manifest_path, serde_json::to_string(&manifest).unwrap()).unwrap();
    let o = Command::new(&python)
        .arg(root().join("scripts/check_outputs.py"))
        .arg(&manifest_path)
        .output()
        .expect("run python");
    let report = String::from_utf8_lossy(&o.stdout).into_owned();
    eprintln!("{report}");
    assert!(
        o.status.success(),
        "check_outputs.py failed:\n{report}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut wrong = Vec::new();
    for out in &outputs {
        let line = report
            .lines()
            .find(|l| {
                l.strip_prefix("ok ")
                    .or_else(|| l.strip_prefix("bad "))
                    .is_some_and(|rest| {
                        rest == out.name || rest.starts_with(&format!("{}:", out.name))
                    })
            })
            .unwrap_or_else(|| panic!("no verdict on {} in:\n{report}", out.name));
        let known = KNOWN_BAD.iter().find(|(n, _)| *n == out.name);
        match (line.starts_with("ok "), known) {
            (true, Some(_)) => {
                wrong.push(format!("{} passes now: remove it from KNOWN_BAD", out.name))
            }
            (false, None) => wrong.push(line.to_string()),
            _ => {}
        }
    }
    let _ = fs::remove_dir_all(&dir);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
