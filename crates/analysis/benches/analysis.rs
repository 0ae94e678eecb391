//! Throughput of the analyses on generated events: flows through a watchlist of 10,000 prefixes
//! plus a sensitive host, per-host volume counting and detection, and the fan-out search over
//! mail. `cargo bench -p tapir-analysis`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use tapir_analysis::{
    infer_groups, parse_sensitive, Event, Grouping, Metric, PatternSet, SequenceConfig,
    VolumeConfig, VolumeCounter, WatchConfig, Watcher,
};
use tapir_capture::Timestamp;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const N: usize = 200_000;

/// 200,000 flows over a day among 5,000 clients and 20,000 servers.
fn flows() -> Vec<Event> {
    let mut r = Rng(7);
    (0..N)
        .map(|i| {
            let t = Timestamp(i as i64 * 432_000_000);
            let c = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + r.below(5000) as u32));
            let s = IpAddr::V4(Ipv4Addr::from(0xc612_0000 + r.below(20_000) as u32));
            Event::flow(t, t, (c, 40000), (s, 443), 6, 800, 20_000, 30)
        })
        .collect()
}

fn mail() -> Vec<Event> {
    let mut r = Rng(11);
    (0..N)
        .map(|i| {
            let t = Timestamp(i as i64 * 432_000_000);
            let a = format!("u{}@d{}.org", r.below(2000), r.below(50));
            let b = format!("u{}@d{}.org", r.below(2000), r.below(50));
            Event::mail(t, &a, &b, 1000 + r.below(100_000))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let ev = flows();
    let mut list = String::new();
    for i in 0..10_000u32 {
        list.push_str(&format!(
            "{}/24 c2-{i}\n",
            Ipv4Addr::from(0xc612_0000 + (i << 8))
        ));
    }
    let watchlist = PatternSet::parse(&list, "bench").unwrap();
    let mut g = c.benchmark_group("analysis");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("watch 10k prefixes + sensitive host", |b| {
        b.iter_batched(
            || {
                Watcher::new(WatchConfig {
                    watchlist: watchlist.clone(),
                    sensitive: parse_sensitive(&["10.0.0.42".into()]).unwrap(),
                    baseline_ns: 3_600_000_000_000,
                })
            },
            |mut w| {
                for e in &ev {
                    w.push(e);
                }
                black_box(w.finish())
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("volume by host, 1m", |b| {
        b.iter(|| {
            let mut v = VolumeCounter::new(VolumeConfig::new(
                Grouping::Host,
                Metric::Flows,
                60_000_000_000,
            ))
            .unwrap();
            for e in &ev {
                v.add(e);
            }
            black_box(v.finish().events.len())
        })
    });
    let m = mail();
    g.bench_function("sequence over mail", |b| {
        b.iter(|| {
            black_box(
                infer_groups(&m, &SequenceConfig::default())
                    .unwrap()
                    .groups
                    .len(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
