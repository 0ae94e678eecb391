//! `tapir watch`: source/destination analysis — watchlist hits with evidence, new peers of
//! sensitive hosts after a baseline, who talks to whom, top talkers. Also holds the input and
//! output flags shared by `volume`, `sequence` and `timeline`.

use crate::load::warn;
use crate::output::{write_atomic, Output};
use crate::settings::{analysis_usage, usage};
use anyhow::Context;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use tapir_analysis::{
    format_utc, parse_duration, parse_sensitive, read_file, sort_events, top_talkers, Event,
    EventKind, Graph, Hit, NewPeer, Pattern, PatternSet, Rank, Talker, WatchConfig, WatchDirection,
    Watcher,
};
use tapir_anon::Anonymizer;
use tapir_capture::Timestamp;
use tapir_report::text_table;

/// Inputs and output format of the metadata analyses.
#[derive(Args, Debug, Clone)]
pub struct EventArgs {
    /// Captures (pcap, pcapng), flow records from `tapir flows --json`, or mail events as JSON
    /// lines ({"time", "from", "to", "size"}); captures and JSON lines may be gzip or zstd, and
    /// `-` is standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: Format,
    /// Same as --format jsonl.
    #[arg(long)]
    pub json: bool,
    /// Write here instead of stdout (atomically: no half-written file on error).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Stop at the first unreadable file instead of reporting it and going on.
    #[arg(long)]
    pub strict: bool,
    /// Replace addresses by prefix-preserving pseudonyms (Crypto-PAn) and mail addresses by
    /// keyed hashes under this key (64 hex digits or a passphrase). Watchlists, --sensitive,
    /// sites and the timeline's ENTITY are given in clear and mapped the same way.
    #[arg(long, value_name = "KEY")]
    pub anonymize: Option<String>,
}

/// `--format` of watch, volume, sequence and timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    #[value(alias = "json")]
    Jsonl,
}

/// `watch --rank`: what top talkers are ranked by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RankBy {
    Bytes,
    // Flows and messages.
    #[value(alias = "flows", alias = "messages")]
    Events,
}

impl From<RankBy> for Rank {
    fn from(r: RankBy) -> Rank {
        match r {
            RankBy::Bytes => Rank::Bytes,
            RankBy::Events => Rank::Events,
        }
    }
}

impl EventArgs {
    pub fn format(&self) -> Format {
        if self.json {
            Format::Jsonl
        } else {
            self.format
        }
    }

    pub fn anonymizer(&self) -> anyhow::Result<Option<Anonymizer>> {
        match &self.anonymize {
            None => Ok(None),
            Some(k) => Ok(Some(
                Anonymizer::from_passphrase(k).map_err(|e| usage(format!("--anonymize: {e}")))?,
            )),
        }
    }

    /// Every event of every file, sorted by time, pseudonymised under --anonymize. A file that
    /// cannot be read is reported and skipped (with --strict it is the error); no readable
    /// file at all is an error.
    pub fn load(&self) -> anyhow::Result<Vec<Event>> {
        let mut all = Vec::new();
        let mut failed = 0;
        for f in &self.files {
            match read_file(f, &mut |w| warn(w)) {
                Ok(ev) if ev.is_empty() => {
                    if self.strict {
                        anyhow::bail!("{}: no flow, packet or mail event in it", f.display());
                    }
                    crate::load::skipped(format!(
                        "{}: no flow, packet or mail event in it; file skipped",
                        f.display()
                    ));
                    failed += 1;
                }
                Ok(ev) => all.extend(ev),
                Err(e) if !self.strict => {
                    crate::load::skipped(e);
                    failed += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if failed == self.files.len() {
            anyhow::bail!("no input could be read");
        }
        if let Some(an) = self.anonymizer()? {
            all.iter_mut().for_each(|e| e.anonymize(&an));
        }
        sort_events(&mut all);
        Ok(all)
    }
}

/// `p`, or what matches its pseudonyms under --anonymize.
pub fn anon_pattern(an: Option<&Anonymizer>, p: Pattern) -> Pattern {
    match an {
        Some(an) => p.anonymized(an),
        None => p,
    }
}

/// `set`, or what matches its pseudonyms under --anonymize.
pub fn anon_set(an: Option<&Anonymizer>, set: PatternSet) -> PatternSet {
    match an {
        Some(an) => set.anonymized(an),
        None => set,
    }
}

/// Writes rows as an aligned table, CSV or JSON lines (one object per row, from `json`).
pub fn write_rows<T: Serialize>(
    out: &mut impl Write,
    format: Format,
    headers: &[&str],
    rows: &[T],
    cells: impl Fn(&T) -> Vec<String>,
) -> anyhow::Result<()> {
    match format {
        Format::Table => {
            let r: Vec<Vec<String>> = rows.iter().map(&cells).collect();
            write!(out, "{}", text_table(headers, &r))?;
        }
        Format::Csv => {
            // The columns and values of the JSON lines (times in integer nanoseconds), so that
            // the two formats load alike; the table's headers only when there is no row.
            let rows: Vec<Fields> = rows
                .iter()
                .map(|r| serde_json::from_str(&serde_json::to_string(r)?))
                .collect::<Result<_, _>>()?;
            let names: Vec<&str> = match rows.first() {
                Some(f) => f.0.iter().map(|(k, _)| k.as_str()).collect(),
                None => headers.to_vec(),
            };
            writeln!(out, "{}", names.join(","))?;
            for r in &rows {
                let c: Vec<String> =
                    r.0.iter()
                        .map(|(_, v)| tapir_report::csv_field(&csv_value(v)).into_owned())
                        .collect();
                writeln!(out, "{}", c.join(","))?;
            }
        }
        Format::Jsonl => {
            for r in rows {
                serde_json::to_writer(&mut *out, r)?;
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

/// The fields of a JSON object in the order written (serde_json's own map sorts them).
struct Fields(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Fields, A::Error> {
                let mut v = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    v.push(entry);
                }
                Ok(Fields(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON value as one CSV field: text as it is, null empty, a list's items space-separated.
fn csv_value(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(csv_value).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

pub fn read_patterns(path: &Path) -> anyhow::Result<PatternSet> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(PatternSet::parse(&text, &path.display().to_string())?)
}

#[derive(Args, Debug)]
pub struct WatchArgs {
    #[command(flatten)]
    pub input: EventArgs,
    /// Addresses, prefixes, mail addresses or @domains to report, one per line with an
    /// optional name (`198.51.100.7 botnet-c2`); `#` starts a comment. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub watchlist: Vec<PathBuf>,
    /// A host, prefix, mail address or @domain whose peers are learned during the baseline;
    /// any new peer afterwards is an alert. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub sensitive: Vec<String>,
    /// How long peers of --sensitive hosts are learned for, from the first event.
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub baseline: String,
    /// Who talks to whom as FORMAT (dot, graphml or json), written to FILE.
    #[arg(long, num_args = 2, value_names = ["FORMAT", "FILE"])]
    pub graph: Vec<String>,
    /// List the N hosts that moved the most (0: none).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// What top talkers are ranked by: bytes, or flows and messages (events).
    #[arg(long, value_name = "BY", default_value = "bytes")]
    pub rank: RankBy,
}

/// One finding in CSV and JSON lines: every kind in one flat schema, `type` naming it (`hit`,
/// `new-peer`, `talker`) and a column null (empty in CSV) where the kind has no such value, so
/// that both formats hold the same rows and columns. `host` is what the finding is about (the
/// watched end of a hit, the sensitive host of a new peer, the talker), `peer` its other end;
/// `time` is when it happened (a hit's event start, a new peer's first event), `bytes` both
/// ways.
#[derive(Serialize, Default)]
struct Record<'a> {
    #[serde(rename = "type")]
    record: &'static str,
    time: Option<Timestamp>,
    end: Option<Timestamp>,
    host: &'a str,
    peer: Option<&'a str>,
    direction: Option<WatchDirection>,
    entry: Option<&'a str>,
    entry_name: Option<&'a str>,
    entry_line: Option<usize>,
    /// The hit's event: `flow` or `mail`.
    kind: Option<EventKind>,
    bytes: u64,
    bytes_to_watched: Option<u64>,
    bytes_from_watched: Option<u64>,
    packets: Option<u64>,
    events: Option<u64>,
    peers: Option<usize>,
    baseline_peers: Option<usize>,
    evidence: Option<&'a str>,
}

/// The columns of [`Record`], in order: CSV's header when there is no row.
const RECORD_COLUMNS: &[&str] = &[
    "type",
    "time",
    "end",
    "host",
    "peer",
    "direction",
    "entry",
    "entry_name",
    "entry_line",
    "kind",
    "bytes",
    "bytes_to_watched",
    "bytes_from_watched",
    "packets",
    "events",
    "peers",
    "baseline_peers",
    "evidence",
];

impl<'a> Record<'a> {
    fn hit(h: &'a Hit) -> Self {
        Record {
            record: "hit",
            time: Some(h.time),
            end: Some(h.end),
            host: &h.watched,
            peer: Some(&h.peer),
            direction: Some(h.direction),
            entry: Some(&h.entry),
            entry_name: h.entry_name.as_deref(),
            entry_line: Some(h.entry_line),
            kind: Some(h.kind),
            bytes: h.bytes_to_watched.saturating_add(h.bytes_from_watched),
            bytes_to_watched: Some(h.bytes_to_watched),
            bytes_from_watched: Some(h.bytes_from_watched),
            packets: Some(h.packets),
            evidence: Some(&h.evidence),
            ..Record::default()
        }
    }

    fn new_peer(p: &'a NewPeer) -> Self {
        Record {
            record: "new-peer",
            time: Some(p.first_seen),
            host: &p.host,
            peer: Some(&p.peer),
            direction: Some(p.direction),
            bytes: p.bytes,
            baseline_peers: Some(p.baseline_peers),
            evidence: Some(&p.evidence),
            ..Record::default()
        }
    }

    fn talker(t: &'a Talker) -> Self {
        Record {
            record: "talker",
            host: &t.host,
            bytes: t.bytes,
            packets: Some(t.packets),
            events: Some(t.events),
            peers: Some(t.peers),
            ..Record::default()
        }
    }
}

pub fn run(a: WatchArgs) -> anyhow::Result<()> {
    let format = a.input.format();
    let baseline_ns = parse_duration(&a.baseline).map_err(|e| usage(format!("--baseline: {e}")))?;
    let an = a.input.anonymizer()?;
    let sensitive: Vec<Pattern> = parse_sensitive(&a.sensitive)
        .map_err(|e| analysis_usage(e, &[("sensitive", "--sensitive")]))?
        .into_iter()
        .map(|p| anon_pattern(an.as_ref(), p))
        .collect();
    let graph_to = crate::settings::graph_flag(&a.graph)?;
    let mut entries = Vec::new();
    for w in &a.watchlist {
        entries.extend(read_patterns(w)?.entries().iter().cloned());
    }
    let watchlist = anon_set(an.as_ref(), PatternSet::new(entries));
    let events = a.input.load()?;

    let mut watcher = Watcher::new(WatchConfig {
        watchlist: watchlist.clone(),
        sensitive: sensitive.clone(),
        baseline_ns,
    });
    let mut graph = Graph::new();
    for e in &events {
        watcher.push(e);
        if graph_to.is_some() {
            graph.add(e);
        }
    }
    let baseline_end = watcher.baseline_end();
    let (hits, new_peers) = watcher.finish();
    let talkers = top_talkers(&events, a.top, a.rank.into());

    if let Some((format, path)) = &graph_to {
        graph.mark(|n| {
            let ip = n.id.parse().ok();
            watchlist.lookup(&n.id, ip).is_some() || sensitive.iter().any(|p| p.matches(&n.id, ip))
        });
        write_atomic(path, graph.render(*format).as_bytes())?;
    }

    let mut out = Output::create(a.input.output.as_deref())?;
    if format != Format::Table {
        // Hits, then new peers, then talkers: one list of records for CSV and JSON lines.
        let records: Vec<Record> = hits
            .iter()
            .map(Record::hit)
            .chain(new_peers.iter().map(Record::new_peer))
            .chain(talkers.iter().map(Record::talker))
            .collect();
        write_rows(&mut out, format, RECORD_COLUMNS, &records, |_| Vec::new())?;
        return out.finish();
    }
    if !watchlist.is_empty() {
        writeln!(
            out,
            "watchlist hits: {} ({} entries)",
            hits.len(),
            watchlist.entries().len()
        )?;
        write_rows(
            &mut out,
            format,
            &[
                "time",
                "entry",
                "name",
                "watched",
                "direction",
                "peer",
                "bytes_to",
                "bytes_from",
                "evidence",
            ],
            &hits,
            |h| {
                vec![
                    format_utc(h.time),
                    h.entry.clone(),
                    h.entry_name.clone().unwrap_or_default(),
                    h.watched.clone(),
                    match h.direction {
                        WatchDirection::ToWatched => "in".into(),
                        _ => "out".into(),
                    },
                    h.peer.clone(),
                    h.bytes_to_watched.to_string(),
                    h.bytes_from_watched.to_string(),
                    h.evidence.clone(),
                ]
            },
        )?;
        writeln!(out)?;
    }
    if !sensitive.is_empty() {
        writeln!(
            out,
            "new peers after the baseline (until {}): {}",
            baseline_end.map(format_utc).unwrap_or_else(|| "-".into()),
            new_peers.len()
        )?;
        write_rows(
            &mut out,
            format,
            &[
                "first_seen",
                "host",
                "new_peer",
                "baseline_peers",
                "bytes",
                "evidence",
            ],
            &new_peers,
            |p| {
                vec![
                    format_utc(p.first_seen),
                    p.host.clone(),
                    p.peer.clone(),
                    p.baseline_peers.to_string(),
                    p.bytes.to_string(),
                    p.evidence.clone(),
                ]
            },
        )?;
        writeln!(out)?;
    }
    if !talkers.is_empty() {
        writeln!(out, "top talkers ({} events)", events.len())?;
        write_rows(
            &mut out,
            format,
            &["host", "bytes", "packets", "events", "peers"],
            &talkers,
            |t| {
                vec![
                    t.host.clone(),
                    t.bytes.to_string(),
                    t.packets.to_string(),
                    t.events.to_string(),
                    t.peers.to_string(),
                ]
            },
        )?;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::{Record, RECORD_COLUMNS};

    #[test]
    fn record_columns_are_the_serialised_fields() {
        let v = serde_json::to_string(&Record::default()).unwrap();
        let keys: Vec<String> = serde_json::from_str::<super::Fields>(&v)
            .unwrap()
            .0
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, RECORD_COLUMNS);
    }
}
