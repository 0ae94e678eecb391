//! Sequence analysis (M3AAWG, `seeds/000`, "Sequence Analysis"): the encrypted mailing list.
//! A message (or flow) comes in to a hub, and within Δt the hub sends at least k copies of about
//! the same size (±ε) out: the sender and the recipients form a group, even though every body is
//! encrypted. Groups seen again (same hub, similar members) are merged, and each member's
//! support — how many occurrences it took part in — says how sure the inference is.

use crate::event::Event;
use crate::AnalysisError;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tapir_capture::Timestamp;

/// Settings of the fan-out search. [`SequenceConfig::default`] gives the documented defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceConfig {
    /// Δt: how long after the inbound event the outbound copies may leave (default 60 s; list
    /// servers hand a message on within seconds, but queues can hold it).
    pub window_ns: i64,
    /// k: fewest distinct recipients (default 3; two could be a reply and a forward).
    pub min_fanout: usize,
    /// ε: relative size tolerance (default 0.1: per-recipient re-encryption and added headers
    /// change a copy's size by a few percent).
    pub epsilon: f64,
    /// Absolute size tolerance in bytes, added to ε·size (default 64: a header line).
    pub slack_bytes: u64,
    /// Jaccard similarity of member sets at or above which occurrences merge (default 0.5).
    pub merge_similarity: f64,
    /// Fewest occurrences for a group to be reported (default 2: "recurring").
    pub min_support: usize,
}

impl Default for SequenceConfig {
    fn default() -> Self {
        SequenceConfig {
            window_ns: 60_000_000_000,
            min_fanout: 3,
            epsilon: 0.1,
            slack_bytes: 64,
            merge_similarity: 0.5,
            min_support: 2,
        }
    }
}

impl SequenceConfig {
    pub fn validate(&self) -> Result<(), AnalysisError> {
        if self.window_ns <= 0 {
            return Err(AnalysisError::invalid("window_ns", "must be positive"));
        }
        if self.min_fanout == 0 {
            return Err(AnalysisError::invalid("min_fanout", "must be at least 1"));
        }
        if !(self.epsilon.is_finite() && (0.0..1.0).contains(&self.epsilon)) {
            return Err(AnalysisError::invalid("epsilon", "must be in [0, 1)"));
        }
        if !(self.merge_similarity > 0.0 && self.merge_similarity <= 1.0) {
            return Err(AnalysisError::invalid(
                "merge_similarity",
                "must be in (0, 1]",
            ));
        }
        Ok(())
    }
}

/// One inbound event and its outbound copies.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Occurrence {
    pub time: Timestamp,
    pub hub: String,
    pub sender: String,
    pub size: u64,
    /// Distinct recipients of the copies, sorted. Written as one space-separated field, so that
    /// a JSON line is flat and matches the CSV column.
    #[serde(serialize_with = "space_separated")]
    pub recipients: Vec<String>,
    /// Delay from the inbound event to the last copy, ns.
    pub spread_ns: i64,
}

fn space_separated<S: serde::Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.join(" "))
}

/// A member of an inferred group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub name: String,
    /// Occurrences this member took part in (as sender or recipient).
    pub support: usize,
    /// Occurrences it started.
    pub sent: usize,
}

/// Recurring occurrences of one hub with similar members.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    pub id: usize,
    pub hub: String,
    /// Occurrences merged into this group.
    pub support: usize,
    pub first: Timestamp,
    pub last: Timestamp,
    /// Sorted by support (highest first), then name.
    pub members: Vec<Member>,
}

/// What [`infer_groups`] found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SequenceReport {
    pub occurrences: Vec<Occurrence>,
    pub groups: Vec<Group>,
}

/// Finds fan-outs in `events` (any order) and merges them into groups.
pub fn infer_groups(
    events: &[Event],
    cfg: &SequenceConfig,
) -> Result<SequenceReport, AnalysisError> {
    cfg.validate()?;
    // Outbound events of each sender, in time order: the candidates a hub's copies come from.
    let mut out: HashMap<&str, Vec<&Event>> = HashMap::new();
    for e in events {
        out.entry(e.src.as_str()).or_default().push(e);
    }
    for v in out.values_mut() {
        v.sort_by_key(|e| e.time);
    }
    let mut inbound: Vec<&Event> = events
        .iter()
        .filter(|e| out.contains_key(e.dst.as_str()))
        .collect();
    inbound.sort_by(|a, b| (a.time, &a.dst, &a.src).cmp(&(b.time, &b.dst, &b.src)));

    let mut occurrences = Vec::new();
    for inb in inbound {
        let Some(cands) = out.get(inb.dst.as_str()) else {
            continue;
        };
        let tol = (cfg.epsilon * inb.size as f64) as u64 + cfg.slack_bytes;
        let (lo, hi) = (inb.size.saturating_sub(tol), inb.size.saturating_add(tol));
        let until = Timestamp(inb.time.0.saturating_add(cfg.window_ns));
        // Copies leave after the message arrived: strictly later, or at the same instant.
        let start = cands.partition_point(|e| e.time < inb.time);
        let mut recipients = BTreeSet::new();
        let mut last = inb.time;
        for e in cands[start..].iter().take_while(|e| e.time <= until) {
            if (lo..=hi).contains(&e.size) && e.dst != inb.src && e.dst != inb.dst {
                recipients.insert(e.dst.clone());
                last = last.max(e.time);
            }
        }
        if recipients.len() >= cfg.min_fanout {
            occurrences.push(Occurrence {
                time: inb.time,
                hub: inb.dst.clone(),
                sender: inb.src.clone(),
                size: inb.size,
                recipients: recipients.into_iter().collect(),
                spread_ns: last.0 - inb.time.0,
            });
        }
    }
    let groups = merge(&occurrences, cfg);
    Ok(SequenceReport {
        occurrences,
        groups,
    })
}

struct Building {
    hub: String,
    members: BTreeSet<String>,
    support: BTreeMap<String, (usize, usize)>,
    occurrences: usize,
    first: Timestamp,
    last: Timestamp,
}

/// Greedy merge in time order: each occurrence joins the most similar group of its hub if the
/// Jaccard similarity of member sets reaches the threshold, else starts a new group.
fn merge(occ: &[Occurrence], cfg: &SequenceConfig) -> Vec<Group> {
    let mut groups: Vec<Building> = Vec::new();
    for o in occ {
        let set: BTreeSet<String> = o
            .recipients
            .iter()
            .cloned()
            .chain(std::iter::once(o.sender.clone()))
            .collect();
        let best = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.hub == o.hub)
            .map(|(i, g)| (i, jaccard(&g.members, &set)))
            .filter(|&(_, j)| j >= cfg.merge_similarity)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        let g = match best {
            Some((i, _)) => &mut groups[i],
            None => {
                groups.push(Building {
                    hub: o.hub.clone(),
                    members: BTreeSet::new(),
                    support: BTreeMap::new(),
                    occurrences: 0,
                    first: o.time,
                    last: o.time,
                });
                let n = groups.len() - 1;
                &mut groups[n]
            }
        };
        g.occurrences += 1;
        g.first = g.first.min(o.time);
        g.last = g.last.max(o.time);
        for m in &set {
            let s = g.support.entry(m.clone()).or_default();
            s.0 += 1;
            if *m == o.sender {
                s.1 += 1;
            }
        }
        g.members.extend(set);
    }
    let mut out: Vec<Group> = groups
        .into_iter()
        .filter(|g| g.occurrences >= cfg.min_support)
        .map(|g| {
            let mut members: Vec<Member> = g
                .support
                .into_iter()
                .map(|(name, (support, sent))| Member {
                    name,
                    support,
                    sent,
                })
                .collect();
            members.sort_by(|a, b| b.support.cmp(&a.support).then_with(|| a.name.cmp(&b.name)));
            Group {
                id: 0,
                hub: g.hub,
                support: g.occurrences,
                first: g.first,
                last: g.last,
                members,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.support
            .cmp(&a.support)
            .then_with(|| a.first.cmp(&b.first))
    });
    for (i, g) in out.iter_mut().enumerate() {
        g.id = i + 1;
    }
    out
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let inter = a.intersection(b).count();
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: i64, from: &str, to: &str, size: u64) -> Event {
        Event::mail(Timestamp(t * 1_000_000_000), from, to, size)
    }

    #[test]
    fn planted_list_is_recovered() {
        let members = ["a@x.org", "b@x.org", "c@y.org", "d@z.org"];
        let mut ev = Vec::new();
        for (n, sender) in members.iter().cycle().take(6).enumerate() {
            let t = n as i64 * 1000;
            let size = 5000 + 300 * n as u64;
            ev.push(m(t, sender, "list@hub.org", size));
            for (j, r) in members.iter().filter(|r| *r != sender).enumerate() {
                ev.push(m(t + 2 + j as i64, "list@hub.org", r, size + 40 * j as u64));
            }
            // Unrelated mail of the hub, wrong size: must not join.
            ev.push(m(t + 3, "list@hub.org", "other@w.org", 100));
        }
        let r = infer_groups(&ev, &SequenceConfig::default()).unwrap();
        assert_eq!(r.occurrences.len(), 6);
        assert_eq!(r.groups.len(), 1);
        let g = &r.groups[0];
        assert_eq!(g.hub, "list@hub.org");
        assert_eq!(g.support, 6);
        let names: BTreeSet<&str> = g.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, members.iter().copied().collect());
        assert!(g.members.iter().all(|m| m.support == 6));
    }

    #[test]
    fn too_late_or_too_few_is_no_group() {
        let ev = vec![
            m(0, "a@x.org", "hub@h.org", 1000),
            m(1, "hub@h.org", "b@x.org", 1000),
            m(2, "hub@h.org", "c@x.org", 1000),
            m(200, "hub@h.org", "d@x.org", 1000),
        ];
        let r = infer_groups(&ev, &SequenceConfig::default()).unwrap();
        assert!(r.occurrences.is_empty());
        let cfg = SequenceConfig {
            min_fanout: 2,
            min_support: 1,
            ..Default::default()
        };
        let r = infer_groups(&ev, &cfg).unwrap();
        assert_eq!(r.groups.len(), 1);
        assert_eq!(r.groups[0].members.len(), 3);
        assert!(infer_groups(
            &ev,
            &SequenceConfig {
                epsilon: 2.0,
                ..cfg
            }
        )
        .is_err());
    }
}
