//! Reading the hand-written messages in `tests/data/`: every field of the seed's table, every
//! kind of apparent encryption, and broken inputs reported without stopping the read.

use std::path::{Path, PathBuf};
use tapir_capture::Timestamp;
use tapir_mail::{
    anonymize_event, anonymize_meta, events, Anonymizer, BrokenKind, Encryption, Item, MailMeta,
    Messages, ReadOptions, Summary,
};

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(p)
}

fn read(paths: &[PathBuf]) -> (Vec<MailMeta>, Vec<tapir_mail::Broken>) {
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for item in Messages::new(paths, ReadOptions::default()) {
        match item.expect("test inputs are readable") {
            Item::Message(m) => ok.push(*m),
            Item::Broken(b) => bad.push(b),
        }
    }
    (ok, bad)
}

fn one(p: &str) -> MailMeta {
    let (ok, bad) = read(&[data(p)]);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(ok.len(), 1);
    ok.into_iter().next().unwrap()
}

fn ts(secs: i64) -> Option<Timestamp> {
    Some(Timestamp::from_parts(secs, 0, 1))
}

#[test]
fn every_field_of_the_seed_table() {
    let m = one("eml/plain-long-chain.eml");
    assert_eq!(m.return_path.as_deref(), Some("carol@lists.example.org"));
    assert_eq!(m.received.len(), 4);
    let top = &m.received[0];
    assert_eq!(top.by_host.as_deref(), Some("imap.example.net"));
    assert_eq!(top.with.as_deref(), Some("LMTP"));
    assert!(!top.tls);
    // 2025-11-18T09:14:07Z
    assert_eq!(top.time, ts(1_763_457_247));
    let postfix = &m.received[1];
    assert_eq!(postfix.from_host.as_deref(), Some("relay.example.org"));
    assert_eq!(postfix.with.as_deref(), Some("ESMTPS"));
    assert!(postfix.tls);
    assert_eq!(postfix.for_addr.as_deref(), Some("dave@example.net"));
    assert_eq!(m.received[2].with.as_deref(), Some("ESMTP"));
    assert!(!m.received[2].tls, "plain esmtp with no TLS comment");
    assert!(m.received[3].tls, "ESMTPSA is authenticated TLS");
    assert_eq!(m.tls_hops(), 2);
    assert_eq!(m.from[0].address, "carol@example.org");
    assert_eq!(m.from[0].name.as_deref(), Some("Carol Example"));
    assert_eq!(m.to[0].address, "dave@example.net");
    let cc: Vec<&str> = m.cc.iter().map(|c| c.address.as_str()).collect();
    assert_eq!(cc, ["erin@example.com", "frank@example.com"]);
    assert!(m.bcc.is_empty());
    // 10:13:58 +0100 = 09:13:58Z
    assert_eq!(m.date, ts(1_763_457_238));
    assert_eq!(
        m.subject.as_deref(),
        Some("Board meeting moved to Thursday")
    );
    assert_eq!(
        m.message_id.as_deref(),
        Some("20251118091358.GA1234@example.org")
    );
    assert_eq!(m.in_reply_to, ["abc123@example.net"]);
    assert_eq!(m.references, ["first@example.net", "abc123@example.net"]);
    assert_eq!(m.user_agent.as_deref(), Some("Mutt/2.2.12 (2023-09-09)"));
    assert!(m.other_headers.iter().any(|h| h == "X-Spam-Score"));
    assert!(m.other_headers.iter().any(|h| h == "Delivered-To"));
    assert_eq!(
        m.size,
        std::fs::metadata(data("eml/plain-long-chain.eml"))
            .unwrap()
            .len()
    );
    assert_eq!(m.time_received, top.time);
    assert_eq!(m.encryption, Encryption::None);
}

#[test]
fn apparent_encryption_of_each_kind() {
    let cases = [
        ("eml/plain-long-chain.eml", Encryption::None),
        ("eml/multipart.eml", Encryption::None),
        ("eml/pgp-mime.eml", Encryption::PgpMime),
        ("eml/inline-pgp.eml", Encryption::InlinePgp),
        ("eml/smime.eml", Encryption::SMime),
        ("eml/smime-signed.eml", Encryption::SMimeSigned),
    ];
    for (f, want) in cases {
        assert_eq!(one(f).encryption, want, "{f}");
    }
    // Sendmail's "(version=TLSv1.2 …)" comment marks a TLS hop though `with ESMTP` does not.
    let s = one("eml/smime.eml");
    assert!(s.received[0].tls);
    assert_eq!(
        one("eml/multipart.eml").subject.as_deref(),
        Some("Rechnung für November")
    );
}

#[test]
fn bad_encodings_parse_lossily() {
    let m = one("eml/bad-encodings.eml");
    assert_eq!(m.to[0].address, "juergen@example.de");
    assert_eq!(m.message_id.as_deref(), Some("odd@example.de"));
    assert_eq!(m.date, None, "an impossible date is dropped, not guessed");
    assert!(m.subject.is_some());
}

#[test]
fn broken_messages_are_reported_and_skipped() {
    let paths: Vec<PathBuf> = [
        "eml/broken-no-header-end.eml",
        "eml/pgp-mime.eml",
        "eml/broken-binary.eml",
        "eml/broken-bad-line.eml",
    ]
    .iter()
    .map(|p| data(p))
    .collect();
    let (ok, bad) = read(&paths);
    assert_eq!(ok.len(), 1, "the good message between broken ones is read");
    let why: Vec<&BrokenKind> = bad.iter().map(|b| &b.why).collect();
    assert_eq!(
        why,
        [
            &BrokenKind::NoHeaderEnd,
            &BrokenKind::NotAHeader,
            &BrokenKind::BadHeaderLine { line: 3 }
        ]
    );
    assert!(bad[0].to_string().contains("broken-no-header-end.eml"));
}

#[test]
fn mbox_separators_escapes_and_envelope_times() {
    let (ok, bad) = read(&[data("list.mbox")]);
    assert_eq!(ok.len(), 4);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].index, 3);
    assert_eq!(bad[0].why, BrokenKind::NotAHeader);
    let text = std::fs::read_to_string(data("list.mbox")).unwrap();
    assert_eq!(bad[0].offset as usize, text.find("From nobody").unwrap());
    assert_eq!(ok[0].encryption, Encryption::InlinePgp);
    assert_eq!(ok[0].origin.offset, 0);
    assert_eq!(
        ok[1].origin.offset as usize,
        text.find("From bob@").unwrap()
    );
    // Second message: ">From " and ">>From " lose one '>' each: size shrinks by two bytes.
    let start = text.find("From bob@").unwrap();
    let sep_end = start + text[start..].find('\n').unwrap() + 1;
    let end = text.find("\nFrom carol@").unwrap(); // the blank line before is framing
    assert_eq!(ok[1].size as usize, end - sep_end - 2);
    assert_eq!(ok[1].envelope_from.as_deref(), Some("bob@example.net"));
    assert_eq!(ok[2].encryption, Encryption::PgpSigned);
    // The last message has neither Received nor Date: its time is the From_ line's.
    // Thu Nov 20 12:30:00 2025 UTC
    assert_eq!(ok[3].time_received, ts(1_763_641_800));
    assert_eq!(ok[3].date, None);
    assert_eq!(events(&ok[3]).len(), 2);
}

#[test]
fn truncated_mbox_reports_the_cut_message() {
    let (ok, bad) = read(&[data("truncated.mbox")]);
    assert_eq!(ok.len(), 1);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].why, BrokenKind::NoHeaderEnd);
    assert_eq!(bad[0].index, 1);
}

#[test]
fn maildir_reads_cur_and_new_not_tmp() {
    let (ok, bad) = read(&[data("maildir")]);
    assert!(bad.is_empty());
    assert_eq!(ok.len(), 2);
    assert!(ok[0].origin.file.to_string_lossy().contains("/cur/"));
    assert_eq!(ok[0].encryption, Encryption::PgpMime);
    assert_eq!(ok[1].encryption, Encryption::SMime);
}

#[test]
fn folder_of_eml_in_name_order() {
    let (ok, bad) = read(&[data("eml")]);
    assert_eq!(ok.len(), 7);
    assert_eq!(bad.len(), 3);
    let names: Vec<String> = ok
        .iter()
        .map(|m| {
            m.origin
                .file
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn oversized_messages_are_skipped() {
    let opts = ReadOptions {
        max_message: 500,
        ..ReadOptions::default()
    };
    let (mut ok, mut bad) = (0, Vec::new());
    for item in Messages::new(&[data("list.mbox"), data("eml/pgp-mime.eml")], opts) {
        match item.unwrap() {
            Item::Message(_) => ok += 1,
            Item::Broken(b) => bad.push(b.why),
        }
    }
    // The list's second message and the 1103-byte PGP/MIME file exceed 500 bytes.
    assert_eq!(ok, 3);
    assert_eq!(
        bad.iter()
            .filter(|w| matches!(w, BrokenKind::TooLarge { limit: 500 }))
            .count(),
        2
    );
}

#[test]
fn unreadable_input_is_an_error_and_reading_goes_on() {
    let items: Vec<_> = Messages::new(
        &[data("no-such-file.mbox"), data("eml/smime.eml")],
        ReadOptions::default(),
    )
    .collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_err());
    assert!(matches!(items[1], Ok(Item::Message(_))));
}

#[test]
fn summary_of_an_encrypted_mailbox() {
    let (ok, _) = read(&[data("list.mbox"), data("maildir")]);
    let mut s = Summary::new();
    ok.iter().for_each(|m| s.add(m));
    s.add_broken();
    let r = s.report(3);
    assert_eq!(r.messages, 6);
    assert_eq!(r.broken, 1);
    // Inline PGP, PGP/MIME, S/MIME are encrypted; the cleartext-signed one is not.
    assert_eq!(r.encrypted, 3);
    // The PGP/MIME message hides its subject ("..."); the other two expose theirs.
    assert_eq!(r.encrypted_subject_exposed, 2);
    assert_eq!(r.hops, 5);
    assert_eq!(r.tls_hops, 4);
    assert_eq!(r.top_senders[0].name, "alice@example.org");
    assert_eq!(r.top_senders[0].messages, 3);
    assert!(r.to_text().contains("TLS 4 (80.0%)"));
    let p = &r.top_pairs[0];
    assert_eq!(
        (p.from.as_str(), p.to.as_str(), p.messages),
        ("alice@example.org", "crypto-list@example.net", 2)
    );
}

#[test]
fn anonymised_addresses_keep_the_graph_shape() {
    let (mut ok, _) = read(&[data("list.mbox")]);
    let mut ev = events(&ok[3]);
    let a = Anonymizer::from_passphrase("secret").unwrap();
    for m in &mut ok {
        anonymize_meta(&a, m);
    }
    let all = serde_json::to_string(&ok).unwrap();
    assert!(!all.contains("alice@"), "{all}");
    // Host names in Received hops are kept (they are infrastructure, not people).
    assert!(!all.contains("@example."), "{all}");
    assert!(
        !all.contains("203.0.113.9"),
        "relay addresses get Crypto-PAn pseudonyms"
    );
    assert_eq!(
        ok[0].from[0].address,
        a.anonymize_email("alice@example.org")
    );
    // Messages 0 and 1 were both written by alice: the graph keeps the shared sender.
    assert_eq!(ok[0].from[0].address, ok[1].from[0].address);
    // Events anonymised on their own get the same pseudonyms as the anonymised record's.
    anonymize_event(&a, &mut ev[0]);
    assert_eq!(ev[0], events(&ok[3])[0]);
}
