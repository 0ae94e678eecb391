//! Extraction throughput in packets per second, per feature space, on a synthetic mixed window
//! (bulk downloads with ACKs, small VoIP-like packets both ways, idle gaps).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use tapir_capture::{Direction, Timestamp, TracePacket};
use tapir_features::{Extractor, FeatureConfig, FeatureSpace, WindowSpec, Windower};

/// A deterministic pseudo-random trace (xorshift), so runs are comparable.
fn trace(n: usize) -> Vec<TracePacket> {
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut t: i64 = 0;
    (0..n)
        .map(|_| {
            let r = next();
            let gap = match r % 10 {
                0 => 150_000_000 + (r >> 40) as i64 % 1_000_000_000,
                1..=4 => 20_000_000,
                _ => (r >> 20) as i64 % 200_000,
            };
            t += gap;
            let dir = if (r >> 8) % 3 == 0 {
                Direction::Up
            } else {
                Direction::Down
            };
            let size = match (r >> 12) % 4 {
                0 => 52,
                1 => 1500,
                _ => 60 + ((r >> 16) % 1400) as u32,
            };
            TracePacket::new(Timestamp(t), size, dir)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let packets = trace(64 * 1024);
    let ex = Extractor::new(&FeatureConfig::default()).expect("default config is valid");
    let mut g = c.benchmark_group("extract");
    g.throughput(Throughput::Elements(packets.len() as u64));
    for space in FeatureSpace::ALL {
        let mut out = vec![0.0f32; ex.dim(space)];
        g.bench_function(space.name(), |b| {
            b.iter(|| {
                for w in packets.chunks_exact(1024) {
                    ex.extract_into(space, black_box(w), &mut out)
                        .expect("output sized by dim");
                }
                black_box(&out);
            })
        });
    }
    // Windowing plus combined extraction, as the pipeline runs it.
    let mut out = vec![0.0f32; ex.dim(FeatureSpace::Combined)];
    g.bench_function("window+combined", |b| {
        b.iter(|| {
            let mut w = Windower::new(WindowSpec::DEFAULT);
            for &p in &packets {
                if let Some(win) = w.push(p) {
                    ex.extract_into(FeatureSpace::Combined, win, &mut out)
                        .expect("output sized by dim");
                }
            }
            black_box(&out);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
