//! Reading events: flow records (`tapir flows --json` output), mail events as JSON lines, and
//! packet captures (flows built on the fly).

use crate::event::Event;
use crate::time::parse_rfc3339;
use crate::AnalysisError;
use serde::Deserialize;
use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use tapir_capture::{CaptureReader, Compression, FileKind, Stream, Timestamp};
use tapir_flow::{FlowRecord, FlowTable, FlowTableConfig};

/// The event of one flow record: initiator → responder, forward and reverse bytes, the tunnel
/// kind as label.
pub fn event_from_record(r: &FlowRecord) -> Event {
    let mut e = Event::flow(
        r.start,
        r.end,
        (r.src, r.src_port),
        (r.dst, r.dst_port),
        r.proto,
        r.bytes_fwd,
        r.bytes_rev,
        r.packets(),
    );
    e.label = r.tunnel.map(|t| t.name().to_string());
    e
}

/// A mail event line: `{"time": 1700000000.5 | "2026-11-22T02:00:00Z", "from": "a@x",
/// "to": "b@y" | ["b@y", "c@z"], "size": 1234}`; `cc`, `id` and `subject` are optional.
#[derive(Deserialize)]
struct MailLine {
    time: TimeValue,
    from: String,
    to: OneOrMany,
    #[serde(default)]
    cc: Option<OneOrMany>,
    #[serde(default)]
    size: u64,
    #[serde(default, alias = "message_id")]
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TimeValue {
    /// Integers beyond 10^14 are nanoseconds (tapir's `Timestamp`, as `tapir_mail::MailEvent`
    /// writes it): as seconds they would be three million years away.
    Nanos(i64),
    Secs(f64),
    Text(String),
}

const NANOS_THRESHOLD: i64 = 100_000_000_000_000;

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Reads JSON lines, each a flow record, a mail event or an [`Event`] as this crate writes it.
/// Blank lines and lines starting with `#` are skipped. A line that is none of these is an
/// error naming `source_name` and the line.
pub fn read_jsonl(r: impl Read, source_name: &str) -> Result<Vec<Event>, AnalysisError> {
    let mut out = Vec::new();
    each_line(r, source_name, &mut |line| out.extend(line.events))?;
    Ok(out)
}

/// What a line of an event file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineShape {
    /// A flow record as `tapir flows --json` writes it.
    FlowRecord,
    /// A mail event line (`time`, `from`, `to`, …): one message, one event per recipient.
    Mail,
    /// An [`Event`] as this crate writes it.
    Event,
}

/// One line of a JSON-lines event file, kept as written so that a countermeasure can write it
/// back with a new time, or as a copy to another recipient, in the same shape.
#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    /// Its line number (from 1).
    pub line: usize,
    pub shape: LineShape,
    /// The line as read.
    pub value: serde_json::Value,
    /// Its events (a mail line gives one per recipient).
    pub events: Vec<Event>,
}

fn set_time(v: &mut serde_json::Value, key: &str, t: Timestamp) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), serde_json::Value::from(t.0));
    }
}

impl EventLine {
    /// The line moved to start at `time`; a flow's or event's end moves with it.
    pub fn retimed(&self, time: Timestamp) -> serde_json::Value {
        let mut v = self.value.clone();
        let Some(first) = self.events.first() else {
            return v;
        };
        let end = Timestamp(first.end.0.saturating_add(time.0 - first.time.0));
        match self.shape {
            LineShape::FlowRecord => {
                set_time(&mut v, "start", time);
                set_time(&mut v, "end", end);
            }
            LineShape::Event => {
                set_time(&mut v, "time", time);
                set_time(&mut v, "end", end);
            }
            LineShape::Mail => {
                // Small integers are read back as seconds: write them as seconds.
                let t = if time.0.unsigned_abs() > NANOS_THRESHOLD as u64 {
                    serde_json::Value::from(time.0)
                } else {
                    serde_json::Value::from(time.0 as f64 / 1e9)
                };
                if let Some(o) = v.as_object_mut() {
                    o.insert("time".into(), t);
                }
            }
        }
        v
    }

    /// A copy of a mail line (or a mail [`Event`]) to `to` alone at `time`; `None` for a flow,
    /// which has no recipient to add.
    pub fn copy_to(&self, to: &str, time: Timestamp) -> Option<serde_json::Value> {
        let mail = self.events.first()?.kind == crate::EventKind::Mail;
        if !mail || self.shape == LineShape::FlowRecord {
            return None;
        }
        let mut v = self.retimed(time);
        let o = v.as_object_mut()?;
        match self.shape {
            LineShape::Mail => {
                o.insert("to".into(), to.into());
                o.remove("cc");
            }
            _ => {
                o.insert("dst".into(), to.into());
            }
        }
        Some(v)
    }
}

/// Reads JSON lines as [`read_jsonl`] does, keeping each line (see [`EventLine`]).
pub fn read_event_lines(r: impl Read, source_name: &str) -> Result<Vec<EventLine>, AnalysisError> {
    let mut out = Vec::new();
    each_line(r, source_name, &mut |line| out.push(line))?;
    Ok(out)
}

fn each_line(
    r: impl Read,
    source_name: &str,
    f: &mut dyn FnMut(EventLine),
) -> Result<(), AnalysisError> {
    let parse_err = |line: usize, why: String| AnalysisError::Parse {
        source_name: source_name.to_string(),
        line,
        why,
    };
    for (i, line) in BufReader::new(r).lines().enumerate() {
        let line = line.map_err(|e| parse_err(i + 1, e.to_string()))?;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(t).map_err(|e| parse_err(i + 1, e.to_string()))?;
        // Dispatch on a field only one shape has, so the error names what that shape lacked.
        let (shape, res) = if v.get("packets_fwd").is_some() {
            (
                LineShape::FlowRecord,
                serde_json::from_value::<FlowRecord>(v.clone())
                    .map(|r| vec![event_from_record(&r)]),
            )
        } else if v.get("from").is_some() {
            let res = match serde_json::from_value::<MailLine>(v.clone()) {
                Ok(m) => Ok(mail_events(m).map_err(|why| parse_err(i + 1, why))?),
                Err(e) => Err(e),
            };
            (LineShape::Mail, res)
        } else {
            (
                LineShape::Event,
                serde_json::from_value::<Event>(v.clone()).map(|e| vec![e]),
            )
        };
        let events = res.map_err(|e| parse_err(i + 1, e.to_string()))?;
        f(EventLine {
            line: i + 1,
            shape,
            value: v,
            events,
        });
    }
    Ok(())
}

fn mail_events(m: MailLine) -> Result<Vec<Event>, String> {
    let time = match m.time {
        TimeValue::Nanos(n) if n.unsigned_abs() > NANOS_THRESHOLD as u64 => Timestamp(n),
        TimeValue::Nanos(s) => Timestamp(s.saturating_mul(1_000_000_000)),
        TimeValue::Secs(s) if s.is_finite() => Timestamp::from_secs_f64(s),
        TimeValue::Secs(_) => return Err("time is not a finite number".into()),
        TimeValue::Text(s) => {
            parse_rfc3339(&s).ok_or_else(|| format!("time {s:?} is not RFC 3339"))?
        }
    };
    let mut rcpt = m.to.into_vec();
    rcpt.extend(m.cc.map(OneOrMany::into_vec).unwrap_or_default());
    Ok(rcpt
        .iter()
        .map(|to| {
            let mut e = Event::mail(time, &m.from, to, m.size);
            e.label = m.id.clone();
            e
        })
        .collect())
}

/// Flow events of a pcap or pcapng capture, built by [`tapir_netflow::capture_records`] with
/// the default [`FlowTableConfig`] and export ports: the same records `tapir flows` writes,
/// the NetFlow/IPFIX exports the capture carries included. Packets that are not IP are
/// skipped; a capture cut part-way keeps the events before the cut and reports the cut to
/// `on_skip`, as `tapir flows` does. Memory stays bounded by the table's cap.
pub fn read_capture(
    path: &Path,
    on_skip: &mut dyn FnMut(String),
) -> Result<Vec<Event>, AnalysisError> {
    let reader = CaptureReader::open(path).map_err(|source| AnalysisError::Capture {
        path: path.to_path_buf(),
        source,
    })?;
    capture_events(path, reader, on_skip)
}

fn capture_events<R: Read>(
    path: &Path,
    mut reader: CaptureReader<R>,
    on_skip: &mut dyn FnMut(String),
) -> Result<Vec<Event>, AnalysisError> {
    let table = FlowTable::new(FlowTableConfig::default())
        .map_err(|e| AnalysisError::invalid("flow table", e.to_string()))?;
    let mut out = Vec::new();
    let got = tapir_netflow::capture_records::<_, Infallible>(
        &mut reader,
        table,
        &mut tapir_netflow::CapturedExports::default(),
        &|| false,
        &mut |r| {
            out.push(event_from_record(&r));
            Ok(())
        },
    );
    let Ok(got) = got;
    if let Some(e) = got.cut {
        on_skip(format!(
            "{}: {e}; events cover the packets before it",
            path.display()
        ));
    }
    Ok(out)
}

/// The events of one copy of a parsed message, as [`read_mail`] makes them.
pub fn event_from_mail(m: &tapir_mail::MailEvent) -> Event {
    let mut e = Event::mail(m.time, &m.from, &m.to, m.size);
    e.label = m.message_id.clone();
    e
}

/// Mail events (one per recipient) of an mbox file, a Maildir, an `.eml` file or a folder of
/// them, read by `tapir-mail`. A broken message, or one with no time or sender (it cannot be
/// placed), is passed to `on_skip` with its place and skipped, never fatal.
pub fn read_mail(
    path: &Path,
    on_skip: &mut dyn FnMut(String),
) -> Result<Vec<Event>, AnalysisError> {
    let mut out = Vec::new();
    for item in tapir_mail::Messages::new(&[path], tapir_mail::ReadOptions::default()) {
        match item {
            Ok(tapir_mail::Item::Message(meta)) => {
                let ev = tapir_mail::events(&meta);
                if ev.is_empty() {
                    on_skip(format!(
                        "{}: message {} has no time or no sender, skipped",
                        path.display(),
                        meta.origin.index
                    ));
                }
                out.extend(ev.iter().map(event_from_mail));
            }
            Ok(tapir_mail::Item::Broken(b)) => on_skip(b.to_string()),
            Err(e) => {
                return Err(AnalysisError::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::other(e.to_string()),
                })
            }
        }
    }
    Ok(out)
}

/// Reads one input: a capture (by its magic number), JSON lines (a first character of `{` or
/// `#`), or else mail (mbox, `.eml`). Captures and JSON lines may be gzip or zstd compressed,
/// and come from standard input (`-`) or a pipe. A Maildir (a folder with `cur/` or `new/`) is
/// mail; any other folder is read file by file, each by its own kind (a folder of captures, of
/// JSON lines, of `.eml` files, or a mix), its subfolders too, in name order. What is skipped
/// inside an input (broken messages, unreadable files of a folder) goes to `on_skip`; a folder
/// with nothing readable in it is an error.
pub fn read_file(
    path: &Path,
    on_skip: &mut dyn FnMut(String),
) -> Result<Vec<Event>, AnalysisError> {
    let io = |source| AnalysisError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.is_dir() {
        return read_folder(path, on_skip);
    }
    let cerr = |source| AnalysisError::Capture {
        path: path.to_path_buf(),
        source,
    };
    // One open, then a peek: standard input and pipes are read once.
    let mut stream = Stream::open(path).map_err(|e| match e.kind {
        tapir_capture::CaptureErrorKind::Io(e) => io(e),
        _ => cerr(e),
    })?;
    if let Ok(FileKind::Pcap | FileKind::PcapNg) = stream.kind() {
        return capture_events(path, stream.into_capture().map_err(cerr)?, on_skip);
    }
    let first = stream
        .peek(512)
        .map_err(io)?
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    match first {
        Some(b'{' | b'#') | None => read_jsonl(stream, &path.display().to_string()),
        Some(_) if !path.is_file() || stream.compression() != Compression::None => {
            Err(AnalysisError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "neither a capture nor JSON lines (mail is read from a file or folder, \
                     uncompressed)",
                ),
            })
        }
        Some(_) => {
            drop(stream);
            read_mail(path, on_skip)
        }
    }
}

/// [`read_file`] on a folder.
fn read_folder(dir: &Path, on_skip: &mut dyn FnMut(String)) -> Result<Vec<Event>, AnalysisError> {
    let io = |source| AnalysisError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io)? {
        let p = e.map_err(io)?.path();
        // Hidden files (editor and tool leftovers) are not inputs.
        if !p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'))
        {
            entries.push(p);
        }
    }
    entries.sort();
    if entries.iter().any(|p| {
        p.is_dir() && matches!(p.file_name().and_then(|n| n.to_str()), Some("cur" | "new"))
    }) {
        return read_mail(dir, on_skip);
    }
    let (mut events, mut read) = (Vec::new(), 0usize);
    for p in &entries {
        match read_file(p, on_skip) {
            Ok(ev) => {
                events.extend(ev);
                read += 1;
            }
            Err(e) => on_skip(format!("{e}; file skipped")),
        }
    }
    if read == 0 {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            if entries.is_empty() {
                "an empty folder"
            } else {
                "a folder with no capture, flow records, mail events or mail that could be read"
            },
        )));
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;

    /// softflowd's NetFlow v9 capture with its export packets moved from port 20555 to 2055, a
    /// default export port (classic pcap: 24-byte file header, 16-byte record headers).
    fn exports_on_2055() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../netflow/tests/data/softflowd-v9-lo-http.pcap"
        );
        let mut b = std::fs::read(path).unwrap();
        let link =
            tapir_capture::LinkType(u32::from_le_bytes(b[20..24].try_into().unwrap()) as u16);
        let mut at = 24;
        while at + 16 <= b.len() {
            let cap = u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
            let orig = u32::from_le_bytes(b[at + 12..at + 16].try_into().unwrap());
            let data = at + 16;
            if let Ok(ip) = tapir_capture::decode(link, &b[data..data + cap], orig) {
                if ip.is_udp() && ip.dst_port == 20555 {
                    let port = data + ip.payload_offset as usize - 6;
                    b[port..port + 2].copy_from_slice(&2055u16.to_be_bytes());
                }
            }
            at = data + cap;
        }
        b
    }

    #[test]
    fn captures_give_their_flows_and_the_exports_they_carry() {
        let bytes = exports_on_2055();
        let reader = CaptureReader::new(&bytes[..]).unwrap();
        let mut skipped = Vec::new();
        let ev = capture_events(Path::new("v9.pcap"), reader, &mut |s| skipped.push(s)).unwrap();
        assert!(skipped.is_empty(), "{skipped:?}");
        // The capture's own flows (it holds only the export packets: one UDP flow) …
        let mut own = 0;
        let mut reader = CaptureReader::new(&bytes[..]).unwrap();
        let table = FlowTable::new(FlowTableConfig::default()).unwrap();
        let got = tapir_flow::capture_records::<_, Infallible>(
            &mut reader,
            table,
            &mut |_, _| Ok(()),
            &mut |_| {
                own += 1;
                Ok(())
            },
        );
        assert!(got.is_ok() && own > 0);
        // … and the six records softflowd exported (three HTTP connections, one record per
        // direction), as `tapir flows` gives them.
        assert_eq!(ev.len(), own + 6, "{ev:?}");
        let http = |e: &&Event| e.src_port == 18080 || e.dst_port == 18080;
        assert_eq!(ev.iter().filter(http).count(), 6, "{ev:#?}");
    }

    #[test]
    fn json_lines_of_every_shape() {
        let text = r#"
# a comment
{"time": "2026-11-22T02:00:00Z", "from": "Alice@X.org", "to": ["b@y.org"], "cc": "c@z.org", "size": 900, "id": "<1@x>"}
{"src":"10.0.0.1","dst":"10.0.0.2","src_port":40000,"dst_port":443,"proto":6,"start":5,"end":9,"packets_fwd":3,"bytes_fwd":300,"packets_rev":2,"bytes_rev":2000,"tos":0,"tcp_flags":27,"tunnel":"tls","end_reason":"fin","source":{"kind":"capture"}}
{"time": 1.5, "from": "a@x.org", "to": "d@y.org"}
{"time": 1790000000123456789, "from": "a@x.org", "to": "d@y.org", "size": 5, "message_id": "<m@x>"}
{"time": 1790000000, "from": "a@x.org", "to": "d@y.org"}
"#;
        let ev = read_jsonl(text.as_bytes(), "t.jsonl").unwrap();
        assert_eq!(ev.len(), 6);
        assert_eq!(
            ev[4].time,
            Timestamp(1_790_000_000_123_456_789),
            "nanoseconds"
        );
        assert_eq!(ev[4].label.as_deref(), Some("<m@x>"));
        assert_eq!(
            ev[5].time,
            Timestamp(1_790_000_000_000_000_000),
            "whole seconds"
        );
        assert_eq!(
            (ev[0].src.as_str(), ev[1].dst.as_str()),
            ("alice@x.org", "c@z.org")
        );
        assert_eq!(ev[0].label.as_deref(), Some("<1@x>"));
        assert_eq!(ev[2].kind, EventKind::Flow);
        assert_eq!((ev[2].size, ev[2].rev_size, ev[2].packets), (300, 2000, 5));
        assert_eq!(ev[2].label.as_deref(), Some("tls"));
        assert_eq!(ev[3].time, Timestamp(1_500_000_000));
        // An event written by this crate reads back as itself.
        let back = read_jsonl(serde_json::to_string(&ev[2]).unwrap().as_bytes(), "x").unwrap();
        assert_eq!(back[0], ev[2]);
    }

    #[test]
    fn lines_move_in_time_and_mail_lines_copy_in_their_own_shape() {
        let text = r#"{"time": 1.5, "from": "a@x.org", "to": ["b@y.org"], "cc": "c@y.org", "size": 9}
{"src":"10.0.0.1","dst":"10.0.0.2","src_port":4,"dst_port":443,"proto":6,"start":5,"end":9,"packets_fwd":3,"bytes_fwd":300,"packets_rev":2,"bytes_rev":2000,"tos":0,"tcp_flags":27,"tunnel":null,"end_reason":"fin","source":{"kind":"capture"}}
{"time": 1790000000000000000, "from": "a@x.org", "to": "d@y.org", "size": 5}"#;
        let lines = read_event_lines(text.as_bytes(), "t").unwrap();
        assert_eq!(lines.len(), 3);
        let back = |v: serde_json::Value| read_jsonl(v.to_string().as_bytes(), "b").unwrap();
        let mail = back(lines[0].retimed(Timestamp(2_500_000_000)));
        assert_eq!(mail.len(), 2);
        assert!(mail.iter().all(|e| e.time == Timestamp(2_500_000_000)));
        let flow = back(lines[1].retimed(Timestamp(15)));
        assert_eq!(
            (flow[0].time, flow[0].end, flow[0].size),
            (Timestamp(15), Timestamp(19), 300)
        );
        let late = Timestamp(1_790_000_000_123_456_789);
        assert_eq!(back(lines[2].retimed(late))[0].time, late);
        let copy = back(
            lines[0]
                .copy_to("e@y.org", Timestamp(3_000_000_000))
                .unwrap(),
        );
        assert_eq!(copy.len(), 1);
        assert_eq!((copy[0].dst.as_str(), copy[0].size), ("e@y.org", 9));
        assert!(lines[1].copy_to("e@y.org", Timestamp(0)).is_none());
    }

    #[test]
    fn bad_lines_name_their_place() {
        let e = read_jsonl("{}\n{\"from\": \"a@b\"}\n".as_bytes(), "m.jsonl").unwrap_err();
        assert!(e.to_string().starts_with("m.jsonl line 1"), "{e}");
        let e = read_jsonl(
            "\n{\"from\": \"a@b\", \"to\": \"c@d\", \"time\": \"soon\"}".as_bytes(),
            "m",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("RFC 3339"),
            "{e}"
        );
        assert!(read_jsonl("not json".as_bytes(), "m").is_err());
    }
}
