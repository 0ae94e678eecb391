//! `tapir defend` end to end: exact costs on a hand-built trace, a defended pcap that reads back
//! with the same packet count (tapir's reader always, tshark when it is installed), chains,
//! aggregation and spec errors.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

fn tapir(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .output()
        .expect("run tapir")
}

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tapir-defend-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

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
