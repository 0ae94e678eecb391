//! One file across cores: the rows come out as the one-thread path makes them, byte for byte,
//! whatever the number of workers, for every unit, with augmented copies, and when the sink
//! stops early.

use std::io::Write;
use std::path::{Path, PathBuf};
use tapir_dataset::{stream_file_formatted, Augmentation, ExtractSettings, RowRef, Visit};
use tapir_features::{Extractor, FeatureSpace, WindowSpec};
use tapir_flow::Unit;

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/sample")
        .join(rel)
}

/// The first file of a sample folder.
fn first(dir: &str) -> PathBuf {
    let mut v: Vec<_> = std::fs::read_dir(sample(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v.remove(0)
}

fn format(buf: &mut Vec<u8>, r: &RowRef<'_>) -> std::io::Result<()> {
    write!(
        buf,
        "{},{},{},{},{},{}",
        r.unit, r.unit_desc, r.index, r.copy, r.start.0, r.end.0
    )?;
    for v in r.features {
        write!(buf, ",{v}")?;
    }
    buf.push(b'\n');
    Ok(())
}

/// The bytes and the row count `stream_file_formatted` gives with `workers`, stopping after
/// `stop_after` chunks if given.
fn run(
    path: &Path,
    s: &ExtractSettings,
    workers: usize,
    stop_after: Option<usize>,
) -> (Vec<u8>, u64) {
    let ex = Extractor::new(&s.features).unwrap();
    let mut out = Vec::new();
    let mut rows = 0;
    let mut chunks = 0;
    let stats = stream_file_formatted(path, s, &ex, workers, &format, &mut |b, n| {
        out.extend_from_slice(&b);
        rows += n;
        chunks += 1;
        Ok(if stop_after == Some(chunks) {
            Visit::Stop
        } else {
            Visit::Continue
        })
    })
    .unwrap();
    assert!(stats.packets > 0);
    (out, rows)
}

#[test]
fn rows_are_the_same_on_one_two_and_five_workers() {
    let multi = first("plain/multi");
    let web = first("wireguard/web");
    let burst = ExtractSettings {
        space: FeatureSpace::Burst,
        window: WindowSpec::disjoint(64).unwrap(),
        ..Default::default()
    };
    let cases = [
        (multi.clone(), ExtractSettings::default()),
        (
            multi.clone(),
            ExtractSettings {
                unit: Unit::Flow,
                ..burst.clone()
            },
        ),
        (
            multi,
            ExtractSettings {
                unit: Unit::Pair,
                ..burst.clone()
            },
        ),
        (
            web,
            ExtractSettings {
                augment: Some(Augmentation {
                    spec: "default".parse().unwrap(),
                    copies: 2,
                    seed: 7,
                }),
                ..burst
            },
        ),
    ];
    for (path, s) in &cases {
        let (one, n) = run(path, s, 1, None);
        assert!(n > 2, "{}: {n} rows", path.display());
        assert_eq!(one.iter().filter(|&&b| b == b'\n').count() as u64, n);
        for workers in [2, 5] {
            let (many, m) = run(path, s, workers, None);
            assert_eq!(m, n, "{} workers, {}", workers, path.display());
            assert!(
                many == one,
                "{workers} workers, {}: other bytes",
                path.display()
            );
        }
    }
}

#[test]
fn a_sink_that_stops_ends_the_file_on_any_number_of_workers() {
    let s = ExtractSettings {
        space: FeatureSpace::Burst,
        window: WindowSpec::disjoint(16).unwrap(),
        ..Default::default()
    };
    let path = first("plain/multi");
    let (all, n) = run(&path, &s, 1, None);
    for workers in [1, 2, 3] {
        let (some, m) = run(&path, &s, workers, Some(1));
        assert!(m > 0 && m < n, "{workers} workers: {m} of {n} rows");
        assert!(
            all.starts_with(&some),
            "{workers} workers: not the first rows"
        );
    }
}
