//! `tapir flows` end to end: records from the repo's real captures and from generated ones with
//! known answers, exports inside captures, a real exporter (softflowd) as the collector's peer,
//! formats, pseudonyms and usage errors.

mod common;

use common::{repo, tapir, temp_dir, Pcap};
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn records(o: &Output) -> Vec<serde_json::Value> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

fn u(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// Where a record came from: the flat `source` column.
fn kind(v: &serde_json::Value) -> &str {
    v["source"]
        .as_str()
        .unwrap_or_else(|| panic!("source in {v}"))
}

/// IP packets and bytes of a capture, counted with the capture crate alone.
fn ip_totals(path: &str) -> (u64, u64) {
    let mut r = tapir_capture::CaptureReader::open(Path::new(path)).unwrap();
    let (mut p, mut b) = (0, 0);
    while let Some(Ok(raw)) = r.next_packet() {
        if let Ok(ip) = raw.decode() {
            p += 1;
            b += ip.ip_len as u64;
        }
    }
    (p, b)
}

fn capture_sums(recs: &[serde_json::Value]) -> (u64, u64) {
    recs.iter()
        .filter(|r| kind(r) == "capture")
        .fold((0, 0), |(p, b), r| {
            (
                p + u(r, "packets_fwd") + u(r, "packets_rev"),
                b + u(r, "bytes_fwd") + u(r, "bytes_rev"),
            )
        })
}

#[test]
fn packets_and_bytes_over_records_equal_the_capture() {
    for f in [
        "crates/capture/tests/data/lo-http.pcap",
        "crates/capture/tests/data/lo-http.pcapng",
        "crates/capture/tests/data/any-v6-snap96.pcap",
        "crates/capture/tests/data/time-backwards.pcap",
        "crates/netflow/tests/data/softflowd-v9-lo-http.pcap",
    ] {
        let path = repo(f);
        let (p, b) = ip_totals(&path);
        assert!(p > 0, "{f} has IP packets");
        let recs = records(&tapir(&["flows", &path, "--json"]));
        assert_eq!(capture_sums(&recs), (p, b), "{f}");
    }
}

#[test]
fn lo_http_gives_three_fin_connections_from_the_client() {
    let recs = records(&tapir(&[
        "flows",
        &repo("crates/capture/tests/data/lo-http.pcap"),
        "--json",
    ]));
    assert_eq!(recs.len(), 3);
    for r in &recs {
        assert_eq!(r["end_reason"], "fin");
        assert_eq!(u(r, "dst_port"), 18080, "the server is the destination");
        assert_eq!(u(r, "tcp_flags") & 0x1b, 0x1b);
        assert!(u(r, "end") >= u(r, "start"));
    }
}

/// A NetFlow v9 export packet holding `n` templates (ids 256..), each of source and
/// destination IPv4 address.
fn v9_templates(n: u16) -> Vec<u8> {
    let mut p = Vec::new();
    for v in [9u16, n] {
        p.extend(v.to_be_bytes());
    }
    for v in [1000u32, 1_700_000_000, 1, 0] {
        p.extend(v.to_be_bytes());
    }
    p.extend(0u16.to_be_bytes());
    p.extend((4 + 12 * n).to_be_bytes());
    for i in 0..n {
        for v in [256 + i, 2, 8, 4, 12, 4] {
            p.extend(v.to_be_bytes());
        }
    }
    p
}

/// The limits with a flag warn with a count and name the flag: flows ended early by a full
/// table (--max-flows), NetFlow templates pushed out (--max-templates,
/// --max-templates-per-exporter).
#[test]
fn limits_reached_warn_with_a_count_and_the_flag() {
    let dir = temp_dir("limits");
    let mut p = Pcap::new();
    let t0 = 1_700_000_000_000_000u64;
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    for i in 0..20u16 {
        p.udp(t0 + i as u64 * 1000, a, b, 10_000 + i, 9999, 10);
    }
    p.udp_with(
        t0 + 30_000,
        [10, 0, 0, 9],
        b,
        40_000,
        2055,
        &v9_templates(3),
    );
    let f = dir.join("limits.pcap");
    fs::write(&f, &p.0).unwrap();
    let path = f.to_str().unwrap();
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    let o = tapir(&["flows", path, "--json", "--max-flows", "8"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    let evicted = records(&o)
        .iter()
        .filter(|r| r["end_reason"] == "evicted")
        .count();
    assert!(evicted >= 12, "{evicted}");
    assert!(
        err.contains(&format!("{evicted} flows ended early")) && err.contains("--max-flows 8"),
        "{err}"
    );
    let o = tapir(&["flows", path, "--json", "--max-templates", "2"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("1 NetFlow/IPFIX templates dropped") && err.contains("--max-templates 2"),
        "{err}"
    );
    let o = tapir(&["flows", path, "--json", "--max-templates-per-exporter", "1"]);
    let err = stderr(&o);
    assert!(
        err.contains("2 NetFlow/IPFIX templates dropped")
            && err.contains("--max-templates-per-exporter 1"),
        "{err}"
    );
    // Within the limits, no warning.
    let o = tapir(&["flows", path, "--json"]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    fs::remove_dir_all(&dir).unwrap();
}

/// An Ethernet frame of an IPv4 packet (UDP) with the given fragment field and payload; the
/// header checksum is computed.
fn ipv4_frame(s: [u8; 4], d: [u8; 4], id: u16, frag: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend(((20 + payload.len()) as u16).to_be_bytes());
    h.extend(id.to_be_bytes());
    h.extend(frag.to_be_bytes());
    h.extend([64, 17, 0, 0]);
    h.extend(s);
    h.extend(d);
    let sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    let sum = (sum & 0xffff) + (sum >> 16);
    let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    let mut f = vec![2; 6];
    f.extend([1; 6]);
    f.extend(0x0800u16.to_be_bytes());
    f.extend(h);
    f.extend(payload);
    f
}

/// IPv4 fragments: a 2000-byte UDP datagram sent as two fragments (the second without ports)
/// and answered by an unfragmented datagram. The later fragment joins the flow of its first
/// fragment: one record of both directions, packets and bytes adding up to the capture's, and
/// one trace of all three packets from `extract --by flow --traces`.
#[test]
fn ipv4_fragments_join_the_flow_of_their_first_fragment() {
    let dir = temp_dir("fragments");
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let mut udp = Vec::new();
    for v in [5000u16, 6000, 2008, 0] {
        udp.extend(v.to_be_bytes());
    }
    udp.extend(vec![7u8; 2000]);
    let mut p = Pcap::new();
    let t0 = 1_700_000_000_000_000u64;
    // More fragments, offset 0: the UDP header and 1472 bytes; then offset 1480 / 8.
    p.frame(t0, &ipv4_frame(a, b, 77, 0x2000, &udp[..1480]));
    p.frame(t0 + 100, &ipv4_frame(a, b, 77, 1480 / 8, &udp[1480..]));
    let mut reply = Vec::new();
    for v in [6000u16, 5000, 108, 0] {
        reply.extend(v.to_be_bytes());
    }
    reply.extend([0u8; 100]);
    p.frame(t0 + 5_000, &ipv4_frame(b, a, 78, 0, &reply));
    let f = dir.join("fragments.pcap");
    fs::write(&f, &p.0).unwrap();
    let path = f.to_str().unwrap();
    assert_eq!(ip_totals(path), (3, 1500 + 548 + 128));
    let recs = records(&tapir(&["flows", path, "--json"]));
    assert_eq!(recs.len(), 1, "{recs:?}");
    let r = &recs[0];
    assert_eq!((u(r, "src_port"), u(r, "dst_port")), (5000, 6000));
    assert_eq!((u(r, "packets_fwd"), u(r, "bytes_fwd")), (2, 1500 + 548));
    assert_eq!((u(r, "packets_rev"), u(r, "bytes_rev")), (1, 128));
    assert_eq!(capture_sums(&recs), ip_totals(path));
    let traces = dir.join("traces");
    let o = tapir(&[
        "extract",
        path,
        "--by",
        "flow",
        "--traces",
        traces.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let files: Vec<_> = fs::read_dir(&traces).unwrap().collect();
    assert_eq!(files.len(), 1);
    let text = fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    let sizes: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(sizes, ["1500", "548", "-128"]);
    fs::remove_dir_all(&dir).unwrap();
}

/// Known answers: a UDP flow with a 100 s gap (idle timeout 60 s → two records), 50 one-packet
/// flows through a table of 8 (evictions), a NAT-T tunnel quiet for 90 s (one record).
#[test]
fn generated_capture_timeouts_and_eviction() {
    let dir = temp_dir("gen");
    let mut p = Pcap::new();
    let t0 = 1_700_000_000_000_000u64;
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    p.udp(t0, a, b, 5000, 53, 20);
    p.udp(t0 + 1_000_000, b, a, 53, 5000, 60);
    p.udp(t0 + 2_000_000, a, [10, 0, 0, 3], 4500, 4500, 1);
    for i in 0..50u16 {
        p.udp(t0 + 3_000_000 + i as u64 * 1000, a, b, 10_000 + i, 9999, 10);
    }
    p.udp(t0 + 92_000_000, a, [10, 0, 0, 3], 4500, 4500, 1);
    p.udp(t0 + 101_000_000, a, b, 5000, 53, 20);
    let f = dir.join("gen.pcap");
    fs::write(&f, &p.0).unwrap();
    let recs = records(&tapir(&[
        "flows",
        f.to_str().unwrap(),
        "--json",
        "--max-flows",
        "8",
    ]));
    let dns: Vec<_> = recs.iter().filter(|r| u(r, "dst_port") == 53).collect();
    assert_eq!(dns.len(), 2, "the 100 s gap splits the DNS flow");
    assert_eq!((u(dns[0], "packets_fwd"), u(dns[0], "packets_rev")), (1, 1));
    let evicted = recs.iter().filter(|r| r["end_reason"] == "evicted").count();
    assert!(evicted >= 40, "{evicted} evictions through a table of 8");
    assert_eq!(capture_sums(&recs), ip_totals(f.to_str().unwrap()));
    // With room in the table, the quiet NAT-T tunnel stays one record and nothing is evicted.
    let recs = records(&tapir(&["flows", f.to_str().unwrap(), "--json"]));
    let natt: Vec<_> = recs.iter().filter(|r| u(r, "dst_port") == 4500).collect();
    assert_eq!(
        natt.len(),
        1,
        "keep-alive ports keep a quiet tunnel in one record"
    );
    assert_eq!(natt[0]["tunnel"], "ike");
    assert!(recs.iter().all(|r| r["end_reason"] != "evicted"));
    assert_eq!(recs.len(), 2 + 1 + 50);
    let _ = fs::remove_dir_all(&dir);
}

/// `--by flow` units are the records `tapir flows` writes: the same timeouts (a 100 s gap splits
/// a DNS flow, a quiet NAT-T tunnel stays one), the same packets in each.
#[test]
fn by_flow_units_are_the_flow_records() {
    let dir = temp_dir("units");
    let mut p = Pcap::new();
    let t0 = 1_700_000_000_000_000u64;
    let (a, b, c) = ([10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3]);
    for i in 0..3u64 {
        p.udp(t0 + i * 10_000, a, b, 5000, 53, 20);
        p.udp(t0 + i * 10_000 + 5_000, b, a, 53, 5000, 60);
    }
    p.udp(t0 + 2_000_000, a, c, 4500, 4500, 1);
    p.udp(t0 + 92_000_000, a, c, 4500, 4500, 1);
    for i in 0..4u64 {
        p.udp(t0 + 101_000_000 + i * 1000, a, b, 5000, 53, 20);
    }
    let f = dir.join("gen.pcap");
    fs::write(&f, &p.0).unwrap();
    let recs = records(&tapir(&["flows", f.to_str().unwrap(), "--json"]));
    let mut want: Vec<u64> = recs
        .iter()
        .map(|r| u(r, "packets_fwd") + u(r, "packets_rev"))
        .collect();
    want.sort_unstable();
    assert_eq!(want, [2, 4, 6], "{recs:?}");

    let out = dir.join("traces");
    let o = tapir(&[
        "extract",
        f.to_str().unwrap(),
        "--by",
        "flow",
        "--traces",
        out.to_str().unwrap(),
        "-o",
        dir.join("x.csv").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut got = Vec::new();
    let mut stack = vec![out];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap().path();
            if e.is_dir() {
                stack.push(e);
            } else {
                let text = fs::read_to_string(&e).unwrap();
                got.push(
                    text.lines()
                        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                        .count() as u64,
                );
            }
        }
    }
    got.sort_unstable();
    assert_eq!(got, want, "one unit per record, with its packets");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn exports_inside_a_capture_become_records() {
    let f = repo("crates/netflow/tests/data/softflowd-v9-lo-http.pcap");
    let recs = records(&tapir(&["flows", &f, "--json", "--netflow-port", "20555"]));
    let nf: Vec<_> = recs.iter().filter(|r| kind(r) == "netflow_v9").collect();
    assert_eq!(nf.len(), 6);
    // The exporter is a column of its own, as in CSV.
    assert!(nf.iter().all(|r| r["exporter"] == "127.0.0.1"), "{nf:?}");
    let pk: u64 = nf
        .iter()
        .map(|r| u(r, "packets_fwd") + u(r, "packets_rev"))
        .sum();
    assert_eq!(pk, 37, "lo-http.pcap's packets, as softflowd counted them");
    // Off by default for that port, and with "none".
    let recs = records(&tapir(&["flows", &f, "--json", "--netflow-port", "none"]));
    assert!(recs.iter().all(|r| kind(r) == "capture"));
}

#[test]
fn csv_table_and_pseudonyms() {
    let f = repo("crates/capture/tests/data/lo-http.pcap");
    let o = tapir(&["flows", &f, "--format", "csv"]);
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<_> = s.lines().collect();
    assert!(lines[0].starts_with("src,dst,src_port,dst_port,proto,start,end,packets_fwd"));
    assert_eq!(lines.len(), 4);
    // The protocol as a number and times in integer nanoseconds, as in JSON lines.
    assert!(lines[1].contains(",6,") && lines[1].contains(",fin,capture,"));
    let start: i64 = lines[1]
        .split(',')
        .nth(5)
        .unwrap()
        .parse()
        .expect("integer ns");
    let json = records(&tapir(&["flows", &f, "--json"]));
    assert_eq!(json[0]["start"].as_i64(), Some(start));
    let o = tapir(&["flows", &f]);
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("3 records, 37 packets, 30158 bytes"), "{s}");

    let a = records(&tapir(&["flows", &f, "--json", "--anonymize", "secret"]));
    let b = records(&tapir(&["flows", &f, "--json", "--anonymize", "secret"]));
    assert_eq!(a, b, "the same key gives the same pseudonyms");
    let src = a[0]["src"].as_str().unwrap();
    assert_ne!(src, "127.0.0.1");
    assert!(a
        .iter()
        .all(|r| r["src"] == a[0]["src"] && r["dst"] == a[0]["src"]));
    let out = temp_dir("csv").join("f.csv");
    let o = tapir(&["flows", &f, "--format", "csv", "-o", out.to_str().unwrap()]);
    assert!(o.status.success());
    assert_eq!(fs::read_to_string(&out).unwrap().lines().count(), 4);
}

#[test]
fn usage_errors_exit_2() {
    let f = repo("crates/capture/tests/data/lo-http.pcap");
    for args in [
        vec!["flows"],
        vec!["flows", f.as_str(), "--format", "xml"],
        vec!["flows", f.as_str(), "--idle-timeout", "0"],
        vec!["flows", f.as_str(), "--netflow-port", "99999"],
        vec!["flows", f.as_str(), "--listen", "127.0.0.1:2055"],
        // -o missing: a usage error with or without the feature.
        vec!["flows", f.as_str(), "--format", "parquet"],
    ] {
        let o = tapir(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
    let o = tapir(&["flows", "/nonexistent.pcap"]);
    assert_eq!(o.status.code(), Some(1));
}

/// softflowd (Debian package) exports lo-http.pcap to `tapir flows --listen`. Skipped, with a
/// notice, where softflowd is not installed; the recorded export packets above cover decoding.
#[test]
fn softflowd_is_a_peer_of_the_collector() {
    let found = Command::new("sh")
        .args(["-c", "command -v softflowd && command -v softflowctl"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        eprintln!("notice: softflowd not installed; skipping the live NetFlow peer test");
        return;
    }
    let port = (20_000 + std::process::id() % 20_000).to_string();
    for v in ["5", "9", "10"] {
        let o = Command::new("bash")
            .arg(repo("scripts/netflow-peer.sh"))
            .args(["-v", v, "-p", &port])
            .arg(repo("crates/capture/tests/data/lo-http.pcap"))
            .env("TAPIR", env!("CARGO_BIN_EXE_tapir"))
            .output()
            .unwrap();
        let recs = records(&o);
        assert_eq!(
            recs.len(),
            6,
            "v{v}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let (p, b) = recs.iter().fold((0, 0), |(p, b), r| {
            (
                p + u(r, "packets_fwd") + u(r, "packets_rev"),
                b + u(r, "bytes_fwd") + u(r, "bytes_rev"),
            )
        });
        assert_eq!((p, b), (37, 30_158), "v{v}");
    }
}

/// `--format parquet` (only with the `parquet` feature): a hive-partitioned folder whose rows are
/// the records, read back with the parquet crate's own reader.
#[cfg(feature = "parquet")]
#[test]
fn parquet_folder_is_partitioned_by_date_and_complete() {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let dir = temp_dir("pq").join("flows");
    let f = repo("crates/capture/tests/data/lo-http.pcap");
    let o = tapir(&[
        "flows",
        &f,
        "--format",
        "parquet",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // lo-http.pcap was recorded on 2026-11-22 (UTC).
    let part = dir.join("date=2026-11-22/part-0.parquet");
    let file = fs::File::open(&part).expect("one partition for the capture's day");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = 0;
    let mut packets = 0i64;
    for b in reader {
        let b = b.unwrap();
        rows += b.num_rows();
        for col in ["packets_fwd", "packets_rev"] {
            let a = b
                .column_by_name(col)
                .unwrap()
                .as_any()
                .downcast_ref::<arrow_array::Int64Array>()
                .unwrap();
            packets += a.iter().flatten().sum::<i64>();
        }
    }
    assert_eq!((rows, packets), (3, 37));
    // Never over an existing table.
    let o = tapir(&[
        "flows",
        &f,
        "--format",
        "parquet",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
}

/// One NetFlow v5 export packet of `n` records (10.0.0.i → 10.0.1.1, TCP, 3 packets each).
fn v5_packet(n: u16) -> Vec<u8> {
    let mut p = Vec::new();
    for v in [5u16, n] {
        p.extend_from_slice(&v.to_be_bytes());
    }
    for v in [60_000u32, 1_795_314_586, 0, 1] {
        p.extend_from_slice(&v.to_be_bytes()); // uptime, secs, nsecs, sequence
    }
    p.extend_from_slice(&[0, 0, 0, 0]); // engine type, id, sampling
    for i in 0..n {
        p.extend_from_slice(&[10, 0, 0, (i % 250) as u8 + 1]);
        p.extend_from_slice(&[10, 0, 1, 1]);
        p.extend_from_slice(&[0; 4]); // next hop
        p.extend_from_slice(&[0; 4]); // input, output
        p.extend_from_slice(&3u32.to_be_bytes());
        p.extend_from_slice(&180u32.to_be_bytes());
        p.extend_from_slice(&50_000u32.to_be_bytes());
        p.extend_from_slice(&59_000u32.to_be_bytes());
        p.extend_from_slice(&(40_000 + i).to_be_bytes());
        p.extend_from_slice(&443u16.to_be_bytes());
        p.extend_from_slice(&[0, 0x12, 6, 0]); // pad, flags, proto, tos
        p.extend_from_slice(&[0; 8]); // AS numbers, masks, pad
    }
    p
}

/// `--max-records N` stops at exactly N records, even when one export packet holds more.
#[test]
fn max_records_is_exact() {
    let port = 30_000 + std::process::id() % 20_000;
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args([
            "flows",
            "--listen",
            &addr,
            "--max-records",
            "4",
            "--json",
            "--listen-seconds",
            "20",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    // Send until the collector is up (it answers nothing; it ends after 4 records).
    for _ in 0..50 {
        sock.send_to(&v5_packet(10), &addr).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        if child.try_wait().unwrap().is_some() {
            break;
        }
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .count();
    assert_eq!(lines, 4);
}
