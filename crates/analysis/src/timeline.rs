//! Inferential analysis (M3AAWG, `seeds/000`, "Inferential Analysis"): independent events about
//! one entity — its flows and mail, watchlist hits, new peers, surges and silences, inferred
//! groups — put on one timeline, so that what each says alone can be read together.

use crate::entity::{mail_domain, Pattern};
use crate::event::Event;
use crate::sequence::Group;
use crate::time::{format_duration, format_utc};
use crate::volume::{VolumeEvent, VolumeEventKind};
use crate::watch::{Hit, NewPeer, WatchDirection};
use crate::AnalysisError;
use serde::Serialize;
use tapir_capture::Timestamp;

/// What a timeline line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EntryKind {
    Flow,
    Mail,
    NewPeer,
    WatchHit,
    Surge,
    Silence,
    Group,
}

impl EntryKind {
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Flow => "flow",
            EntryKind::Mail => "mail",
            EntryKind::WatchHit => "watch-hit",
            EntryKind::NewPeer => "new-peer",
            EntryKind::Surge => "surge",
            EntryKind::Silence => "silence",
            EntryKind::Group => "group",
        }
    }
}

/// One line of a timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub time: Timestamp,
    pub end: Timestamp,
    pub kind: EntryKind,
    pub summary: String,
}

impl Entry {
    /// `2026-11-22 02:00:00.000  surge      …`
    pub fn line(&self) -> String {
        format!(
            "{}  {:<9}  {}",
            format_utc(self.time),
            self.kind.name(),
            self.summary
        )
    }
}

/// Collects what touches one entity: an address, a prefix, a mail address or a domain.
#[derive(Clone, Debug)]
pub struct Timeline {
    raw: String,
    filter: Pattern,
    entries: Vec<Entry>,
}

impl Timeline {
    pub fn new(entity: &str) -> Result<Self, AnalysisError> {
        let filter = Pattern::parse(entity).map_err(|why| AnalysisError::invalid("entity", why))?;
        Ok(Timeline {
            raw: entity.trim().to_string(),
            filter,
            entries: Vec::new(),
        })
    }

    fn is_me(&self, name: &str) -> bool {
        self.filter.matches(name, name.parse().ok())
    }

    /// Whether an entity of a volume report (a host, a `prefix/NN`, a domain or a site name)
    /// covers or lies inside the entity of this timeline.
    fn overlaps(&self, entity: &str) -> bool {
        if entity.eq_ignore_ascii_case(&self.raw) || self.is_me(entity) {
            return true;
        }
        match (Pattern::parse(entity), &self.filter) {
            (Ok(Pattern::Prefix(c)), Pattern::Prefix(f)) => {
                c.contains(f.addr()) || f.contains(c.addr())
            }
            (Ok(Pattern::Domain(d)), Pattern::Mail(m)) => mail_domain(m)
                .is_some_and(|md| Pattern::Domain(d.clone()).matches(&format!("x@{md}"), None)),
            (Ok(Pattern::Domain(d)), Pattern::Domain(f)) => {
                Pattern::Domain(f.clone()).matches(&format!("x@{d}"), None)
                    || Pattern::Domain(d.clone()).matches(&format!("x@{f}"), None)
            }
            _ => false,
        }
    }

    pub fn add_event(&mut self, e: &Event) {
        if !(self.is_me(&e.src) || self.is_me(&e.dst)) {
            return;
        }
        let kind = match e.kind {
            crate::EventKind::Flow => EntryKind::Flow,
            _ => EntryKind::Mail,
        };
        let mut s = format!("{}  {} B →, {} B ←", e.describe(), e.size, e.rev_size);
        if e.packets > 0 {
            s.push_str(&format!(", {} packets", e.packets));
        }
        if let Some(l) = &e.label {
            s.push_str(&format!("  [{l}]"));
        }
        self.entries.push(Entry {
            time: e.time,
            end: e.end,
            kind,
            summary: s,
        });
    }

    pub fn add_hit(&mut self, h: &Hit) {
        if !(self.is_me(&h.watched) || self.is_me(&h.peer)) {
            return;
        }
        let name = h
            .entry_name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let arrow = match h.direction {
            WatchDirection::ToWatched => format!("{} → {}", h.peer, h.watched),
            WatchDirection::FromWatched => format!("{} → {}", h.watched, h.peer),
        };
        self.entries.push(Entry {
            time: h.time,
            end: h.end,
            kind: EntryKind::WatchHit,
            summary: format!(
                "{arrow}: watchlist {}{name} line {}; {}",
                h.entry, h.entry_line, h.evidence
            ),
        });
    }

    pub fn add_new_peer(&mut self, a: &NewPeer) {
        if !(self.is_me(&a.host) || self.is_me(&a.peer)) {
            return;
        }
        self.entries.push(Entry {
            time: a.first_seen,
            end: a.first_seen,
            kind: EntryKind::NewPeer,
            summary: format!(
                "{} has a new peer {} ({} peers in the baseline); {}",
                a.host, a.peer, a.baseline_peers, a.evidence
            ),
        });
    }

    pub fn add_volume(&mut self, v: &VolumeEvent, metric: &str) {
        if !self.overlaps(&v.entity) {
            return;
        }
        let span = format_duration(v.end.0 - v.start.0);
        let (kind, summary) = match v.kind {
            VolumeEventKind::Surge => (
                EntryKind::Surge,
                format!(
                    "{}: {} {metric} against a usual {:.1}{} for {span}, score {:.1}",
                    v.entity,
                    v.value,
                    v.expected,
                    v.ratio.map(|r| format!(" (×{r:.1})")).unwrap_or_default(),
                    v.score
                ),
            ),
            _ => (
                EntryKind::Silence,
                format!(
                    "{}: no {metric} for {span} (usually {:.1} per interval), score {:.1}",
                    v.entity, v.expected, v.score
                ),
            ),
        };
        self.entries.push(Entry {
            time: v.start,
            end: v.end,
            kind,
            summary,
        });
    }

    pub fn add_group(&mut self, g: &Group) {
        if !(self.is_me(&g.hub) || g.members.iter().any(|m| self.is_me(&m.name))) {
            return;
        }
        let members: Vec<String> = g
            .members
            .iter()
            .map(|m| format!("{} ({})", m.name, m.support))
            .collect();
        self.entries.push(Entry {
            time: g.first,
            end: g.last,
            kind: EntryKind::Group,
            summary: format!(
                "group {} via {} seen {} times: {}",
                g.id,
                g.hub,
                g.support,
                members.join(", ")
            ),
        });
    }

    /// The entries sorted by time, then kind (so a flow comes before the hit it caused).
    pub fn finish(mut self) -> Vec<Entry> {
        self.entries.sort_by_key(|a| (a.time, a.kind));
        self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_entity_collects_hosts_and_prefix_events() {
        let mut t = Timeline::new("10.0.0.0/24").unwrap();
        let e = Event::flow(
            Timestamp(20),
            Timestamp(30),
            ("10.0.0.5".parse().unwrap(), 1),
            ("192.0.2.1".parse().unwrap(), 2),
            17,
            10,
            20,
            2,
        );
        t.add_event(&e);
        let mut other = e.clone();
        other.src = "10.0.1.5".into();
        other.src_ip = other.src.parse().ok();
        t.add_event(&other);
        let v = VolumeEvent {
            entity: "10.0.0.0/16".into(),
            kind: VolumeEventKind::Silence,
            start: Timestamp(10),
            end: Timestamp(40),
            intervals: 3,
            value: 0,
            expected: 4.0,
            ratio: Some(0.0),
            score: 6.0,
        };
        t.add_volume(&v, "flows");
        let mut far = v.clone();
        far.entity = "172.16.0.0/16".into();
        t.add_volume(&far, "flows");
        let out = t.finish();
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].kind, EntryKind::Silence);
        assert!(
            out[1].summary.starts_with("udp 10.0.0.5:1 → 192.0.2.1:2"),
            "{}",
            out[1].summary
        );
    }

    #[test]
    fn mail_entity_matches_its_domain_events() {
        let t = Timeline::new("bob@example.org").unwrap();
        assert!(t.overlaps("example.org"));
        assert!(!t.overlaps("example.com"));
        assert!(Timeline::new("what is this").is_err());
    }
}
