//! Capture → combined features, end to end: read, decode, assemble, window, extract.
//!
//! `cargo bench -p tapir-dataset --bench pipeline` — the figure to read is `elem/s`, packets per
//! second on one core (one file is read by one thread).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "support/synth.rs"]
mod synth;
use synth::write_capture;
use tapir_dataset::{extract_file, ExtractSettings};
use tapir_features::{Extractor, FeatureConfig};
use tapir_flow::Unit;

fn bench(c: &mut Criterion) {
    let count = 1_000_000usize;
    let path =
        std::env::temp_dir().join(format!("tapir-bench-pipeline-{}.pcap", std::process::id()));
    write_capture(&path, count);
    let extractor = Extractor::new(&FeatureConfig::default()).unwrap();
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.throughput(Throughput::Elements(count as u64));
    for unit in [Unit::Capture, Unit::Flow] {
        let settings = ExtractSettings {
            unit,
            ..Default::default()
        };
        group.bench_function(format!("capture-to-combined/{unit}"), |b| {
            b.iter(|| {
                let fw = extract_file(&path, 0, &settings, &extractor).unwrap();
                assert_eq!(fw.packets, count as u64);
                fw.rows.len()
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, bench);
criterion_main!(benches);
