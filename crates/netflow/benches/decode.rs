//! Decoding speed of softflowd's real export packets (tests/data): records per second, templates
//! learned once, as a collector sees them.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::path::Path;
use tapir_capture::CaptureReader;
use tapir_netflow::{udp_payload, Decoder};

/// The UDP payloads of one recorded export capture.
fn payloads(name: &str) -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let mut r = CaptureReader::open(&path).expect("test data");
    let mut out = Vec::new();
    while let Some(Ok(p)) = r.next_packet() {
        if let Ok(ip) = p.decode() {
            if let Some(b) = udp_payload(p.data, &ip) {
                out.push(b.to_vec());
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("netflow_decode");
    for (name, label) in [
        ("softflowd-v5-lo-http.pcap", "v5"),
        ("softflowd-v9-lo-http.pcap", "v9"),
        ("softflowd-v10-lo-http.pcap", "ipfix"),
    ] {
        let pk = payloads(name);
        let mut d = Decoder::new(64);
        let per_round: usize = pk
            .iter()
            .map(|p| {
                d.decode("127.0.0.1".parse().unwrap(), p)
                    .map_or(0, |r| r.len())
            })
            .sum();
        g.throughput(Throughput::Elements(per_round as u64));
        let exporter = "127.0.0.1".parse().unwrap();
        g.bench_function(label, |b| {
            b.iter(|| {
                let mut n = 0;
                for p in &pk {
                    n += d.decode(exporter, p).map_or(0, |r| r.len());
                }
                black_box(n)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
