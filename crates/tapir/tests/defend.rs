//! `tapir defend` end to end: exact costs on a hand-built trace, a defended pcap that reads back
//! with the same packet count (tapir's reader always, tshark when it is installed), chains,
//! aggregation and spec errors; an mbox through a mix and broadcast read back by `tapir mail`,
//! and a defended event file read by `tapir sequence`.

mod common;

use common::{tapir, temp_dir as dir};
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

/// 100 packets, 10 ms apart, alternating 100 bytes up and 1000 down.
fn trace(d: &std::path::Path) -> PathBuf {
    let p = d.join("in.trace");
    let body: String = (0..100)
        .map(|i| {
            let size = if i % 2 == 0 { 100 } else { -1000 };
            format!("{:.6} {size}\n", i as f64 * 0.01)
        })
        .collect();
    fs::write(&p, body).unwrap();
    p
}

fn costs(o: &Output) -> serde_json::Value {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    serde_json::from_str(err.lines().last().unwrap()).unwrap()
}

#[test]
fn padding_costs_are_exact() {
    let d = dir("pad");
    let input = trace(&d);
    let out = d.join("out.trace");
    let o = tapir(&[
        "defend",
        input.to_str().unwrap(),
        "-d",
        "pad-bucket:514",
        "-o",
        out.to_str().unwrap(),
        "--json",
    ]);
    let c = costs(&o);
    // 50 × 100 + 50 × 1000 real bytes; 100 → 514 and 1000 → 1028.
    assert_eq!(c["real_bytes"], 55_000);
    assert_eq!(c["out_bytes"], 50 * 514 + 50 * 1028);
    assert_eq!(c["latency_max_ns"], 0);
    assert_eq!(c["lost_bytes"], 0);
    let text = fs::read_to_string(&out).unwrap();
    let sizes: Vec<i64> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(sizes.len(), 100);
    assert!(sizes.iter().all(|&s| s == 514 || s == -1028));
}

#[test]
fn constant_volume_pcap_reads_back_with_every_packet() {
    let d = dir("cv");
    let input = trace(&d);
    let out = d.join("cv.pcap");
    let o = tapir(&[
        "defend",
        input.to_str().unwrap(),
        "-d",
        "constant:rate=100,size=1500,min=2s",
        "-o",
        out.to_str().unwrap(),
        "--json",
    ]);
    let c = costs(&o);
    let n = c["out_packets"].as_u64().unwrap();
    // 2 s at 100 packets/s each way, plus the slot at 2 s: 201 each way.
    assert_eq!(n, 402);
    let inspect = tapir(&["inspect", out.to_str().unwrap(), "--json"]);
    assert!(inspect.status.success());
    let text = String::from_utf8_lossy(&inspect.stdout);
    assert!(text.contains("\"packets\":402"), "{text}");
    if let Ok(t) = Command::new("tshark")
        .args(["-r", out.to_str().unwrap()])
        .output()
    {
        if t.status.success() {
            assert_eq!(String::from_utf8_lossy(&t.stdout).lines().count(), 402);
        }
    }
}

#[test]
fn chains_and_aggregation_and_bad_specs() {
    let d = dir("chain");
    let a = trace(&d);
    let b = d.join("b.trace");
    fs::copy(&a, &b).unwrap();
    let o = tapir(&[
        "defend",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-d",
        "delay:mean=5ms",
        "-d",
        "pad-mtu",
        "--json",
    ]);
    let c = costs(&o);
    assert_eq!(c["real_packets"], 200);
    assert_eq!(c["out_bytes"], 200 * 1500);
    assert!(c["latency_median_ns"].as_i64().unwrap() > 0);
    assert_eq!(c["defence"], "delay:mean=5ms -d pad-mtu:1500");

    let bad = tapir(&["defend", a.to_str().unwrap(), "-d", "padding"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("unknown defence 'padding'") && err.contains("pad-bucket:N"),
        "{err}"
    );
    let help = tapir(&["defend", a.to_str().unwrap(), "-d", "help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("constant:rate=P"));
}

/// Seven messages a minute apart, from senders outside the group to three recipients in
/// turn, each with a Received: date (the delivery time `tapir mail` reads).
fn mbox(d: &std::path::Path) -> PathBuf {
    let p = d.join("in.mbox");
    let mut body = String::new();
    for i in 0..7 {
        let to = ["bob@y.org", "carol@y.org", "dan@y.org"][i % 3];
        body.push_str(&format!(
            "From s{i}@x.org Thu Nov 20 10:{i:02}:00 2025\n\
             Received: from a.x.org by mx.y.org with ESMTPS; Thu, 20 Nov 2025 10:{i:02}:00 +0000\n\
             From: s{i}@x.org\nTo: {to}\nSubject: m{i}\nMessage-ID: <{i}@x.org>\n\n\
             -----BEGIN PGP MESSAGE-----\nhQEMA{i}\n-----END PGP MESSAGE-----\n\n"
        ));
    }
    fs::write(&p, body).unwrap();
    p
}

/// `tapir mail --json` of `path`: per message its delivery time (ns) and recipients.
fn read_mail(path: &std::path::Path) -> Vec<(i64, Vec<String>)> {
    let o = tapir(&["mail", path.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let to = v["to"]
                .as_str()
                .unwrap()
                .split(';')
                .map(str::to_string)
                .collect();
            (v["time_received"].as_i64().unwrap(), to)
        })
        .collect()
}

#[test]
fn an_mbox_through_a_threshold_mix_reads_back_in_batches() {
    let d = dir("mbox-mix");
    let input = mbox(&d);
    let out = d.join("mixed.mbox");
    let o = tapir(&[
        "defend",
        input.to_str().unwrap(),
        "-d",
        "mix:batch=3",
        "-o",
        out.to_str().unwrap(),
        "--json",
    ]);
    let c = costs(&o);
    assert_eq!(
        (c["kind"].as_str(), c["real_packets"].as_u64()),
        (Some("mail"), Some(7))
    );
    assert_eq!(c["dummy_packets"], 0);
    // The first batch waits for the third message: 2 minutes for the first.
    assert_eq!(c["latency_max_ns"], 120_000_000_000i64);
    let before = read_mail(&input);
    let after = read_mail(&out);
    assert_eq!(after.len(), before.len());
    let times: Vec<i64> = after.iter().map(|m| m.0).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let minute = 60_000_000_000i64;
    let t0 = before[0].0;
    // Flushed at the 3rd and the 6th message; the 7th an idle second after it arrived.
    let want: Vec<i64> = [2, 2, 2, 5, 5, 5, 6]
        .iter()
        .enumerate()
        .map(|(i, m)| t0 + m * minute + if i == 6 { 1_000_000_000 } else { 0 })
        .collect();
    assert_eq!(times, want);
    assert_eq!(
        after.iter().map(|m| &m.1).collect::<Vec<_>>(),
        before.iter().map(|m| &m.1).collect::<Vec<_>>(),
        "recipients unchanged"
    );
}

#[test]
fn broadcast_adds_group_minus_one_copies_per_message() {
    let d = dir("mbox-bc");
    let input = mbox(&d);
    let out = d.join("bc.mbox");
    let o = tapir(&[
        "defend",
        input.to_str().unwrap(),
        "-d",
        "broadcast:group=3",
        "-o",
        out.to_str().unwrap(),
        "--json",
    ]);
    let c = costs(&o);
    assert_eq!(c["dummy_packets"], 7 * 2);
    assert_eq!(c["out_packets"], 7 * 3);
    assert_eq!(c["latency_max_ns"], 0);
    let after = read_mail(&out);
    assert_eq!(after.len(), 21);
    // Each message, then its two copies: together every member of the group, once each.
    for (i, m) in after.chunks(3).enumerate() {
        let mut to: Vec<&str> = m.iter().map(|x| x.1[0].as_str()).collect();
        assert!(m.iter().all(|x| x.1.len() == 1));
        assert_eq!(to[0], ["bob@y.org", "carol@y.org", "dan@y.org"][i % 3]);
        to.sort_unstable();
        assert_eq!(to, vec!["bob@y.org", "carol@y.org", "dan@y.org"]);
    }
}

#[test]
fn message_defences_reject_what_does_not_apply() {
    let d = dir("mbox-bad");
    let input = mbox(&d);
    let bad = tapir(&["defend", input.to_str().unwrap(), "-d", "pad-mtu"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("'pad-mtu' does not apply to mail") && err.contains("broadcast:group=N"),
        "{err}"
    );
    let t = trace(&d);
    let bad = tapir(&["defend", t.to_str().unwrap(), "-d", "broadcast:group=3"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("does not apply to packets"));
}

/// A list server: six posts an hour apart, each to the list and out again seconds later as
/// one copy per other member; person-to-person mail between.
fn list_events(d: &std::path::Path) -> PathBuf {
    let p = d.join("mail.jsonl");
    let members = ["m1@x.org", "m2@x.org", "m3@x.org", "m4@x.org", "m5@x.org"];
    let mut body = String::from("# a list and its members\n");
    for k in 0..6i64 {
        let t = 1_790_000_000 + k * 3600;
        let from = members[k as usize % 5];
        let size = 2000 + 700 * k;
        body.push_str(&format!(
            "{{\"time\": {t}, \"from\": \"{from}\", \"to\": \"list@l.org\", \"size\": {size}}}\n"
        ));
        for (j, m) in members.iter().filter(|m| **m != from).enumerate() {
            body.push_str(&format!(
                "{{\"time\": {}, \"from\": \"list@l.org\", \"to\": \"{m}\", \"size\": {}}}\n",
                t + 2 + j as i64,
                size + j as i64
            ));
        }
        body.push_str(&format!(
            "{{\"time\": {}, \"from\": \"o@y.org\", \"to\": \"p@y.org\", \"size\": 900}}\n",
            t + 1800
        ));
    }
    fs::write(&p, body).unwrap();
    p
}

/// The members `tapir sequence --json` names for the list (its first group), sorted.
fn list_members(path: &std::path::Path, within: &str) -> Vec<String> {
    let o = tapir(&[
        "sequence",
        path.to_str().unwrap(),
        "--json",
        "--within",
        within,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    // One line per member of each group; the first group of the list is the attacker's answer.
    let mut got: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["hub"] == "list@l.org" && v["group"] == 1)
        .map(|v| v["member"].as_str().unwrap_or_default().to_string())
        .collect();
    got.sort();
    got
}

#[test]
fn sequence_reads_a_defended_event_file() {
    let d = dir("events");
    let input = list_events(&d);
    let all: Vec<String> = (1..=5).map(|i| format!("m{i}@x.org")).collect();
    assert_eq!(list_members(&input, "60s"), all);
    let out = d.join("delayed.jsonl");
    let o = tapir(&[
        "defend",
        input.to_str().unwrap(),
        "-d",
        "delay:mean=600s",
        "-o",
        out.to_str().unwrap(),
        "--json",
    ]);
    let c = costs(&o);
    assert_eq!(
        (c["kind"].as_str(), c["real_packets"].as_u64()),
        (Some("flow events"), Some(36))
    );
    let text = fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with('{')).count(), 36);
    // Same shape as the input: mail lines, not tapir's own event records.
    assert!(text
        .lines()
        .filter(|l| l.starts_with('{'))
        .all(|l| l.contains("\"from\"")));
    // Delays of ten minutes on average spread each post's copies beyond the default window:
    // the list is gone for the naive attacker, and back for one who widens the window.
    assert_eq!(list_members(&out, "60s"), Vec::<String>::new());
    assert_eq!(list_members(&out, "30m"), all);
    assert!(c["latency_p99_ns"].as_i64().unwrap() > 60_000_000_000);
    let vol = tapir(&["volume", out.to_str().unwrap(), "--json"]);
    assert!(
        vol.status.success(),
        "{}",
        String::from_utf8_lossy(&vol.stderr)
    );
}
