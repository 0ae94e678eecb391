//! `volume` against constant volume and decoy bursts: does the planted surge still stand out?
//!
//! A host's half hour on its access link is built from real traces of the dataset: one web
//! session (a trace's first minute at most) started in each minute, and in one minute, drawn at random, several more sessions
//! at once — the surge ("increased chatter"). The defence runs over the whole link, an observer
//! cuts what it sees into NetFlow-style records (one per active-timeout slot, 1 s by default),
//! and [`tapir_analysis::VolumeCounter`] looks for surges of the host's bytes per minute with
//! its documented defaults. The attacker's question is which minute the surge was in; a decoy
//! that raises an alert of its own makes the real one a guess among several.

use super::{defend_trace, mean_of, run_trials, AttackRow, RowText};
use crate::Result;
use std::net::{IpAddr, Ipv4Addr};
use tapir_analysis::{
    Event, Grouping, Metric, Season, VolumeConfig, VolumeCounter, VolumeEventKind,
};
use tapir_capture::{Direction, SplitMix64, Timestamp, TracePacket};
use tapir_defense::Costs;

/// The settings of the volume rows. The constant channels are held open for the whole half
/// hour (a constant-volume link that closed between sessions would show when the host is
/// busy); the decoys are about as large as the surge.
pub const VOLUME_SETTINGS: &[&str] = &[
    "none",
    "pad-mtu",
    "front:n=5000",
    "constant:up=50,down=200,size=1500,min=1800s",
    "constant:up=100,down=500,size=1500,min=1800s",
    "decoy:every=300s,bytes=10MB",
    "decoy:every=120s,bytes=10MB",
];

/// How the timeline with its planted surge is built and observed.
#[derive(Clone, Debug, PartialEq)]
pub struct VolumeScenario {
    /// Intervals of the timeline (default 30).
    pub intervals: usize,
    /// Length of one interval, the volume analysis' bin (default 60 s).
    pub interval_ns: i64,
    /// Extra sessions started in the surge interval (default 4: five times the usual load).
    pub surge_sessions: usize,
    /// Active timeout of the observer's flow records (default 1 s).
    pub record_ns: i64,
}

impl Default for VolumeScenario {
    fn default() -> Self {
        VolumeScenario {
            intervals: 30,
            interval_ns: 60_000_000_000,
            surge_sessions: 4,
            record_ns: 1_000_000_000,
        }
    }
}

/// What the volume analysis found on one defended timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct VolumeOutcome {
    /// The interval the surge was planted in.
    pub planted: usize,
    /// A surge alert of the host covers the planted interval.
    pub found: bool,
    /// Surge alerts of the host, the planted one included.
    pub surges: usize,
    /// The chance that an attacker who picks one alert at random picks the real surge:
    /// 1 / surges when found, else 0.
    pub recovery: f64,
    /// What the defence cost on this timeline.
    pub costs: Costs,
}

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

/// Shifts `t` so that it starts at `at`.
fn place(t: &[TracePacket], at: i64, out: &mut Vec<TracePacket>) {
    let Some(first) = t.first() else { return };
    let shift = at - first.ts.as_nanos();
    out.extend(t.iter().map(|p| {
        TracePacket::new(
            Timestamp::from_nanos(p.ts.as_nanos() + shift),
            p.size,
            p.dir,
        )
    }));
}

/// The part of `t` within `len` nanoseconds of its first packet: a session is one interval's
/// visit at most, so that a trace longer than the interval (a page left open, a long download)
/// does not spread the planted surge over the intervals after it.
fn first_interval(t: &[TracePacket], len: i64) -> &[TracePacket] {
    let Some(first) = t.first() else { return t };
    let end = first.ts.as_nanos().saturating_add(len);
    &t[..t.partition_point(|p| p.ts.as_nanos() < end)]
}

fn duration(t: &[TracePacket]) -> i64 {
    match (t.first(), t.last()) {
        (Some(a), Some(b)) => b.ts.as_nanos() - a.ts.as_nanos(),
        _ => 0,
    }
}

/// The timeline: one session from `pool` started in each interval, `surge_sessions` more in
/// one interval drawn from the middle (after the analysis has its history, before the end).
/// Returns the packets in time order and the planted interval.
pub fn plant_surge(
    pool: &[&[TracePacket]],
    sc: &VolumeScenario,
    seed: u64,
) -> (Vec<TracePacket>, usize) {
    let mut rng = SplitMix64::new(seed);
    let iv = sc.interval_ns;
    let start = |rng: &mut SplitMix64, i: usize, t: &[TracePacket]| {
        // Within the interval, and early enough that the session ends inside it.
        let room = (iv - duration(t)).max(0) as u64;
        i as i64 * iv + rng.range_u64(0, room) as i64
    };
    let lo = 8.min(sc.intervals.saturating_sub(1));
    let hi = sc.intervals.saturating_sub(3).max(lo);
    let planted = rng.range_u64(lo as u64, hi as u64) as usize;
    let mut sessions = Vec::new();
    for i in 0..sc.intervals {
        let n = 1 + if i == planted { sc.surge_sessions } else { 0 };
        for _ in 0..n {
            let t = first_interval(pool[rng.range_u64(0, pool.len() as u64 - 1) as usize], iv);
            let mut one = Vec::with_capacity(t.len());
            let at = start(&mut rng, i, t);
            place(t, at, &mut one);
            sessions.push(one);
        }
    }
    (tapir_defense::aggregate(sessions), planted)
}

/// What an observer of the link records: per active-timeout slot, one flow record of the
/// client with its bytes each way and its packets.
pub fn flow_records(packets: &[TracePacket], record_ns: i64) -> Vec<Event> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < packets.len() {
        let slot = packets[i].ts.as_nanos().div_euclid(record_ns);
        let (mut up, mut down, mut n) = (0u64, 0u64, 0u64);
        let mut last = packets[i].ts;
        while i < packets.len() && packets[i].ts.as_nanos().div_euclid(record_ns) == slot {
            let p = &packets[i];
            match p.dir {
                Direction::Up => up += u64::from(p.size),
                Direction::Down => down += u64::from(p.size),
            }
            n += 1;
            last = p.ts;
            i += 1;
        }
        out.push(Event::flow(
            tapir_capture::Timestamp(slot * record_ns),
            last,
            (CLIENT, 40000),
            (PEER, 443),
            17,
            up,
            down,
            n,
        ));
    }
    out
}

/// Plants a surge, defends the timeline with `spec`, and runs the volume analysis on what the
/// observer records.
pub fn volume_trial(
    pool: &[&[TracePacket]],
    sc: &VolumeScenario,
    spec: &str,
    seed: u64,
) -> Result<VolumeOutcome> {
    if sc.intervals < 10 || sc.interval_ns <= 0 || sc.record_ns <= 0 || pool.is_empty() {
        return Err(crate::ExperimentError::Setting {
            name: "volume scenario",
            why: format!(
                "needs traces, at least 10 intervals (the analysis' history) and positive \
                 interval and record lengths, not {sc:?}"
            ),
        });
    }
    let (timeline, planted) = plant_surge(pool, sc, seed);
    let (defended, costs) = defend_trace(spec, &timeline, seed ^ 0x5eed)?;
    let mut cfg = VolumeConfig::new(Grouping::Host, Metric::Bytes, sc.interval_ns);
    cfg.season = Season::None;
    let mut v = VolumeCounter::new(cfg)?;
    for e in flow_records(&defended, sc.record_ns) {
        v.add(&e);
    }
    let report = v.finish();
    let host = CLIENT.to_string();
    let at = report.interval_start(planted);
    let surges: Vec<_> = report
        .events
        .iter()
        .filter(|e| e.entity == host && e.kind == VolumeEventKind::Surge)
        .collect();
    let found = surges.iter().any(|e| e.start <= at && at < e.end);
    Ok(VolumeOutcome {
        planted,
        found,
        surges: surges.len(),
        recovery: if found {
            1.0 / surges.len() as f64
        } else {
            0.0
        },
        costs,
    })
}

/// One row per setting: `trials` timelines each, seeded from `seed`.
pub fn volume_rows(
    pool: &[&[TracePacket]],
    sc: &VolumeScenario,
    specs: &[&str],
    trials: usize,
    seed: u64,
) -> Result<Vec<AttackRow>> {
    specs
        .iter()
        .map(|spec| {
            let out: Vec<VolumeOutcome> =
                run_trials(trials, seed, |s| volume_trial(pool, sc, spec, s))?;
            let found = out.iter().filter(|o| o.found).count();
            let text = RowText {
                attack: "volume",
                spec,
                measure: "P(the alert picked is the real surge)",
                naive: mean_of(&out, |o| o.recovery),
                adaptive: None,
                detail: format!(
                    "surge found in {found}/{}; {:.1} alerts per timeline",
                    out.len(),
                    mean_of(&out, |o| o.surges as f64)
                ),
                extra_unit: "packets",
            };
            Ok(AttackRow::from_trials(text, out.iter().map(|o| &o.costs)))
        })
        .collect()
}
