//! `tapir inspect`: what is in a capture or trace file.

use crate::cli::InspectArgs;
use crate::load::warn;
use crate::settings::{anonymizer, client_rule};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;
use tapir_anon::Anonymizer;
use tapir_capture::{
    open, CaptureReader, Compression, DecodeError, Decoder, Direction, Opened, Stream, Timestamp,
    TraceErrorKind, TraceReader,
};
use tapir_flow::{
    AssembleConfig, Assembler, ClientRule, PacketMeta, TunnelEvidence, TunnelKind, Unit, UnitInfo,
    UnitKey,
};
use tapir_report::text_table;

/// What `inspect` found in one file.
#[derive(Default)]
struct FileSummary {
    file: String,
    format: String,
    /// `none`, `gzip` or `zstd`: how the file was stored.
    compression: String,
    link_types: Vec<String>,
    frames: u64,
    ip_packets: u64,
    non_ip: u64,
    undecodable: u64,
    ip_bytes: u64,
    upstream_packets: u64,
    downstream_packets: u64,
    /// First and last packet, integer nanoseconds since the epoch (as flow records have them).
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    /// Seconds.
    duration: f64,
    /// Times a packet was earlier than the one before it.
    time_went_back: u64,
    flows: usize,
    tunnels: Vec<TunnelCount>,
    top_flows: Vec<FlowSummary>,
    error: Option<String>,
}

struct TunnelCount {
    kind: &'static str,
    flows: usize,
    packets: u64,
    bytes: u64,
    /// First and last packet of the kind's flows.
    start: Timestamp,
    end: Timestamp,
}

struct FlowSummary {
    flow: String,
    packets: u64,
    bytes: u64,
    start: Timestamp,
    end: Timestamp,
    duration: f64,
    tunnel: Option<&'static str>,
}

/// One line of `--json`: a flat record whose `type` says what it describes. A file gives a
/// `file` line, then a `tunnel` line per kind of tunnel recognised in it, then a `flow` line
/// per listed flow (the largest, `--top`), each with the file's name. Every line has every
/// column, null where its type has no such value: `start`, `end` (integer nanoseconds since
/// the epoch) and `duration` (seconds) span what the line describes; `flows`, `packets` and
/// `bytes` count it; `tunnel` is a file's tunnel kinds (joined with `;`), a tunnel line's kind
/// or a flow's.
#[derive(Serialize, Default)]
struct Record<'a> {
    #[serde(rename = "type")]
    record: &'static str,
    file: &'a str,
    format: Option<&'a str>,
    compression: Option<&'a str>,
    /// Joined with `;`.
    link_types: Option<String>,
    frames: Option<u64>,
    ip_packets: Option<u64>,
    non_ip: Option<u64>,
    undecodable: Option<u64>,
    ip_bytes: Option<u64>,
    upstream_packets: Option<u64>,
    downstream_packets: Option<u64>,
    time_went_back: Option<u64>,
    error: Option<&'a str>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    duration: Option<f64>,
    flows: Option<usize>,
    tunnel: Option<String>,
    flow: Option<&'a str>,
    packets: Option<u64>,
    bytes: Option<u64>,
}

/// The `--json` lines of one file.
fn records(s: &FileSummary) -> Vec<Record<'_>> {
    let kinds: Vec<&str> = s.tunnels.iter().map(|t| t.kind).collect();
    let seconds = |a: Timestamp, b: Timestamp| b.nanos_since(a) as f64 / 1e9;
    let mut v = vec![Record {
        record: "file",
        file: &s.file,
        format: Some(&s.format),
        compression: Some(&s.compression),
        link_types: Some(s.link_types.join(";")),
        frames: Some(s.frames),
        ip_packets: Some(s.ip_packets),
        non_ip: Some(s.non_ip),
        undecodable: Some(s.undecodable),
        ip_bytes: Some(s.ip_bytes),
        upstream_packets: Some(s.upstream_packets),
        downstream_packets: Some(s.downstream_packets),
        time_went_back: Some(s.time_went_back),
        error: s.error.as_deref(),
        start: s.start,
        end: s.end,
        duration: Some(s.duration),
        flows: Some(s.flows),
        tunnel: (!kinds.is_empty()).then(|| kinds.join(";")),
        ..Record::default()
    }];
    v.extend(s.tunnels.iter().map(|t| Record {
        record: "tunnel",
        file: &s.file,
        start: Some(t.start),
        end: Some(t.end),
        duration: Some(seconds(t.start, t.end)),
        flows: Some(t.flows),
        tunnel: Some(t.kind.to_string()),
        packets: Some(t.packets),
        bytes: Some(t.bytes),
        ..Record::default()
    }));
    v.extend(s.top_flows.iter().map(|f| Record {
        record: "flow",
        file: &s.file,
        start: Some(f.start),
        end: Some(f.end),
        duration: Some(f.duration),
        tunnel: f.tunnel.map(str::to_string),
        flow: Some(&f.flow),
        packets: Some(f.packets),
        bytes: Some(f.bytes),
        ..Record::default()
    }));
    v
}

pub fn run(a: InspectArgs) -> anyhow::Result<()> {
    let rule = client_rule(&a.traffic)?;
    let anon = anonymizer(a.anonymize.as_deref())?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // A folder stands for the captures below it.
    let files = tapir_dataset::expand_inputs(&a.files)?;
    let mut failed = 0usize;
    for path in &files {
        // A spinner on stderr (terminals only) while a large capture is read.
        let sp = crate::progress::spinner(&format!("reading {}", path.display()));
        let s = inspect_file(path, &rule, a.top, anon.as_ref());
        sp.finish_and_clear();
        if let Some(e) = &s.error {
            // A capture cut part-way still had its first packets summarised.
            if s.frames == 0 {
                crate::load::skipped(format!("{}: {e}", path.display()));
                failed += 1;
            } else {
                warn(format!("{}: {e}", path.display()));
            }
            if a.traffic.strict {
                anyhow::bail!("{}: {e}", path.display());
            }
        }
        if a.json {
            for r in records(&s) {
                serde_json::to_writer(&mut out, &r)?;
                writeln!(out)?;
            }
        } else if s.frames > 0 || s.error.is_none() {
            print_summary(&mut out, &s)?;
        }
    }
    out.flush()?;
    if failed == files.len() {
        anyhow::bail!("no file could be read");
    }
    Ok(())
}

fn print_summary(out: &mut impl Write, s: &FileSummary) -> std::io::Result<()> {
    if s.compression == "none" {
        writeln!(out, "{} ({})", s.file, s.format)?;
    } else {
        writeln!(out, "{} ({}, {})", s.file, s.format, s.compression)?;
    }
    let span = match (s.start, s.end) {
        (Some(a), Some(b)) => format!(
            "{} – {} ({:.3} s)",
            utc(a),
            utc(b),
            b.nanos_since(a) as f64 / 1e9
        ),
        _ => "-".into(),
    };
    let mut rows = vec![
        vec![
            "packets".to_string(),
            format!("{} IP of {} frames", s.ip_packets, s.frames),
        ],
        vec!["bytes (IP)".to_string(), s.ip_bytes.to_string()],
        vec!["span".to_string(), span],
        vec![
            "up / down".to_string(),
            format!("{} / {}", s.upstream_packets, s.downstream_packets),
        ],
    ];
    if !s.link_types.is_empty() {
        rows.push(vec!["link types".into(), s.link_types.join(", ")]);
    }
    if s.non_ip + s.undecodable > 0 {
        rows.push(vec![
            "skipped".into(),
            format!("{} not IP, {} undecodable", s.non_ip, s.undecodable),
        ]);
    }
    if s.time_went_back > 0 {
        rows.push(vec![
            "time went back".into(),
            format!("{} times", s.time_went_back),
        ]);
    }
    if s.format != "trace" {
        rows.push(vec!["flows".into(), s.flows.to_string()]);
        let t: Vec<String> = s
            .tunnels
            .iter()
            .map(|t| format!("{} ({} flows, {} packets)", t.kind, t.flows, t.packets))
            .collect();
        rows.push(vec![
            "tunnels".into(),
            if t.is_empty() {
                "none recognised".into()
            } else {
                t.join(", ")
            },
        ]);
    }
    let width = rows.iter().map(|r| r[0].len()).max().unwrap_or(0);
    for r in &rows {
        writeln!(out, "  {:width$}  {}", r[0], r[1])?;
    }
    if !s.top_flows.is_empty() {
        let rows: Vec<Vec<String>> = s
            .top_flows
            .iter()
            .map(|f| {
                vec![
                    f.flow.clone(),
                    f.packets.to_string(),
                    f.bytes.to_string(),
                    format!("{:.3}", f.duration),
                    f.tunnel.unwrap_or("").to_string(),
                ]
            })
            .collect();
        write!(
            out,
            "{}",
            indent(&text_table(
                &["flow", "packets", "bytes", "seconds", "tunnel"],
                &rows
            ))
        )?;
    }
    writeln!(out)
}

/// `2026-11-22 02:17:31.123456` (UTC) from Unix seconds.
fn utc(t: Timestamp) -> String {
    t.utc().format(6)
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

fn inspect_file(
    path: &Path,
    rule: &ClientRule,
    top: usize,
    anon: Option<&Anonymizer>,
) -> FileSummary {
    let mut s = FileSummary {
        file: path.display().to_string(),
        ..Default::default()
    };
    // One open and a peek: `-` and pipes are read once.
    match open(path) {
        Ok((opened, compression)) => {
            s.compression = match compression {
                Compression::None => "none",
                Compression::Gzip => "gzip",
                Compression::Zstd => "zstd",
                _ => "other",
            }
            .into();
            match opened {
                Opened::Trace(r) => inspect_trace(path, r, &mut s),
                Opened::Capture(r) => inspect_capture(r, rule, top, anon, &mut s),
            }
        }
        Err(e) => {
            s.format = "unknown".into();
            s.compression = "none".into();
            s.error = Some(match &e.kind {
                // Not there, not readable: the OS's words, not a byte offset.
                tapir_capture::CaptureErrorKind::Io(io) => io.to_string(),
                _ => e.to_string(),
            });
            return s;
        }
    }
    s.duration = match (s.start, s.end) {
        (Some(a), Some(b)) => b.nanos_since(a) as f64 / 1e9,
        _ => 0.0,
    };
    s
}

fn track_time(s: &mut FileSummary, last: &mut Option<Timestamp>, ts: Timestamp) {
    if let Some(l) = *last {
        if ts < l {
            s.time_went_back += 1;
        }
    }
    *last = Some(ts);
    s.start = Some(s.start.map_or(ts, |x| x.min(ts)));
    s.end = Some(s.end.map_or(ts, |x| x.max(ts)));
}

fn inspect_trace(path: &Path, mut r: TraceReader<Stream>, s: &mut FileSummary) {
    s.format = "trace".into();
    let mut last = None;
    let mut first_bad_line = None;
    while let Some(p) = r.next_packet() {
        match p {
            Ok(p) => {
                s.frames += 1;
                s.ip_packets += 1;
                s.ip_bytes += p.size as u64;
                match p.dir {
                    Direction::Up => s.upstream_packets += 1,
                    Direction::Down => s.downstream_packets += 1,
                }
                track_time(s, &mut last, p.ts);
            }
            // The input itself failed (a cut gzip, a read error): the reader ends here.
            Err(e)
                if matches!(
                    e.kind,
                    TraceErrorKind::Compressed(_) | TraceErrorKind::Io(_)
                ) =>
            {
                s.error = Some(format!("{e}; summary covers the lines before it"));
            }
            Err(e) => {
                s.undecodable += 1;
                first_bad_line.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_bad_line {
        if s.ip_packets > 0 {
            // Bad lines were skipped; the file itself was read.
            warn(format!("{}: {e}; bad lines skipped", path.display()));
        } else if s.error.is_none() {
            s.error = Some(e.to_string());
        }
    }
}

fn inspect_capture(
    mut r: CaptureReader<Decoder>,
    rule: &ClientRule,
    top: usize,
    anon: Option<&Anonymizer>,
    s: &mut FileSummary,
) {
    s.format = format!("{:?}", r.format()).to_lowercase();
    let mut asm = Assembler::new(AssembleConfig {
        unit: Unit::Flow,
        client: rule.clone(),
        ..Default::default()
    });
    // Whole-capture direction: the client prefixes, or the capture's own host.
    let mut hosts = tapir_flow::HostCounter::new();
    let mut per_host: HashMap<std::net::IpAddr, (u64, u64)> = HashMap::new();
    let mut evidence: HashMap<u64, TunnelEvidence> = HashMap::new();
    let mut links = BTreeSet::new();
    let mut last = None;
    let mut ended: Vec<UnitInfo> = Vec::new();
    while let Some(next) = r.next_packet() {
        let raw = match next {
            Ok(raw) => raw,
            Err(e) => {
                s.error = Some(format!("{e}; summary covers the packets before it"));
                break;
            }
        };
        s.frames += 1;
        links.insert(raw.link_type.to_string());
        track_time(s, &mut last, raw.ts);
        let ip = match raw.decode() {
            Ok(ip) => ip,
            Err(DecodeError::NotIp) => {
                s.non_ip += 1;
                continue;
            }
            Err(_) => {
                s.undecodable += 1;
                continue;
            }
        };
        s.ip_packets += 1;
        s.ip_bytes += ip.ip_len as u64;
        hosts.add(ip.src, ip.dst);
        let e = per_host.entry(ip.src).or_default();
        e.0 += 1;
        per_host.entry(ip.dst).or_default().1 += 1;
        let placed = asm.push(&PacketMeta::from_ip(raw.ts, &ip));
        evidence.entry(placed.unit).or_default().observe(&ip);
        ended.extend(asm.take_ended());
    }
    if s.error.is_some() && s.frames == 0 {
        return;
    }
    s.link_types = links.into_iter().collect();
    let host = match rule {
        ClientRule::Prefixes(_) => None,
        ClientRule::Auto => hosts.host(),
    };
    for (ip, (sent, received)) in &per_host {
        let is_client = match rule {
            ClientRule::Prefixes(_) => rule.matches(*ip),
            ClientRule::Auto => Some(*ip) == host,
        };
        if is_client {
            s.upstream_packets += sent;
            s.downstream_packets += received;
        }
    }
    ended.extend(asm.finish());
    s.flows = ended.len();
    let mut tunnels: HashMap<&'static str, TunnelCount> = HashMap::new();
    let mut flows: Vec<(u64, FlowSummary)> = ended
        .iter()
        .map(|u| {
            let t = tunnel_kind(u, evidence.get(&u.id));
            if let Some(kind) = t {
                let e = tunnels.entry(kind).or_insert(TunnelCount {
                    kind,
                    flows: 0,
                    packets: 0,
                    bytes: 0,
                    start: u.first,
                    end: u.last,
                });
                e.flows += 1;
                e.packets += u.packets;
                e.bytes += u.bytes;
                e.start = e.start.min(u.first);
                e.end = e.end.max(u.last);
            }
            (
                u.bytes,
                FlowSummary {
                    flow: match anon {
                        Some(an) => u.describe_with(|a| an.anonymize_ip(a)),
                        None => u.describe(),
                    },
                    packets: u.packets,
                    bytes: u.bytes,
                    start: u.first,
                    end: u.last,
                    duration: u.last.nanos_since(u.first) as f64 / 1e9,
                    tunnel: t,
                },
            )
        })
        .collect();
    flows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.flow.cmp(&b.1.flow)));
    s.top_flows = flows.into_iter().take(top).map(|f| f.1).collect();
    let mut t: Vec<TunnelCount> = tunnels.into_values().collect();
    t.sort_by(|a, b| b.packets.cmp(&a.packets).then(a.kind.cmp(b.kind)));
    s.tunnels = t;
}

/// The tunnel a flow looks like (recognition lives in tapir_flow), named as in `tapir flows`.
fn tunnel_kind(u: &UnitInfo, ev: Option<&TunnelEvidence>) -> Option<&'static str> {
    let UnitKey::Flow(k) = u.key else { return None };
    tapir_flow::tunnel_kind(k.proto, k.a.port, k.b.port, u.packets, ev).map(TunnelKind::name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        use tapir_capture::Timestamp;
        let at = |ns: i64| super::utc(Timestamp::from_nanos(ns));
        assert_eq!(at(0), "1970-01-01 00:00:00.000000");
        assert_eq!(at(1_795_314_586_500_000_000), "2026-11-22 02:29:46.500000");
        assert_eq!(at(951_782_400_000_000_000), "2000-02-29 00:00:00.000000");
        // Integer nanoseconds: no float rounding to print a microsecond low.
        assert_eq!(at(1_795_317_148_359_246_000), "2026-11-22 03:12:28.359246");
        assert_eq!(at(1_795_317_148_000_002_000), "2026-11-22 03:12:28.000002");
    }
}
