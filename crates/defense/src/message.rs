//! Defences over messages instead of packets: mail (one message, however many recipients, is
//! one unit) and flow-event files (one record is one unit).
//!
//! A relay that delays or batches messages is the same hop as one that delays or batches
//! packets, so `delay:` and `mix:` run the packet implementations with one message a packet
//! (sized as the message, all in one direction). Broadcast (M3AAWG, "broadcast/publication")
//! exists only here: a message also goes to every member of a group, so that an observer of
//! the deliveries cannot tell whom it was for.

use crate::spec::parse_spec;
use crate::TracePacket;
use crate::{Costs, Defense, DefenseError, Direction, Meter, Pkt, SplitMix64, Timestamp};
use std::collections::{BTreeSet, HashMap};

/// The defences that apply to messages, for errors and `--help`.
pub const MESSAGE_SPEC_HELP: &str = "defences over mail and flow events (several -d chain):
  delay:mean=T                        exponential per-message delay, order kept
  mix:batch=N | mix:timed=T           threshold or timed mix
  broadcast:group=N                   every message also to the N addresses that receive the
                                      most messages (mail only)";

/// Time between two copies of one message as a relay hands them on.
pub const COPY_GAP_NS: i64 = 200_000_000;

/// One message as the message defences see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// When the sender handed it over (its delivery time before the defence).
    pub time: Timestamp,
    /// Its sender.
    pub from: String,
    /// Its recipients (one for a flow: its responder).
    pub to: Vec<String>,
    /// Its size in bytes (every copy is this size).
    pub size: u64,
}

/// Broadcast: a message of a sender also goes to each member of a group that is neither its
/// sender nor already one of its recipients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broadcast {
    group: Vec<String>,
    only: Option<String>,
}

fn norm(a: &str) -> String {
    a.trim().to_ascii_lowercase()
}

impl Broadcast {
    /// Broadcast to `group` (addresses compared case-insensitively), for every sender.
    pub fn new(group: &[String]) -> Self {
        let mut seen = BTreeSet::new();
        let group = group
            .iter()
            .map(|g| norm(g))
            .filter(|g| seen.insert(g.clone()))
            .collect();
        Broadcast { group, only: None }
    }

    /// Only messages of `sender` are broadcast (a list server or remailer running it).
    pub fn only_from(mut self, sender: &str) -> Self {
        self.only = Some(norm(sender));
        self
    }

    /// The `n` addresses that receive the most messages in `msgs` (ties: the first to receive
    /// one), the group `broadcast:group=N` uses: the address book of the one who runs it.
    pub fn top_recipients(n: usize, msgs: &[Message]) -> Vec<String> {
        let mut count: HashMap<String, (u64, usize)> = HashMap::new();
        for m in msgs {
            for r in &m.to {
                let next = count.len();
                count.entry(norm(r)).or_insert((0, next)).0 += 1;
            }
        }
        let mut all: Vec<(String, (u64, usize))> = count.into_iter().collect();
        all.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.1 .1.cmp(&b.1 .1)));
        all.into_iter().take(n).map(|(a, _)| a).collect()
    }

    /// The group.
    pub fn group(&self) -> &[String] {
        &self.group
    }

    /// The copies a message of `from` to `to` gets, each with its time: one per member of the
    /// group that is neither the sender nor a recipient, [`COPY_GAP_NS`] apart after `last`
    /// (the time of the message's last own copy).
    pub fn copies<'a>(
        &self,
        from: &str,
        to: impl IntoIterator<Item = &'a str>,
        last: Timestamp,
    ) -> Vec<(String, Timestamp)> {
        let from = norm(from);
        if self.only.as_ref().is_some_and(|o| *o != from) {
            return Vec::new();
        }
        let to: BTreeSet<String> = to.into_iter().map(norm).collect();
        self.group
            .iter()
            .filter(|g| **g != from && !to.contains(*g))
            .zip(1..)
            .map(|(g, k)| (g.clone(), Timestamp(last.0.saturating_add(k * COPY_GAP_NS))))
            .collect()
    }
}

enum Stage {
    Packet(Box<dyn Defense>),
    /// `broadcast:group=N`: the group is drawn from the input when the chain runs.
    Broadcast(usize),
}

/// Message defences applied one after another.
pub struct MessageChain {
    stages: Vec<Stage>,
}

/// One delivery out of a [`MessageChain`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The index of its message in the input.
    pub message: usize,
    /// `None` for the message itself (to its own recipients); an added copy's one recipient.
    pub to: Option<String>,
    /// When it is delivered.
    pub time: Timestamp,
}

/// Parses message defence specs into a [`MessageChain`], each stage seeded apart as
/// [`crate::parse_chain`] does. A packet defence (padding, cover traffic) is an error listing
/// the defences that apply to `kind` (`"mail"`, `"flow events"`).
pub fn parse_message_chain(
    specs: &[&str],
    seed: u64,
    kind: &'static str,
) -> Result<MessageChain, DefenseError> {
    let mut stages = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let (name, rest) = spec.split_once(':').unwrap_or((spec, ""));
        let seed = SplitMix64::derive(seed, i as u64).next_u64();
        let stage = match name {
            "delay" | "mix" => Stage::Packet(parse_spec(spec, seed)?),
            "broadcast" => Stage::Broadcast(parse_broadcast(spec, rest)?),
            _ => {
                // Known to the packet defences: say it does not apply; else it is unknown.
                return Err(match parse_spec(spec, seed) {
                    Ok(_) | Err(DefenseError::BadSetting { .. }) => DefenseError::DoesNotApply {
                        spec: spec.to_string(),
                        kind,
                        help: MESSAGE_SPEC_HELP,
                    },
                    Err(_) => DefenseError::Unknown {
                        name: name.to_string(),
                        help: MESSAGE_SPEC_HELP,
                    },
                });
            }
        };
        stages.push(stage);
    }
    Ok(MessageChain { stages })
}

/// `group=N`, N ≥ 1.
pub(crate) fn parse_broadcast(spec: &str, rest: &str) -> Result<usize, DefenseError> {
    rest.strip_prefix("group=")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| (1..=1_000_000).contains(&n))
        .ok_or_else(|| DefenseError::BadSetting {
            spec: spec.to_string(),
            why: "takes group=N: the N addresses (1..=1000000) that get every message".into(),
        })
}

#[derive(Clone)]
struct Unit {
    message: usize,
    to: Option<String>,
    time: Timestamp,
    size: u32,
}

impl MessageChain {
    /// The chain's specs, as [`crate::Chain`] names them.
    pub fn spec(&self) -> String {
        self.stages
            .iter()
            .map(|s| match s {
                Stage::Packet(d) => d.spec(),
                Stage::Broadcast(n) => format!("broadcast:group={n}"),
            })
            .collect::<Vec<_>>()
            .join(" -d ")
    }

    /// Whether the chain adds copies (broadcast), which only mail can carry.
    pub fn broadcasts(&self) -> bool {
        self.stages.iter().any(|s| matches!(s, Stage::Broadcast(_)))
    }

    /// Runs the chain over `msgs` (any order: they are taken in time order, ties in input
    /// order) and measures it as [`crate::run`] measures packets: a message is a real packet
    /// of its size, an added copy a dummy. Deliveries come out in time order; each message
    /// keeps its place among the others (every stage is first in, first out).
    pub fn run(&mut self, msgs: &[Message]) -> (Vec<Delivery>, Costs) {
        let size = |m: &Message| m.size.min(u64::from(u32::MAX)) as u32;
        let mut units: Vec<Unit> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| Unit {
                message: i,
                to: None,
                time: m.time,
                size: size(m),
            })
            .collect();
        units.sort_by_key(|u| u.time);
        let mut meter = Meter::default();
        for u in &units {
            meter.input(&TracePacket::new(u.time, u.size, Direction::Down));
        }
        for stage in &mut self.stages {
            match stage {
                Stage::Packet(d) => {
                    let packets = units
                        .iter()
                        .map(|u| TracePacket::new(u.time, u.size, Direction::Down));
                    let (out, _) = crate::run(d.as_mut(), packets);
                    // Delays and mixes neither add, drop nor reorder packets of one direction.
                    debug_assert_eq!(out.len(), units.len());
                    for (u, p) in units.iter_mut().zip(&out) {
                        u.time = p.ts;
                    }
                }
                Stage::Broadcast(n) => {
                    let b = Broadcast::new(&Broadcast::top_recipients(*n, msgs));
                    let mut added = Vec::new();
                    for u in units.iter().filter(|u| u.to.is_none()) {
                        let m = &msgs[u.message];
                        for (to, time) in b.copies(&m.from, m.to.iter().map(String::as_str), u.time)
                        {
                            added.push(Unit {
                                message: u.message,
                                to: Some(to),
                                time,
                                size: u.size,
                            });
                        }
                    }
                    units.extend(added);
                    units.sort_by_key(|u| u.time);
                }
            }
        }
        for u in &units {
            let real = if u.to.is_none() { u.size } else { 0 };
            meter.output(&Pkt {
                ts: u.time,
                dir: Direction::Down,
                size: u.size,
                real,
            });
        }
        let out = units
            .into_iter()
            .map(|u| Delivery {
                message: u.message,
                to: u.to,
                time: u.time,
            })
            .collect();
        (out, meter.costs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(s: i64, from: &str, to: &[&str]) -> Message {
        Message {
            time: Timestamp(s * 1_000_000_000),
            from: from.into(),
            to: to.iter().map(|t| t.to_string()).collect(),
            size: 1000,
        }
    }

    #[test]
    fn a_threshold_mix_delivers_in_batches_and_keeps_order() {
        let msgs: Vec<Message> = (0..7).map(|i| msg(i, "a@x", &["b@y"])).collect();
        let mut c = parse_message_chain(&["mix:batch=3"], 1, "mail").unwrap();
        let (out, costs) = c.run(&msgs);
        let times: Vec<i64> = out.iter().map(|d| d.time.0 / 1_000_000_000).collect();
        // Flushed at the 3rd and 6th message; the 7th an idle second after the last.
        assert_eq!(times, vec![2, 2, 2, 5, 5, 5, 7]);
        assert_eq!(
            out.iter().map(|d| d.message).collect::<Vec<_>>(),
            (0..7).collect::<Vec<_>>()
        );
        assert_eq!(costs.latency_max_ns, 2_000_000_000);
        assert_eq!(costs.out_bytes, costs.real_bytes);
    }

    #[test]
    fn broadcast_adds_the_missing_members_after_the_message() {
        let msgs = vec![
            msg(0, "a@x", &["b@y"]),
            msg(10, "a@x", &["C@y", "b@y"]),
            msg(20, "b@y", &["c@y"]),
        ];
        // Recipients by count: b@y (2), c@y (2, later), then none more.
        assert_eq!(Broadcast::top_recipients(5, &msgs), vec!["b@y", "c@y"]);
        let mut c = parse_message_chain(&["broadcast:group=2"], 1, "mail").unwrap();
        let (out, costs) = c.run(&msgs);
        let added: Vec<(usize, &str, i64)> = out
            .iter()
            .filter_map(|d| d.to.as_deref().map(|t| (d.message, t, d.time.0)))
            .collect();
        // Message 0 gains c@y; message 1 has both; message 2's sender is in the group.
        assert_eq!(added, vec![(0, "c@y", COPY_GAP_NS)]);
        assert_eq!((costs.dummy_packets, costs.out_bytes), (1, 4000));
        assert_eq!(costs.latency_max_ns, 0);
        let only = Broadcast::new(&["b@y".into(), "d@y".into()]).only_from("A@x");
        assert_eq!(only.copies("b@y", ["c@y"], Timestamp(0)), vec![]);
        assert_eq!(only.copies("a@x", ["c@y"], Timestamp(0)).len(), 2);
    }

    #[test]
    fn packet_defences_do_not_apply_and_say_which_do() {
        let e = parse_message_chain(&["pad-mtu"], 1, "mail")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("'pad-mtu' does not apply to mail"), "{e}");
        assert!(
            e.contains("broadcast:group=N") && e.contains("mix:batch=N"),
            "{e}"
        );
        let e = parse_message_chain(&["shuffle"], 1, "mail")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("unknown defence 'shuffle'"), "{e}");
        let e = parse_message_chain(&["broadcast:group=0"], 1, "mail")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("takes group=N"), "{e}");
    }
}
