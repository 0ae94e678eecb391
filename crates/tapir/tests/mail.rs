//! End-to-end tests of `tapir mail` on the hand-written messages of the mail crate and on a
//! generated mbox with known answers.

mod common;

use common::{tapir, temp_dir};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mail/tests/data")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn table_and_summary_with_broken_messages_reported() {
    let o = tapir(&["mail", &data("list.mbox"), &data("maildir")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    for want in [
        "inline-pgp",
        "pgp-mime",
        "smime",
        "pgp-signed",
        "[crypto-list] meeting",
    ] {
        assert!(out.contains(want), "{want} missing in\n{out}");
    }
    assert!(out.contains("What a relay learns from 6 messages"), "{out}");
    assert!(out.contains("TLS 4 (80.0%)"), "{out}");
    assert!(out.contains("bodies encrypted: 3"), "{out}");
    let err = text(&o.stderr);
    assert!(err.contains("list.mbox: message 3 at byte 1537"), "{err}");
}

#[test]
fn json_lines_one_record_per_message() {
    let o = tapir(&["mail", "--json", &data("list.mbox")]);
    assert_eq!(o.status.code(), Some(0));
    let recs: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[0]["encryption"], "inline_pgp");
    assert_eq!(recs[0]["from"], "alice@example.org");
    assert_eq!(recs[0]["last_hop_with"], "ESMTPS");
    assert_eq!(recs[0]["last_hop_tls"], true);
    assert_eq!(
        (recs[0]["hops"].as_u64(), recs[0]["tls_hops"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(recs[2]["encryption"], "pgp_signed");
    // Flat: one value per column, the same columns on every line.
    for r in &recs {
        let o = r.as_object().unwrap();
        assert!(o.values().all(|v| !v.is_array() && !v.is_object()), "{r}");
        assert_eq!(
            o.keys().collect::<Vec<_>>(),
            recs[0].as_object().unwrap().keys().collect::<Vec<_>>()
        );
    }
}

#[test]
fn events_graph_and_summary_files_anonymised() {
    let d = temp_dir("files");
    let (ev, dot, sum, js) = (
        d.join("mail.jsonl"),
        d.join("talk.dot"),
        d.join("summary.json"),
        d.join("talk.json"),
    );
    let o = tapir(&[
        "mail",
        &data("list.mbox"),
        "--summary-only",
        "--anonymize",
        "shared secret",
        "--events",
        ev.to_str().unwrap(),
        "--graph",
        "dot",
        dot.to_str().unwrap(),
        "--summary",
        sum.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        !text(&o.stdout).contains("@example."),
        "summary leaks addresses"
    );
    let events = fs::read_to_string(&ev).unwrap();
    // 4 messages with one recipient each but the last, which has two.
    assert_eq!(events.lines().count(), 5);
    assert!(!events.contains("example.org"));
    let e: serde_json::Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
    assert!(e["from"].as_str().unwrap().ends_with(".anon"));
    assert!(e["time"].as_i64().unwrap() > 1_700_000_000_000_000_000);
    let g = fs::read_to_string(&dot).unwrap();
    // The same graph type and drawing as `tapir watch --graph`.
    assert!(g.starts_with("digraph tapir {"), "{g}");
    assert_eq!(g.matches(" -> ").count(), 4, "{g}");
    let s: serde_json::Value = serde_json::from_str(&fs::read_to_string(&sum).unwrap()).unwrap();
    assert_eq!(s["messages"], 4);
    assert_eq!(s["broken"], 1);
    // Same key, same pseudonyms: the JSON graph of a second run names the same nodes.
    let o = tapir(&[
        "mail",
        &data("list.mbox"),
        "--summary-only",
        "--anonymize",
        "shared secret",
        "--graph",
        "json",
        js.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let gj: serde_json::Value = serde_json::from_str(&fs::read_to_string(&js).unwrap()).unwrap();
    let first_node = gj["nodes"][0]["id"].as_str().unwrap().to_owned();
    assert!(g.contains(&first_node));
    assert_eq!(gj["nodes"][0]["kind"], "mail");
    assert_eq!(gj["edges"].as_array().unwrap().len(), 4);
    // GraphML too, as `watch` writes it.
    let gml = d.join("talk.graphml");
    let o = tapir(&[
        "mail",
        &data("list.mbox"),
        "--summary-only",
        "--graph",
        "graphml",
        gml.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let gml = fs::read_to_string(&gml).unwrap();
    assert_eq!(gml.matches("<edge ").count(), 4, "{gml}");
    assert!(gml.contains("alice@example.org"));
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn strict_stops_and_leaves_no_partial_output() {
    let d = temp_dir("strict");
    let out = d.join("out.jsonl");
    let o = tapir(&[
        "mail",
        "--strict",
        "--json",
        "-o",
        out.to_str().unwrap(),
        &data("list.mbox"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("does not start with a header field"));
    assert!(!out.exists());
    assert_eq!(
        fs::read_dir(&d).unwrap().count(),
        0,
        "temporary file left behind"
    );
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn bad_flags_are_usage_errors() {
    for args in [
        vec!["mail", "--format", "xml", "x.mbox"],
        vec!["mail", "--graph", "svg", "g.svg", "x.mbox"],
        vec!["mail", "--anonymize", "", "x.mbox"],
        vec!["mail", "--max-size", "0", "x.mbox"],
        vec!["mail"],
    ] {
        let o = tapir(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
    }
    let o = tapir(&["mail", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("tapir mail"));
}

#[test]
fn unreadable_input_is_reported_and_the_rest_is_read() {
    let o = tapir(&["mail", "/nonexistent/box.mbox", &data("eml/smime.eml")]);
    // Every command's rule: the others are read, and the skipped input makes the exit code 1.
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("/nonexistent/box.mbox"));
    assert!(text(&o.stdout).contains("Quarterly figures"));
}

/// A generated mbox with planted answers: 3 senders, every 4th message PGP/MIME, every 5th
/// hop plain ESMTP, every 10th message with a broken header.
#[test]
fn generated_mbox_known_answers() {
    let d = temp_dir("gen");
    let path = d.join("gen.mbox");
    let mut s = String::new();
    let n = 200;
    let (mut enc, mut tls, mut broken) = (0, 0, 0);
    for i in 0..n {
        let from = ["ann", "ben", "cat"][i % 3];
        let _ = writeln!(
            s,
            "From {from}@a.example Sat Nov 22 {:02}:00:00 2025",
            i % 24
        );
        if i % 10 == 9 {
            // A header line that is no field: the message is reported, the next one read.
            s.push_str("From: x@a.example\nthis is no header field\n\n");
            broken += 1;
            continue;
        }
        let with = if i % 5 == 0 { "ESMTP" } else { "ESMTPS" };
        if with == "ESMTPS" {
            tls += 1;
        }
        let _ = write!(
            s,
            "Received: from h.a.example by mx.b.example with {with}; Sat, 22 Nov 2025 {:02}:00:01 +0000\n\
From: {from}@a.example\nTo: zed@b.example\nSubject: n{i}\nMessage-ID: <{i}@a.example>\n",
            i % 24
        );
        if i % 4 == 0 {
            enc += 1;
            s.push_str("Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=q\n\n--q--\n\n");
        } else {
            s.push_str("\nhello\n\n");
        }
    }
    fs::write(&path, s).unwrap();
    let sum = d.join("s.json");
    let o = tapir(&[
        "mail",
        path.to_str().unwrap(),
        "--summary-only",
        "--summary",
        sum.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r: serde_json::Value = serde_json::from_str(&fs::read_to_string(&sum).unwrap()).unwrap();
    assert_eq!(r["messages"], n - broken);
    assert_eq!(r["broken"], broken);
    assert_eq!(r["encrypted"], enc);
    assert_eq!(r["tls_hops"], tls);
    assert_eq!(r["senders"], 3);
    assert_eq!(r["pairs"], 3);
    assert_eq!(r["top_recipients"][0]["name"], "zed@b.example");
    let _ = fs::remove_dir_all(&d);
}

/// The seed's encrypted mailing list, seen by a relay: each post comes in to the list address,
/// then re-encrypted copies of about the same size go out to every member within seconds. Mail
/// events from `tapir mail` must let `tapir sequence` recover the membership.
#[test]
fn events_feed_sequence_analysis_of_an_encrypted_list() {
    let d = temp_dir("list");
    let members = [
        "m1@x.example",
        "m2@y.example",
        "m3@z.example",
        "m4@x.example",
    ];
    let mut s = String::new();
    let msg = |s: &mut String, t: u32, from: &str, to: &str, armour_lines: usize| {
        let (h, m, sec) = (10 + t / 3600, t / 60 % 60, t % 60);
        let _ = write!(
            s,
            "From {from} Sat Nov 22 {h:02}:{m:02}:{sec:02} 2025\n\
Received: from a.example by relay.example with ESMTPS; Sat, 22 Nov 2025 {h:02}:{m:02}:{sec:02} +0000\n\
From: {from}\nTo: {to}\nSubject: ...\n\
Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=q\n\n\
--q\n\n-----BEGIN PGP MESSAGE-----\n"
        );
        for _ in 0..armour_lines {
            s.push_str("hQEMA7yZ3Zk9kG2RAQf+Lw3bYz5Jt6sU1uV3q2m3J1dY7n0YxHq0Pp3bF9WQ0sQk\n");
        }
        s.push_str("-----END PGP MESSAGE-----\n--q--\n\n");
    };
    for (post, poster) in [(0u32, 0usize), (1, 2), (2, 1)] {
        let t0 = post * 1800;
        let lines = 20 + 15 * post as usize;
        msg(&mut s, t0, members[poster], "list@lists.example", lines);
        for (k, m) in members.iter().enumerate() {
            msg(&mut s, t0 + 5 + k as u32, "list@lists.example", m, lines);
        }
        // Unrelated mail in between, of other sizes. (The poster's own copy does not count:
        // the sequence analysis leaves out copies back to the sender, so 3 of 4 members.)
        msg(&mut s, t0 + 600, "boss@corp.example", members[3], 3);
    }
    let mbox = d.join("relay.mbox");
    fs::write(&mbox, s).unwrap();
    let ev = d.join("events.jsonl");
    let o = tapir(&[
        "mail",
        mbox.to_str().unwrap(),
        "--summary-only",
        "--events",
        ev.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = tapir(&[
        "sequence",
        ev.to_str().unwrap(),
        "--within",
        "60s",
        "--fanout",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("3 fan-outs, 1 recurring groups"), "{out}");
    assert!(out.contains("list@lists.example"), "{out}");
    for m in members {
        assert!(out.contains(m), "{m} not inferred as a member:\n{out}");
    }
    assert!(!out.contains("boss@corp.example"), "{out}");
    let _ = fs::remove_dir_all(&d);
}

/// `tapir mail big.mbox --json | head -1`: the closed pipe ends the run without an error.
#[test]
fn closed_pipe_is_not_an_error() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let d = temp_dir("pipe");
    let path = d.join("big.mbox");
    let mut s = String::new();
    for i in 0..50_000 {
        let _ = write!(
            s,
            "From a@b.example Thu Nov 20 10:00:00 2025\nFrom: a@b.example\nTo: c@d.example\nSubject: s{i}\n\nbody\n\n"
        );
    }
    fs::write(&path, s).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(["mail", "--json", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("\"subject\":\"s0\""), "{first}");
    // stdout is dropped here: the next write fails with EPIPE.
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let _ = fs::remove_dir_all(&d);
}

/// A message with more header fields than --max-headers is skipped with the reason; the others
/// are read.
#[test]
fn too_many_header_fields_is_a_reported_skip() {
    let d = temp_dir("headers");
    let path = d.join("h.mbox");
    let mut s = String::from("From a@example.org Mon Nov 30 10:00:00 2026\n");
    for i in 0..20 {
        s.push_str(&format!("X-Field-{i}: {i}\n"));
    }
    s.push_str("From: a@example.org\nTo: b@example.org\nSubject: many\n\nbody\n\n");
    s.push_str("From a@example.org Mon Nov 30 10:01:00 2026\n");
    s.push_str("From: a@example.org\nTo: c@example.org\nSubject: few\n\nbody\n");
    fs::write(&path, s).unwrap();
    let o = tapir(&[
        "mail",
        path.to_str().unwrap(),
        "--max-headers",
        "10",
        "--json",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("more than 10 header fields"), "{err}");
    assert!(err.contains("--max-headers"), "{err}");
    assert_eq!(
        text(&o.stdout)
            .lines()
            .filter(|l| l.contains("c@example.org"))
            .count(),
        1
    );
    assert!(!text(&o.stdout).contains("b@example.org"));
    fs::remove_dir_all(&d).unwrap();
}
