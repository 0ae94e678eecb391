//! Constant volume (BuFLO, Dyer et al., IEEE S&P 2012; Tamaraw, Cai et al., CCS 2014): each
//! direction sends one packet of a fixed size every fixed interval, whether or not there is
//! data. Real bytes wait in a queue and fill the slots in order; a slot with no data is a
//! dummy. The channel runs for at least a minimum time and until the queues are empty, and with
//! Tamaraw's padding until each direction's packet count is a multiple of `pad`.

use crate::{Defense, Direction, Pkt, Timestamp, NS_PER_S};
use std::collections::VecDeque;

/// Settings of [`ConstantVolume`].
#[derive(Clone, Debug, PartialEq)]
pub struct ConstantParams {
    /// Packets per second upstream.
    pub rate_up: f64,
    /// Packets per second downstream.
    pub rate_down: f64,
    /// Size of every packet (IP length).
    pub size: u32,
    /// Minimum time the channel runs from the first real packet, in nanoseconds.
    pub min_ns: i64,
    /// Each direction's packet count is padded up to a multiple of this (1: none).
    pub pad: u64,
}

struct Lane {
    dir: Direction,
    interval_ns: f64,
    /// Real data waiting: (bytes, of which real).
    queue: VecDeque<(u32, u32)>,
    queued: u64,
    next: Option<f64>,
    sent: u64,
}

/// Constant-volume defence.
pub struct ConstantVolume {
    p: ConstantParams,
    lanes: [Lane; 2],
    start: Option<i64>,
}

impl ConstantVolume {
    /// A constant-volume channel with settings `p` (rates > 0, size > 0, pad ≥ 1).
    pub fn new(p: ConstantParams) -> Self {
        let lane = |dir, rate: f64| Lane {
            dir,
            interval_ns: NS_PER_S / rate,
            queue: VecDeque::new(),
            queued: 0,
            next: None,
            sent: 0,
        };
        ConstantVolume {
            lanes: [
                lane(Direction::Up, p.rate_up),
                lane(Direction::Down, p.rate_down),
            ],
            p,
            start: None,
        }
    }

    fn end_min(&self) -> f64 {
        self.start.map_or(0.0, |s| (s + self.p.min_ns) as f64)
    }
}

impl Lane {
    /// Emits one slot at `t`: up to `size` bytes from the queue, the rest padding.
    fn emit(&mut self, t: f64, size: u32, out: &mut Vec<Pkt>) {
        let mut room = size;
        let mut real = 0;
        while room > 0 {
            let Some(front) = self.queue.front_mut() else {
                break;
            };
            let take = front.0.min(room);
            // The chunk's real bytes come first, its padding after.
            let take_real = front.1.min(take);
            front.0 -= take;
            front.1 -= take_real;
            room -= take;
            real += take_real;
            self.queued -= u64::from(take);
            if front.0 == 0 {
                self.queue.pop_front();
            }
        }
        out.push(Pkt {
            ts: Timestamp::from_nanos(t.round() as i64),
            dir: self.dir,
            size,
            real,
        });
        self.sent += 1;
    }

    /// Emits the slots due at or before `now`, stopping once the channel may close.
    fn run_until(&mut self, now: f64, end_min: f64, p: &ConstantParams, out: &mut Vec<Pkt>) {
        while let Some(t) = self.next {
            if t > now {
                break;
            }
            self.emit(t, p.size, out);
            let nt = t + self.interval_ns;
            let done = self.queued == 0 && nt > end_min && self.sent % p.pad == 0;
            self.next = if done { None } else { Some(nt) };
        }
    }
}

impl Defense for ConstantVolume {
    fn spec(&self) -> String {
        let p = &self.p;
        let rate = if p.rate_up == p.rate_down {
            format!("rate={}", p.rate_up)
        } else {
            format!("up={},down={}", p.rate_up, p.rate_down)
        };
        let pad = if p.pad > 1 {
            format!(",pad={}", p.pad)
        } else {
            String::new()
        };
        format!(
            "constant:{rate},size={},min={}s{pad}",
            p.size,
            p.min_ns as f64 / NS_PER_S
        )
    }

    fn advance(&mut self, now: Timestamp, out: &mut Vec<Pkt>) {
        let end_min = self.end_min();
        let now = now.as_nanos() as f64;
        let from = out.len();
        for lane in &mut self.lanes {
            lane.run_until(now, end_min, &self.p, out);
        }
        out[from..].sort_by_key(|p| p.ts);
    }

    fn send(&mut self, p: Pkt, out: &mut Vec<Pkt>) {
        let now = p.ts.as_nanos();
        let start = *self.start.get_or_insert(now);
        let lane = &mut self.lanes[usize::from(p.dir == Direction::Down)];
        lane.queue.push_back((p.size, p.real));
        lane.queued += u64::from(p.size);
        let _ = out;
        if lane.next.is_none() {
            // Slots sit on the channel's grid (start + k × interval), the first one at or after
            // now: the packet waits for it. Both lanes open with the first packet.
            let k = ((now - start) as f64 / lane.interval_ns).ceil();
            lane.next = Some(start as f64 + k * lane.interval_ns);
        }
        if self.lanes.iter().all(|l| l.sent == 0) {
            for l in &mut self.lanes {
                l.next.get_or_insert(start as f64);
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<Pkt>) {
        let end_min = self.end_min();
        let from = out.len();
        for lane in &mut self.lanes {
            lane.run_until(f64::INFINITY, end_min, &self.p, out);
        }
        out[from..].sort_by_key(|p| p.ts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{run, TracePacket};

    fn params(rate: f64, min_s: f64, pad: u64) -> ConstantParams {
        ConstantParams {
            rate_up: rate,
            rate_down: rate,
            size: 1500,
            min_ns: (min_s * NS_PER_S) as i64,
            pad,
        }
    }

    #[test]
    fn output_is_truly_constant() {
        // A bursty download: 300 packets of 1000 bytes in 30 ms, then silence.
        let input: Vec<TracePacket> = (0..300)
            .map(|i| TracePacket::new(Timestamp::from_nanos(i * 100_000), 1000, Direction::Down))
            .collect();
        let mut cv = ConstantVolume::new(params(100.0, 5.0, 1));
        let (out, costs) = run(&mut cv, input);
        for dir in [Direction::Up, Direction::Down] {
            let lane: Vec<&Pkt> = out.iter().filter(|p| p.dir == dir).collect();
            assert!(lane.iter().all(|p| p.size == 1500));
            for w in lane.windows(2) {
                assert_eq!(w[1].ts.as_nanos() - w[0].ts.as_nanos(), 10_000_000);
            }
        }
        // 300,000 real bytes need 200 slots of 1500 (2 s); the minimum is 5 s: 500 slots each way.
        let down = out.iter().filter(|p| p.dir == Direction::Down).count();
        let up = out.iter().filter(|p| p.dir == Direction::Up).count();
        assert_eq!((down, up), (501, 501));
        assert_eq!(costs.lost_bytes, 0);
        assert_eq!(costs.real_bytes, 300_000);
        assert_eq!(costs.out_bytes, 1_002 * 1_500);
        // Slot 0 leaves with the first packet only (1,000 bytes), so 300,000 real bytes need 201
        // slots: the last real packet, sent at 29.9 ms, waits for slot 200 at t = 2 s.
        assert_eq!(costs.latency_max_ns, 2_000_000_000 - 29_900_000);
        assert!((costs.wasted_share() - (1.0 - 300_000.0 / 1_503_000.0)).abs() < 1e-12);
    }

    #[test]
    fn tamaraw_pads_counts_to_a_multiple() {
        let input = vec![TracePacket::new(Timestamp::ZERO, 100, Direction::Up)];
        let mut cv = ConstantVolume::new(params(10.0, 0.0, 7));
        let (out, _) = run(&mut cv, input);
        for dir in [Direction::Up, Direction::Down] {
            assert_eq!(out.iter().filter(|p| p.dir == dir).count() % 7, 0);
        }
    }
}
