//! The limit on windows held in memory (`ExtractSettings::max_windows`): one file or many read
//! in parallel, augmented copies counted, windows of units dropped by `min_packets` freed.

use std::path::PathBuf;
use tapir_dataset::{
    discover, extract_all, extract_file, Augmentation, DatasetError, ExtractSettings,
    DEFAULT_MAX_WINDOWS,
};
use tapir_features::{Extractor, WindowSpec};

/// A folder with `files` traces of `packets` packets each.
fn traces(tag: &str, files: usize, packets: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tapir-ds-limit-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in 0..files {
        let mut text = String::new();
        for i in 0..packets {
            let size = if i % 3 == 0 { 52 } else { -1400 };
            text.push_str(&format!("{:.6} {size}\n", i as f64 * 0.001));
        }
        std::fs::write(dir.join(format!("t{f}.trace")), text).unwrap();
    }
    dir
}

fn settings(max_windows: usize) -> ExtractSettings {
    ExtractSettings {
        window: WindowSpec::disjoint(16).unwrap(),
        max_windows,
        ..ExtractSettings::default()
    }
}

#[test]
fn the_default_is_a_million_windows() {
    assert_eq!(ExtractSettings::default().max_windows, DEFAULT_MAX_WINDOWS);
    assert_eq!(DEFAULT_MAX_WINDOWS, 1_000_000);
}

#[test]
fn one_file_holds_at_most_the_limit() {
    let dir = traces("one", 1, 64);
    let path = dir.join("t0.trace");
    let ex = Extractor::new(&settings(4).features).unwrap();
    // 64 packets: 4 windows of 16, exactly the limit.
    assert_eq!(
        extract_file(&path, 0, &settings(4), &ex)
            .unwrap()
            .rows
            .len(),
        4
    );
    let e = extract_file(&path, 0, &settings(3), &ex).unwrap_err();
    assert!(
        matches!(e, DatasetError::TooManyWindows { limit: 3 }),
        "{e}"
    );
    assert!(e.to_string().contains("more than 3 windows"), "{e}");
    // Augmented copies are held too: 4 windows and 4 × 2 copies.
    let aug = ExtractSettings {
        augment: Some(Augmentation {
            spec: "default".parse().unwrap(),
            copies: 2,
            seed: 1,
        }),
        ..settings(11)
    };
    assert!(matches!(
        extract_file(&path, 0, &aug, &ex),
        Err(DatasetError::TooManyWindows { limit: 11 })
    ));
    let aug = ExtractSettings {
        max_windows: 12,
        ..aug
    };
    assert_eq!(extract_file(&path, 0, &aug, &ex).unwrap().rows.len(), 12);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_read_together_share_the_limit() {
    let dir = traces("many", 6, 64);
    let sources = discover(std::slice::from_ref(&dir)).unwrap();
    assert_eq!(sources.len(), 6);
    // 6 files × 4 windows = 24.
    let ok = extract_all(&sources, &settings(24), &|_, _| {}).unwrap();
    let rows: usize = ok
        .iter()
        .map(|r| r.result.as_ref().unwrap().rows.len())
        .sum();
    assert_eq!(rows, 24);
    // One window short: the whole call fails, whatever order the threads ran in.
    for _ in 0..3 {
        let e = extract_all(&sources, &settings(23), &|_, _| {}).unwrap_err();
        assert!(
            matches!(e, DatasetError::TooManyWindows { limit: 23 }),
            "{e}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn windows_of_units_dropped_by_min_packets_are_freed() {
    // A short trace (2 windows, dropped by `min_packets`) read before two of 64 packets (4
    // windows each), one file at a time: the 8 windows kept fit a limit of 8 only if the
    // short trace's windows were let go.
    let dir = traces("min", 2, 64);
    let mut text = String::new();
    for i in 0..32 {
        text.push_str(&format!("{:.6} 100\n", i as f64 * 0.001));
    }
    std::fs::write(dir.join("short.trace"), text).unwrap();
    let sources = discover(std::slice::from_ref(&dir)).unwrap();
    assert!(sources[0].path.ends_with("short.trace"));
    let s = ExtractSettings {
        min_packets: 64,
        ..settings(8)
    };
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let r = one_thread
        .install(|| extract_all(&sources, &s, &|_, _| {}))
        .unwrap();
    let rows: usize = r
        .iter()
        .map(|r| r.result.as_ref().unwrap().rows.len())
        .sum();
    assert_eq!(rows, 8);
    std::fs::remove_dir_all(&dir).unwrap();
}
