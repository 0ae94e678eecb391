//! `tapir inspect`: what is in a capture or trace file.

use crate::cli::InspectArgs;
use crate::load::warn;
use crate::settings::{anonymizer, client_rule};
use serde::Serialize;
use std::io::Write;
use tapir_anon::Anonymizer;
use tapir_capture::Timestamp;
use tapir_dataset::inspect::{inspect_file, FileSummary};
use tapir_flow::{Endpoint, FlowKey, FlowRecord};
use tapir_report::text_table;

/// A listed flow as `inspect` prints it.
struct FlowLine {
    flow: String,
    packets: u64,
    bytes: u64,
    start: Timestamp,
    end: Timestamp,
    tunnel: Option<&'static str>,
}

impl FlowLine {
    /// `proto client > server` (no ports for protocols without them), addresses pseudonymised
    /// under --anonymize as `tapir flows --anonymize` writes them.
    fn new(r: &FlowRecord, anon: Option<&Anonymizer>) -> FlowLine {
        let (key, client) = FlowKey::new(
            r.proto,
            Endpoint {
                addr: r.src,
                port: r.src_port,
            },
            Endpoint {
                addr: r.dst,
                port: r.dst_port,
            },
        );
        let flow = match anon {
            Some(an) => key.map_addrs(|a| an.anonymize_ip(a)).describe(client),
            None => key.describe(client),
        };
        FlowLine {
            flow,
            packets: r.packets(),
            bytes: r.bytes(),
            start: r.start,
            end: r.end,
            tunnel: r.tunnel.map(|t| t.name()),
        }
    }

    fn duration(&self) -> f64 {
        self.end.nanos_since(self.start) as f64 / 1e9
    }
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
    flows: Option<u64>,
    tunnel: Option<String>,
    flow: Option<&'a str>,
    packets: Option<u64>,
    bytes: Option<u64>,
}

/// The `--json` lines of one file.
fn records<'a>(file: &'a str, s: &'a FileSummary, flows: &'a [FlowLine]) -> Vec<Record<'a>> {
    let kinds: Vec<&str> = s.tunnels.iter().map(|t| t.kind.name()).collect();
    let seconds = |a: Timestamp, b: Timestamp| b.nanos_since(a) as f64 / 1e9;
    let mut v = vec![Record {
        record: "file",
        file,
        format: Some(&s.format),
        compression: Some(s.compression),
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
        duration: Some(s.duration()),
        flows: Some(s.flows),
        tunnel: (!kinds.is_empty()).then(|| kinds.join(";")),
        ..Record::default()
    }];
    v.extend(s.tunnels.iter().map(|t| Record {
        record: "tunnel",
        file,
        start: Some(t.start),
        end: Some(t.end),
        duration: Some(seconds(t.start, t.end)),
        flows: Some(t.flows),
        tunnel: Some(t.kind.name().to_string()),
        packets: Some(t.packets),
        bytes: Some(t.bytes),
        ..Record::default()
    }));
    v.extend(flows.iter().map(|f| Record {
        record: "flow",
        file,
        start: Some(f.start),
        end: Some(f.end),
        duration: Some(f.duration()),
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
        let s = inspect_file(path, &rule, a.top);
        sp.finish_and_clear();
        let file = path.display().to_string();
        for w in &s.warnings {
            warn(w);
        }
        if s.evicted > 0 {
            warn(format!(
                "{file}: the flow table was full: {} flows ended early",
                s.evicted
            ));
        }
        let flows: Vec<FlowLine> = s
            .top_flows
            .iter()
            .map(|r| FlowLine::new(r, anon.as_ref()))
            .collect();
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
            for r in records(&file, &s, &flows) {
                serde_json::to_writer(&mut out, &r)?;
                writeln!(out)?;
            }
        } else if s.frames > 0 || s.error.is_none() {
            print_summary(&mut out, &file, &s, &flows)?;
        }
    }
    out.flush()?;
    if failed == files.len() {
        anyhow::bail!("no file could be read");
    }
    Ok(())
}

fn print_summary(
    out: &mut impl Write,
    file: &str,
    s: &FileSummary,
    flows: &[FlowLine],
) -> std::io::Result<()> {
    if s.compression == "none" {
        writeln!(out, "{file} ({})", s.format)?;
    } else {
        writeln!(out, "{file} ({}, {})", s.format, s.compression)?;
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
            .map(|t| {
                format!(
                    "{} ({} flows, {} packets)",
                    t.kind.name(),
                    t.flows,
                    t.packets
                )
            })
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
    if !flows.is_empty() {
        let rows: Vec<Vec<String>> = flows
            .iter()
            .map(|f| {
                vec![
                    f.flow.clone(),
                    f.packets.to_string(),
                    f.bytes.to_string(),
                    format!("{:.3}", f.duration()),
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
