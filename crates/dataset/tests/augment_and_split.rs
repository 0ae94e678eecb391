//! Windows as training sees them: augmented copies beside each window, and offload-coalesced
//! packets split at the MTU before windowing.

use std::path::{Path, PathBuf};
use tapir_capture::TracePacket;
use tapir_dataset::{extract_file, visit_packets, Augmentation, ExtractSettings, UnitEvent, Visit};
use tapir_features::{Coalesced, Extractor, FeatureConfig, WindowSpec};

/// `name.trace` in a folder of this test process: the file name, which seeds augmented copies,
/// is the same on every run.
fn trace(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tapir-ds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.trace"));
    std::fs::write(&p, text).unwrap();
    p
}

fn packets(path: &Path, settings: &ExtractSettings) -> Vec<TracePacket> {
    let mut v = Vec::new();
    visit_packets(path, settings, &mut |ev| {
        if let UnitEvent::Packet { packet, .. } = ev {
            v.push(packet);
        }
        Ok(Visit::Continue)
    })
    .unwrap();
    v
}

#[test]
fn coalesced_packets_are_split_at_the_mtu_before_windowing() {
    // A 4000-byte "packet" (GRO) 1 ms after a 100-byte one: 1500 + 1500 + 1000 bytes, the last
    // at its timestamp, the others 12 µs apart before it.
    let p = trace("gro", "0.000000 100\n0.001000 -4000\n0.002000 52\n");
    let split = packets(&p, &ExtractSettings::default());
    let got: Vec<(i64, i64)> = split.iter().map(|q| (q.ts.0, q.signed_size())).collect();
    assert_eq!(
        got,
        vec![
            (0, 100),
            (976_000, -1500),
            (988_000, -1500),
            (1_000_000, -1000),
            (2_000_000, 52)
        ]
    );
    let keep = ExtractSettings {
        features: FeatureConfig {
            coalesced: Coalesced::Keep,
            ..FeatureConfig::default()
        },
        ..ExtractSettings::default()
    };
    assert_eq!(packets(&p, &keep).len(), 3);
    std::fs::remove_file(&p).unwrap();
}

#[test]
fn augmented_copies_follow_each_window_and_are_reproducible() {
    let mut text = String::new();
    for i in 0..64 {
        let size = if i % 3 == 0 { 52 } else { -1400 };
        text.push_str(&format!("{:.6} {size}\n", i as f64 * 0.001));
    }
    let p = trace("aug", &text);
    let settings = ExtractSettings {
        window: WindowSpec::disjoint(16).unwrap(),
        augment: Some(Augmentation {
            spec: "default".parse().unwrap(),
            copies: 3,
            seed: 5,
        }),
        ..ExtractSettings::default()
    };
    let ex = Extractor::new(&settings.features).unwrap();
    let a = extract_file(&p, 0, &settings, &ex).unwrap();
    // 4 windows, each followed by its 3 copies.
    assert_eq!(a.rows.len(), 16);
    let order: Vec<(u32, u32)> = a.rows.iter().map(|r| (r.index, r.copy)).collect();
    assert_eq!(&order[..5], &[(0, 0), (0, 1), (0, 2), (0, 3), (1, 0)]);
    // A copy may land in the same bins as its window by chance; over all windows most do not.
    let changed = a
        .rows
        .iter()
        .filter(|r| r.copy > 0)
        .filter(|r| {
            let orig = a.rows.iter().find(|o| o.index == r.index && o.copy == 0);
            orig.is_some_and(|o| o.features != r.features)
        })
        .count();
    assert!(
        changed >= 6,
        "{changed} of 12 copies differ from their window"
    );
    let b = extract_file(&p, 7, &settings, &ex).unwrap();
    for (x, y) in a.rows.iter().zip(&b.rows) {
        assert_eq!(x.features, y.features, "same file and seed, same copies");
    }
    let plain = extract_file(
        &p,
        0,
        &ExtractSettings {
            augment: None,
            ..settings.clone()
        },
        &ex,
    )
    .unwrap();
    assert_eq!(plain.rows.len(), 4);
    assert_eq!(
        plain.rows[2].features, a.rows[8].features,
        "originals unchanged"
    );
    std::fs::remove_file(&p).unwrap();
}
