//! Scheduling: when does a frame leave the emulated link, if at all.
//!
//! A frame entering one direction at time `now` goes through, in order:
//! loss (independent, probability `loss`); the token bucket (rate limit with a
//! bounded backlog: a frame that would wait behind more than `queue_bytes` of
//! earlier frames is dropped, as a tail-drop router queue does); then the
//! propagation delay plus jitter. Without reordering the delay line is FIFO:
//! a frame never leaves before the one admitted before it, so jitter stretches
//! gaps but keeps order. With reordering each frame keeps its own delay, so two
//! frames closer together than the jitter can swap places.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::profile::DirectionParams;
use crate::rng::SplitMix64;

/// Nanoseconds on a monotonic clock.
pub type Nanos = u64;

/// A token bucket that schedules instead of dropping: tokens are bytes,
/// refilled at `rate` bytes per second up to `burst`; a frame that finds too
/// few tokens borrows them and departs when the debt has been paid back.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    bytes_per_sec: f64,
    burst: f64,
    queue_bytes: f64,
    /// Tokens at `at`; negative while frames are waiting (a backlog).
    tokens: f64,
    at: Nanos,
}

impl TokenBucket {
    /// `rate_bps` in bits per second (> 0), `burst` and `queue_bytes` in bytes.
    pub fn new(rate_bps: f64, burst: u32, queue_bytes: u32) -> Self {
        TokenBucket {
            bytes_per_sec: rate_bps / 8.0,
            burst: f64::from(burst),
            queue_bytes: f64::from(queue_bytes),
            tokens: f64::from(burst),
            at: 0,
        }
    }

    fn refill(&mut self, now: Nanos) {
        if now > self.at {
            let dt = (now - self.at) as f64 / 1e9;
            self.tokens = (self.tokens + dt * self.bytes_per_sec).min(self.burst);
            self.at = now;
        }
    }

    /// When a frame of `len` bytes offered at `now` departs, or `None` if the
    /// backlog is full and the frame is dropped.
    pub fn reserve(&mut self, now: Nanos, len: u32) -> Option<Nanos> {
        self.refill(now);
        let after = self.tokens - f64::from(len);
        if after >= 0.0 {
            self.tokens = after;
            return Some(now);
        }
        if -after > self.queue_bytes {
            return None;
        }
        self.tokens = after;
        let wait_ns = (-after / self.bytes_per_sec * 1e9).ceil() as Nanos;
        Some(now.saturating_add(wait_ns))
    }
}

/// What happened to a frame offered to a [`Direction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Leaves the link at this time.
    Deliver(Nanos),
    /// Lost on the link (random loss).
    Lost,
    /// Dropped because the queue in front of the rate limit was full.
    Overflow,
}

/// Counters of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames offered.
    pub offered: u64,
    /// Frames delivered (handed out by [`Direction::pop_due`]).
    pub delivered: u64,
    /// Frames lost at random.
    pub lost: u64,
    /// Frames dropped by a full queue.
    pub overflow: u64,
}

/// One direction of the link: admission and a delay line of frames `T`.
#[derive(Debug)]
pub struct Direction<T> {
    bucket: TokenBucket,
    delay_ns: f64,
    jitter_ns: f64,
    loss: f64,
    reorder: bool,
    rng: SplitMix64,
    last_due: Nanos,
    seq: u64,
    // Min-heap on (due, seq): seq breaks ties in arrival order.
    line: BinaryHeap<Reverse<(Nanos, u64)>>,
    frames: std::collections::HashMap<u64, T>,
    counters: Counters,
}

impl<T> Direction<T> {
    /// A direction with the given parameters (already validated), reordering
    /// policy and seed. The queue holds 50 ms at the line rate, at least 64 KiB
    /// (a common rule of thumb for access links); the burst is two full frames.
    pub fn new(p: &DirectionParams, reorder: bool, seed: u64) -> Self {
        let rate_bps = p.rate_mbit * 1e6;
        let queue = ((rate_bps / 8.0) * 0.050)
            .max(65_536.0)
            .min(f64::from(u32::MAX)) as u32;
        Direction {
            bucket: TokenBucket::new(rate_bps, 2 * 1514, queue),
            delay_ns: p.delay_ms * 1e6,
            jitter_ns: p.jitter_ms * 1e6,
            loss: p.loss,
            reorder,
            rng: SplitMix64::new(seed),
            last_due: 0,
            seq: 0,
            line: BinaryHeap::new(),
            frames: std::collections::HashMap::new(),
            counters: Counters::default(),
        }
    }

    /// Offers `frame` of `len` bytes at `now`; keeps it if it is to be delivered.
    pub fn offer(&mut self, now: Nanos, len: u32, frame: T) -> Verdict {
        self.counters.offered += 1;
        if self.loss > 0.0 && self.rng.next_f64() < self.loss {
            self.counters.lost += 1;
            return Verdict::Lost;
        }
        let Some(depart) = self.bucket.reserve(now, len) else {
            self.counters.overflow += 1;
            return Verdict::Overflow;
        };
        // Normal jitter cut at 3 sigma so that one sample cannot stall the line.
        let z = if self.jitter_ns > 0.0 {
            self.rng.next_normal().clamp(-3.0, 3.0)
        } else {
            0.0
        };
        let extra = (self.delay_ns + z * self.jitter_ns).max(0.0) as Nanos;
        let mut due = depart.saturating_add(extra);
        if !self.reorder {
            due = due.max(self.last_due);
        }
        self.last_due = self.last_due.max(due);
        let seq = self.seq;
        self.seq += 1;
        self.line.push(Reverse((due, seq)));
        self.frames.insert(seq, frame);
        Verdict::Deliver(due)
    }

    /// When the next frame is due, if any is waiting.
    pub fn next_due(&self) -> Option<Nanos> {
        self.line.peek().map(|Reverse((due, _))| *due)
    }

    /// The next frame if it is due at `now`.
    pub fn pop_due(&mut self, now: Nanos) -> Option<T> {
        match self.line.peek() {
            Some(Reverse((due, _))) if *due <= now => {}
            _ => return None,
        }
        let Reverse((_, seq)) = self.line.pop()?;
        let frame = self.frames.remove(&seq)?;
        self.counters.delivered += 1;
        Some(frame)
    }

    /// Counters so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Nanos = 1_000_000;

    fn params(delay_ms: f64, jitter_ms: f64, rate_mbit: f64, loss: f64) -> DirectionParams {
        DirectionParams {
            delay_ms,
            jitter_ms,
            rate_mbit,
            loss,
        }
    }

    #[test]
    fn bucket_paces_at_the_rate_after_the_burst() {
        // 8 Mbit/s = 1,000,000 bytes/s: a 1000-byte frame takes 1 ms.
        let mut b = TokenBucket::new(8e6, 1000, 100_000);
        assert_eq!(b.reserve(0, 1000), Some(0)); // the burst
        assert_eq!(b.reserve(0, 1000), Some(MS));
        assert_eq!(b.reserve(0, 1000), Some(2 * MS));
        // After an idle second the bucket is full again, but no fuller than the burst.
        assert_eq!(b.reserve(2 * MS + 1_000 * MS, 1000), Some(1002 * MS));
        assert_eq!(b.reserve(1002 * MS, 1000), Some(1003 * MS));
    }

    #[test]
    fn bucket_drops_when_backlog_exceeds_queue() {
        let mut b = TokenBucket::new(8e6, 0, 2500);
        assert!(b.reserve(0, 1000).is_some());
        assert!(b.reserve(0, 1000).is_some());
        assert_eq!(b.reserve(0, 1000), None); // 3000 bytes of backlog > 2500
                                              // Once the backlog drains, frames are accepted again.
        assert!(b.reserve(3 * MS, 1000).is_some());
    }

    #[test]
    fn delay_is_added_and_order_kept_without_reordering() {
        let mut d = Direction::new(&params(20.0, 5.0, 1000.0, 0.0), false, 3);
        let mut dues = Vec::new();
        for i in 0..2000u64 {
            // One frame every 0.1 ms: far closer than the 5 ms jitter.
            match d.offer(i * MS / 10, 100, i) {
                Verdict::Deliver(t) => dues.push(t),
                v => panic!("unexpected {v:?}"),
            }
        }
        assert!(dues.windows(2).all(|w| w[0] <= w[1]));
        // Delivered in arrival order, each at least 20 ms - 3 sigma after it arrived.
        let mut out = Vec::new();
        while let Some(f) = d.pop_due(u64::MAX) {
            out.push(f);
        }
        assert_eq!(out, (0..2000).collect::<Vec<_>>());
        assert!(dues[0] >= 5 * MS);
    }

    #[test]
    fn jitter_reorders_when_allowed() {
        let mut d = Direction::new(&params(20.0, 5.0, 1000.0, 0.0), true, 3);
        for i in 0..2000u64 {
            d.offer(i * MS / 10, 100, i);
        }
        let mut out = Vec::new();
        while let Some(f) = d.pop_due(u64::MAX) {
            out.push(f);
        }
        assert_eq!(out.len(), 2000);
        assert!(
            out.windows(2).any(|w| w[0] > w[1]),
            "5 ms jitter over 0.1 ms gaps must reorder"
        );
    }

    #[test]
    fn frames_are_not_released_early() {
        let mut d = Direction::new(&params(10.0, 0.0, 1000.0, 0.0), false, 1);
        assert_eq!(d.offer(0, 100, "a"), Verdict::Deliver(10 * MS));
        assert_eq!(d.next_due(), Some(10 * MS));
        assert_eq!(d.pop_due(10 * MS - 1), None);
        assert_eq!(d.pop_due(10 * MS), Some("a"));
        assert_eq!(d.pop_due(u64::MAX), None);
    }

    #[test]
    fn loss_rate_matches_and_is_seeded() {
        let run = |seed| {
            let mut d = Direction::new(&params(0.0, 0.0, 1000.0, 0.05), false, seed);
            (0..100_000u64)
                .map(|i| d.offer(i * MS, 100, ()))
                .filter(|v| *v == Verdict::Lost)
                .count()
        };
        let lost = run(9);
        assert!(
            (4_500..5_500).contains(&lost),
            "lost {lost} of 100000 at 5 %"
        );
        assert_eq!(lost, run(9));
    }

    #[test]
    fn rate_limit_spreads_a_burst_and_counts_overflow() {
        // 10 Mbit/s: a 1250-byte frame every 1 ms; queue is 64 KiB (floor).
        let mut d = Direction::new(&params(0.0, 0.0, 10.0, 0.0), false, 1);
        let verdicts: Vec<_> = (0..100u64).map(|i| d.offer(0, 1250, i)).collect();
        let delivered: Vec<Nanos> = verdicts
            .iter()
            .filter_map(|v| {
                if let Verdict::Deliver(t) = v {
                    Some(*t)
                } else {
                    None
                }
            })
            .collect();
        // 2 frames fit the burst, then 52 more fit 64 KiB of backlog.
        assert_eq!(delivered.len(), 2 + 65_536 / 1250);
        // After the burst, one frame per millisecond.
        assert_eq!(delivered[3] - delivered[2], MS);
        assert_eq!(d.counters().overflow, (100 - delivered.len()) as u64);
    }
}
