//! What is in a capture or trace file: frames, IP packets, span, link types, directions, the
//! flows (the records `tapir flows` writes, from the same flow table), the tunnels recognised
//! and the largest flows. `tapir inspect` prints it.
//!
//! One pass, and memory bounded whatever the size of the file: the flow table is capped as for
//! `tapir flows`, flows are counted as they end, and only the `top` largest are kept.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use tapir_capture::{
    open, CaptureErrorKind, CaptureReader, Compression, DecodeError, Decoder, Direction, Opened,
    Stream, Timestamp, TraceErrorKind, TraceReader,
};
use tapir_flow::{ClientRule, FlowRecord, FlowTable, FlowTableConfig, TunnelKind};

/// What [`inspect_file`] found in one file.
#[derive(Debug, Default)]
pub struct FileSummary {
    /// `pcap`, `pcapng`, `trace`, or `unknown` when the file could not be opened.
    pub format: String,
    /// How the file was stored: `none`, `gzip` or `zstd`.
    pub compression: &'static str,
    /// Link types of the frames, by name, sorted.
    pub link_types: Vec<String>,
    pub frames: u64,
    pub ip_packets: u64,
    /// Frames that are not IP (ARP, LLDP, …).
    pub non_ip: u64,
    /// Frames whose IP header is cut or malformed, and bad trace lines.
    pub undecodable: u64,
    pub ip_bytes: u64,
    /// Packets from the client side (the `--client` prefixes, else the capture's own host, the
    /// address in most packets) and to it.
    pub upstream_packets: u64,
    pub downstream_packets: u64,
    /// First and last packet.
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    /// Times a packet was earlier than the one before it.
    pub time_went_back: u64,
    /// Flow records, as `tapir flows` makes them.
    pub flows: u64,
    /// Flows the table ended early because it was full.
    pub evicted: u64,
    /// One entry per tunnel kind recognised, most packets first.
    pub tunnels: Vec<TunnelCount>,
    /// The largest flows by bytes (both directions), largest first.
    pub top_flows: Vec<FlowRecord>,
    /// The fault that stopped the reading (the summary covers what came before), or why the
    /// file could not be read at all (then `frames` is 0).
    pub error: Option<String>,
    /// Faults read past (bad trace lines), for the caller to report.
    pub warnings: Vec<String>,
}

impl FileSummary {
    /// Seconds from the first packet to the last.
    pub fn duration(&self) -> f64 {
        match (self.start, self.end) {
            (Some(a), Some(b)) => b.nanos_since(a) as f64 / 1e9,
            _ => 0.0,
        }
    }
}

/// The flows of one tunnel kind.
#[derive(Clone, Debug)]
pub struct TunnelCount {
    pub kind: TunnelKind,
    pub flows: u64,
    pub packets: u64,
    pub bytes: u64,
    /// First and last packet of the kind's flows.
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Reads `path` (a capture or a trace; plain, gzip or zstd; `-` for standard input) once and
/// summarises it. Never fails: a file that cannot be read gives a summary with its
/// [`FileSummary::error`]. `client` decides the upstream side, as for units; `top` flows are
/// kept.
pub fn inspect_file(path: &Path, client: &ClientRule, top: usize) -> FileSummary {
    let mut s = FileSummary::default();
    match open(path) {
        Ok((opened, compression)) => {
            s.compression = match compression {
                Compression::None => "none",
                Compression::Gzip => "gzip",
                Compression::Zstd => "zstd",
                _ => "other",
            };
            match opened {
                Opened::Trace(r) => inspect_trace(path, r, &mut s),
                Opened::Capture(r) => inspect_capture(r, client, top, &mut s),
            }
        }
        Err(e) => {
            s.format = "unknown".into();
            s.compression = "none";
            s.error = Some(match &e.kind {
                // Not there, not readable: the OS's words, not a byte offset.
                CaptureErrorKind::Io(io) => io.to_string(),
                _ => e.to_string(),
            });
        }
    }
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
            s.warnings
                .push(format!("{}: {e}; bad lines skipped", path.display()));
        } else if s.error.is_none() {
            s.error = Some(e.to_string());
        }
    }
}

/// The `top` largest flows so far: a min-heap on (bytes, then the later flow by id), so a
/// flow that ends is kept or dropped in O(log top).
struct Largest {
    top: usize,
    heap: BinaryHeap<Reverse<(u64, Reverse<u64>, Keyed)>>,
    next: u64,
}

/// A record ordered only by the key it is stored with.
struct Keyed(FlowRecord);

impl PartialEq for Keyed {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Keyed {}
impl PartialOrd for Keyed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Keyed {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl Largest {
    fn add(&mut self, r: &FlowRecord) {
        if self.top == 0 {
            return;
        }
        let key = (r.bytes(), Reverse(self.next));
        self.next += 1;
        if self.heap.len() < self.top {
            self.heap.push(Reverse((key.0, key.1, Keyed(r.clone()))));
        } else if let Some(Reverse(min)) = self.heap.peek() {
            if key > (min.0, min.1) {
                self.heap.pop();
                self.heap.push(Reverse((key.0, key.1, Keyed(r.clone()))));
            }
        }
    }

    /// Largest first; equal sizes in the order the flows ended.
    fn into_sorted(self) -> Vec<FlowRecord> {
        let mut v: Vec<_> = self.heap.into_iter().map(|Reverse(x)| x).collect();
        v.sort_by_key(|b| Reverse((b.0, b.1)));
        v.into_iter().map(|(_, _, Keyed(r))| r).collect()
    }
}

fn inspect_capture(
    mut r: CaptureReader<Decoder>,
    client: &ClientRule,
    top: usize,
    s: &mut FileSummary,
) {
    s.format = format!("{:?}", r.format()).to_lowercase();
    let mut table = match FlowTable::new(FlowTableConfig::default()) {
        Ok(t) => t.with_client_rule(client.clone()),
        Err(e) => {
            s.error = Some(e.to_string());
            return;
        }
    };
    // Whole-capture direction: the client prefixes, or the capture's own host.
    let mut hosts = tapir_flow::HostCounter::new();
    // Packets sent and received per address: bounded like the host counter's table.
    let mut per_host: HashMap<IpAddr, (u64, u64)> = HashMap::new();
    let mut links = BTreeSet::new();
    let mut last = None;
    let mut tunnels: HashMap<TunnelKind, TunnelCount> = HashMap::new();
    let mut largest = Largest {
        top,
        heap: BinaryHeap::new(),
        next: 0,
    };
    let mut flows = 0u64;
    let mut on_record = |rec: FlowRecord| {
        flows += 1;
        if let Some(kind) = rec.tunnel {
            let e = tunnels.entry(kind).or_insert(TunnelCount {
                kind,
                flows: 0,
                packets: 0,
                bytes: 0,
                start: rec.start,
                end: rec.end,
            });
            e.flows += 1;
            e.packets += rec.packets();
            e.bytes += rec.bytes();
            e.start = e.start.min(rec.start);
            e.end = e.end.max(rec.end);
        }
        largest.add(&rec);
    };
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
        if per_host.len() < MAX_HOSTS || per_host.contains_key(&ip.src) {
            per_host.entry(ip.src).or_default().0 += 1;
        }
        if per_host.len() < MAX_HOSTS || per_host.contains_key(&ip.dst) {
            per_host.entry(ip.dst).or_default().1 += 1;
        }
        table.push(raw.ts, &ip);
        for (_, rec) in table.drain_ended() {
            on_record(rec);
        }
    }
    if s.error.is_some() && s.frames == 0 {
        return;
    }
    s.evicted = table.stats().evicted;
    for rec in table.finish() {
        on_record(rec);
    }
    s.flows = flows;
    s.link_types = links.into_iter().collect();
    let host = match client {
        ClientRule::Prefixes(_) => None,
        ClientRule::Auto => hosts.host(),
    };
    for (ip, (sent, received)) in &per_host {
        let is_client = match client {
            ClientRule::Prefixes(_) => client.matches(*ip),
            ClientRule::Auto => Some(*ip) == host,
        };
        if is_client {
            s.upstream_packets += sent;
            s.downstream_packets += received;
        }
    }
    s.top_flows = largest.into_sorted();
    let mut t: Vec<TunnelCount> = tunnels.into_values().collect();
    t.sort_by(|a, b| {
        b.packets
            .cmp(&a.packets)
            .then(a.kind.name().cmp(b.kind.name()))
    });
    s.tunnels = t;
}

/// Addresses whose packets are counted for the upstream/downstream split at most: a scan of
/// the whole address space cannot grow the table past it (the capture's own host is among
/// the first ones seen).
const MAX_HOSTS: usize = 1 << 20;
