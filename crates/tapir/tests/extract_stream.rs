//! `tapir extract` writes rows as they are made: the same rows as the sorted, in-memory
//! extraction, in the order windows end, the same bytes on any number of threads, and the bounds
//! on live state counted on stderr.

mod common;

use common::{repo_path as repo, temp_dir, Pcap};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tapir_dataset::{discover, extract_all, ExtractSettings};
use tapir_features::{FeatureSpace, WindowSpec};
use tapir_flow::Unit;

fn tapir_env(args: &[&str], threads: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tapir"));
    c.args(args);
    if let Some(t) = threads {
        c.env("RAYON_NUM_THREADS", t);
    }
    c.output().expect("run tapir")
}

fn tapir(args: &[&str]) -> Output {
    tapir_env(args, None)
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Three flows whose packets interleave, with sizes that differ by flow and packet: the flow
/// that starts last fills its windows first, so the order windows end in is not the sorted one.
fn interleaved(path: &Path) {
    let mut p = Pcap::new();
    let t0 = 1_700_000_000_000_000u64;
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let mut t = t0;
    for i in 0..64usize {
        t += 1000;
        p.udp(t, a, b, 5000, 53, 20 + i % 7);
        if i % 4 == 0 {
            t += 700;
            p.udp(t, b, a, 6000, 7000, 300 + i);
        }
        t += 300;
        p.udp(t, a, [10, 0, 0, 3], 4000 + (i as u16 % 2), 443, 900 - i);
    }
    fs::write(path, p.0).unwrap();
}

/// A folder with two captures of the sample and the interleaved one.
fn dataset(tag: &str) -> PathBuf {
    let dir = temp_dir(tag);
    let web = dir.join("web");
    fs::create_dir_all(&web).unwrap();
    let sample = repo("data/sample/plain/voip");
    let mut names: Vec<_> = fs::read_dir(&sample)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for src in names.iter().take(2) {
        fs::copy(src, web.join(src.file_name().unwrap())).unwrap();
    }
    interleaved(&web.join("interleaved.pcap"));
    dir
}

/// The streamed rows of every file are the rows the in-memory extraction sorts by (unit,
/// window), file by file in the same order, and each unit's windows come in order. The
/// interleaved capture's rows are in the order its windows end, which is not the sorted one.
#[test]
fn streamed_rows_are_the_sorted_rows_in_the_order_windows_end() {
    let dir = dataset("same");
    let d = dir.display().to_string();
    let out = ok(&tapir(&[
        "extract",
        &d,
        "--by",
        "flow",
        "--window",
        "16",
        "--features",
        "burst",
        "--format",
        "jsonl",
    ]));
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let settings = ExtractSettings {
        unit: Unit::Flow,
        window: WindowSpec::disjoint(16).unwrap(),
        space: FeatureSpace::Burst,
        ..ExtractSettings::default()
    };
    let sources = discover(std::slice::from_ref(&dir)).unwrap();
    let results = extract_all(&sources, &settings, &|_, _| {}).unwrap();
    // The JSON lines carry one key per feature, named as the CSV's columns.
    let names = tapir_features::feature_names(settings.space, &settings.features).unwrap();
    let mut streamed = rows.iter().peekable();
    let mut interleaved_order = Vec::new();
    for (src, res) in sources.iter().zip(&results) {
        let f = res.result.as_ref().unwrap();
        let file = src.path.display().to_string();
        // This file's block of streamed rows.
        let mut mine = Vec::new();
        while let Some(r) = streamed.next_if(|r| r["file"] == file.as_str()) {
            mine.push(r);
        }
        assert_eq!(mine.len(), f.rows.len(), "{file}");
        assert!(!mine.is_empty(), "{file} gives windows");
        let key = |unit: &str, index: u64| (unit.to_string(), index);
        let mut got: HashMap<(String, u64), Vec<f32>> = HashMap::new();
        let mut last_index: HashMap<String, u64> = HashMap::new();
        for r in &mine {
            let unit = r["unit"].as_str().unwrap();
            let index = r["window"].as_u64().unwrap();
            if let Some(prev) = last_index.insert(unit.to_string(), index) {
                assert!(index > prev, "{file} {unit}: window {index} after {prev}");
            }
            let feats = names
                .iter()
                .map(|n| r[n.as_str()].as_f64().unwrap() as f32)
                .collect();
            got.insert(key(unit, index), feats);
            if file.ends_with("interleaved.pcap") {
                interleaved_order.push(key(unit, index));
            }
        }
        for w in &f.rows {
            let k = key(&f.units[&w.unit], u64::from(w.index));
            assert_eq!(got.get(&k), Some(&w.features), "{file} {k:?}");
        }
    }
    assert!(streamed.next().is_none(), "no rows of unknown files");
    let mut sorted = interleaved_order.clone();
    sorted.sort_by_key(|(unit, index)| {
        let first = interleaved_order.iter().position(|(u, _)| u == unit);
        (first, *index)
    });
    assert_ne!(
        interleaved_order, sorted,
        "windows end out of (unit, window) order in the interleaved capture"
    );
    let _ = fs::remove_dir_all(&dir);
}

/// One thread or two: the same bytes, and the output file is whole.
#[test]
fn the_same_output_on_one_and_two_threads() {
    let dir = dataset("threads");
    let d = dir.display().to_string();
    let mut outs = Vec::new();
    for t in ["1", "2"] {
        let o = dir.join(format!("t{t}.csv"));
        let os = o.display().to_string();
        ok(&tapir_env(
            &["extract", &d, "--by", "flow", "--window", "16", "-o", &os],
            Some(t),
        ));
        outs.push(fs::read(&o).unwrap());
    }
    assert_eq!(outs[0], outs[1]);
    let text = String::from_utf8_lossy(&outs[0]);
    assert!(text.lines().count() > 10, "{} lines", text.lines().count());
    let _ = fs::remove_dir_all(&dir);
}

/// 50 one-packet flows beside a long flow, through a table of 8: each new flow past the eighth
/// pushes out the least recently seen one (43 in all, never the long flow, whose windows all
/// come out), and the summary and a warning say so with the flag to change.
#[test]
fn evicted_units_are_counted_on_stderr() {
    let dir = temp_dir("evict");
    let mut p = Pcap::new();
    let t0 = 1_700_000_000_000_000u64;
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    for i in 0..50u16 {
        let t = t0 + u64::from(i) * 1000;
        p.udp(t, a, b, 5000, 53, 20);
        p.udp(t + 500, a, [10, 0, 0, 9], 10_000 + i, 9999, 10);
    }
    let f = dir.join("many.pcap");
    fs::write(&f, &p.0).unwrap();
    let fs_ = f.display().to_string();
    let o = tapir(&[
        "extract",
        &fs_,
        "--by",
        "flow",
        "--window",
        "10",
        "--format",
        "jsonl",
        "--max-units",
        "8",
    ]);
    let out = ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("51 flows, at most 8 live at once (--max-units 8), 43 ended early"),
        "{err}"
    );
    assert!(
        err.contains("43 units ended early because 8 were live at once"),
        "{err}"
    );
    // The long flow's 50 packets: five windows of 10, none lost to the evictions.
    let long = out.lines().filter(|l| l.contains(":5000 >")).count();
    assert_eq!(long, 5, "{out}");
    // With the default cap nothing is evicted and no warning is given.
    let o = tapir(&["extract", &fs_, "--by", "flow", "--window", "10"]);
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("at most 51 live at once"), "{err}");
    assert!(err.contains(", 0 ended early"), "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(
        tapir(&["extract", &fs_, "--max-units", "0"]).status.code(),
        Some(2)
    );
    let _ = fs::remove_dir_all(&dir);
}
