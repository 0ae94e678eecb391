//! tapir-defense: traffic-analysis countermeasures as causal transforms of packet traces, and
//! what they cost.
//!
//! The M3AAWG introduction to traffic analysis lists the countermeasures — constant-volume
//! channels, simulated bursts, intervening hops that delay and batch (mixes), tunnelling to a
//! third party — and their price in words: wasted capacity, latency, and traffic that stands
//! out. This crate implements them over packet traces so that the price can be measured:
//!
//! | defence | spec | reference |
//! |---|---|---|
//! | padding to the MTU, to buckets (Tor's 514-byte cells), powers of two, fixed sets, random | `pad-mtu`, `pad-bucket:514`, `pad-pow2`, `pad-set:128,512,1500`, `pad-random:max=200` | Dyer et al., "Peek-a-Boo, I Still See You", IEEE S&P 2012 |
//! | constant volume: fixed-size packets at a fixed rate per direction, data queued into the slots | `constant:rate=50,size=1500,min=10s[,pad=100]` | BuFLO (Dyer et al. 2012), Tamaraw (Cai et al., CCS 2014) |
//! | adaptive cover traffic in unlikely gaps | `wtfpad:inter=5ms,stop=0.1` | WTF-PAD (Juarez et al., ESORICS 2016) |
//! | front-loaded random dummies | `front:n=1000,wmin=1s,wmax=14s` | FRONT (Gong & Wang, USENIX Security 2020) |
//! | decoy bursts at random times | `decoy:every=60s,bytes=2MB,rate=10Mbit` | M3AAWG, "simulated bursts" |
//! | random per-packet delay | `delay:mean=20ms` | mix delays |
//! | batching: threshold and timed mixes | `mix:batch=10`, `mix:timed=1s` | Chaum 1981; remailers |
//! | tunnel aggregation | [`aggregate`] | M3AAWG, "tunnelling everything to a third party" |
//! | broadcast (messages only) | `broadcast:group=N` ([`Broadcast`]) | M3AAWG, "broadcast/publication" |
//!
//! Over messages (mail, flow events) [`parse_message_chain`] takes the delays, mixes and
//! broadcast, one message a packet, and [`MessageChain::run`] measures them the same way.
//!
//! Every defence is **causal**: its output up to time `t` depends only on its input up to `t`
//! (a sender or relay could run it online). The driver [`run`] feeds packets in time order,
//! calling [`Defense::advance`] before each one so that scheduled output is released first;
//! defences draw their random numbers in event order from a seeded [`SplitMix64`]. No real byte
//! is lost and order within a direction is kept; the [`Meter`] checks both and measures the
//! costs: bandwidth overhead, latency per real packet (median, p99, max) and the time the
//! defended trace lasts beyond the real one.
//!
//! ```
//! use tapir_capture::{Direction, Timestamp, TracePacket};
//! use tapir_defense::{parse_spec, run};
//!
//! let input: Vec<TracePacket> = (0..10)
//!     .map(|i| TracePacket::new(Timestamp::from_nanos(i * 1_000_000), 100, Direction::Down))
//!     .collect();
//! let mut defence = parse_spec("pad-mtu", 1).unwrap();
//! let (out, costs) = run(defence.as_mut(), input.iter().copied());
//! assert!(out.iter().all(|p| p.size == 1500));
//! assert_eq!(costs.real_bytes, 1_000);
//! assert_eq!(costs.out_bytes, 15_000);
//! assert_eq!(costs.overhead(), 14.0);
//! assert_eq!(costs.latency_max_ns, 0);
//! ```
#![deny(unsafe_code)]

mod constant;
mod cover;
mod error;
mod message;
mod meter;
mod mix;
mod pad;
mod spec;

pub use constant::ConstantVolume;
pub use cover::{Decoy, Front, WtfPad};
pub use error::DefenseError;
pub use message::{
    parse_message_chain, Broadcast, Delivery, Message, MessageChain, COPY_GAP_NS, MESSAGE_SPEC_HELP,
};
pub use meter::{Costs, Meter};
pub use mix::{Delay, Mix};
pub use pad::{Pad, PadMode};
pub use spec::{parse_chain, parse_spec, SPEC_HELP};

pub use tapir_capture::{Direction, SplitMix64, Timestamp, TracePacket};

/// One packet on the wire after a defence: when, which way, how big, and how many of its bytes
/// are real data (the rest is padding or a dummy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pkt {
    /// When it leaves.
    pub ts: Timestamp,
    /// Which way.
    pub dir: Direction,
    /// Bytes on the wire (IP length).
    pub size: u32,
    /// Real bytes carried, in order; `0` for a dummy.
    pub real: u32,
}

impl Pkt {
    /// A real packet as it enters a defence: all of it is real.
    pub fn real(p: TracePacket) -> Self {
        Pkt {
            ts: p.ts,
            dir: p.dir,
            size: p.size,
            real: p.size,
        }
    }

    /// A dummy of `size` bytes.
    pub fn dummy(ts: Timestamp, dir: Direction, size: u32) -> Self {
        Pkt {
            ts,
            dir,
            size,
            real: 0,
        }
    }

    /// The packet as a trace line (size and timing are all an observer sees).
    pub fn observed(&self) -> TracePacket {
        TracePacket::new(self.ts, self.size, self.dir)
    }
}

/// A countermeasure that runs online.
///
/// Contract: packets reach [`Defense::send`] in time order, each after
/// [`Defense::advance`] with its own timestamp; `advance(now)` emits what is due at or before
/// `now`, `send` emits only at the packet's own time, and [`Defense::finish`] emits the rest in
/// time order, no earlier than the last input. Output is therefore in time order.
pub trait Defense {
    /// The spec that makes this defence (for reports).
    fn spec(&self) -> String;
    /// Emits everything scheduled at or before `now`.
    fn advance(&mut self, now: Timestamp, out: &mut Vec<Pkt>);
    /// The sender hands over a packet at `p.ts`.
    fn send(&mut self, p: Pkt, out: &mut Vec<Pkt>);
    /// The input has ended: emits what is still queued or scheduled.
    fn finish(&mut self, out: &mut Vec<Pkt>);
}

/// Defences applied one after another: the output of each is the input of the next.
pub struct Chain {
    stages: Vec<Box<dyn Defense>>,
    buf: Vec<Pkt>,
    next: Vec<Pkt>,
}

impl Chain {
    /// A chain of `stages`, applied in order.
    pub fn new(stages: Vec<Box<dyn Defense>>) -> Self {
        Chain {
            stages,
            buf: Vec::new(),
            next: Vec::new(),
        }
    }

    // Runs `first` on stage 0 and feeds what each stage emits through the rest.
    fn pump(&mut self, out: &mut Vec<Pkt>, first: impl FnOnce(&mut dyn Defense, &mut Vec<Pkt>)) {
        self.buf.clear();
        let Some((head, rest)) = self.stages.split_first_mut() else {
            return;
        };
        first(head.as_mut(), &mut self.buf);
        for stage in rest.iter_mut() {
            self.next.clear();
            for &p in &self.buf {
                stage.advance(p.ts, &mut self.next);
                stage.send(p, &mut self.next);
            }
            std::mem::swap(&mut self.buf, &mut self.next);
        }
        out.append(&mut self.buf);
    }
}

impl Defense for Chain {
    fn spec(&self) -> String {
        self.stages
            .iter()
            .map(|s| s.spec())
            .collect::<Vec<_>>()
            .join(" -d ")
    }

    fn advance(&mut self, now: Timestamp, out: &mut Vec<Pkt>) {
        let from = out.len();
        self.pump(out, |d, b| d.advance(now, b));
        // Later stages may hold output due by now that no packet of stage 0 woke.
        for i in 1..self.stages.len() {
            self.next.clear();
            self.stages[i].advance(now, &mut self.next);
            let mut pending = std::mem::take(&mut self.next);
            for stage in self.stages[i + 1..].iter_mut() {
                let mut next = Vec::new();
                for &p in &pending {
                    stage.advance(p.ts, &mut next);
                    stage.send(p, &mut next);
                }
                pending = next;
            }
            out.append(&mut pending);
        }
        out[from..].sort_by_key(|p| p.ts);
    }

    fn send(&mut self, p: Pkt, out: &mut Vec<Pkt>) {
        self.pump(out, |d, b| d.send(p, b));
    }

    fn finish(&mut self, out: &mut Vec<Pkt>) {
        for i in 0..self.stages.len() {
            let mut pending = Vec::new();
            self.stages[i].finish(&mut pending);
            for j in i + 1..self.stages.len() {
                let mut next = Vec::new();
                for &p in &pending {
                    self.stages[j].advance(p.ts, &mut next);
                    self.stages[j].send(p, &mut next);
                }
                pending = next;
            }
            out.append(&mut pending);
        }
        out.sort_by_key(|p| p.ts);
    }
}

/// Runs `defence` over a trace in time order and measures it: the defended packets and the
/// costs. The input must be sorted by time (a trace file or a capture's unit is).
pub fn run(
    defence: &mut dyn Defense,
    input: impl IntoIterator<Item = TracePacket>,
) -> (Vec<Pkt>, Costs) {
    let mut meter = Meter::default();
    let mut out = Vec::new();
    for p in input {
        meter.input(&p);
        defence.advance(p.ts, &mut out);
        defence.send(Pkt::real(p), &mut out);
    }
    defence.finish(&mut out);
    for p in &out {
        meter.output(p);
    }
    (out, meter.costs())
}

/// Tunnel aggregation: several traces merged into one in time order, as a VPN or a Tor guard
/// shows them to an observer of the tunnel (each trace keeps its own directions).
pub fn aggregate(traces: Vec<Vec<TracePacket>>) -> Vec<TracePacket> {
    let mut all: Vec<TracePacket> = traces.into_iter().flatten().collect();
    // A stable sort keeps each trace's own order among packets with equal times.
    all.sort_by_key(|p| p.ts);
    all
}

/// Nanoseconds in one second.
pub(crate) const NS_PER_S: f64 = 1e9;

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(ms: i64, size: u32, dir: Direction) -> TracePacket {
        TracePacket::new(Timestamp::from_nanos(ms * 1_000_000), size, dir)
    }

    #[test]
    fn aggregation_interleaves_in_time_order() {
        let a = vec![pkt(0, 100, Direction::Up), pkt(10, 200, Direction::Down)];
        let b = vec![pkt(5, 300, Direction::Up), pkt(10, 400, Direction::Up)];
        let m = aggregate(vec![a, b]);
        let sizes: Vec<u32> = m.iter().map(|p| p.size).collect();
        assert_eq!(sizes, vec![100, 300, 200, 400]);
    }

    #[test]
    fn a_chain_pads_after_delaying() {
        let input: Vec<TracePacket> = (0..50).map(|i| pkt(i, 60, Direction::Up)).collect();
        let mut chain = parse_chain(&["delay:mean=5ms", "pad-mtu"], 3).unwrap();
        let (out, costs) = run(&mut chain, input);
        assert_eq!(out.len(), 50);
        assert!(out.iter().all(|p| p.size == 1500 && p.real == 60));
        assert!(out.windows(2).all(|w| w[0].ts <= w[1].ts));
        assert_eq!(costs.real_bytes, 3000);
        assert!(costs.latency_median_ns > 0);
        assert_eq!(chain.spec(), "delay:mean=5ms -d pad-mtu:1500");
    }
}
