//! Cover traffic: dummies added without delaying real packets.
//!
//! - [`Front`] (Gong & Wang, "Zero-delay Lightweight Defenses against Website
//!   Fingerprinting", USENIX Security 2020): front-loaded dummies whose times follow a Rayleigh
//!   distribution from the first packet, a random number and a random spread per trace.
//! - [`WtfPad`] (Juarez et al., "Toward an Efficient Website Fingerprinting Defense", ESORICS
//!   2016): adaptive padding. After each real packet a direction arms a timer; when it expires
//!   before the next real packet (a gap that real traffic would rarely leave) a dummy goes out and
//!   the timer is armed again, until a draw stops it. WTF-PAD learns its timer histograms from
//!   traffic; here the timer is `inter` plus an exponential of mean `inter` (so gaps shorter
//!   than `inter`, the inside of a burst, are never padded), a documented simplification.
//! - [`Decoy`] (M3AAWG, "simulated bursts"): surges of dummy traffic at random times, so that
//!   a real surge looks like one more.
//!
//! Dummies are full-size packets (the MTU): the size of a dummy must not tell it apart. Cover
//! traffic is scheduled only while the real traffic lasts: a dummy due after the last real
//! packet is not sent (the connection has closed).

use crate::{Defense, Direction, Pkt, SplitMix64, Timestamp, NS_PER_S};

/// Dummy size, the usual IP MTU.
pub const DUMMY_SIZE: u32 = 1500;

/// FRONT: front-loaded dummies.
pub struct Front {
    n: u64,
    wmin_s: f64,
    wmax_s: f64,
    rng: SplitMix64,
    /// Dummy times still to send, per direction, descending (so the next is the last).
    due: [Vec<i64>; 2],
    started: bool,
    last_real: i64,
}

impl Front {
    /// Up to `n` dummies per direction, spread by a Rayleigh scale drawn in `wmin_s..wmax_s`
    /// seconds (the paper's defaults: N = 1,700, W = 1-14 s).
    pub fn new(n: u64, wmin_s: f64, wmax_s: f64, seed: u64) -> Self {
        Front {
            n,
            wmin_s,
            wmax_s,
            rng: SplitMix64::new(seed),
            due: [Vec::new(), Vec::new()],
            started: false,
            last_real: 0,
        }
    }

    fn start(&mut self, t0: i64) {
        for lane in &mut self.due {
            let count = self.rng.range_u64(1, self.n.max(1));
            let w = self.wmin_s + (self.wmax_s - self.wmin_s) * self.rng.next_f64();
            lane.clear();
            for _ in 0..count {
                // Rayleigh: F(t) = 1 - exp(-t^2 / 2w^2).
                let u = self.rng.next_f64();
                let t = w * (-2.0 * (1.0 - u).ln()).sqrt();
                lane.push(t0 + (t * NS_PER_S) as i64);
            }
            lane.sort_unstable_by(|a, b| b.cmp(a));
        }
        self.started = true;
    }

    fn release(&mut self, now: i64, out: &mut Vec<Pkt>) {
        let from = out.len();
        for (i, lane) in self.due.iter_mut().enumerate() {
            let dir = if i == 0 {
                Direction::Up
            } else {
                Direction::Down
            };
            while lane.last().is_some_and(|&t| t <= now) {
                let t = lane.pop().unwrap_or(now);
                out.push(Pkt::dummy(Timestamp::from_nanos(t), dir, DUMMY_SIZE));
            }
        }
        out[from..].sort_by_key(|p| p.ts);
    }
}

impl Defense for Front {
    fn spec(&self) -> String {
        format!(
            "front:n={},wmin={}s,wmax={}s",
            self.n, self.wmin_s, self.wmax_s
        )
    }
    fn advance(&mut self, now: Timestamp, out: &mut Vec<Pkt>) {
        if self.started {
            self.release(now.as_nanos(), out);
        }
    }
    fn send(&mut self, p: Pkt, out: &mut Vec<Pkt>) {
        if !self.started {
            self.start(p.ts.as_nanos());
        }
        self.last_real = p.ts.as_nanos();
        out.push(p);
    }
    fn finish(&mut self, _out: &mut Vec<Pkt>) {
        self.due = [Vec::new(), Vec::new()];
    }
}

/// WTF-PAD style adaptive padding.
pub struct WtfPad {
    inter_ns: f64,
    stop: f64,
    rng: SplitMix64,
    /// Per direction: when the armed timer fires.
    timer: [Option<i64>; 2],
}

impl WtfPad {
    /// Timers of `inter_ns` plus an exponential of that mean; after each dummy, padding stops
    /// with probability `stop`.
    pub fn new(inter_ns: f64, stop: f64, seed: u64) -> Self {
        WtfPad {
            inter_ns,
            stop,
            rng: SplitMix64::new(seed),
            timer: [None, None],
        }
    }
}

impl WtfPad {
    fn timer_ns(&mut self) -> i64 {
        (self.inter_ns + self.rng.exp(self.inter_ns)).max(1.0) as i64
    }
}

impl Defense for WtfPad {
    fn spec(&self) -> String {
        format!("wtfpad:inter={}ms,stop={}", self.inter_ns / 1e6, self.stop)
    }
    fn advance(&mut self, now: Timestamp, out: &mut Vec<Pkt>) {
        let now = now.as_nanos();
        loop {
            // The earliest armed timer at or before now fires first.
            let next = (0..2)
                .filter_map(|i| self.timer[i].map(|t| (t, i)))
                .filter(|&(t, _)| t <= now)
                .min();
            let Some((t, i)) = next else { break };
            let dir = if i == 0 {
                Direction::Up
            } else {
                Direction::Down
            };
            out.push(Pkt::dummy(Timestamp::from_nanos(t), dir, DUMMY_SIZE));
            self.timer[i] = if self.rng.next_f64() < self.stop {
                None
            } else {
                Some(t + self.timer_ns())
            };
        }
    }
    fn send(&mut self, p: Pkt, out: &mut Vec<Pkt>) {
        let i = usize::from(p.dir == Direction::Down);
        self.timer[i] = Some(p.ts.as_nanos() + self.timer_ns());
        out.push(p);
    }
    fn finish(&mut self, _out: &mut Vec<Pkt>) {
        self.timer = [None, None];
    }
}

/// Decoy bursts: simulated surges.
pub struct Decoy {
    every_ns: f64,
    bytes: u64,
    rate_bps: f64,
    rng: SplitMix64,
    next_burst: Option<i64>,
    /// The burst being sent: next dummy time and bytes left.
    burst: Option<(f64, u64)>,
    /// When the last burst's last dummy went out: a burst that falls due while another is
    /// still being sent starts after it (one link sends one surge at a time), so the dummies
    /// leave in time order whenever the defence is asked for them.
    free_at: f64,
    acks: u64,
}

impl Decoy {
    /// Bursts of `bytes` downstream at `rate_bps`, starting at exponential intervals of mean
    /// `every_ns` from the first packet; the client acknowledges every second dummy with a
    /// 52-byte packet, as TCP would.
    pub fn new(every_ns: f64, bytes: u64, rate_bps: f64, seed: u64) -> Self {
        Decoy {
            every_ns,
            bytes,
            rate_bps,
            rng: SplitMix64::new(seed),
            next_burst: None,
            burst: None,
            free_at: f64::MIN,
            acks: 0,
        }
    }
}

impl Defense for Decoy {
    fn spec(&self) -> String {
        format!(
            "decoy:every={}s,bytes={},rate={}Mbit",
            self.every_ns / NS_PER_S,
            self.bytes,
            self.rate_bps / 1e6
        )
    }
    fn advance(&mut self, now: Timestamp, out: &mut Vec<Pkt>) {
        let now = now.as_nanos();
        loop {
            if let Some((t, left)) = self.burst {
                if t > now as f64 {
                    break;
                }
                let size = DUMMY_SIZE.min(left as u32).max(40);
                let ts = Timestamp::from_nanos(t as i64);
                out.push(Pkt::dummy(ts, Direction::Down, size));
                self.acks += 1;
                if self.acks % 2 == 0 {
                    out.push(Pkt::dummy(ts, Direction::Up, 52));
                }
                let left = left.saturating_sub(u64::from(size));
                let nt = t + f64::from(size) * 8.0 / self.rate_bps * NS_PER_S;
                self.burst = (left > 0).then_some((nt, left));
                self.free_at = nt;
                continue;
            }
            match self.next_burst {
                Some(b) if b <= now => {
                    self.burst = Some(((b as f64).max(self.free_at), self.bytes));
                    self.next_burst = Some(b + self.rng.exp(self.every_ns).max(1.0) as i64);
                }
                _ => break,
            }
        }
    }
    fn send(&mut self, p: Pkt, out: &mut Vec<Pkt>) {
        if self.next_burst.is_none() {
            self.next_burst = Some(p.ts.as_nanos() + self.rng.exp(self.every_ns).max(1.0) as i64);
        }
        out.push(p);
    }
    fn finish(&mut self, _out: &mut Vec<Pkt>) {
        self.burst = None;
        self.next_burst = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{run, TracePacket};

    fn steady(n: i64, gap_ms: i64) -> Vec<TracePacket> {
        (0..n)
            .map(|i| {
                let dir = if i % 3 == 0 {
                    Direction::Up
                } else {
                    Direction::Down
                };
                TracePacket::new(Timestamp::from_nanos(i * gap_ms * 1_000_000), 800, dir)
            })
            .collect()
    }

    #[test]
    fn front_adds_only_dummies_and_delays_nothing() {
        let input = steady(2000, 10); // 20 s
        let mut f = Front::new(500, 1.0, 14.0, 9);
        let (out, c) = run(&mut f, input);
        assert_eq!(c.latency_max_ns, 0);
        assert!(c.dummy_packets >= 2 && c.dummy_packets <= 1000);
        assert_eq!(c.out_packets, 2000 + c.dummy_packets);
        assert!(out.windows(2).all(|w| w[0].ts <= w[1].ts));
        assert!(out.iter().all(|p| p.real == 0 || p.real == 800));
    }

    #[test]
    fn wtfpad_fills_gaps_only() {
        // Dense traffic (1 ms gaps) and one 2 s silence: with a 20 ms timer, dummies appear in
        // the silence, hardly in the dense part.
        let mut input: Vec<TracePacket> = steady(500, 1);
        input.extend(steady(500, 1).into_iter().map(|p| {
            TracePacket::new(
                Timestamp::from_nanos(p.ts.as_nanos() + 2_500_000_000),
                p.size,
                p.dir,
            )
        }));
        let mut w = WtfPad::new(20e6, 0.05, 4);
        let (out, c) = run(&mut w, input);
        let in_gap = out
            .iter()
            .filter(|p| {
                p.real == 0 && p.ts.as_nanos() > 500_000_000 && p.ts.as_nanos() < 2_500_000_000
            })
            .count() as u64;
        assert!(in_gap > 5, "{in_gap} dummies in the silence");
        assert!(
            in_gap * 2 > c.dummy_packets,
            "{in_gap} of {}",
            c.dummy_packets
        );
        assert_eq!(c.latency_max_ns, 0);
    }

    #[test]
    fn decoys_are_surges_of_the_set_size() {
        let input = steady(6000, 10); // 60 s
        let mut d = Decoy::new(10.0 * NS_PER_S, 3_000_000, 20e6, 2);
        let (_, c) = run(&mut d, input);
        let dummy_bytes = c.out_bytes - c.real_bytes;
        // Each burst is 3 MB down plus one 52-byte ack per two dummies; about 6 bursts in 60 s.
        let per_burst = 3_000_000 + 1000 * 52;
        let bursts = dummy_bytes / per_burst;
        assert!((2..=15).contains(&bursts), "{dummy_bytes} dummy bytes");
        assert_eq!(c.latency_max_ns, 0);
    }
}
