//! Source/destination analysis (M3AAWG, `seeds/000`, "Source/Destination Analysis"): traffic to
//! or from watched addresses (botnet C&C servers), and new peers of sensitive hosts whose usual
//! peers were learned over a baseline period (the seed's card-processing host example).

use crate::entity::{Pattern, PatternSet};
use crate::event::{Event, EventKind};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use tapir_capture::Timestamp;

/// Which way an event went relative to the watched or sensitive entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WatchDirection {
    /// The peer started the flow (or sent the message) to the watched entity.
    ToWatched,
    /// The watched entity started the flow (or sent the message) to the peer.
    FromWatched,
}

/// Traffic that touched a watchlist entry, with the evidence an analyst needs to check it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hit {
    pub time: Timestamp,
    pub end: Timestamp,
    /// The watchlist entry, as written, and its name if it had one.
    pub entry: String,
    pub entry_name: Option<String>,
    /// Line of the entry in the watchlist.
    pub entry_line: usize,
    /// The endpoint that matched, and the other end.
    pub watched: String,
    pub peer: String,
    pub direction: WatchDirection,
    /// Bytes the peer sent to the watched entity and received from it.
    pub bytes_to_watched: u64,
    pub bytes_from_watched: u64,
    pub packets: u64,
    pub kind: EventKind,
    /// The event in one line (`tcp 10.0.0.5:51000 → 198.51.100.7:443`).
    pub evidence: String,
}

/// A sensitive host talking to a peer it did not talk to during the baseline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewPeer {
    /// When the new peer was first seen (the start of its first event after the baseline).
    pub first_seen: Timestamp,
    pub host: String,
    pub peer: String,
    pub direction: WatchDirection,
    pub bytes: u64,
    /// How many peers the host had during the baseline.
    pub baseline_peers: usize,
    pub evidence: String,
}

/// What [`Watcher`] looks for.
#[derive(Clone, Debug, Default)]
pub struct WatchConfig {
    /// Addresses, prefixes, mail addresses and domains to report every event of.
    pub watchlist: PatternSet,
    /// Hosts whose peers are learned, then watched for newcomers.
    pub sensitive: Vec<Pattern>,
    /// How long peers are learned for, in nanoseconds from the first event.
    pub baseline_ns: i64,
}

/// Streaming source/destination analysis. Feed events in time order with [`Watcher::push`].
#[derive(Debug)]
pub struct Watcher {
    cfg: WatchConfig,
    baseline_end: Option<Timestamp>,
    /// Peers of each sensitive host: learned in the baseline, then grown by each alert so a
    /// new peer is reported once.
    peers: HashMap<String, HashSet<String>>,
    baseline_sizes: HashMap<String, usize>,
    hits: Vec<Hit>,
    new_peers: Vec<NewPeer>,
}

impl Watcher {
    pub fn new(cfg: WatchConfig) -> Self {
        Watcher {
            cfg,
            baseline_end: None,
            peers: HashMap::new(),
            baseline_sizes: HashMap::new(),
            hits: Vec::new(),
            new_peers: Vec::new(),
        }
    }

    /// The end of the baseline, once the first event has fixed its start.
    pub fn baseline_end(&self) -> Option<Timestamp> {
        self.baseline_end
    }

    /// Looks at one event. Events must come in time order for the baseline to mean anything.
    pub fn push(&mut self, e: &Event) {
        if !self.cfg.watchlist.is_empty() {
            self.check_watchlist(e);
        }
        if !self.cfg.sensitive.is_empty() {
            self.check_peers(e);
        }
    }

    fn check_watchlist(&mut self, e: &Event) {
        // Both ends are checked: traffic between two watched hosts is two hits (but a host
        // talking to itself, as on loopback, is one).
        let ends = [
            (&e.dst, e.dst_ip, &e.src, WatchDirection::ToWatched),
            (&e.src, e.src_ip, &e.dst, WatchDirection::FromWatched),
        ];
        let n = if e.src == e.dst { 1 } else { 2 };
        for (watched, ip, peer, dir) in ends.into_iter().take(n) {
            let Some(entry) = self.cfg.watchlist.lookup(watched, ip) else {
                continue;
            };
            let (to, from) = match dir {
                WatchDirection::ToWatched => (e.size, e.rev_size),
                WatchDirection::FromWatched => (e.rev_size, e.size),
            };
            self.hits.push(Hit {
                time: e.time,
                end: e.end,
                entry: entry.pattern.to_string(),
                entry_name: entry.name.clone(),
                entry_line: entry.line,
                watched: watched.clone(),
                peer: peer.clone(),
                direction: dir,
                bytes_to_watched: to,
                bytes_from_watched: from,
                packets: e.packets,
                kind: e.kind,
                evidence: e.describe(),
            });
        }
    }

    fn check_peers(&mut self, e: &Event) {
        let end = *self
            .baseline_end
            .get_or_insert(Timestamp(e.time.0.saturating_add(self.cfg.baseline_ns)));
        let learning = e.time < end;
        for (host, ip, peer, dir) in [
            (&e.src, e.src_ip, &e.dst, WatchDirection::FromWatched),
            (&e.dst, e.dst_ip, &e.src, WatchDirection::ToWatched),
        ] {
            if host == peer || !self.cfg.sensitive.iter().any(|p| p.matches(host, ip)) {
                continue;
            }
            let known = self.peers.entry(host.clone()).or_default();
            if learning {
                known.insert(peer.clone());
                continue;
            }
            if !self.baseline_sizes.contains_key(host) {
                self.baseline_sizes.insert(host.clone(), known.len());
            }
            if known.insert(peer.clone()) {
                self.new_peers.push(NewPeer {
                    first_seen: e.time,
                    host: host.clone(),
                    peer: peer.clone(),
                    direction: dir,
                    bytes: e.bytes(),
                    baseline_peers: self.baseline_sizes.get(host).copied().unwrap_or(0),
                    evidence: e.describe(),
                });
            }
        }
    }

    /// Watchlist hits and new-peer alerts, in the order they happened.
    pub fn finish(self) -> (Vec<Hit>, Vec<NewPeer>) {
        (self.hits, self.new_peers)
    }
}

/// Bytes, events and distinct peers of one host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Talker {
    pub host: String,
    pub bytes: u64,
    pub packets: u64,
    pub events: u64,
    pub peers: usize,
}

/// What top talkers are ranked by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rank {
    Bytes,
    Events,
}

/// The `n` hosts that moved the most bytes (or took part in the most flows or messages);
/// ties broken by name so the list is reproducible.
pub fn top_talkers<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    n: usize,
    by: Rank,
) -> Vec<Talker> {
    let mut t: HashMap<&str, (u64, u64, u64, HashSet<&str>)> = HashMap::new();
    for e in events {
        let n = if e.src == e.dst { 1 } else { 2 };
        for (me, other) in [(&e.src, &e.dst), (&e.dst, &e.src)].into_iter().take(n) {
            let s = t.entry(me.as_str()).or_default();
            s.0 = s.0.saturating_add(e.bytes());
            s.1 = s.1.saturating_add(e.packets);
            s.2 += 1;
            s.3.insert(other.as_str());
        }
    }
    let mut v: Vec<Talker> = t
        .into_iter()
        .map(|(h, (bytes, packets, events, peers))| Talker {
            host: h.to_string(),
            bytes,
            packets,
            events,
            peers: peers.len(),
        })
        .collect();
    v.sort_by(|a, b| {
        let key = |t: &Talker| match by {
            Rank::Bytes => (t.bytes, t.events),
            Rank::Events => (t.events, t.bytes),
        };
        key(b).cmp(&key(a)).then_with(|| a.host.cmp(&b.host))
    });
    v.truncate(n);
    v
}

/// Parses `--sensitive` values (addresses, prefixes, mail addresses, domains).
pub fn parse_sensitive(values: &[String]) -> Result<Vec<Pattern>, crate::AnalysisError> {
    values
        .iter()
        .map(|v| Pattern::parse(v).map_err(|why| crate::AnalysisError::invalid("sensitive", why)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    fn flow(t: i64, s: &str, d: &str, bytes: u64) -> Event {
        Event::flow(
            Timestamp(t * SECOND),
            Timestamp(t * SECOND + 1),
            (s.parse().unwrap(), 40000),
            (d.parse().unwrap(), 443),
            6,
            bytes,
            bytes / 2,
            10,
        )
    }

    #[test]
    fn watchlist_hits_carry_evidence() {
        let wl = PatternSet::parse("198.51.100.0/24 c2-net\n", "wl").unwrap();
        let mut w = Watcher::new(WatchConfig {
            watchlist: wl,
            ..Default::default()
        });
        w.push(&flow(1, "10.0.0.5", "198.51.100.7", 1000));
        w.push(&flow(2, "10.0.0.5", "192.0.2.1", 1000));
        w.push(&flow(3, "198.51.100.9", "10.0.0.6", 300));
        let (hits, alerts) = w.finish();
        assert!(alerts.is_empty());
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].direction, WatchDirection::ToWatched);
        assert_eq!(hits[0].bytes_to_watched, 1000);
        assert_eq!(hits[0].bytes_from_watched, 500);
        assert_eq!(hits[0].entry_name.as_deref(), Some("c2-net"));
        assert_eq!(hits[1].direction, WatchDirection::FromWatched);
        assert_eq!(hits[1].peer, "10.0.0.6");
        assert_eq!(hits[1].evidence, "tcp 198.51.100.9:40000 → 10.0.0.6:443");
    }

    #[test]
    fn new_peer_alerts_once_after_baseline() {
        let mut w = Watcher::new(WatchConfig {
            sensitive: parse_sensitive(&["10.9.9.9".into()]).unwrap(),
            baseline_ns: 100 * SECOND,
            ..Default::default()
        });
        for t in 0..100 {
            w.push(&flow(t, "10.9.9.9", "192.0.2.1", 100));
            w.push(&flow(t, "192.0.2.2", "10.9.9.9", 100));
        }
        for t in 100..200 {
            w.push(&flow(t, "10.9.9.9", "192.0.2.1", 100));
            if t >= 150 {
                w.push(&flow(t, "10.9.9.9", "203.0.113.66", 5000));
            }
        }
        let (_, alerts) = w.finish();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].peer, "203.0.113.66");
        assert_eq!(alerts[0].first_seen, Timestamp(150 * SECOND));
        assert_eq!(alerts[0].baseline_peers, 2);
    }

    #[test]
    fn loopback_counts_once() {
        let wl = PatternSet::parse("127.0.0.0/8\n", "wl").unwrap();
        let mut w = Watcher::new(WatchConfig {
            watchlist: wl,
            ..Default::default()
        });
        let e = flow(1, "127.0.0.1", "127.0.0.1", 100);
        w.push(&e);
        assert_eq!(w.finish().0.len(), 1);
        let t = top_talkers([&e], 5, Rank::Events);
        assert_eq!((t.len(), t[0].events, t[0].bytes), (1, 1, 150));
    }

    #[test]
    fn top_talkers_by_bytes() {
        let ev = [
            flow(0, "10.0.0.1", "10.0.0.2", 100),
            flow(1, "10.0.0.1", "10.0.0.3", 1000),
        ];
        let t = top_talkers(&ev, 2, Rank::Bytes);
        assert_eq!(t[0].host, "10.0.0.1");
        assert_eq!(t[0].bytes, 1650);
        assert_eq!(t[0].peers, 2);
        assert_eq!(t[1].host, "10.0.0.3");
    }
}
