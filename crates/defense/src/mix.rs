//! Intervening hops that delay and batch: random per-packet delays and mixes (Chaum, "Untraceable
//! electronic mail, return addresses, and digital pseudonyms", CACM 1981; the threshold and
//! timed pools of remailers). Both keep order within a direction: a hop is a FIFO.

use crate::{Defense, Direction, Pkt, SplitMix64, Timestamp};
use std::collections::VecDeque;

/// Random delay: each packet waits an exponential time of the given mean, and never leaves
/// before the packet ahead of it in its direction.
pub struct Delay {
    mean_ns: f64,
    rng: SplitMix64,
    held: [VecDeque<Pkt>; 2],
    last_out: [i64; 2],
}

impl Delay {
    /// Exponential delays of mean `mean_ns`.
    pub fn new(mean_ns: f64, seed: u64) -> Self {
        Delay {
            mean_ns,
            rng: SplitMix64::new(seed),
            held: [VecDeque::new(), VecDeque::new()],
            last_out: [i64::MIN; 2],
        }
    }

    fn release(&mut self, now: i64, out: &mut Vec<Pkt>) {
        let from = out.len();
        for lane in &mut self.held {
            while lane.front().is_some_and(|p| p.ts.as_nanos() <= now) {
                out.extend(lane.pop_front());
            }
        }
        out[from..].sort_by_key(|p| p.ts);
    }
}

impl Defense for Delay {
    fn spec(&self) -> String {
        format!("delay:mean={}ms", self.mean_ns / 1e6)
    }
    fn advance(&mut self, now: Timestamp, out: &mut Vec<Pkt>) {
        self.release(now.as_nanos(), out);
    }
    fn send(&mut self, p: Pkt, out: &mut Vec<Pkt>) {
        let i = usize::from(p.dir == Direction::Down);
        let t = (p.ts.as_nanos() + self.rng.exp(self.mean_ns) as i64).max(self.last_out[i]);
        self.last_out[i] = t;
        self.held[i].push_back(Pkt {
            ts: Timestamp::from_nanos(t),
            ..p
        });
        // A zero delay leaves at once.
        self.release(p.ts.as_nanos(), out);
    }
    fn finish(&mut self, out: &mut Vec<Pkt>) {
        self.release(i64::MAX, out);
    }
}

/// A threshold mix flushes what is left this long after the last packet.
pub const THRESHOLD_IDLE_FLUSH_NS: i64 = 1_000_000_000;

/// How a [`Mix`] decides to flush its pool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MixRule {
    /// When the pool of a direction holds this many packets.
    Threshold(usize),
    /// Every period (nanoseconds), from the first packet.
    Timed(i64),
}

/// A mix: packets are pooled per direction and flushed all at once.
pub struct Mix {
    rule: MixRule,
    pool: [Vec<Pkt>; 2],
    /// Timed mixes: the next flush, on the grid from the first packet.
    next_flush: Option<i64>,
    last_in: i64,
}

impl Mix {
    /// A mix with `rule`.
    pub fn new(rule: MixRule) -> Self {
        Mix {
            rule,
            pool: [Vec::new(), Vec::new()],
            next_flush: None,
            last_in: 0,
        }
    }

    fn flush(&mut self, i: usize, at: i64, out: &mut Vec<Pkt>) {
        let ts = Timestamp::from_nanos(at);
        out.extend(self.pool[i].drain(..).map(|p| Pkt { ts, ..p }));
    }
}

impl Defense for Mix {
    fn spec(&self) -> String {
        match self.rule {
            MixRule::Threshold(n) => format!("mix:batch={n}"),
            MixRule::Timed(t) => format!("mix:timed={}ms", t as f64 / 1e6),
        }
    }
    fn advance(&mut self, now: Timestamp, out: &mut Vec<Pkt>) {
        if let MixRule::Timed(period) = self.rule {
            while let Some(t) = self.next_flush.filter(|&t| t <= now.as_nanos()) {
                self.flush(0, t, out);
                self.flush(1, t, out);
                self.next_flush = Some(t + period);
            }
        }
    }
    fn send(&mut self, p: Pkt, out: &mut Vec<Pkt>) {
        let i = usize::from(p.dir == Direction::Down);
        self.last_in = p.ts.as_nanos();
        self.pool[i].push(p);
        match self.rule {
            MixRule::Threshold(n) => {
                if self.pool[i].len() >= n {
                    self.flush(i, p.ts.as_nanos(), out);
                }
            }
            MixRule::Timed(period) => {
                self.next_flush.get_or_insert(p.ts.as_nanos() + period);
            }
        }
    }
    fn finish(&mut self, out: &mut Vec<Pkt>) {
        // A real pool would wait for more traffic; at the end of the trace what is left goes
        // out at the next flush of a timed mix, or after an idle second for a threshold mix
        // (a remailer's idle flush): never at a time when the end could not yet be known.
        let at = match self.rule {
            MixRule::Timed(_) => self.next_flush.unwrap_or(self.last_in),
            MixRule::Threshold(_) => self.last_in + THRESHOLD_IDLE_FLUSH_NS,
        };
        self.flush(0, at, out);
        self.flush(1, at, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{run, TracePacket};

    fn input(n: i64) -> Vec<TracePacket> {
        (0..n)
            .map(|i| {
                let dir = if i % 2 == 0 {
                    Direction::Up
                } else {
                    Direction::Down
                };
                TracePacket::new(Timestamp::from_nanos(i * 1_000_000), 100 + i as u32, dir)
            })
            .collect()
    }

    #[test]
    fn delay_keeps_order_and_adds_latency_of_its_mean() {
        let mut d = Delay::new(20e6, 1);
        let (out, c) = run(&mut d, input(4000));
        for dir in [Direction::Up, Direction::Down] {
            let sizes: Vec<u32> = out
                .iter()
                .filter(|p| p.dir == dir)
                .map(|p| p.size)
                .collect();
            assert!(
                sizes.windows(2).all(|w| w[0] < w[1]),
                "order within {dir:?}"
            );
        }
        assert_eq!(c.out_bytes, c.real_bytes);
        // FIFO queueing behind long draws adds to the exponential's median (13.9 ms).
        assert!(
            (10e6..60e6).contains(&(c.latency_median_ns as f64)),
            "{}",
            c.latency_median_ns
        );
        assert!(out.windows(2).all(|w| w[0].ts <= w[1].ts));
    }

    #[test]
    fn threshold_mix_releases_batches() {
        let mut m = Mix::new(MixRule::Threshold(10));
        let (out, c) = run(&mut m, input(100));
        // Each direction gets 50 packets: 5 batches of 10, each sharing one timestamp.
        for dir in [Direction::Up, Direction::Down] {
            let times: Vec<i64> = out
                .iter()
                .filter(|p| p.dir == dir)
                .map(|p| p.ts.as_nanos())
                .collect();
            let mut distinct = times.clone();
            distinct.dedup();
            assert_eq!(distinct.len(), 5);
        }
        assert_eq!(c.lost_bytes, 0);
        // The first packet up waits for the 10th up packet, sent at 18 ms.
        assert_eq!(c.latency_max_ns, 18_000_000);
    }

    #[test]
    fn timed_mix_flushes_on_its_grid() {
        let mut m = Mix::new(MixRule::Timed(25_000_000));
        let (out, _) = run(&mut m, input(100));
        assert!(out.iter().all(|p| p.ts.as_nanos() % 25_000_000 == 0));
        assert_eq!(out.len(), 100);
    }
}
