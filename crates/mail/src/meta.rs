//! One message → [`MailMeta`]: everything in the M3AAWG table of what an intermediary SMTP
//! server sees (seeds/000, "Email message elements … vulnerable to traffic analysis").

use crate::crypto::{detect, Encryption};
use crate::error::BrokenKind;
use mail_parser::{Address, DateTime, HeaderName, HeaderValue, Host, MessageParser, Protocol};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::PathBuf;
use tapir_capture::Timestamp;

/// Where a message was found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub file: PathBuf,
    /// Index within the file: 0 for a single-message file, the message number in an mbox.
    pub index: u64,
    /// Byte offset of the message (its `From ` line in an mbox) within the file.
    pub offset: u64,
}

/// A display name and an address, as in `From: Alice <alice@example.org>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// Lower-cased: the domain is case-insensitive and in practice so is the local part.
    pub address: String,
}

/// One `Received:` header: one relay hop.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// The sending host as it named itself or as reverse DNS named it.
    pub from_host: Option<String>,
    pub from_ip: Option<IpAddr>,
    /// The receiving MTA.
    pub by_host: Option<String>,
    /// Transmission type (RFC 3848): SMTP, ESMTP, ESMTPS, ESMTPSA, LMTP, …
    pub with: Option<String>,
    /// The hop was protected by TLS: an `S` transmission type (RFC 3848 §4) or a TLS comment
    /// such as Postfix's `(using TLSv1.3 with cipher …)`.
    pub tls: bool,
    pub tls_version: Option<String>,
    pub time: Option<Timestamp>,
    #[serde(rename = "for")]
    pub for_addr: Option<String>,
}

/// Everything a relay learns about one message without reading its body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MailMeta {
    pub origin: Origin,
    pub return_path: Option<String>,
    /// Top (most recent, added by the last relay) first, as they appear in the message.
    pub received: Vec<Hop>,
    pub from: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Only present when the copy still carries a `Bcc:` header (a sender's own copy).
    pub bcc: Vec<Mailbox>,
    pub date: Option<Timestamp>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// `User-Agent:` or `X-Mailer:`: the sender's mail client.
    pub user_agent: Option<String>,
    /// Names of every other header field, in order, without repeats.
    pub other_headers: Vec<String>,
    /// Size in bytes of the message as stored (after mbox un-escaping).
    pub size: u64,
    /// When the last relay received it (top `Received:` date), else the mbox `From ` line or
    /// the Maildir file name's delivery time.
    pub time_received: Option<Timestamp>,
    /// The envelope sender from an mbox `From ` line.
    pub envelope_from: Option<String>,
    pub encryption: Encryption,
}

impl MailMeta {
    /// The sender a relay attributes the message to: the first `From:` address, else the
    /// `Return-Path`, else the mbox envelope sender.
    pub fn sender(&self) -> Option<&str> {
        self.from
            .first()
            .map(|m| m.address.as_str())
            .or(self.return_path.as_deref())
            .or(self.envelope_from.as_deref())
    }

    /// Every recipient in `To:`, `Cc:` and `Bcc:`, in that order.
    pub fn recipients(&self) -> impl Iterator<Item = &Mailbox> {
        self.to.iter().chain(&self.cc).chain(&self.bcc)
    }

    /// Hops whose transmission was protected by TLS.
    pub fn tls_hops(&self) -> usize {
        self.received.iter().filter(|h| h.tls).count()
    }

    /// The best time of the message: when it was received, else its `Date:`.
    pub fn time(&self) -> Option<Timestamp> {
        self.time_received.or(self.date)
    }
}

/// What the reader knows about a message besides its bytes.
#[derive(Clone, Debug, Default)]
pub struct Envelope {
    pub origin: Origin,
    pub sender: Option<String>,
    pub time: Option<Timestamp>,
}

/// Checks the header section line by line and returns the offset of the body.
///
/// mail-parser is deliberately lenient and would read a cut message or a binary file as
/// "some headers"; a relay would reject both, so they are reported instead of half-parsed.
pub fn header_end(raw: &[u8]) -> Result<usize, BrokenKind> {
    header_end_limited(raw, DEFAULT_MAX_HEADERS)
}

/// Header fields a message may have by default: ten times a long real header (a message that
/// crossed 50 relays, Postfix's hop limit, with a few fields each), so that real mail passes
/// and a hostile one cannot make the parser build millions of fields.
pub const DEFAULT_MAX_HEADERS: u64 = 1000;

/// [`header_end`] refusing a header section of more than `max_fields` fields.
pub fn header_end_limited(raw: &[u8], max_fields: u64) -> Result<usize, BrokenKind> {
    let mut fields = 0u64;
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(BrokenKind::Empty);
    }
    let mut pos = 0usize;
    let mut line_no = 0u64;
    while pos < raw.len() {
        let end = memchr::memchr(b'\n', &raw[pos..]).map_or(raw.len(), |i| pos + i + 1);
        let line = &raw[pos..end];
        let content = line
            .strip_suffix(b"\n")
            .map_or(line, |l| l.strip_suffix(b"\r").unwrap_or(l));
        line_no += 1;
        if content.is_empty() {
            return Ok(end);
        }
        let continuation = matches!(content[0], b' ' | b'\t');
        if !continuation {
            fields += 1;
            if fields > max_fields {
                return Err(BrokenKind::TooManyHeaders { limit: max_fields });
            }
        }
        if !(continuation && line_no > 1 || is_field(content)) {
            return Err(if line_no == 1 {
                BrokenKind::NotAHeader
            } else {
                BrokenKind::BadHeaderLine { line: line_no }
            });
        }
        pos = end;
    }
    Err(BrokenKind::NoHeaderEnd)
}

/// `field-name ":"` (RFC 5322 §2.2: printable ASCII but the colon), tolerating the obsolete
/// white space before the colon (§4.5).
fn is_field(line: &[u8]) -> bool {
    let name_len = line
        .iter()
        .position(|&b| !(33..=126).contains(&b) || b == b':')
        .unwrap_or(line.len());
    if name_len == 0 {
        return false;
    }
    line[name_len..]
        .iter()
        .find(|&&b| b != b' ' && b != b'\t')
        .is_some_and(|&b| b == b':')
}

fn timestamp(dt: &DateTime) -> Option<Timestamp> {
    dt.is_valid()
        .then(|| Timestamp::from_parts(dt.to_timestamp(), 0, 1))
}

fn push_mailboxes(out: &mut Vec<Mailbox>, v: &HeaderValue<'_>) {
    let mut push = |a: &mail_parser::Addr<'_>| {
        if let Some(addr) = a.address.as_deref() {
            out.push(Mailbox {
                name: a.name.as_deref().map(str::to_owned),
                address: addr.trim().to_lowercase(),
            });
        }
    };
    match v {
        HeaderValue::Address(Address::List(l)) => l.iter().for_each(&mut push),
        HeaderValue::Address(Address::Group(g)) => {
            g.iter().flat_map(|g| &g.addresses).for_each(&mut push)
        }
        _ => {}
    }
}

fn text_list(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn host(h: &Host<'_>) -> String {
    match h {
        Host::Name(n) => n.to_lowercase(),
        Host::IpAddr(ip) => ip.to_string(),
    }
}

/// RFC 3848 §4: the `S` suffix means the transfer was protected by TLS.
fn protocol_tls(p: Protocol) -> bool {
    matches!(
        p,
        Protocol::ESMTPS
            | Protocol::ESMTPSA
            | Protocol::LMTPS
            | Protocol::LMTPSA
            | Protocol::UTF8SMTPS
            | Protocol::UTF8SMTPSA
            | Protocol::UTF8LMTPS
            | Protocol::UTF8LMTPSA
            | Protocol::HTTPS
    )
}

/// TLS named in a comment: Postfix `(using TLSv1.3 with cipher …)`, Exim
/// `(TLS1.3) tls TLS_AES_256_GCM_SHA384`, Sendmail `(version=TLSv1.3 cipher=…)`.
fn tls_comment(raw: &[u8]) -> bool {
    const HINTS: [&[u8]; 4] = [b"using tls", b"version=tls", b"(tls1", b" tls tls_"];
    let lower = raw.to_ascii_lowercase();
    HINTS
        .iter()
        .any(|h| memchr::memmem::find(&lower, h).is_some())
}

fn hop(v: &HeaderValue<'_>, raw: &[u8]) -> Hop {
    let mut h = Hop {
        tls: tls_comment(raw),
        ..Hop::default()
    };
    if let HeaderValue::Received(r) = v {
        h.from_host = r.from.as_ref().or(r.helo.as_ref()).map(host);
        h.from_ip = r.from_ip;
        h.by_host = r.by.as_ref().map(host);
        if let Some(p) = r.with {
            h.with = Some(p.as_str().to_owned());
            h.tls |= protocol_tls(p);
        }
        if let Some(v) = r.tls_version {
            h.tls = true;
            h.tls_version = Some(format!("{v:?}").replace('_', "."));
        }
        h.tls |= r.tls_cipher.is_some();
        h.time = r.date.as_ref().and_then(timestamp);
        h.for_addr = r.for_.as_deref().map(|f| f.to_lowercase());
    }
    h
}

/// Parses one message. The body is not decoded: only its top-level content type and, for
/// text, an armour line are looked at (see [`Encryption`]).
pub fn parse_message(raw: &[u8], env: Envelope) -> Result<MailMeta, BrokenKind> {
    parse_message_with(raw, env, DEFAULT_MAX_HEADERS)
}

/// [`parse_message`] refusing a message of more than `max_headers` header fields.
pub fn parse_message_with(
    raw: &[u8],
    env: Envelope,
    max_headers: u64,
) -> Result<MailMeta, BrokenKind> {
    let body_at = header_end_limited(raw, max_headers)?;
    let msg = MessageParser::new()
        .parse_headers(raw)
        .ok_or(BrokenKind::Unparsable)?;
    let mut m = MailMeta {
        origin: env.origin,
        size: raw.len() as u64,
        envelope_from: env.sender,
        ..MailMeta::default()
    };
    let mut content_type = None;
    for h in msg.headers() {
        let v = &h.value;
        match &h.name {
            HeaderName::ReturnPath => {
                let rp = match v {
                    HeaderValue::Address(_) => {
                        let mut mb = Vec::new();
                        push_mailboxes(&mut mb, v);
                        mb.into_iter().next().map(|m| m.address)
                    }
                    _ => v.as_text().map(|t| {
                        t.trim()
                            .trim_start_matches('<')
                            .trim_end_matches('>')
                            .to_lowercase()
                    }),
                };
                // `Return-Path: <>` is a bounce: the null sender says something too.
                m.return_path = m.return_path.take().or(rp);
            }
            HeaderName::Received => {
                let s = (h.offset_start as usize).min(raw.len());
                let e = (h.offset_end as usize).clamp(s, raw.len());
                m.received.push(hop(v, &raw[s..e]));
            }
            HeaderName::From => push_mailboxes(&mut m.from, v),
            HeaderName::To => push_mailboxes(&mut m.to, v),
            HeaderName::Cc => push_mailboxes(&mut m.cc, v),
            HeaderName::Bcc => push_mailboxes(&mut m.bcc, v),
            HeaderName::Date => m.date = m.date.or(v.as_datetime().and_then(timestamp)),
            HeaderName::Subject => {
                if m.subject.is_none() {
                    m.subject = v.as_text().map(str::to_owned);
                }
            }
            HeaderName::MessageId => {
                if m.message_id.is_none() {
                    m.message_id = text_list(v).into_iter().next();
                }
            }
            HeaderName::InReplyTo => m.in_reply_to.extend(text_list(v)),
            HeaderName::References => m.references.extend(text_list(v)),
            HeaderName::ContentType => content_type = v.as_content_type(),
            other => {
                let name = other.as_str();
                if (name.eq_ignore_ascii_case("user-agent")
                    || name.eq_ignore_ascii_case("x-mailer"))
                    && m.user_agent.is_none()
                {
                    m.user_agent = v.as_text().map(|t| t.trim().to_owned());
                }
                if !m.other_headers.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    m.other_headers.push(name.to_owned());
                }
            }
        }
    }
    m.encryption = detect(content_type, raw.get(body_at..).unwrap_or_default());
    m.time_received = m.received.first().and_then(|h| h.time).or(env.time);
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn header_end_finds_the_blank_line() {
        assert_eq!(header_end(b"A: 1\r\n b\r\n\r\nbody"), Ok(12));
        assert_eq!(header_end(b"A : 1\n\n"), Ok(7));
        assert_eq!(header_end(b""), Err(BrokenKind::Empty));
        assert_eq!(header_end(b"\n\n"), Err(BrokenKind::Empty));
        assert_eq!(header_end_limited(b"A: 1\nB: 2\n x\n\n", 2), Ok(14));
        assert_eq!(
            header_end_limited(b"A: 1\nB: 2\nC: 3\n\n", 2),
            Err(BrokenKind::TooManyHeaders { limit: 2 })
        );
        assert_eq!(header_end(b" A: 1\n\n"), Err(BrokenKind::NotAHeader));
        assert_eq!(header_end(b":x\n\n"), Err(BrokenKind::NotAHeader));
        assert_eq!(
            header_end(b"A: 1\nno colon\n\n"),
            Err(BrokenKind::BadHeaderLine { line: 2 })
        );
        assert_eq!(header_end(b"A: 1\nB: 2"), Err(BrokenKind::NoHeaderEnd));
    }

    #[test]
    fn sender_falls_back_to_return_path_then_envelope() {
        let m = parse_message(
            b"Return-Path: <Bounce@Example.org>\nTo: x@y.z\n\n",
            Envelope {
                sender: Some("env@example.org".into()),
                ..Envelope::default()
            },
        )
        .unwrap();
        assert_eq!(m.sender(), Some("bounce@example.org"));
        let m = parse_message(
            b"To: x@y.z\n\n",
            Envelope {
                sender: Some("env@example.org".into()),
                ..Envelope::default()
            },
        )
        .unwrap();
        assert_eq!(m.sender(), Some("env@example.org"));
    }

    proptest! {
        #[test]
        fn never_panics_on_any_bytes(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_message(&raw, Envelope::default());
        }

        #[test]
        fn never_panics_on_header_like_text(
            lines in proptest::collection::vec("[A-Za-z-]{1,12}: [ -~]{0,60}|[ \t][ -~]{0,40}|", 0..30)
        ) {
            let raw = lines.join("\r\n");
            if let Ok(m) = parse_message(raw.as_bytes(), Envelope::default()) {
                prop_assert_eq!(m.size as usize, raw.len());
            }
        }
    }
}
