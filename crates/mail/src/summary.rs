//! What a relay learns from a mailbox even when every body is encrypted: the seed's point
//! that headers, sizes and times stay "vulnerable to traffic analysis" (seeds/000).

use crate::crypto::Encryption;
use crate::date::format_utc;
use crate::meta::MailMeta;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use tapir_capture::Timestamp;

/// Accumulates [`MailMeta`] records; memory grows with distinct addresses and hosts, not
/// with messages.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    messages: u64,
    bytes: u64,
    broken: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    by_hour: [u64; 24],
    by_weekday: [u64; 7],
    encryption: BTreeMap<Encryption, u64>,
    encrypted_bytes: u64,
    encrypted_subject_exposed: u64,
    hops: u64,
    tls_hops: u64,
    all_tls: u64,
    senders: HashMap<String, u64>,
    recipients: HashMap<String, u64>,
    mtas: HashMap<String, u64>,
    clients: HashMap<String, u64>,
    /// Messages and bytes per sender → recipient pair; ordered so that ties rank the same
    /// from run to run.
    pairs: BTreeMap<(String, String), Pair>,
}

/// Messages and bytes from one sender to one recipient (a message to three recipients counts
/// once for each). The correspondence graph itself is `tapir_analysis::Graph`, built from
/// [`crate::events`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    pub from: String,
    pub to: String,
    pub messages: u64,
    pub bytes: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

/// A name and how many messages it appears in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub name: String,
    pub messages: u64,
}

/// The summary as data (also its JSON form).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryReport {
    pub messages: u64,
    pub broken: u64,
    pub bytes: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// Messages per hour of the day (UTC) and per weekday (0 = Sunday): habits show here.
    pub by_hour: Vec<u64>,
    pub by_weekday: Vec<u64>,
    pub encryption: BTreeMap<String, u64>,
    pub encrypted: u64,
    pub encrypted_bytes: u64,
    /// Encrypted messages whose `Subject:` still travels in clear (not empty, not the `...`
    /// placeholder that protected-headers clients put there).
    pub encrypted_subject_exposed: u64,
    pub senders: usize,
    pub recipients: usize,
    pub pairs: usize,
    pub hops: u64,
    pub tls_hops: u64,
    /// Share of Received hops protected by TLS.
    pub tls_hop_share: f64,
    /// Messages whose every hop was TLS.
    pub all_hops_tls: u64,
    pub top_senders: Vec<Count>,
    pub top_recipients: Vec<Count>,
    pub top_pairs: Vec<Pair>,
    /// Receiving MTAs (`by` of each hop) and mail clients (`User-Agent`, `X-Mailer`).
    pub mtas: Vec<Count>,
    pub clients: Vec<Count>,
}

fn top(m: &HashMap<String, u64>, n: usize) -> Vec<Count> {
    let mut v: Vec<Count> = m
        .iter()
        .map(|(k, &c)| Count {
            name: k.clone(),
            messages: c,
        })
        .collect();
    v.sort_by(|a, b| {
        b.messages
            .cmp(&a.messages)
            .then_with(|| a.name.cmp(&b.name))
    });
    v.truncate(n);
    v
}

impl Summary {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, m: &MailMeta) {
        self.messages += 1;
        self.bytes += m.size;
        if let Some(t) = m.time() {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
            let secs = t.as_nanos().div_euclid(1_000_000_000);
            let day = secs.div_euclid(86_400);
            self.by_hour[(secs.rem_euclid(86_400) / 3600) as usize] += 1;
            // 1970-01-01 was a Thursday.
            self.by_weekday[(day + 4).rem_euclid(7) as usize] += 1;
        }
        *self.encryption.entry(m.encryption).or_default() += 1;
        if m.encryption.is_encrypted() {
            self.encrypted_bytes += m.size;
            let s = m.subject.as_deref().unwrap_or_default().trim();
            if !s.is_empty() && s != "..." {
                self.encrypted_subject_exposed += 1;
            }
        }
        self.hops += m.received.len() as u64;
        let tls = m.tls_hops() as u64;
        self.tls_hops += tls;
        if !m.received.is_empty() && tls == m.received.len() as u64 {
            self.all_tls += 1;
        }
        if let Some(s) = m.sender() {
            *self.senders.entry(s.to_owned()).or_default() += 1;
        }
        for r in m.recipients() {
            *self.recipients.entry(r.address.clone()).or_default() += 1;
        }
        for h in &m.received {
            if let Some(by) = &h.by_host {
                *self.mtas.entry(by.clone()).or_default() += 1;
            }
        }
        if let Some(ua) = &m.user_agent {
            *self.clients.entry(ua.clone()).or_default() += 1;
        }
        if let Some(from) = m.sender() {
            let t = m.time();
            for r in m.recipients() {
                let p = self
                    .pairs
                    .entry((from.to_owned(), r.address.clone()))
                    .or_insert_with(|| Pair {
                        from: from.to_owned(),
                        to: r.address.clone(),
                        ..Pair::default()
                    });
                p.messages += 1;
                p.bytes += m.size;
                if let Some(t) = t {
                    p.first = Some(p.first.map_or(t, |f| f.min(t)));
                    p.last = Some(p.last.map_or(t, |l| l.max(t)));
                }
            }
        }
    }

    /// Counts a message that was reported and skipped.
    pub fn add_broken(&mut self) {
        self.broken += 1;
    }

    /// The figures, with the `n` largest of each ranking.
    pub fn report(&self, n: usize) -> SummaryReport {
        let mut pairs: Vec<Pair> = self.pairs.values().cloned().collect();
        pairs.sort_by(|a, b| {
            b.messages
                .cmp(&a.messages)
                .then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to)))
        });
        pairs.truncate(n);
        SummaryReport {
            messages: self.messages,
            broken: self.broken,
            bytes: self.bytes,
            first: self.first,
            last: self.last,
            by_hour: self.by_hour.to_vec(),
            by_weekday: self.by_weekday.to_vec(),
            encryption: self
                .encryption
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), *v))
                .collect(),
            encrypted: self
                .encryption
                .iter()
                .filter(|(k, _)| k.is_encrypted())
                .map(|(_, v)| v)
                .sum(),
            encrypted_bytes: self.encrypted_bytes,
            encrypted_subject_exposed: self.encrypted_subject_exposed,
            senders: self.senders.len(),
            recipients: self.recipients.len(),
            pairs: self.pairs.len(),
            hops: self.hops,
            tls_hops: self.tls_hops,
            tls_hop_share: if self.hops == 0 {
                0.0
            } else {
                self.tls_hops as f64 / self.hops as f64
            },
            all_hops_tls: self.all_tls,
            top_senders: top(&self.senders, n),
            top_recipients: top(&self.recipients, n),
            top_pairs: pairs,
            mtas: top(&self.mtas, n),
            clients: top(&self.clients, n),
        }
    }
}

impl SummaryReport {
    /// A few lines for people: what the relay learned.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "What a relay learns from {} messages ({} bytes; {} skipped as broken):",
            self.messages, self.bytes, self.broken
        );
        let _ = writeln!(
            s,
            "  bodies encrypted: {} ({} bytes); of these {} still show their subject",
            self.encrypted, self.encrypted_bytes, self.encrypted_subject_exposed
        );
        let enc: Vec<String> = self
            .encryption
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(s, "  apparent protection: {}", enc.join(", "));
        let _ = writeln!(
            s,
            "  correspondents: {} senders, {} recipients, {} sender→recipient pairs",
            self.senders, self.recipients, self.pairs
        );
        if let (Some(f), Some(l)) = (self.first, self.last) {
            let _ = writeln!(s, "  times: {} to {}", format_utc(f), format_utc(l));
        }
        let busiest = (0..24).max_by_key(|&h| (self.by_hour[h], std::cmp::Reverse(h)));
        if let Some(h) = busiest.filter(|&h| self.by_hour[h] > 0) {
            let _ = writeln!(
                s,
                "  busiest hour (UTC): {h:02}:00 with {} messages",
                self.by_hour[h]
            );
        }
        let _ = writeln!(
            s,
            "  relay hops: {}, of which TLS {} ({:.1}%); messages with every hop TLS: {}",
            self.hops,
            self.tls_hops,
            100.0 * self.tls_hop_share,
            self.all_hops_tls
        );
        let list = |v: &[Count]| {
            v.iter()
                .map(|c| format!("{} ({})", c.name, c.messages))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(s, "  top senders: {}", list(&self.top_senders));
        let _ = writeln!(s, "  top recipients: {}", list(&self.top_recipients));
        let pairs: Vec<String> = self
            .top_pairs
            .iter()
            .map(|e| format!("{} → {} ({})", e.from, e.to, e.messages))
            .collect();
        let _ = writeln!(s, "  top pairs: {}", pairs.join(", "));
        let _ = writeln!(s, "  MTAs: {}", list(&self.mtas));
        let _ = writeln!(s, "  clients: {}", list(&self.clients));
        s
    }
}
