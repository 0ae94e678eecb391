//! What a defence costs, measured exactly from its input and output.

use crate::{Direction, Pkt, TracePacket};
use serde::Serialize;

/// Costs of one defended trace.
///
/// Latency is per real packet: the time from when the sender handed it over to when its last
/// byte left in the defended stream. Real bytes of one direction stay in order through every
/// defence, so the k-th real byte out is the k-th real byte in.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Costs {
    /// Real packets in.
    pub real_packets: u64,
    /// Real bytes in.
    pub real_bytes: u64,
    /// Packets out (real, padded and dummies).
    pub out_packets: u64,
    /// Bytes out.
    pub out_bytes: u64,
    /// Packets out that carry no real byte.
    pub dummy_packets: u64,
    /// Median latency added to a real packet, in nanoseconds.
    pub latency_median_ns: i64,
    /// 99th percentile of the added latency.
    pub latency_p99_ns: i64,
    /// Largest added latency.
    pub latency_max_ns: i64,
    /// How much later the defended trace ends than the real one (nanoseconds, ≥ 0 unless the
    /// defence stops cover traffic early).
    pub extra_duration_ns: i64,
    /// Real bytes in that never came out (0 for every defence here; the meter checks).
    pub lost_bytes: u64,
}

impl Costs {
    /// Bandwidth overhead: extra bytes per real byte ((out − real) / real).
    pub fn overhead(&self) -> f64 {
        if self.real_bytes == 0 {
            return 0.0;
        }
        (self.out_bytes as f64 - self.real_bytes as f64) / self.real_bytes as f64
    }

    /// Wasted capacity: the share of bytes out that are not real (padding and dummies).
    pub fn wasted_share(&self) -> f64 {
        if self.out_bytes == 0 {
            return 0.0;
        }
        1.0 - self.real_bytes.min(self.out_bytes) as f64 / self.out_bytes as f64
    }
}

/// Accumulates a defence's input and output and works out its [`Costs`].
#[derive(Debug, Default)]
pub struct Meter {
    costs: Costs,
    /// Per direction (up, down): cumulative real bytes in at the end of each real packet, with
    /// its arrival time; consumed as real bytes come out.
    pending: [std::collections::VecDeque<(u64, i64)>; 2],
    real_in: [u64; 2],
    real_out: [u64; 2],
    latencies: Vec<i64>,
    last_in: Option<i64>,
    last_out: Option<i64>,
}

fn side(d: Direction) -> usize {
    match d {
        Direction::Up => 0,
        Direction::Down => 1,
    }
}

impl Meter {
    /// A real packet as the sender handed it over.
    pub fn input(&mut self, p: &TracePacket) {
        let s = side(p.dir);
        self.costs.real_packets += 1;
        self.costs.real_bytes += u64::from(p.size);
        self.real_in[s] += u64::from(p.size);
        self.pending[s].push_back((self.real_in[s], p.ts.as_nanos()));
        self.last_in = Some(p.ts.as_nanos());
    }

    /// A packet the defence emitted.
    pub fn output(&mut self, p: &Pkt) {
        let s = side(p.dir);
        self.costs.out_packets += 1;
        self.costs.out_bytes += u64::from(p.size);
        if p.real == 0 {
            self.costs.dummy_packets += 1;
        }
        self.real_out[s] += u64::from(p.real);
        let t = p.ts.as_nanos();
        while let Some(&(end, arrived)) = self.pending[s].front() {
            if end > self.real_out[s] {
                break;
            }
            self.latencies.push(t - arrived);
            self.pending[s].pop_front();
        }
        self.last_out = Some(self.last_out.map_or(t, |l| l.max(t)));
    }

    /// The costs so far.
    pub fn costs(&self) -> Costs {
        let mut c = self.costs.clone();
        let mut l = self.latencies.clone();
        l.sort_unstable();
        let q = |f: f64| {
            l.get(((l.len() as f64 - 1.0) * f).round() as usize)
                .copied()
        };
        c.latency_median_ns = q(0.5).unwrap_or(0);
        c.latency_p99_ns = q(0.99).unwrap_or(0);
        c.latency_max_ns = l.last().copied().unwrap_or(0);
        c.extra_duration_ns = match (self.last_in, self.last_out) {
            (Some(i), Some(o)) => o - i,
            _ => 0,
        };
        c.lost_bytes = (self.real_in[0] - self.real_out[0].min(self.real_in[0]))
            + (self.real_in[1] - self.real_out[1].min(self.real_in[1]));
        c
    }
}
