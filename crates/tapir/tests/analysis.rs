//! End-to-end tests of `tapir watch`, `volume`, `sequence` and `timeline` on generated inputs
//! with known answers (a planted surge and silence, a planted mailing list, a new peer after the
//! baseline) and on a real loopback capture of the capture crate.

mod common;

use common::{capture_data, tapir, temp_dir};
use serde_json::Value;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn ok(args: &[&str]) -> String {
    let o = tapir(args);
    assert!(
        o.status.success(),
        "tapir {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8 output")
}

fn json_lines(s: &str) -> Vec<Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// xorshift: deterministic noise.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const T0: i64 = 1_790_000_000; // 2026-09-21 14:13:20 UTC
const S: i64 = 1_000_000_000;
/// T0 rounded down to a minute, so that "minute m" below is interval m.
const M0: i64 = T0 - T0 % 60;

/// One flow record as `tapir flows --json` writes it.
fn flow_line(start_s: f64, src: &str, dst: &str, dport: u16, bytes_fwd: u64) -> String {
    let start = (start_s * 1e9) as i64;
    format!(
        concat!(
            r#"{{"src":"{}","dst":"{}","src_port":40000,"dst_port":{},"proto":6,"start":{},"end":{},"#,
            r#""packets_fwd":10,"bytes_fwd":{},"packets_rev":8,"bytes_rev":4000,"tos":0,"tcp_flags":27,"#,
            r#""tunnel":null,"end_reason":"fin","source":{{"kind":"capture"}}}}"#
        ),
        src,
        dst,
        dport,
        start,
        start + S,
        bytes_fwd
    ) + "\n"
}

/// 60 minutes of flows: 10.0.0.5 opens 4–6 flows a minute and 60 at minute 45 (the surge);
/// 10.0.0.6 opens 3–5 a minute but none in minutes 20–29 (the silence). Peers are drawn from
/// 200 servers, so no server gets enough to matter.
fn volume_input(dir: &Path) -> PathBuf {
    let mut rng = Rng(0x5eed);
    let mut s = String::new();
    for m in 0..60i64 {
        let base = (M0 + m * 60) as f64;
        let n5 = if m == 45 { 60 } else { 4 + rng.below(3) };
        for j in 0..n5 {
            let srv = format!("198.18.{}.{}", rng.below(2), 1 + rng.below(100));
            s += &flow_line(
                base + j as f64 * 0.5,
                "10.0.0.5",
                &srv,
                443,
                500 + rng.below(500),
            );
        }
        if !(20..30).contains(&m) {
            for j in 0..3 + rng.below(3) {
                let srv = format!("198.18.{}.{}", rng.below(2), 1 + rng.below(100));
                s += &flow_line(base + 1.0 + j as f64, "10.0.0.6", &srv, 443, 700);
            }
        }
    }
    let path = dir.join("flows.jsonl");
    fs::write(&path, s).unwrap();
    path
}

#[test]
fn volume_finds_the_planted_surge_and_silence() {
    let dir = temp_dir("volume");
    let flows = volume_input(&dir);
    let out = ok(&[
        "volume",
        p(&flows),
        "--group",
        "host",
        "--metric",
        "flows",
        "--interval",
        "1m",
        "--json",
    ]);
    let ev = json_lines(&out);
    let of = |h: &str| ev.iter().filter(|e| e["entity"] == h).collect::<Vec<_>>();
    let a = of("10.0.0.5");
    assert_eq!(a.len(), 1, "one surge of 10.0.0.5: {a:?}");
    assert_eq!(a[0]["kind"], "surge");
    assert_eq!(a[0]["start"], (M0 + 45 * 60) * S, "at minute 45");
    assert_eq!(a[0]["intervals"], 1);
    assert_eq!(a[0]["value"], 60);
    assert!(a[0]["ratio"].as_f64().unwrap() >= 10.0);
    let b = of("10.0.0.6");
    assert_eq!(b.len(), 1, "one silence of 10.0.0.6: {b:?}");
    assert_eq!(b[0]["kind"], "silence");
    assert_eq!(b[0]["start"], (M0 + 20 * 60) * S, "from minute 20");
    assert_eq!(b[0]["intervals"], 10);
    assert_eq!(ev.len(), 2, "no other event: {ev:?}");

    // By /24 the two hosts are one entity: the surge still shows, the silence is masked.
    let out = ok(&[
        "volume",
        p(&flows),
        "--group",
        "prefix/24",
        "--metric",
        "flows",
        "--json",
    ]);
    let ev = json_lines(&out);
    let net: Vec<_> = ev.iter().filter(|e| e["entity"] == "10.0.0.0/24").collect();
    assert_eq!(net.len(), 1, "{net:?}");
    assert_eq!(net[0]["kind"], "surge");

    // Counts CSV and both plot formats.
    let csv = dir.join("counts.csv");
    let svg = dir.join("v.svg");
    let png = dir.join("v.png");
    let table = ok(&[
        "volume",
        p(&flows),
        "--metric",
        "flows",
        "--counts",
        p(&csv),
        "--plot",
        p(&svg),
    ]);
    assert!(
        table.contains("surge") && table.contains("silence"),
        "{table}"
    );
    let counts = fs::read_to_string(&csv).unwrap();
    // Minute 45 after M0 (2026-09-21 14:13:00 UTC).
    let minute45 = counts
        .lines()
        .find(|l| l.starts_with("10.0.0.5,2026-09-21 14:58:00.000,"))
        .unwrap_or_else(|| panic!("row for minute 45 of 10.0.0.5 in {counts}"));
    assert_eq!(minute45.split(',').nth(2), Some("60"));
    let svg_text = fs::read_to_string(&svg).unwrap();
    assert!(
        svg_text.starts_with("<svg") && svg_text.contains("10.0.0.5"),
        "the top event's entity is drawn"
    );
    ok(&[
        "volume",
        p(&flows),
        "--plot",
        p(&png),
        "--plot-entity",
        "10.0.0.6",
    ]);
    assert_eq!(&fs::read(&png).unwrap()[1..4], b"PNG");
    let _ = fs::remove_dir_all(&dir);
}

/// Mail: a list at list@lists.example.org with five members; each of eight posts comes in from
/// one member and goes out to the four others within seconds, sizes within 3%. Around it, 1500
/// messages among 40 people and some unrelated mail of the list host.
fn mail_input(dir: &Path) -> (PathBuf, Vec<String>) {
    let members: Vec<String> = ["ann@a.org", "bo@b.net", "cy@c.org", "di@d.com", "ed@a.org"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut rng = Rng(42);
    let mut s = String::new();
    let line = |s: &mut String, t: i64, from: &str, to: &str, size: u64| {
        let _ = writeln!(
            s,
            r#"{{"time": {t}, "from": "{from}", "to": "{to}", "size": {size}}}"#
        );
    };
    for post in 0..8i64 {
        let t = T0 + post * 3600;
        let sender = &members[post as usize % 5];
        let size = 4000 + rng.below(20_000);
        line(&mut s, t, sender, "list@lists.example.org", size);
        for (j, r) in members.iter().filter(|m| *m != sender).enumerate() {
            let copy = size + size * rng.below(3) / 100;
            line(&mut s, t + 2 + j as i64, "list@lists.example.org", r, copy);
        }
    }
    for _ in 0..1500 {
        let t = T0 + rng.below(8 * 3600) as i64;
        let a = format!("u{}@x{}.org", rng.below(40), rng.below(3));
        let b = format!("u{}@x{}.org", rng.below(40), rng.below(3));
        line(&mut s, t, &a, &b, 1000 + rng.below(50_000));
        if rng.below(10) == 0 {
            line(
                &mut s,
                t,
                "list@lists.example.org",
                &b,
                200 + rng.below(300),
            );
        }
    }
    let path = dir.join("mail.jsonl");
    fs::write(&path, s).unwrap();
    (path, members)
}

#[test]
fn sequence_recovers_the_planted_list() {
    let dir = temp_dir("sequence");
    let (mail, members) = mail_input(&dir);
    let out = ok(&["sequence", p(&mail), "--json"]);
    let rows = json_lines(&out);
    assert!(!rows.is_empty(), "a group was found");
    assert!(
        rows.iter()
            .all(|r| r["group"] == 1 && r["hub"] == "list@lists.example.org"),
        "{rows:?}"
    );
    let mut got: Vec<String> = rows
        .iter()
        .map(|r| r["member"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    let mut want = members.clone();
    want.sort();
    assert_eq!(got, want);
    assert!(rows.iter().all(|r| r["group_support"] == 8));
    assert!(
        rows.iter().all(|r| r["support"].as_u64().unwrap() >= 6),
        "{rows:?}"
    );

    let occ = ok(&["sequence", p(&mail), "--occurrences", "--format", "csv"]);
    assert_eq!(
        occ.lines().count(),
        1 + 8,
        "header and eight fan-outs: {occ}"
    );

    // The timeline of one member shows the group and its own mail.
    let tl = ok(&["timeline", "cy@c.org", p(&mail), "--interval", "10m"]);
    assert!(
        tl.lines()
            .any(|l| l.contains("group 1 via list@lists.example.org")),
        "{tl}"
    );
    assert!(
        tl.lines().filter(|l| l.contains("  mail  ")).count() >= 8,
        "{tl}"
    );
    let _ = fs::remove_dir_all(&dir);
}

/// A card-processing host 10.1.1.10 talks to its three usual peers for two days; on the second
/// day at 12:00 it starts talking to 203.0.113.50, twenty times.
#[test]
fn watch_alerts_once_on_a_new_peer_and_reports_watchlist_hits() {
    let dir = temp_dir("watch");
    let mut s = String::new();
    let usual = ["10.1.2.1", "10.1.2.2", "192.0.2.80"];
    for i in 0..(48 * 12) {
        let t = (T0 + i * 300) as f64;
        s += &flow_line(t, "10.1.1.10", usual[i as usize % 3], 443, 900);
        s += &flow_line(t + 1.0, "10.9.0.7", "10.1.1.10", 8443, 300);
    }
    let new_at = T0 + 36 * 3600;
    for i in 0..20 {
        s += &flow_line(
            (new_at + i * 600) as f64,
            "10.1.1.10",
            "203.0.113.50",
            443,
            50_000,
        );
    }
    let flows = dir.join("flows.jsonl");
    fs::write(&flows, s).unwrap();
    let wl = dir.join("c2.txt");
    fs::write(
        &wl,
        "# test C&C list\n203.0.113.0/24 exfil-net\n198.51.100.7 other\n",
    )
    .unwrap();
    let graph = dir.join("g.graphml");

    let out = ok(&[
        "watch",
        p(&flows),
        "--sensitive",
        "10.1.1.10",
        "--baseline",
        "1d",
        "--watchlist",
        p(&wl),
        "--graph",
        "graphml",
        p(&graph),
        "--top",
        "2",
        "--json",
    ]);
    let lines = json_lines(&out);
    let alerts: Vec<_> = lines.iter().filter(|l| l["type"] == "new-peer").collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["peer"], "203.0.113.50");
    assert_eq!(alerts[0]["host"], "10.1.1.10");
    assert_eq!(alerts[0]["time"], new_at * S);
    assert_eq!(alerts[0]["baseline_peers"], 4);
    let hits: Vec<_> = lines.iter().filter(|l| l["type"] == "hit").collect();
    assert_eq!(hits.len(), 20);
    assert!(hits
        .iter()
        .all(|h| h["entry_name"] == "exfil-net" && h["direction"] == "to-watched"));
    assert_eq!(hits[0]["bytes_to_watched"], 50_000);
    let talkers: Vec<_> = lines.iter().filter(|l| l["type"] == "talker").collect();
    assert_eq!(talkers[0]["host"], "10.1.1.10");
    // One flat schema: every line has every column, null where its kind has none.
    let columns: Vec<&String> = lines[0].as_object().unwrap().keys().collect();
    for l in &lines {
        let o = l.as_object().unwrap();
        assert_eq!(o.keys().collect::<Vec<_>>(), columns, "{l}");
        assert!(o.values().all(|v| !v.is_array() && !v.is_object()), "{l}");
    }
    assert_eq!(
        hits[0]["host"], "203.0.113.50",
        "a hit's host is its watched end"
    );
    assert_eq!(
        hits[0]["bytes"],
        hits[0]["bytes_to_watched"].as_u64().unwrap()
            + hits[0]["bytes_from_watched"].as_u64().unwrap()
    );
    assert!(talkers[0]["time"].is_null() && talkers[0]["entry"].is_null());

    // CSV holds the same records, in the same order, with the same columns.
    let csv = ok(&[
        "watch",
        p(&flows),
        "--sensitive",
        "10.1.1.10",
        "--baseline",
        "1d",
        "--watchlist",
        p(&wl),
        "--top",
        "2",
        "--format",
        "csv",
    ]);
    let mut rows = csv.lines();
    // (serde_json's map sorts the keys.)
    let mut header: Vec<&str> = rows.next().unwrap().split(',').collect();
    header.sort_unstable();
    assert_eq!(header, columns);
    let types: Vec<&str> = rows.map(|r| r.split(',').next().unwrap()).collect();
    let want: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, want);
    assert_eq!(
        types.len(),
        20 + 1 + 2,
        "hits, the new peer and the talkers"
    );
    let gml = fs::read_to_string(&graph).unwrap();
    assert!(
        gml.contains(r#"<node id="203.0.113.50">"#)
            && gml.contains(r#"source="10.1.1.10" target="203.0.113.50""#)
    );

    // A shorter baseline learns fewer peers, so more of them are new.
    let out = ok(&[
        "watch",
        p(&flows),
        "--sensitive",
        "10.1.1.10",
        "--baseline",
        "5m",
        "--json",
        "--top",
        "0",
    ]);
    let n = json_lines(&out)
        .iter()
        .filter(|l| l["type"] == "new-peer")
        .count();
    assert_eq!(
        n, 3,
        "after 5 min only 192.0.2.80's turn is ahead, then the two others… {out}"
    );

    // The timeline of the host puts the alert and the hits together.
    let tl = ok(&[
        "timeline",
        "10.1.1.10",
        p(&flows),
        "--sensitive",
        "10.1.1.10",
        "--baseline",
        "1d",
        "--watchlist",
        p(&wl),
        "--findings-only",
        "--interval",
        "1h",
    ]);
    let first = tl.lines().next().unwrap_or("");
    assert!(
        first.contains("new-peer") && first.contains("203.0.113.50"),
        "{tl}"
    );
    assert_eq!(
        tl.lines().filter(|l| l.contains("watch-hit")).count(),
        20,
        "{tl}"
    );
    let _ = fs::remove_dir_all(&dir);
}

/// The real loopback capture: three HTTP fetches, 37 IPv4 packets, 30158 IP bytes.
/// `tshark -q -z conv,tcp` lists three TCP conversations for it.
#[test]
fn real_capture_flows_match_tshark() {
    let cap = capture_data("lo-http.pcap");
    let wl = temp_dir("real").join("lo.txt");
    fs::write(&wl, "127.0.0.0/8 loopback\n").unwrap();
    let out = ok(&["watch", &cap, "--watchlist", p(&wl), "--json"]);
    let lines = json_lines(&out);
    let hits: Vec<_> = lines.iter().filter(|l| l["type"] == "hit").collect();
    assert_eq!(hits.len(), 3, "one hit per TCP conversation: {out}");
    let bytes: u64 = hits
        .iter()
        .map(|h| {
            h["bytes_to_watched"].as_u64().unwrap() + h["bytes_from_watched"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(bytes, 30158);
    let talker = lines.iter().find(|l| l["type"] == "talker").unwrap();
    assert_eq!(
        (talker["packets"].as_u64(), talker["events"].as_u64()),
        (Some(37), Some(3))
    );
    // The fetch of the large page is the biggest flow: 27528 bytes back to the client.
    assert!(hits
        .iter()
        .any(|h| h["bytes_from_watched"] == 27528
            && h["evidence"].as_str().unwrap().contains(":54990")));
    let tl = ok(&["timeline", "127.0.0.1", &cap]);
    assert_eq!(
        tl.lines().filter(|l| l.contains("  flow  ")).count(),
        3,
        "{tl}"
    );
    let _ = fs::remove_dir_all(wl.parent().unwrap());
}

#[test]
fn flag_mistakes_are_usage_errors_and_broken_files_are_skipped() {
    let cap = capture_data("lo-http.pcap");
    for args in [
        vec!["volume", cap.as_str(), "--metric", "bits"],
        vec!["volume", cap.as_str(), "--group", "prefix/40"],
        vec!["volume", cap.as_str(), "--interval", "0s"],
        vec!["sequence", cap.as_str(), "--epsilon", "3"],
        vec!["watch", cap.as_str(), "--baseline", "soon"],
        vec!["watch", cap.as_str(), "--graph", "png", "x.png"],
        vec!["timeline", "not an entity", cap.as_str()],
    ] {
        let o = tapir(&args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // A bad value is named by the flag the user typed.
    for (flag, value) in [("--fanout", "0"), ("--within", "0s")] {
        let o = tapir(&["sequence", cap.as_str(), flag, value]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(flag), "{flag}: {err}");
    }
    // A broken capture next to a good one: reported, skipped, the good one still counts, and
    // the run ends with exit code 1.
    let bad = capture_data("cut-global-header.pcap");
    let o = tapir(&["watch", &bad, &cap, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!o.stdout.is_empty(), "the good capture is still read");
    assert!(String::from_utf8_lossy(&o.stderr).contains("cut-global-header.pcap"));
    let o = tapir(&["watch", &bad, &cap, "--strict"]);
    assert_eq!(o.status.code(), Some(1));
    let o = tapir(&["watch", &bad]);
    assert_eq!(o.status.code(), Some(1), "no readable input is an error");
}

#[test]
fn anonymized_results_keep_their_answers_and_lose_the_names() {
    let cap = capture_data("lo-http.pcap");
    let dir = temp_dir("anon");
    let wl = dir.join("lo.txt");
    fs::write(&wl, "127.0.0.0/8 loopback\n").unwrap();
    let out = ok(&[
        "watch",
        &cap,
        "--watchlist",
        p(&wl),
        "--json",
        "--anonymize",
        "test key",
    ]);
    let hits: Vec<_> = json_lines(&out)
        .into_iter()
        .filter(|l| l["type"] == "hit")
        .collect();
    assert_eq!(
        hits.len(),
        3,
        "the prefix is mapped with the addresses: {out}"
    );
    assert!(!out.contains("127.0.0.1"), "{out}");
    let again = ok(&[
        "watch",
        &cap,
        "--watchlist",
        p(&wl),
        "--json",
        "--anonymize",
        "test key",
    ]);
    assert_eq!(out, again, "same key, same pseudonyms");

    let (mail, _) = mail_input(&dir);
    let out = ok(&["sequence", p(&mail), "--json", "--anonymize", "test key"]);
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 5, "{out}");
    assert!(
        !out.contains("example.org") && !out.contains("ann@"),
        "{out}"
    );
    let tl = ok(&[
        "timeline",
        "ann@a.org",
        p(&mail),
        "--anonymize",
        "test key",
        "--findings-only",
    ]);
    assert!(
        tl.contains("group 1 via u"),
        "the entity is mapped too: {tl}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn mbox_input_is_read_and_its_broken_message_reported() {
    let mbox = Path::new(env!("CARGO_MANIFEST_DIR")).join("../analysis/tests/data/list.mbox");
    let o = tapir(&["sequence", p(&mbox), "--min-support", "1", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = json_lines(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(rows.len(), 4, "four members: {rows:?}");
    assert!(rows
        .iter()
        .any(|r| r["member"] == "ann@example.org" && r["sent"] == 1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("warning"),
        "the broken message is reported"
    );
}

#[test]
fn a_folder_is_read_file_by_file_and_an_empty_one_is_an_error() {
    // A folder of compressed captures: every capture's hosts, none of it read as mail.
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/ipsec/web");
    let o = tapir(&["watch", p(&sample), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("header field"), "read as mail: {stderr}");
    let lines = json_lines(&String::from_utf8_lossy(&o.stdout));
    let talkers: Vec<&Value> = lines.iter().filter(|l| l["host"].is_string()).collect();
    let captures = fs::read_dir(&sample).unwrap().count();
    // Each capture is its own client/server pair of the lab (10.77.k.1, 10.78.k.2).
    assert!(
        talkers.len() >= 4 && talkers.len() <= 2 * captures,
        "{} talkers from {captures} captures: {lines:?}",
        talkers.len()
    );
    // A mail folder (.eml files) is still mail; an empty folder is an error, exit 1.
    let eml = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mail/tests/data/eml");
    assert!(!json_lines(&ok(&["watch", p(&eml), "--json"])).is_empty());
    let empty = temp_dir("empty-folder");
    let o = tapir(&["watch", p(&empty)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("an empty folder"));
}

#[test]
fn a_bad_setting_names_the_flag_that_was_typed() {
    let mail = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mail/tests/data");
    for (args, flag) in [
        (vec!["sequence", "--fanout", "0"], "--fanout:"),
        (
            vec!["sequence", "--within", "5s", "--similarity", "2"],
            "--similarity:",
        ),
        (vec!["volume", "--window", "1"], "--window/--min-history:"),
        (vec!["volume", "--group", "nonsense"], "--group:"),
        (vec!["watch", "--sensitive", "a b"], "--sensitive:"),
    ] {
        let mut all = args.clone();
        all.push(p(&mail));
        let o = tapir(&all);
        assert_eq!(o.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(flag), "{all:?}: {err}");
    }
}

#[test]
fn by_is_the_unit_of_classify_and_extract_only() {
    // volume's entity is --group; --by there is refused (exit 2), not taken for a unit.
    let mail = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mail/tests/data");
    let o = tapir(&["volume", "--by", "domain", p(&mail)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!json_lines(&ok(&["volume", "--group", "domain", p(&mail), "--json"])).is_empty());
}
