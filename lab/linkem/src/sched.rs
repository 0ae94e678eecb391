//! Scheduling: when does a frame leave the emulated link, if at all.
//!
//! A frame entering one direction at time `now` goes through, in order:
//!
//! 1. **loss**: independent, probability `loss`;
//! 2. **the path**: the one-way propagation delay plus jitter. Jitter is not
//!    drawn afresh for every frame (that would let frames 240 µs apart swap
//!    their delays by milliseconds, which no path does): it is an
//!    Ornstein-Uhlenbeck process with standard deviation `jitter` and a
//!    correlation time of [`JITTER_TAU_NS`], sampled at each frame's arrival, so
//!    that the queueing delay of the path drifts as cross traffic comes and
//!    goes. Without reordering the path is FIFO: a frame is never ready before
//!    the one admitted before it;
//! 3. **the access link**: a serialiser at the line rate, last, as the link
//!    next to the observer is. A frame starts once it is ready and the frame
//!    before it has finished, and finishes its own transmission time
//!    (`len × 8 / rate`) later; it is delivered at its finish. Two frames
//!    delivered back to back are therefore exactly one transmission time apart,
//!    whatever the path did to them. A frame that would wait behind more than
//!    `queue` of backlog is dropped, as a tail-drop router queue does.
//!
//! The serialiser is optional (`rate = None`): the lab lets the kernel's `tbf`
//! qdisc serialise (precise hrtimers, unaffected by user-space scheduling) and
//! linkem add only the path.

use std::collections::BTreeMap;

use crate::profile::DirectionParams;
use tapir_capture::SplitMix64;

/// Nanoseconds on a monotonic clock.
pub type Nanos = u64;

/// Correlation time of the jitter process: 20 ms, the order of a round trip on
/// a broadband path, over which cross-traffic queues build and drain.
pub const JITTER_TAU_NS: f64 = 20e6;

/// A store-and-forward link at a fixed rate with a tail-drop queue.
#[derive(Debug, Clone)]
pub struct Serialiser {
    ns_per_byte: f64,
    queue_ns: f64,
    /// When the frame admitted last finishes (fractional nanoseconds, so that
    /// rounding does not accumulate over a long train).
    busy_until: f64,
}

impl Serialiser {
    /// A link of `rate_bps` bits per second (> 0) whose queue holds `queue_ns`
    /// of transmission time.
    pub fn new(rate_bps: f64, queue_ns: f64) -> Self {
        Serialiser {
            ns_per_byte: 8e9 / rate_bps,
            queue_ns,
            busy_until: 0.0,
        }
    }

    /// Transmission time of `len` bytes.
    pub fn tx_time(&self, len: u32) -> f64 {
        f64::from(len) * self.ns_per_byte
    }

    /// When a frame of `len` bytes, ready at `ready`, has been transmitted, or
    /// `None` if the backlog ahead of it exceeds the queue and it is dropped.
    pub fn admit(&mut self, ready: Nanos, len: u32) -> Option<Nanos> {
        let ready = ready as f64;
        let backlog = (self.busy_until - ready).max(0.0);
        if backlog > self.queue_ns {
            return None;
        }
        let start = ready.max(self.busy_until);
        self.busy_until = start + self.tx_time(len);
        Some(self.busy_until.ceil() as Nanos)
    }
}

/// What happened to a frame offered to a [`Direction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Leaves the link at this time.
    Deliver(Nanos),
    /// Lost on the link (random loss).
    Lost,
    /// Dropped because the queue in front of the link was full.
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

/// One direction of the link: loss, path delay with jitter, serialisation.
#[derive(Debug)]
pub struct Direction<T> {
    link: Option<Serialiser>,
    delay_ns: f64,
    jitter_ns: f64,
    loss: f64,
    reorder: bool,
    rng: SplitMix64,
    /// Current value of the jitter process and when it was sampled.
    jitter_now: f64,
    jitter_at: Option<Nanos>,
    last_ready: Nanos,
    seq: u64,
    /// Frames waiting, by (due, arrival order).
    line: BTreeMap<(Nanos, u64), T>,
    counters: Counters,
}

impl<T> Direction<T> {
    /// A direction with the given parameters (already validated), reordering
    /// policy and seed.
    pub fn new(p: &DirectionParams, reorder: bool, seed: u64) -> Self {
        Direction {
            link: p
                .rate_mbit
                .map(|r| Serialiser::new(r * 1e6, p.queue_ms * 1e6)),
            delay_ns: p.delay_ms * 1e6,
            jitter_ns: p.jitter_ms * 1e6,
            loss: p.loss,
            reorder,
            rng: SplitMix64::new(seed),
            jitter_now: 0.0,
            jitter_at: None,
            last_ready: 0,
            seq: 0,
            line: BTreeMap::new(),
            counters: Counters::default(),
        }
    }

    /// The jitter process at `now` (exact OU transition from its last sample).
    fn jitter(&mut self, now: Nanos) -> f64 {
        if self.jitter_ns <= 0.0 {
            return 0.0;
        }
        let z = self.rng.normal();
        self.jitter_now = match self.jitter_at {
            // Start from the stationary distribution.
            None => z * self.jitter_ns,
            Some(at) => {
                let a = (-(now.saturating_sub(at) as f64) / JITTER_TAU_NS).exp();
                self.jitter_now * a + self.jitter_ns * (1.0 - a * a).sqrt() * z
            }
        };
        self.jitter_at = Some(now);
        // Cut at 3 sigma so that one sample cannot stall the line.
        self.jitter_now
            .clamp(-3.0 * self.jitter_ns, 3.0 * self.jitter_ns)
    }

    /// Offers `frame` of `len` bytes at `now`; keeps it if it is to be delivered.
    pub fn offer(&mut self, now: Nanos, len: u32, frame: T) -> Verdict {
        self.counters.offered += 1;
        if self.loss > 0.0 && self.rng.next_f64() < self.loss {
            self.counters.lost += 1;
            return Verdict::Lost;
        }
        let jitter = self.jitter(now);
        let mut ready = now.saturating_add((self.delay_ns + jitter).max(0.0) as Nanos);
        if !self.reorder {
            ready = ready.max(self.last_ready);
        }
        self.last_ready = self.last_ready.max(ready);
        let due = match &mut self.link {
            Some(link) => match link.admit(ready, len) {
                Some(t) => t,
                None => {
                    self.counters.overflow += 1;
                    return Verdict::Overflow;
                }
            },
            None => ready,
        };
        let seq = self.seq;
        self.seq += 1;
        self.line.insert((due, seq), frame);
        Verdict::Deliver(due)
    }

    /// When the next frame is due, if any is waiting.
    pub fn next_due(&self) -> Option<Nanos> {
        self.line.keys().next().map(|&(due, _)| due)
    }

    /// The next frame if it is due at `now`.
    pub fn pop_due(&mut self, now: Nanos) -> Option<T> {
        let entry = self.line.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        self.counters.delivered += 1;
        Some(entry.remove())
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
    const US: Nanos = 1_000;

    fn params(delay_ms: f64, jitter_ms: f64, rate_mbit: Option<f64>, loss: f64) -> DirectionParams {
        DirectionParams {
            delay_ms,
            jitter_ms,
            rate_mbit,
            loss,
            queue_ms: 50.0,
        }
    }

    fn drain<T>(d: &mut Direction<T>) -> Vec<T> {
        let mut out = Vec::new();
        while let Some(f) = d.pop_due(u64::MAX) {
            out.push(f);
        }
        out
    }

    #[test]
    fn serialiser_spaces_a_train_by_transmission_time() {
        // 50 Mbit/s: a 1514-byte frame takes 242.24 µs.
        let mut s = Serialiser::new(50e6, 50e6);
        let dues: Vec<Nanos> = (0..100).map(|_| s.admit(0, 1514).unwrap()).collect();
        for w in dues.windows(2) {
            let gap = w[1] - w[0];
            assert!((242..=243).contains(&(gap / US)), "gap {gap} ns");
        }
        // After the train has drained the link is idle: a frame goes straight through.
        let later = dues[99] + 10 * MS;
        assert_eq!(s.admit(later, 125), Some(later + 20 * US));
    }

    #[test]
    fn serialiser_drops_beyond_the_queue() {
        // 8 Mbit/s = 1 byte/µs; a 2.5 ms queue holds backlog of 2,500 bytes.
        let mut s = Serialiser::new(8e6, 2.5e6);
        assert!(s.admit(0, 1000).is_some()); // backlog 0
        assert!(s.admit(0, 1000).is_some()); // backlog 1000
        assert!(s.admit(0, 1000).is_some()); // backlog 2000
        assert_eq!(s.admit(0, 1000), None); // backlog 3000 > 2500
        assert!(s.admit(3 * MS, 1000).is_some());
    }

    #[test]
    fn back_to_back_frames_leave_one_transmission_time_apart_despite_jitter() {
        // Broadband downstream: 20 ms ± 2 ms, 50 Mbit/s. A burst of 200 full
        // frames arriving 2 µs apart (a sender's burst) must come out spaced
        // by the transmission time, never closer.
        let mut d = Direction::new(&params(20.0, 2.0, Some(50.0), 0.0), false, 11);
        for i in 0..200u64 {
            assert!(matches!(d.offer(i * 2 * US, 1514, i), Verdict::Deliver(_)));
        }
        let mut dues = Vec::new();
        while let Some(t) = d.next_due() {
            dues.push(t);
            d.pop_due(t);
        }
        assert_eq!(dues.len(), 200);
        for w in dues.windows(2) {
            assert!(w[1] - w[0] >= 242 * US, "gap {} ns", w[1] - w[0]);
        }
    }

    #[test]
    fn jitter_is_correlated_not_independent() {
        // Frames 1 ms apart with 5 ms jitter: consecutive delays differ by far
        // less than independent draws would (σ·√2 ≈ 7 ms).
        let mut d = Direction::new(&params(50.0, 5.0, None, 0.0), true, 5);
        let delays: Vec<f64> = (0..5000u64)
            .map(|i| match d.offer(i * MS, 100, ()) {
                Verdict::Deliver(t) => (t - i * MS) as f64 / 1e6,
                v => panic!("{v:?}"),
            })
            .collect();
        let mean = delays.iter().sum::<f64>() / delays.len() as f64;
        let sd =
            (delays.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / delays.len() as f64).sqrt();
        let step =
            delays.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (delays.len() - 1) as f64;
        assert!((mean - 50.0).abs() < 1.0, "mean delay {mean}");
        assert!((3.5..6.5).contains(&sd), "jitter sd {sd}");
        assert!(step < 2.0, "mean step {step} ms");
    }

    #[test]
    fn delay_is_added_and_order_kept_without_reordering() {
        let mut d = Direction::new(&params(20.0, 5.0, Some(1000.0), 0.0), false, 3);
        let mut dues = Vec::new();
        for i in 0..2000u64 {
            // One frame every 0.1 ms: far closer than the 5 ms jitter.
            match d.offer(i * MS / 10, 100, i) {
                Verdict::Deliver(t) => dues.push(t),
                v => panic!("unexpected {v:?}"),
            }
        }
        assert!(dues.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(drain(&mut d), (0..2000).collect::<Vec<_>>());
        assert!(dues[0] >= 5 * MS);
    }

    #[test]
    fn jitter_reorders_when_allowed() {
        let mut d = Direction::new(&params(20.0, 5.0, None, 0.0), true, 3);
        for i in 0..2000u64 {
            d.offer(i * MS / 10, 100, i);
        }
        let out = drain(&mut d);
        assert_eq!(out.len(), 2000);
        assert!(
            out.windows(2).any(|w| w[0] > w[1]),
            "5 ms jitter over 0.1 ms gaps must reorder"
        );
    }

    #[test]
    fn frames_are_not_released_early() {
        let mut d = Direction::new(&params(10.0, 0.0, None, 0.0), false, 1);
        assert_eq!(d.offer(0, 100, "a"), Verdict::Deliver(10 * MS));
        assert_eq!(d.next_due(), Some(10 * MS));
        assert_eq!(d.pop_due(10 * MS - 1), None);
        assert_eq!(d.pop_due(10 * MS), Some("a"));
        assert_eq!(d.pop_due(u64::MAX), None);
    }

    #[test]
    fn loss_rate_matches_and_is_seeded() {
        let run = |seed| {
            let mut d = Direction::new(&params(0.0, 0.0, None, 0.05), false, seed);
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
    fn a_burst_beyond_the_queue_overflows() {
        // 10 Mbit/s: a 1250-byte frame every 1 ms; the 50 ms queue holds 50 of them.
        let mut d = Direction::new(&params(0.0, 0.0, Some(10.0), 0.0), false, 1);
        let delivered: Vec<Nanos> = (0..100u64)
            .filter_map(|i| match d.offer(0, 1250, i) {
                Verdict::Deliver(t) => Some(t),
                _ => None,
            })
            .collect();
        assert_eq!(delivered.len(), 51);
        assert_eq!(delivered[0], MS);
        assert_eq!(delivered[3] - delivered[2], MS);
        assert_eq!(d.counters().overflow, 49);
    }
}
