//! Extraction throughput measured in CPU time rather than wall time, so that the figure stays
//! meaningful on a machine shared with other work (Linux: reads `/proc/thread-self/schedstat`;
//! elsewhere falls back to wall time).
//!
//! `cargo run --release -p tapir-features --example throughput`

use std::time::Instant;
use tapir_capture::{Direction, Timestamp, TracePacket};
use tapir_features::{Extractor, FeatureConfig, FeatureSpace};

/// Nanoseconds this thread has spent on a CPU, if the kernel says.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Same synthetic mix as the criterion bench: bulk transfers with ACKs, VoIP-like packets,
/// idle gaps; deterministic.
fn trace(n: usize) -> Vec<TracePacket> {
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut t: i64 = 0;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let r = s;
            t += match r % 10 {
                0 => 150_000_000 + (r >> 40) as i64 % 1_000_000_000,
                1..=4 => 20_000_000,
                _ => (r >> 20) as i64 % 200_000,
            };
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

fn main() -> Result<(), tapir_features::FeatureError> {
    let packets = trace(256 * 1024);
    let ex = Extractor::new(&FeatureConfig::default())?;
    for space in FeatureSpace::ALL {
        let mut out = vec![0.0f32; ex.dim(space)];
        let rounds = 40;
        let (c0, w0) = (cpu_ns(), Instant::now());
        for _ in 0..rounds {
            for w in packets.chunks_exact(1024) {
                ex.extract_into(space, w, &mut out)?;
            }
        }
        let wall = w0.elapsed().as_nanos() as f64;
        let cpu = match (c0, cpu_ns()) {
            (Some(a), Some(b)) if b > a => (b - a) as f64,
            _ => wall,
        };
        let n = (rounds * packets.len()) as f64;
        println!(
            "{:<9} {:>6.1} M packets/s per CPU-second ({:>6.1} M/s wall), checksum {:.3}",
            space.name(),
            n / cpu * 1e3,
            n / wall * 1e3,
            out.iter().sum::<f32>()
        );
    }
    Ok(())
}
