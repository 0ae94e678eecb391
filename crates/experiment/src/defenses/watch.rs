//! `watch` against a tunnel: is the host that contacts a watched network still named?
//!
//! The flows of a small office network are simulated with a known answer: `hosts` clients
//! each opening flows to their own few usual servers, and one of them, the target, also
//! contacting a watched network now and then. The observer sees both the office's access link
//! and the Internet side (a national network, say). Without a defence
//! [`tapir_analysis::Watcher`] reports every contact with the watchlist and names the target
//! as the peer.
//!
//! `tunnel:hosts=N` (tunnel aggregation, M3AAWG: "tunnelling everything to a third party")
//! carries the target's flows and those of N − 1 other hosts through one VPN endpoint: on the
//! access link each host shows only flow records to the endpoint (one per 10-s active-timeout
//! slot, 60 bytes of encapsulation per packet), on the Internet side the endpoint opens the
//! flows. `watch` then names the endpoint, never the target. The adaptive attacker correlates
//! timing: for a watched flow leaving the endpoint at t, it suspects the tunnel hosts with a
//! record in t's slot and guesses one of them.

use super::{mean_of, run_trials, AttackRow, RowText};
use crate::{ExperimentError, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use tapir_analysis::{Event, PatternSet, WatchConfig, Watcher};
use tapir_capture::{SplitMix64, Timestamp};
use tapir_defense::Costs;

/// The settings of the watch rows.
pub const WATCH_SETTINGS: &[&str] = &[
    "none",
    "tunnel:hosts=1",
    "tunnel:hosts=3",
    "tunnel:hosts=10",
];

/// The simulated office.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowScenario {
    /// Client hosts, the target included (default 10).
    pub hosts: usize,
    /// Flows per host (default 60).
    pub flows: usize,
    /// Contacts of the target with the watched network (default 6).
    pub watched: usize,
    /// Simulated time (default 1 h).
    pub span_ns: i64,
    /// Active timeout of the tunnel's flow records (default 10 s).
    pub record_ns: i64,
}

impl Default for FlowScenario {
    fn default() -> Self {
        FlowScenario {
            hosts: 10,
            flows: 60,
            watched: 6,
            span_ns: 3_600_000_000_000,
            record_ns: 10_000_000_000,
        }
    }
}

/// Bytes a tunnel adds to each packet: outer IPv4 (20) + UDP (8) + WireGuard data header (16)
/// + its authentication tag (16).
pub const TUNNEL_BYTES_PER_PACKET: u64 = 60;

const WATCHED_NET: &str = "203.0.113.0/24";
const ENDPOINT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 250);

fn host(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1 + i as u8))
}

/// One simulated flow of a client: when, to where, bytes each way and packets.
#[derive(Clone, Debug)]
struct Flow {
    host: usize,
    time: i64,
    dur: i64,
    dst: IpAddr,
    up: u64,
    down: u64,
    packets: u64,
}

fn office(sc: &FlowScenario, seed: u64) -> Vec<Flow> {
    let mut rng = SplitMix64::new(seed);
    let mut flows = Vec::new();
    for h in 0..sc.hosts {
        // Each host's usual servers: five of a pool of 200.
        let usual: Vec<IpAddr> = (0..5)
            .map(|_| IpAddr::V4(Ipv4Addr::new(198, 51, 100, rng.range_u64(1, 200) as u8)))
            .collect();
        let n = sc.flows + if h == 0 { sc.watched } else { 0 };
        for k in 0..n {
            let dst = if h == 0 && k >= sc.flows {
                IpAddr::V4(Ipv4Addr::new(203, 0, 113, rng.range_u64(1, 254) as u8))
            } else {
                usual[rng.range_u64(0, 4) as usize]
            };
            let down = (2000.0 * 500f64.powf(rng.next_f64())) as u64;
            let up = 300 + down / 20;
            flows.push(Flow {
                host: h,
                time: rng.range_u64(0, sc.span_ns as u64) as i64,
                dur: rng.range_u64(100_000_000, 5_000_000_000) as i64,
                dst,
                up,
                down,
                packets: (up + down).div_ceil(1000),
            });
        }
    }
    flows.sort_by_key(|f| f.time);
    flows
}

fn event(src: IpAddr, dst: IpAddr, port: u16, f: &Flow, extra: u64) -> Event {
    Event::flow(
        Timestamp(f.time),
        Timestamp(f.time + f.dur),
        (src, 40000),
        (dst, port),
        if port == 51820 { 17 } else { 6 },
        f.up + extra / 2,
        f.down + extra / 2,
        f.packets,
    )
}

/// What watch (and the timing attacker) made of one simulated office.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchOutcome {
    /// Share of the target's watched contacts that a watchlist hit attributes to the target.
    pub named: f64,
    /// The timing attacker's chance of naming the target for a watched contact, on average.
    pub correlated: f64,
    /// Watchlist hits in all.
    pub hits: usize,
    /// Encapsulation bytes and packets.
    pub costs: Costs,
}

/// Simulates the office, tunnels the first `spec` hosts, and runs watch and the timing
/// attacker.
pub fn watch_trial(sc: &FlowScenario, spec: &str, seed: u64) -> Result<WatchOutcome> {
    let tunnelled = match spec {
        "none" => 0,
        s => s
            .strip_prefix("tunnel:hosts=")
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n >= 1)
            .ok_or_else(|| {
                ExperimentError::NoData(format!(
                    "{spec}: the watch rows take none or tunnel:hosts=N (N ≥ 1)"
                ))
            })?
            .min(sc.hosts),
    };
    if !(1..=250).contains(&sc.hosts) || sc.span_ns <= 0 || sc.record_ns <= 0 {
        return Err(ExperimentError::Setting {
            name: "flow scenario",
            why: format!("needs 1 to 250 hosts and positive span and record lengths, not {sc:?}"),
        });
    }
    let flows = office(sc, seed);
    let endpoint = IpAddr::V4(ENDPOINT);
    let mut events = Vec::new();
    // Tunnel records per (host, slot): bytes each way with encapsulation, packets, end.
    let mut records: BTreeMap<(usize, i64), (u64, u64, u64, i64)> = BTreeMap::new();
    let (mut real, mut real_p, mut extra) = (0u64, 0u64, 0u64);
    for f in &flows {
        real += f.up + f.down;
        real_p += f.packets;
        if f.host < tunnelled {
            // The endpoint opens the flow on the Internet side …
            events.push(event(endpoint, f.dst, 443, f, 0));
            // … and the access link shows the host's tunnel, cut into active-timeout slots
            // over the flow's life (bytes spread evenly over them).
            let (a, b) = (
                f.time.div_euclid(sc.record_ns),
                (f.time + f.dur).div_euclid(sc.record_ns),
            );
            let slots = (b - a + 1) as u64;
            let enc = f.packets * TUNNEL_BYTES_PER_PACKET;
            extra += enc;
            for s in a..=b {
                let r = records.entry((f.host, s)).or_default();
                r.0 += (f.up + enc / 2) / slots;
                r.1 += (f.down + enc / 2) / slots;
                r.2 += f.packets.div_ceil(slots);
                r.3 = r.3.max(f.time + f.dur);
            }
        } else {
            events.push(event(host(f.host), f.dst, 443, f, 0));
        }
    }
    for (&(h, s), &(up, down, p, end)) in &records {
        events.push(Event::flow(
            Timestamp(s * sc.record_ns),
            Timestamp(end.min((s + 1) * sc.record_ns)),
            (host(h), 40000),
            (endpoint, 51820),
            17,
            up,
            down,
            p,
        ));
    }
    tapir_analysis::sort_events(&mut events);
    let mut w = Watcher::new(WatchConfig {
        watchlist: PatternSet::parse(&format!("{WATCHED_NET} watched\n"), "watchlist")?,
        ..WatchConfig::default()
    });
    for e in &events {
        w.push(e);
    }
    let (hits, _) = w.finish();
    let target = host(0).to_string();
    let named = hits.iter().filter(|h| h.peer == target).count();
    // The timing attacker: for each hit whose peer is the endpoint, the tunnel hosts active
    // in its slot.
    let active: BTreeMap<i64, BTreeSet<usize>> =
        records.keys().fold(BTreeMap::new(), |mut m, &(h, s)| {
            m.entry(s).or_default().insert(h);
            m
        });
    let mut guess = 0.0;
    for h in &hits {
        if h.peer == target {
            guess += 1.0;
        } else if h.peer == endpoint.to_string() {
            let s = h.time.0.div_euclid(sc.record_ns);
            if let Some(set) = active.get(&s).filter(|set| set.contains(&0)) {
                guess += 1.0 / set.len() as f64;
            }
        }
    }
    let contacts = sc.watched.max(1) as f64;
    let costs = Costs {
        real_packets: real_p,
        real_bytes: real,
        out_packets: real_p,
        out_bytes: real + extra,
        ..Costs::default()
    };
    Ok(WatchOutcome {
        named: named as f64 / contacts,
        correlated: guess / contacts,
        hits: hits.len(),
        costs,
    })
}

/// One row per setting: `trials` offices each, seeded from `seed`.
pub fn watch_rows(
    sc: &FlowScenario,
    specs: &[&str],
    trials: usize,
    seed: u64,
) -> Result<Vec<AttackRow>> {
    specs
        .iter()
        .map(|spec| {
            let out: Vec<WatchOutcome> = run_trials(trials, seed, |s| watch_trial(sc, spec, s))?;
            let text = RowText {
                attack: "watch",
                spec,
                measure: "share of watched contacts attributed to the target",
                naive: mean_of(&out, |o| o.named),
                adaptive: Some(mean_of(&out, |o| o.correlated)),
                detail: format!(
                    "{:.1} watchlist hits per office (target made {})",
                    mean_of(&out, |o| o.hits as f64),
                    sc.watched
                ),
                extra_unit: "packets",
            };
            Ok(AttackRow::from_trials(text, out.iter().map(|o| &o.costs)))
        })
        .collect()
}
