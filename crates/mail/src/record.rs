//! A message as one flat record, as `tapir mail --json` writes it: one line per message that
//! pandas or DuckDB load as a table row as it is.

use crate::crypto::Encryption;
use crate::meta::{Hop, MailMeta, Mailbox};
use serde::Serialize;
use std::net::IpAddr;
use tapir_capture::Timestamp;

/// [`MailMeta`] with no nested value: lists of addresses, message ids and header names are
/// joined with `;` (null when empty), the `Received:` chain is counted and its two ends given
/// field by field. The first hop is the oldest (the bottom `Received:` header, where the message
/// entered the mail system: the sender's client), the last hop the most recent (the top one:
/// the last relay's receipt); a message with one hop has it as both. Display names other than
/// the first sender's, the `for` addresses and TLS versions of hops, and the hops between the
/// two ends are left out: [`MailMeta`] has them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MailRecord {
    /// Where the message was found: file, message index in it, byte offset.
    pub file: String,
    pub index: u64,
    pub offset: u64,
    /// Integer nanoseconds since the epoch, as [`MailMeta::time_received`] and
    /// [`MailMeta::date`].
    pub time_received: Option<Timestamp>,
    pub date: Option<Timestamp>,
    /// `From:` addresses.
    pub from: Option<String>,
    /// The display name of the first `From:` address.
    pub from_name: Option<String>,
    pub return_path: Option<String>,
    pub envelope_from: Option<String>,
    pub to: Option<String>,
    pub cc: Option<String>,
    pub bcc: Option<String>,
    /// Addresses in `To:`, `Cc:` and `Bcc:`.
    pub recipients: usize,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
    pub user_agent: Option<String>,
    /// Names of the other header fields, in order.
    pub other_headers: Option<String>,
    pub size: u64,
    pub encryption: Encryption,
    /// `Received:` headers, and how many of those hops used TLS.
    pub hops: usize,
    pub tls_hops: usize,
    pub first_hop_from_host: Option<String>,
    pub first_hop_from_ip: Option<IpAddr>,
    pub first_hop_by_host: Option<String>,
    pub first_hop_with: Option<String>,
    pub first_hop_tls: Option<bool>,
    pub first_hop_time: Option<Timestamp>,
    pub last_hop_from_host: Option<String>,
    pub last_hop_from_ip: Option<IpAddr>,
    pub last_hop_by_host: Option<String>,
    pub last_hop_with: Option<String>,
    pub last_hop_tls: Option<bool>,
    pub last_hop_time: Option<Timestamp>,
}

/// `items` joined with `;`, or `None` when there is none.
fn joined<'a>(items: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let v: Vec<&str> = items.into_iter().collect();
    (!v.is_empty()).then(|| v.join(";"))
}

fn addresses(m: &[Mailbox]) -> Option<String> {
    joined(m.iter().map(|b| b.address.as_str()))
}

impl From<&MailMeta> for MailRecord {
    fn from(m: &MailMeta) -> Self {
        // Top (most recent) first in the message.
        let (first, last) = (m.received.last(), m.received.first());
        let field = |h: Option<&Hop>, f: fn(&Hop) -> Option<String>| h.and_then(f);
        MailRecord {
            file: m.origin.file.display().to_string(),
            index: m.origin.index,
            offset: m.origin.offset,
            time_received: m.time_received,
            date: m.date,
            from: addresses(&m.from),
            from_name: m.from.first().and_then(|b| b.name.clone()),
            return_path: m.return_path.clone(),
            envelope_from: m.envelope_from.clone(),
            to: addresses(&m.to),
            cc: addresses(&m.cc),
            bcc: addresses(&m.bcc),
            recipients: m.recipients().count(),
            subject: m.subject.clone(),
            message_id: m.message_id.clone(),
            in_reply_to: joined(m.in_reply_to.iter().map(String::as_str)),
            references: joined(m.references.iter().map(String::as_str)),
            user_agent: m.user_agent.clone(),
            other_headers: joined(m.other_headers.iter().map(String::as_str)),
            size: m.size,
            encryption: m.encryption,
            hops: m.received.len(),
            tls_hops: m.tls_hops(),
            first_hop_from_host: field(first, |h| h.from_host.clone()),
            first_hop_from_ip: first.and_then(|h| h.from_ip),
            first_hop_by_host: field(first, |h| h.by_host.clone()),
            first_hop_with: field(first, |h| h.with.clone()),
            first_hop_tls: first.map(|h| h.tls),
            first_hop_time: first.and_then(|h| h.time),
            last_hop_from_host: field(last, |h| h.from_host.clone()),
            last_hop_from_ip: last.and_then(|h| h.from_ip),
            last_hop_by_host: field(last, |h| h.by_host.clone()),
            last_hop_with: field(last, |h| h.with.clone()),
            last_hop_tls: last.map(|h| h.tls),
            last_hop_time: last.and_then(|h| h.time),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{parse_message, Envelope};

    #[test]
    fn a_message_flattens_with_its_hops_in_path_order() {
        let raw =
            b"Received: from mx1.example.net (mx1.example.net [192.0.2.1]) by mx2.example.net \
with ESMTPS; Thu, 20 Nov 2025 10:00:09 +0000\r\n\
Received: from laptop (client [198.51.100.7]) by mx1.example.net with ESMTPSA; \
Thu, 20 Nov 2025 10:00:05 +0000\r\n\
From: Alice <alice@example.org>\r\nTo: bob@example.net, carol@example.net\r\n\
Cc: dan@example.net\r\nSubject: plans\r\nMessage-ID: <1@example.org>\r\n\
References: <0@example.org> <00@example.org>\r\nX-Spam: no\r\n\r\nbody\r\n";
        let m = parse_message(raw, Envelope::default()).unwrap();
        let r = MailRecord::from(&m);
        assert_eq!(r.from.as_deref(), Some("alice@example.org"));
        assert_eq!(r.from_name.as_deref(), Some("Alice"));
        assert_eq!(r.to.as_deref(), Some("bob@example.net;carol@example.net"));
        assert_eq!(r.cc.as_deref(), Some("dan@example.net"));
        assert_eq!((r.bcc, r.recipients), (None, 3));
        assert_eq!(
            r.references.as_deref(),
            Some("0@example.org;00@example.org")
        );
        assert_eq!((r.hops, r.tls_hops), (2, 2));
        assert_eq!(r.first_hop_from_ip, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(r.first_hop_by_host.as_deref(), Some("mx1.example.net"));
        assert_eq!(r.last_hop_by_host.as_deref(), Some("mx2.example.net"));
        assert!(r.first_hop_time < r.last_hop_time);
        assert!(r.other_headers.unwrap().contains("X-Spam"));
        // Every value is flat.
        let v = serde_json::to_value(MailRecord::from(&m)).unwrap();
        assert!(v
            .as_object()
            .unwrap()
            .values()
            .all(|x| !x.is_array() && !x.is_object()));
    }
}
