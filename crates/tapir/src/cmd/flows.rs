//! `tapir flows`: bidirectional flow records (the NetFlow fields of the M3AAWG paper's table, both
//! directions, plus the tunnel recognised) from captures, from NetFlow/IPFIX export packets inside
//! them, or from a UDP collector.

use crate::load::warn;
use crate::output::Output;
use crate::settings::usage;
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tapir_anon::Anonymizer;
use tapir_capture::{CaptureReader, Timestamp};
use tapir_flow::{proto, FlowRecord, FlowTable, FlowTableConfig, RecordSource};
use tapir_netflow::{capture_records, CapturedExports, Collector, Decoder};

#[derive(Args, Debug)]
pub struct FlowsArgs {
    /// Captures (pcap, pcapng; plain, gzip or zstd; `-` for standard input). Not needed with
    /// --listen or --live.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Collect NetFlow v5/v9/IPFIX export packets on this UDP address instead of reading files.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// With --listen: stop after this many seconds (default: run until interrupted).
    #[arg(long, value_name = "SECS")]
    pub listen_seconds: Option<f64>,
    /// With --listen: stop after this many records.
    #[arg(long, value_name = "N")]
    pub max_records: Option<u64>,
    /// Flow records of this network interface's traffic as its flows end, instead of files
    /// (a build with `--features live`; needs root or CAP_NET_RAW). Ctrl-C ends with the
    /// flows still open and a summary.
    #[arg(long, value_name = "IFACE", conflicts_with_all = ["files", "listen"])]
    pub live: Option<String>,
    /// Output format; parquet is a hive-partitioned folder and needs -o and a build with the
    /// `parquet` feature.
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: Format,
    /// Same as --format jsonl.
    #[arg(long)]
    pub json: bool,
    /// Write to this file (folder for parquet) instead of stdout; written whole or not at all
    /// (with --live: from the first record on, as records come).
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// A flow quiet this long ends.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub idle_timeout: f64,
    /// A flow longer than this is cut into records this long.
    #[arg(long, value_name = "SECS", default_value_t = 1800.0)]
    pub active_timeout: f64,
    /// Idle timeout of UDP 4500 / 51820 tunnels, which send keep-alives and may go quiet.
    #[arg(long, value_name = "SECS", default_value_t = 180.0)]
    pub keepalive_timeout: f64,
    /// Flows held open at most; the longest idle are evicted beyond it.
    #[arg(long, value_name = "N", default_value_t = 1 << 20)]
    pub max_flows: usize,
    /// NetFlow v9/IPFIX templates kept in all; the oldest go beyond it.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub max_templates: usize,
    /// Templates kept per exporter, so that one exporter cannot push out the others'.
    #[arg(long, value_name = "N", default_value_t = tapir_netflow::DEFAULT_TEMPLATES_PER_EXPORTER)]
    pub max_templates_per_exporter: usize,
    /// UDP ports whose packets in a capture are decoded as NetFlow/IPFIX exports ("none": off).
    #[arg(long, value_name = "PORTS", default_value = "2055,4739,9995")]
    pub netflow_port: String,
    /// Replace addresses by prefix-preserving pseudonyms (Crypto-PAn) under this key: 64 hex
    /// digits, or a passphrase.
    #[arg(long, value_name = "KEY")]
    pub anonymize: Option<String>,
    /// Totals on stderr: IP packets and bytes read and summed over records, evictions.
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub capture: crate::cli::LiveArgs,
}

/// `flows --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    #[value(alias = "json")]
    Jsonl,
    Parquet,
}

/// Validated flags.
pub(super) struct Settings {
    pub format: Format,
    pub table: FlowTableConfig,
    pub netflow_ports: Vec<u16>,
    listen: Option<SocketAddr>,
    anon: Option<Anonymizer>,
    pub max_templates: usize,
    pub max_templates_per_exporter: usize,
}

impl Settings {
    /// The export packets to decode inside captures, with the template limits of the flags.
    pub(super) fn exports(&self) -> CapturedExports {
        CapturedExports::new(
            self.netflow_ports.clone(),
            Decoder::with_limits(self.max_templates, self.max_templates_per_exporter),
        )
    }
}

fn secs_ns(flag: &str, s: f64) -> anyhow::Result<i64> {
    if !(s.is_finite() && s > 0.0 && s < 1e9) {
        return Err(usage(format!(
            "{flag} must be a positive number of seconds"
        )));
    }
    Ok((s * 1e9) as i64)
}

fn settings(a: &FlowsArgs) -> anyhow::Result<Settings> {
    let format = match (a.json, a.format) {
        // --format table is the default: --json alone asks for JSON lines.
        (true, Format::Table | Format::Jsonl) => Format::Jsonl,
        (true, _) => return Err(usage("--json and --format disagree")),
        (false, f) => f,
    };
    if format == Format::Parquet && a.live.is_some() {
        // Parquet is written whole at the end: hours of records held in memory, then written
        // by a process that has given up root. JSON lines or CSV stream them instead.
        return Err(usage(
            "--format parquet is written at the end, not as flows end: with --live give \
             --format jsonl or csv",
        ));
    }
    if format == Format::Parquet && a.output.is_none() {
        return Err(usage("--format parquet writes a folder: give it with -o"));
    }
    let table = FlowTableConfig {
        idle_timeout: secs_ns("--idle-timeout", a.idle_timeout)?,
        active_timeout: secs_ns("--active-timeout", a.active_timeout)?,
        keepalive_idle_timeout: secs_ns("--keepalive-timeout", a.keepalive_timeout)?,
        max_flows: a.max_flows,
        ..Default::default()
    };
    table.validate().map_err(|e| usage(e.to_string()))?;
    let netflow_ports = if a.netflow_port == "none" || a.netflow_port.is_empty() {
        Vec::new()
    } else {
        a.netflow_port
            .split(',')
            .map(|p| {
                p.trim()
                    .parse::<u16>()
                    .map_err(|_| usage(format!("--netflow-port: {p:?} is not a port")))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let listen = match &a.listen {
        Some(s) => Some(
            s.parse::<SocketAddr>()
                .map_err(|_| usage(format!("--listen {s}: expected ADDR:PORT")))?,
        ),
        None => None,
    };
    if listen.is_none() && a.files.is_empty() && a.live.is_none() {
        return Err(usage(
            "give capture files, --listen ADDR:PORT or --live IFACE",
        ));
    }
    if listen.is_some() && !a.files.is_empty() {
        return Err(usage(
            "--listen collects from the network: give no files with it",
        ));
    }
    if let Some(s) = a.listen_seconds {
        secs_ns("--listen-seconds", s)?;
    }
    let anon = match &a.anonymize {
        Some(k) => Some(Anonymizer::from_passphrase(k).map_err(|e| usage(e.to_string()))?),
        None => None,
    };
    Ok(Settings {
        format,
        table,
        netflow_ports,
        listen,
        anon,
        max_templates: a.max_templates,
        max_templates_per_exporter: a.max_templates_per_exporter,
    })
}

pub fn run(a: FlowsArgs) -> anyhow::Result<()> {
    super::check_live(a.live.as_deref(), &a.capture)?;
    let s = settings(&a)?;
    #[cfg(feature = "live")]
    if let Some(iface) = &a.live {
        return super::flows_live::run(&a, &s, iface);
    }
    // A folder stands for the captures below it.
    let files = tapir_dataset::expand_inputs(&a.files)?;
    // Ctrl-C ends reading; the records so far (active flows included) are still written.
    let _coop = crate::interrupt::cooperate();
    let mut sink = Sink::new(&s, a.output.as_deref(), false)?;
    let mut failed = 0usize;
    let mut read = 0usize;
    if let Some(addr) = s.listen {
        collect(&a, &s, addr, &mut sink)?;
    } else {
        for path in &files {
            if crate::interrupt::requested().is_some() {
                break;
            }
            read += 1;
            match read_capture(path, &s, &mut sink) {
                Ok(t) => {
                    if a.stats {
                        eprintln!(
                            "{}: {} IP packets, {} IP bytes; records from the capture: {} \
                             ({} packets, {} bytes), {} evicted; {} exported records decoded",
                            path.display(),
                            t.ip_packets,
                            t.ip_bytes,
                            t.records,
                            t.rec_packets,
                            t.rec_bytes,
                            t.evicted,
                            t.exported
                        );
                    }
                }
                Err(e) => {
                    // A broken pipe ends everything; a bad file is reported and skipped.
                    if is_broken_pipe(&e) {
                        return Err(e);
                    }
                    crate::load::skipped(format!("{}: {e:#}", path.display()));
                    failed += 1;
                }
            }
        }
    }
    let written = sink.written;
    sink.finish()?;
    if let Some(signal) = crate::interrupt::requested() {
        let to = match &a.output {
            Some(p) => format!(" to {}", p.display()),
            None => String::new(),
        };
        let from = if s.listen.is_some() {
            String::new()
        } else {
            format!(" from {read} of {} capture(s)", files.len())
        };
        return Err(crate::interrupt::Interrupted {
            signal,
            summary: format!("{written} records written{to}{from}"),
        }
        .into());
    }
    if !files.is_empty() && failed == files.len() {
        anyhow::bail!("no file could be read");
    }
    Ok(())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[derive(Default)]
struct Totals {
    ip_packets: u64,
    ip_bytes: u64,
    records: u64,
    rec_packets: u64,
    rec_bytes: u64,
    evicted: u64,
    exported: u64,
}

fn read_capture(path: &Path, s: &Settings, sink: &mut Sink) -> anyhow::Result<Totals> {
    let mut r = CaptureReader::open(path).with_context(|| "cannot read the capture")?;
    let table = FlowTable::new(s.table.clone())?;
    let mut exports = s.exports();
    let mut t = Totals::default();
    // Ctrl-C stops the reading; the flows still open are written as at the end of the file.
    let got = capture_records(
        &mut r,
        table,
        &mut exports,
        &|| crate::interrupt::requested().is_some(),
        &mut |rec| sink.push(rec),
    )?;
    t.exported = exports.decoded();
    t.ip_packets = got.stats.packets;
    t.ip_bytes = got.stats.bytes;
    t.evicted = got.stats.evicted;
    if got.stats.evicted > 0 {
        warn(format!(
            "{}: the flow table was full: {} flows ended early (end reason evicted); \
             --max-flows {} raises the limit",
            path.display(),
            got.stats.evicted,
            s.table.max_flows
        ));
    }
    warn_templates(&exports.decoder().stats(), s);
    let cut = got.cut;
    t.records = sink.capture_records;
    t.rec_packets = sink.capture_packets;
    t.rec_bytes = sink.capture_bytes;
    sink.capture_records = 0;
    sink.capture_packets = 0;
    sink.capture_bytes = 0;
    if let Some(e) = cut {
        warn(format!(
            "{}: {e}; records cover the packets before it",
            path.display()
        ));
    }
    Ok(t)
}

/// A warning with the count when template limits pushed templates out (their data sets are then
/// skipped until the exporter sends the template again).
pub(super) fn warn_templates(st: &tapir_netflow::DecoderStats, s: &Settings) {
    if st.templates_dropped > 0 {
        warn(format!(
            "{} NetFlow/IPFIX templates dropped at the limits (--max-templates {}, \
             --max-templates-per-exporter {})",
            st.templates_dropped, s.max_templates, s.max_templates_per_exporter
        ));
    }
}

fn collect(a: &FlowsArgs, s: &Settings, addr: SocketAddr, sink: &mut Sink) -> anyhow::Result<()> {
    let mut c = Collector::bind_with_limits(addr, s.max_templates, s.max_templates_per_exporter)?;
    eprintln!("tapir: collecting on udp {}", c.local_addr());
    let deadline = a
        .listen_seconds
        .map(|s| Instant::now() + Duration::from_secs_f64(s));
    let mut n = 0u64;
    while crate::interrupt::requested().is_none() {
        let wait = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(w) if !w.is_zero() => w.min(Duration::from_millis(500)),
                _ => break,
            },
            None => Duration::from_millis(500),
        };
        if let Some(recs) = c.recv(wait)? {
            for rec in recs {
                // Exact: an export packet holding more records than are still wanted is cut.
                if a.max_records.is_some_and(|m| n >= m) {
                    break;
                }
                sink.push(rec)?;
                n += 1;
            }
            sink.flush()?;
        }
        for (from, e) in c.take_errors() {
            warn(format!("export packet from {from}: {e}"));
        }
        if a.max_records.is_some_and(|m| n >= m) {
            break;
        }
    }
    warn_templates(&c.decoder().stats(), s);
    if a.stats {
        let st = c.decoder().stats();
        eprintln!(
            "{} export packets ({} refused), {} records, {} templates, {} data sets before their template",
            st.packets, st.bad_packets, st.records, st.templates, st.unknown_template_sets
        );
    }
    Ok(())
}

/// Where records go, in the chosen format; streams except for the table (which needs widths).
pub(super) struct Sink {
    format: Format,
    out: Option<Output>,
    rows: Vec<FlowRecord>,
    anon: Option<Anonymizer>,
    pseudonyms: HashMap<IpAddr, IpAddr>,
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    dir: Option<PathBuf>,
    pub capture_records: u64,
    pub capture_packets: u64,
    pub capture_bytes: u64,
    /// Records pushed, for the summary of an interrupted run.
    pub written: u64,
}

pub const CSV_HEADER: &str = "src,dst,src_port,dst_port,proto,start,end,packets_fwd,bytes_fwd,packets_rev,bytes_rev,tos,dscp,tcp_flags,tunnel,end_reason,source,exporter,domain";

impl Sink {
    /// `in_place`: a file written from its first record on, for readers that follow it (a
    /// live capture's), instead of whole at the end.
    pub fn new(s: &Settings, dest: Option<&Path>, in_place: bool) -> anyhow::Result<Sink> {
        let out = match (s.format, dest) {
            (Format::Parquet, _) => None,
            (_, Some(dest)) if in_place => Some(Output::in_place(dest)?),
            _ => Some(Output::create(dest)?),
        };
        let mut sink = Sink {
            format: s.format,
            out,
            rows: Vec::new(),
            anon: s.anon.clone(),
            pseudonyms: HashMap::new(),
            dir: dest.map(Path::to_path_buf),
            capture_records: 0,
            capture_packets: 0,
            capture_bytes: 0,
            written: 0,
        };
        if s.format == Format::Csv {
            if let Some(o) = sink.out.as_mut() {
                writeln!(o, "{CSV_HEADER}")?;
            }
        }
        if s.format == Format::Parquet && !cfg!(feature = "parquet") {
            return Err(usage(
                "--format parquet: this tapir was built without the `parquet` feature \
                 (cargo build --features parquet)",
            ));
        }
        Ok(sink)
    }

    fn pseudonym(&mut self, a: IpAddr) -> IpAddr {
        match &self.anon {
            None => a,
            // Crypto-PAn costs one AES block per address bit: remember each address once.
            Some(an) => *self
                .pseudonyms
                .entry(a)
                .or_insert_with(|| an.anonymize_ip(a)),
        }
    }

    pub fn push(&mut self, mut r: FlowRecord) -> anyhow::Result<()> {
        self.written += 1;
        if r.source == tapir_flow::RecordSource::Capture {
            self.capture_records += 1;
            self.capture_packets += r.packets();
            self.capture_bytes += r.bytes();
        }
        if self.anon.is_some() {
            r.src = self.pseudonym(r.src);
            r.dst = self.pseudonym(r.dst);
        }
        match (self.format, self.out.as_mut()) {
            (Format::Jsonl, Some(o)) => {
                serde_json::to_writer(&mut *o, &r)?;
                writeln!(o)?;
            }
            (Format::Csv, Some(o)) => writeln!(o, "{}", csv_row(&r))?,
            _ => self.rows.push(r),
        }
        Ok(())
    }

    pub fn flush(&mut self) -> anyhow::Result<()> {
        if let Some(o) = self.out.as_mut() {
            o.flush()?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> anyhow::Result<()> {
        match self.format {
            Format::Table => {
                let mut o = self.out.take().context("table output")?;
                self.rows.sort_by_key(|r| r.start);
                write_table(&mut o, &self.rows)?;
                o.finish()
            }
            Format::Parquet => {
                #[cfg(feature = "parquet")]
                {
                    let dir = self.dir.take().context("parquet needs -o")?;
                    crate::cmd::flows_parquet::write_partitioned(&dir, &self.rows)
                }
                #[cfg(not(feature = "parquet"))]
                {
                    Err(usage("--format parquet needs the `parquet` feature"))
                }
            }
            _ => match self.out.take() {
                Some(o) => o.finish(),
                None => Ok(()),
            },
        }
    }
}

/// TCP flags as letters, NetFlow-tool style: C E U A P R S F, `.` where unset.
fn flag_letters(f: u8) -> String {
    const L: [(u8, char); 8] = [
        (0x80, 'C'),
        (0x40, 'E'),
        (0x20, 'U'),
        (0x10, 'A'),
        (0x08, 'P'),
        (0x04, 'R'),
        (0x02, 'S'),
        (0x01, 'F'),
    ];
    L.iter()
        .map(|(b, c)| if f & b != 0 { *c } else { '.' })
        .collect()
}

/// One CSV row: the JSON lines' values (protocol number, integer nanoseconds since the epoch),
/// so that a CSV and a JSON-lines export of the same flows load alike.
fn csv_row(r: &FlowRecord) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        r.src,
        r.dst,
        r.src_port,
        r.dst_port,
        r.proto,
        r.start.as_nanos(),
        r.end.as_nanos(),
        r.packets_fwd,
        r.bytes_fwd,
        r.packets_rev,
        r.bytes_rev,
        r.tos,
        r.dscp(),
        r.tcp_flags,
        r.tunnel.map_or("", |t| t.name()),
        r.end_reason,
        r.source.name(),
        r.source.exporter().map_or(String::new(), |e| e.to_string()),
        match r.source {
            RecordSource::NetflowV9 { domain, .. } | RecordSource::Ipfix { domain, .. } => {
                domain.to_string()
            }
            _ => String::new(),
        },
    )
}

/// `2026-11-22 02:29:46.500` (UTC, milliseconds).
fn utc(t: Timestamp) -> String {
    t.utc().format(3)
}

fn endpoint(a: IpAddr, p: u16, has_ports: bool) -> String {
    match (a, has_ports) {
        (_, false) => a.to_string(),
        (IpAddr::V4(a), true) => format!("{a}:{p}"),
        (IpAddr::V6(a), true) => format!("[{a}]:{p}"),
    }
}

fn write_table(o: &mut impl Write, rows: &[FlowRecord]) -> anyhow::Result<()> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let ports = proto::has_ports(r.proto);
            vec![
                utc(r.start),
                format!("{:.3}", r.duration_secs()),
                proto::name(r.proto),
                endpoint(r.src, r.src_port, ports),
                endpoint(r.dst, r.dst_port, ports),
                format!("{}/{}", r.packets_fwd, r.bytes_fwd),
                format!("{}/{}", r.packets_rev, r.bytes_rev),
                r.dscp().to_string(),
                if r.proto == proto::TCP {
                    flag_letters(r.tcp_flags)
                } else {
                    String::new()
                },
                r.tunnel.map_or(String::new(), |t| t.name().to_string()),
                r.end_reason.to_string(),
                r.source.name().to_string(),
            ]
        })
        .collect();
    let t = tapir_report::text_table(
        &[
            "start (UTC)",
            "seconds",
            "proto",
            "src",
            "dst",
            "pkts/bytes →",
            "pkts/bytes ←",
            "dscp",
            "tcp flags",
            "tunnel",
            "end",
            "source",
        ],
        &cells,
    );
    o.write_all(t.as_bytes())?;
    let (p, b): (u64, u64) = rows
        .iter()
        .fold((0, 0), |(p, b), r| (p + r.packets(), b + r.bytes()));
    writeln!(o, "{} records, {p} packets, {b} bytes", rows.len())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_dates() {
        assert_eq!(flag_letters(0x1b), "...AP.SF");
        assert_eq!(flag_letters(0x04), ".....R..");
        assert_eq!(
            utc(Timestamp(1_795_314_586_500_000_000)),
            "2026-11-22 02:29:46.500"
        );
    }
}
