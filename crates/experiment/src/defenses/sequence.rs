//! `sequence` against mixes and broadcast: does the encrypted mailing list's membership still
//! come out?
//!
//! The bundled dataset has no mail, so the mail of a small community is simulated with a
//! known answer: `people` addresses writing to each other at random, and a list server whose
//! `members` post now and then — each post comes in to the list and goes out, seconds later,
//! as one copy per other member of about the same size (re-encryption per recipient adds a few
//! bytes). The list server also sends mail of its own and receives mail that is not a post.
//! [`tapir_analysis::infer_groups`] then looks for the list with its documented defaults.
//!
//! Defences act on the list server's outgoing mail, as a list operator (or the remailer it
//! sends through) would run them:
//!
//! - `delay:mean=T`, `mix:batch=N`, `mix:timed=T`: the packet defences of `tapir-defense`,
//!   one message a packet (FIFO delays, threshold and timed pools, Chaum 1981);
//! - `broadcast:group=N` ([`broadcast`], over the same mail events the attack reads, with
//!   `tapir-defense`'s [`tapir_defense::Broadcast`]): every
//!   message of the server also goes to a fixed group of N addresses (the members and
//!   N − members others) — the M3AAWG's "broadcast": who it was for is hidden among all who
//!   got it, at the price of the extra deliveries.
//!
//! Two attackers: the naive one keeps the default window Δt = 60 s; the adaptive one knows the
//! defence and widens Δt by the p99 of the delay it adds.

use super::{mean_of, run_trials, AttackRow, RowText};
use crate::{ExperimentError, Result};
use std::collections::BTreeSet;
use tapir_analysis::{infer_groups, Event, SequenceConfig};
use tapir_capture::{Direction, SplitMix64, Timestamp, TracePacket};
use tapir_defense::Costs;

/// The settings of the sequence rows.
pub const SEQUENCE_SETTINGS: &[&str] = &[
    "none",
    "delay:mean=30s",
    "delay:mean=600s",
    "mix:batch=10",
    "mix:timed=60s",
    "mix:timed=600s",
    "broadcast:group=10",
    "broadcast:group=40",
];

/// The simulated community.
#[derive(Clone, Debug, PartialEq)]
pub struct MailScenario {
    /// Addresses besides the list (default 40).
    pub people: usize,
    /// List members among them (default 5).
    pub members: usize,
    /// Posts to the list (default 12).
    pub posts: usize,
    /// Simulated time (default 12 h).
    pub span_ns: i64,
    /// Person-to-person messages (default 600).
    pub background: usize,
    /// Messages the list server sends of its own, one recipient each (default 30).
    pub server_mail: usize,
    /// Messages to the list server that are not posts (default 20).
    pub server_inbound: usize,
}

impl Default for MailScenario {
    fn default() -> Self {
        MailScenario {
            people: 40,
            members: 5,
            posts: 12,
            span_ns: 12 * 3_600_000_000_000,
            background: 600,
            server_mail: 30,
            server_inbound: 20,
        }
    }
}

/// The list server's address.
pub const LIST: &str = "list@lists.example.org";

fn person(i: usize) -> String {
    format!("u{i:02}@example.org")
}

/// One message: when, from, to whom (one copy each), and its size.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// When it was sent.
    pub time: i64,
    /// Sender.
    pub from: String,
    /// Recipients, one copy each.
    pub to: Vec<String>,
    /// Size in bytes.
    pub size: u64,
}

/// The community's mail: messages not from the list server, messages from it (posts fanned
/// out, and its own mail), and the true members.
pub struct Community {
    /// Messages not sent by the list server (posts coming in included).
    pub others: Vec<Message>,
    /// Messages the list server sends.
    pub server: Vec<Message>,
    /// The list's members.
    pub members: BTreeSet<String>,
    /// Everyone but the list server, in a seeded order (broadcast groups are drawn from it).
    pub everyone: Vec<String>,
}

fn size(rng: &mut SplitMix64) -> u64 {
    // Log-uniform from 1 kB to 100 kB: mail sizes span orders of magnitude.
    (1000.0 * 100f64.powf(rng.next_f64())) as u64
}

/// Simulates the community's mail with `seed`.
pub fn community(sc: &MailScenario, seed: u64) -> Community {
    let mut rng = SplitMix64::new(seed);
    let mut everyone: Vec<String> = (0..sc.people).map(person).collect();
    // Fisher-Yates: the first `members` are the list.
    for i in (1..everyone.len()).rev() {
        let j = rng.range_u64(0, i as u64) as usize;
        everyone.swap(i, j);
    }
    let members: Vec<String> = everyone[..sc.members.min(everyone.len())].to_vec();
    let pick = |rng: &mut SplitMix64, v: &[String]| {
        v[rng.range_u64(0, v.len() as u64 - 1) as usize].clone()
    };
    let at = |rng: &mut SplitMix64| rng.range_u64(0, sc.span_ns as u64) as i64;
    let mut others = Vec::new();
    let mut server = Vec::new();
    for _ in 0..sc.posts {
        let t = at(&mut rng);
        let from = pick(&mut rng, &members);
        let s = size(&mut rng);
        others.push(Message {
            time: t,
            from: from.clone(),
            to: vec![LIST.into()],
            size: s,
        });
        // The server hands the post on a second or a few later (queueing).
        let out = t + 1_000_000_000 + rng.range_u64(0, 4_000_000_000) as i64;
        server.push(Message {
            time: out,
            from: LIST.into(),
            to: members.iter().filter(|m| **m != from).cloned().collect(),
            size: s,
        });
    }
    for _ in 0..sc.background {
        let from = pick(&mut rng, &everyone);
        let mut to = pick(&mut rng, &everyone);
        while to == from {
            to = pick(&mut rng, &everyone);
        }
        others.push(Message {
            time: at(&mut rng),
            from,
            to: vec![to],
            size: size(&mut rng),
        });
    }
    for _ in 0..sc.server_mail {
        server.push(Message {
            time: at(&mut rng),
            from: LIST.into(),
            to: vec![pick(&mut rng, &everyone)],
            size: size(&mut rng),
        });
    }
    for _ in 0..sc.server_inbound {
        others.push(Message {
            time: at(&mut rng),
            from: pick(&mut rng, &everyone),
            to: vec![LIST.into()],
            size: size(&mut rng),
        });
    }
    Community {
        others,
        server,
        members: members.into_iter().collect(),
        everyone,
    }
}

/// One event per copy. A message to several recipients leaves as copies a fraction of a
/// second apart, each a few bytes larger or smaller (per-recipient encryption and headers).
/// The copies carry the message's id in `label`, as `tapir mail` events do.
fn copies(m: &Message, id: &str, rng: &mut SplitMix64, out: &mut Vec<Event>) {
    for (j, r) in m.to.iter().enumerate() {
        let t = m.time + j as i64 * COPY_GAP_NS;
        let s = m.size + rng.range_u64(0, 40);
        let mut e = Event::mail(Timestamp(t), &m.from, r, s);
        e.label = Some(id.to_string());
        out.push(e);
    }
}

/// Time between two copies of one message as a relay hands them on.
pub use tapir_defense::COPY_GAP_NS;

/// Broadcast (M3AAWG, "broadcast/publication") over mail events: every message `sender` sends
/// goes to each address of `group` as well as to its own recipients, so an observer cannot
/// tell whom it was for. A message is the sender's copies with one message id (the events'
/// `label`, as `tapir mail` gives them); a copy without an id is a message of its own. Which
/// copies are added and when is [`tapir_defense::Broadcast`], the one `tapir defend` runs: they
/// leave after the message's last copy, [`COPY_GAP_NS`] apart, at the size of its first copy.
///
/// Costs count deliveries as packets: real = the sender's copies in, out = its copies out, the
/// added ones dummies; no copy is delayed. Events of other senders pass unchanged and
/// uncounted. The output is in time order.
pub fn broadcast(events: &[Event], sender: &str, group: &[String]) -> (Vec<Event>, Costs) {
    // Messages of the sender in order of first copy: (first copy, recipients, last time).
    let mut order: Vec<(usize, Vec<&str>, i64)> = Vec::new();
    let mut by_id: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut costs = Costs::default();
    for (i, e) in events.iter().enumerate() {
        if e.src != sender {
            continue;
        }
        costs.real_packets += 1;
        costs.real_bytes += e.size;
        let slot = match e.label.as_deref() {
            Some(id) => *by_id.entry(id).or_insert_with(|| {
                order.push((i, Vec::new(), e.time.0));
                order.len() - 1
            }),
            None => {
                order.push((i, Vec::new(), e.time.0));
                order.len() - 1
            }
        };
        let m = &mut order[slot];
        m.1.push(e.dst.as_str());
        m.2 = m.2.max(e.time.0);
    }
    let b = tapir_defense::Broadcast::new(group).only_from(sender);
    let mut out = events.to_vec();
    for (first, to, last) in &order {
        let f = &events[*first];
        for (g, t) in b.copies(sender, to.iter().copied(), Timestamp(*last)) {
            let mut e = Event::mail(t, sender, &g, f.size);
            e.label = f.label.clone();
            costs.dummy_packets += 1;
            out.push(e);
        }
    }
    costs.out_packets = costs.real_packets + costs.dummy_packets;
    costs.out_bytes = out.iter().filter(|e| e.src == sender).map(|e| e.size).sum();
    tapir_analysis::sort_events(&mut out);
    (out, costs)
}

/// The list server's outgoing copies after `spec`, and what the defence cost.
fn defend_server(
    c: &Community,
    spec: &str,
    seed: u64,
    rng: &mut SplitMix64,
) -> Result<(Vec<Event>, Costs)> {
    let mut msgs = c.server.clone();
    msgs.sort_by_key(|m| m.time);
    let mut ev = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        copies(m, &format!("<s{i}@{LIST}>"), rng, &mut ev);
    }
    tapir_analysis::sort_events(&mut ev);
    if let Some(rest) = spec.strip_prefix("broadcast:") {
        let n: usize = rest
            .strip_prefix("group=")
            .and_then(|v| v.parse().ok())
            .filter(|&n| n >= 1)
            .ok_or_else(|| {
                ExperimentError::NoData(format!(
                    "{spec}: broadcast takes group=N (addresses that get every message, N ≥ 1)"
                ))
            })?;
        // The group: the members first, then the others in the community's seeded order.
        let mut group: Vec<String> = c.members.iter().cloned().collect();
        group.extend(
            c.everyone
                .iter()
                .filter(|p| !c.members.contains(*p))
                .take(n.saturating_sub(group.len()))
                .cloned(),
        );
        return Ok(broadcast(&ev, LIST, &group));
    }
    if spec == "none" {
        let bytes = ev.iter().map(|e| e.size).sum();
        let n = ev.len() as u64;
        let costs = Costs {
            real_packets: n,
            real_bytes: bytes,
            out_packets: n,
            out_bytes: bytes,
            ..Costs::default()
        };
        return Ok((ev, costs));
    }
    let over_mail = ["delay:", "mix:"];
    if !over_mail.iter().any(|p| spec.starts_with(p)) {
        return Err(ExperimentError::NoData(format!(
            "{spec}: over mail only none, delay:mean=T, mix:batch=N, mix:timed=T and \
             broadcast:group=N apply"
        )));
    }
    // One message copy a packet; a mix or delay keeps order within a direction, so the k-th
    // copy out is the k-th copy in.
    let packets: Vec<TracePacket> = ev
        .iter()
        .map(|e| {
            TracePacket::new(
                tapir_capture::Timestamp::from_nanos(e.time.0),
                e.size.min(u64::from(u32::MAX)) as u32,
                Direction::Down,
            )
        })
        .collect();
    let mut d = tapir_defense::parse_chain(&[spec], seed)?;
    let (out, costs) = tapir_defense::run(&mut d, packets);
    if out.len() != ev.len() || out.iter().any(|p| p.real != p.size) {
        return Err(ExperimentError::NoData(format!(
            "{spec}: adds or resizes messages; over mail only delays and mixes apply"
        )));
    }
    for (e, p) in ev.iter_mut().zip(&out) {
        e.time = Timestamp(p.ts.as_nanos());
        e.end = e.time;
    }
    Ok((ev, costs))
}

/// What the sequence analysis recovered of the list in one simulated community.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceOutcome {
    /// Jaccard similarity of the best group of the list server with the true members (0: no
    /// group), default window.
    pub naive: f64,
    /// The same with the window widened by the defence's p99 delay.
    pub adaptive: f64,
    /// Members of the best group (naive attacker).
    pub found: usize,
    /// What the defence cost.
    pub costs: Costs,
}

fn recovery(
    events: &[Event],
    members: &BTreeSet<String>,
    cfg: &SequenceConfig,
) -> Result<(f64, usize)> {
    let r = infer_groups(events, cfg)?;
    // Groups are sorted by support: the first of the list server is the attacker's answer.
    let Some(g) = r.groups.iter().find(|g| g.hub == LIST) else {
        return Ok((0.0, 0));
    };
    let got: BTreeSet<&str> = g.members.iter().map(|m| m.name.as_str()).collect();
    let want: BTreeSet<&str> = members.iter().map(String::as_str).collect();
    let inter = got.intersection(&want).count();
    let union = got.union(&want).count();
    Ok((inter as f64 / union.max(1) as f64, got.len()))
}

/// Simulates one community, defends the list server's mail with `spec`, and runs both
/// attackers.
pub fn sequence_trial(sc: &MailScenario, spec: &str, seed: u64) -> Result<SequenceOutcome> {
    if sc.people < 3 || sc.members < 3 || sc.members > sc.people || sc.span_ns <= 0 {
        return Err(ExperimentError::Setting {
            name: "mail scenario",
            why: format!(
                "needs at least 3 people, 3 to `people` members (a list the analysis can \
                 see: k = 3) and a positive span, not {sc:?}"
            ),
        });
    }
    let c = community(sc, seed);
    let mut rng = SplitMix64::new(seed ^ 0xc0b1e5);
    let (mut events, costs) = defend_server(&c, spec, seed ^ 0x5eed, &mut rng)?;
    for (i, m) in c.others.iter().enumerate() {
        copies(m, &format!("<o{i}@example.org>"), &mut rng, &mut events);
    }
    let naive_cfg = SequenceConfig::default();
    let (naive, found) = recovery(&events, &c.members, &naive_cfg)?;
    let adaptive_cfg = SequenceConfig {
        window_ns: naive_cfg.window_ns + costs.latency_p99_ns.max(0),
        ..naive_cfg
    };
    let (adaptive, _) = recovery(&events, &c.members, &adaptive_cfg)?;
    Ok(SequenceOutcome {
        naive,
        adaptive,
        found,
        costs,
    })
}

/// One row per setting: `trials` communities each, seeded from `seed`.
pub fn sequence_rows(
    sc: &MailScenario,
    specs: &[&str],
    trials: usize,
    seed: u64,
) -> Result<Vec<AttackRow>> {
    specs
        .iter()
        .map(|spec| {
            let out: Vec<SequenceOutcome> =
                run_trials(trials, seed, |s| sequence_trial(sc, spec, s))?;
            let text = RowText {
                attack: "sequence",
                spec,
                measure: "Jaccard(recovered list, true members)",
                naive: mean_of(&out, |o| o.naive),
                adaptive: Some(mean_of(&out, |o| o.adaptive)),
                detail: format!(
                    "{:.1} members named (true {})",
                    mean_of(&out, |o| o.found as f64),
                    sc.members
                ),
                extra_unit: "deliveries",
            };
            Ok(AttackRow::from_trials(text, out.iter().map(|o| &o.costs)))
        })
        .collect()
}
