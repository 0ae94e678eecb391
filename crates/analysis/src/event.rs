//! The common event every analysis reads: a flow or a mail message between two entities.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use tapir_capture::Timestamp;
use tapir_flow::proto;

/// Where an [`Event`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EventKind {
    /// A bidirectional flow record; `src` is its initiator.
    Flow,
    /// One copy of a mail message, from its sender to one recipient.
    Mail,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Flow => "flow",
            EventKind::Mail => "mail",
        }
    }
}

/// One communication between two entities, the unit of every analysis in this crate.
///
/// Flows: `src`/`dst` are addresses (initiator first), `size` the bytes the initiator sent,
/// `rev_size` the bytes it received. Mail: `src`/`dst` are lower-cased mail addresses,
/// `size` the message size; a message to three recipients is three events, because each copy
/// is what a relay hands on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub time: Timestamp,
    pub end: Timestamp,
    pub kind: EventKind,
    pub src: String,
    pub dst: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_ip: Option<IpAddr>,
    #[serde(default)]
    pub src_port: u16,
    #[serde(default)]
    pub dst_port: u16,
    #[serde(default)]
    pub proto: u8,
    /// Bytes from `src` to `dst` (a flow's forward IP bytes, a message's size).
    pub size: u64,
    /// Bytes from `dst` to `src` (0 for mail).
    #[serde(default)]
    pub rev_size: u64,
    /// Packets both ways (0 for mail).
    #[serde(default)]
    pub packets: u64,
    /// A flow's tunnel kind, a message's id or subject: shown, never matched on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Event {
    /// Replaces both ends by their pseudonyms under `an` (Crypto-PAn for addresses, keyed
    /// hashes for mail addresses, as `tapir_flow` records and `tapir_mail` records get them)
    /// and a mail event's label (its message id); a flow's label is its tunnel kind and stays.
    pub fn anonymize(&mut self, an: &tapir_anon::Anonymizer) {
        let name = |ip: Option<IpAddr>, name: &str| match ip {
            Some(ip) => (Some(an.anonymize_ip(ip)), an.anonymize_ip(ip).to_string()),
            None => (None, an.anonymize_email(name)),
        };
        (self.src_ip, self.src) = name(self.src_ip, &self.src);
        (self.dst_ip, self.dst) = name(self.dst_ip, &self.dst);
        if self.kind == EventKind::Mail {
            self.label = self.label.as_deref().map(|l| an.anonymize_str(l));
        }
    }

    /// A flow event. `size`/`rev_size` are IP bytes initiator→responder and back.
    #[allow(clippy::too_many_arguments)]
    pub fn flow(
        time: Timestamp,
        end: Timestamp,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        proto: u8,
        size: u64,
        rev_size: u64,
        packets: u64,
    ) -> Event {
        Event {
            time,
            end: end.max(time),
            kind: EventKind::Flow,
            src: src.0.to_string(),
            dst: dst.0.to_string(),
            src_ip: Some(src.0),
            dst_ip: Some(dst.0),
            src_port: src.1,
            dst_port: dst.1,
            proto,
            size,
            rev_size,
            packets,
            label: None,
        }
    }

    /// One copy of a mail message. Addresses are compared case-insensitively, so they are
    /// stored lower-cased (the local part is case-sensitive by RFC 5321 §2.4, but no real
    /// mail system treats it so, and mixing cases would split one person in two).
    pub fn mail(time: Timestamp, from: &str, to: &str, size: u64) -> Event {
        Event {
            time,
            end: time,
            kind: EventKind::Mail,
            src: from.trim().to_ascii_lowercase(),
            dst: to.trim().to_ascii_lowercase(),
            src_ip: None,
            dst_ip: None,
            src_port: 0,
            dst_port: 0,
            proto: 0,
            size,
            rev_size: 0,
            packets: 0,
            label: None,
        }
    }

    /// Bytes both ways.
    pub fn bytes(&self) -> u64 {
        self.size.saturating_add(self.rev_size)
    }

    /// One line saying what this event is: `tcp 10.0.0.1:40000 → 10.0.0.2:443` or
    /// `mail alice@example.org → bob@example.org`.
    pub fn describe(&self) -> String {
        match self.kind {
            EventKind::Flow if proto::has_ports(self.proto) => format!(
                "{} {} → {}",
                proto::name(self.proto),
                endpoint(&self.src, self.src_ip, self.src_port),
                endpoint(&self.dst, self.dst_ip, self.dst_port)
            ),
            EventKind::Flow => format!("{} {} → {}", proto::name(self.proto), self.src, self.dst),
            EventKind::Mail => format!("mail {} → {}", self.src, self.dst),
        }
    }
}

fn endpoint(name: &str, ip: Option<IpAddr>, port: u16) -> String {
    match ip {
        Some(IpAddr::V6(_)) => format!("[{name}]:{port}"),
        _ => format!("{name}:{port}"),
    }
}

/// Sorts events by start time; ties keep their input order so that results are reproducible.
pub fn sort_events(events: &mut [Event]) {
    events.sort_by_key(|e| e.time);
}
