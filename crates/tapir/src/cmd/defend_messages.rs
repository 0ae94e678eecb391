//! `tapir defend` over messages: an mbox (or Maildir, `.eml` files) written back as an mbox
//! with each message's new delivery time, and flow-event files written back line by line in
//! their own shape.

use crate::cli::DefendArgs;
use crate::output::Output;
use crate::settings::usage;
use anyhow::Context;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use tapir_capture::{Compression, FileKind, Stream, Timestamp};
use tapir_defense::{parse_message_chain, Costs, Delivery, Message, MessageChain};
use tapir_mail::{redeliver, Item, MboxWriter, Messages, ReadOptions};

/// The host name of the relay that a defended message's new `Received:` names.
const RELAY: &str = "tapir-defend.invalid";

/// What `tapir defend` was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A capture or a trace.
    Packets,
    /// An mbox, a Maildir, `.eml` files or a folder of them.
    Mail,
    /// JSON lines of flow records, mail events or events.
    Events,
}

impl InputKind {
    fn name(self) -> &'static str {
        match self {
            InputKind::Packets => "packets",
            InputKind::Mail => "mail",
            InputKind::Events => "flow events",
        }
    }
}

/// Tells the input's kind from its first bytes: a folder or a `.eml` file is mail, as is a
/// plain file starting with `From `; a file whose first line that is neither blank nor a
/// `#` comment starts with `{` holds events; anything else is a capture or a trace.
pub fn input_kind(path: &Path) -> anyhow::Result<InputKind> {
    if path.as_os_str() == "-" {
        return Ok(InputKind::Packets);
    }
    if path.is_dir() || path.extension().is_some_and(|e| e == "eml") {
        return Ok(InputKind::Mail);
    }
    let mut s = Stream::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    if let Ok(FileKind::Pcap | FileKind::PcapNg) = s.kind() {
        return Ok(InputKind::Packets);
    }
    let plain = s.compression() == Compression::None;
    let head = s
        .peek(1 << 16)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if plain && head.starts_with(b"From ") {
        return Ok(InputKind::Mail);
    }
    let first = head
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .find(|l| !l.is_empty() && !l.starts_with(b"#"));
    Ok(match first {
        Some(l) if l.starts_with(b"{") => InputKind::Events,
        _ => InputKind::Packets,
    })
}

#[derive(Serialize)]
struct Report<'a> {
    inputs: Vec<String>,
    kind: &'static str,
    defence: String,
    seed: u64,
    #[serde(flatten)]
    costs: &'a Costs,
    overhead: f64,
    extra_deliveries: f64,
}

fn chain(a: &DefendArgs, kind: InputKind) -> anyhow::Result<MessageChain> {
    if a.inputs.len() != 1 {
        return Err(usage(format!(
            "-d over {}: one input at a time (several inputs are merged only as packet traces)",
            kind.name()
        )));
    }
    let specs: Vec<&str> = a.defences.iter().map(String::as_str).collect();
    parse_message_chain(&specs, a.seed, kind.name()).map_err(|e| usage(format!("-d: {e}")))
}

fn report(
    a: &DefendArgs,
    kind: InputKind,
    chain: &MessageChain,
    costs: &Costs,
) -> anyhow::Result<()> {
    let extra = if costs.real_packets == 0 {
        0.0
    } else {
        costs.dummy_packets as f64 / costs.real_packets as f64
    };
    let r = Report {
        inputs: a.inputs.iter().map(|p| p.display().to_string()).collect(),
        kind: kind.name(),
        defence: chain.spec(),
        seed: a.seed,
        costs,
        overhead: costs.overhead(),
        extra_deliveries: extra,
    };
    if a.json {
        eprintln!("{}", serde_json::to_string(&r)?);
    } else {
        let s = |ns: i64| ns as f64 / 1e9;
        let unit = if kind == InputKind::Mail {
            "messages"
        } else {
            "events"
        };
        eprintln!(
            "{}: {} {unit} ({} bytes) -> {} deliveries ({} bytes, {} added copies); {:.1}% more deliveries, overhead {:.1}%; added delay median {:.3} s, p99 {:.3} s, max {:.3} s",
            r.defence,
            costs.real_packets,
            costs.real_bytes,
            costs.out_packets,
            costs.out_bytes,
            costs.dummy_packets,
            100.0 * extra,
            100.0 * costs.overhead(),
            s(costs.latency_median_ns),
            s(costs.latency_p99_ns),
            s(costs.latency_max_ns),
        );
    }
    Ok(())
}

/// Per message: its new delivery time and the copies added to it.
fn by_message(
    n: usize,
    deliveries: Vec<Delivery>,
) -> (Vec<Timestamp>, Vec<Vec<(String, Timestamp)>>) {
    let mut time = vec![Timestamp::ZERO; n];
    let mut copies = vec![Vec::new(); n];
    for d in deliveries {
        match d.to {
            None => time[d.message] = d.time,
            Some(to) => copies[d.message].push((to, d.time)),
        }
    }
    (time, copies)
}

/// An mbox, Maildir or `.eml` files through message defences, written as one mbox in the
/// input's order: each message with a new top `Received:` at its delivery time, then its
/// broadcast copies, each addressed to its one recipient. Two passes over the input: the
/// first reads each message's time, sender, recipients and size, the second writes.
pub fn run_mail(a: &DefendArgs) -> anyhow::Result<()> {
    let mut chain = chain(a, InputKind::Mail)?;
    let path = &a.inputs[0];
    let opts = ReadOptions::default();
    // Pass 1: message k of the input is `placed[k]` (an index into `msgs`), if it can be placed.
    let mut msgs = Vec::new();
    let mut placed = Vec::new();
    for item in Messages::new(&[path], opts.clone()) {
        match item? {
            Item::Message(m) => match (m.time(), m.sender()) {
                (Some(time), Some(from)) => {
                    placed.push(Some(msgs.len()));
                    msgs.push(Message {
                        time,
                        from: from.to_string(),
                        to: m.recipients().map(|r| r.address.clone()).collect(),
                        size: m.size,
                    });
                }
                _ => {
                    eprintln!(
                        "{}: message {} has no time or no sender: written unchanged",
                        path.display(),
                        m.origin.index
                    );
                    placed.push(None);
                }
            },
            Item::Broken(b) => {
                eprintln!("{b}: written unchanged");
                placed.push(None);
            }
        }
    }
    if msgs.is_empty() {
        anyhow::bail!("{}: no message with a time and a sender", path.display());
    }
    let (deliveries, costs) = chain.run(&msgs);
    let (time, copies) = by_message(msgs.len(), deliveries);
    // Pass 2: the same messages in the same order.
    let mut w = MboxWriter::new(Output::create(a.output.as_deref())?);
    let mut all = Messages::new(&[path], opts);
    let mut k = 0usize;
    while let Some(raw) = all.next_raw() {
        let raw = match raw? {
            Ok(raw) => raw,
            Err(b) => {
                eprintln!("{b}: too large to copy, left out");
                k += 1;
                continue;
            }
        };
        let slot = placed.get(k).copied().flatten();
        k += 1;
        let Some(j) = slot else {
            let when = raw.envelope.time.unwrap_or(Timestamp::ZERO);
            w.write(raw.envelope.sender.as_deref(), when, &raw.data)?;
            continue;
        };
        let sender = msgs[j].from.as_str();
        let body = redeliver(&raw.data, time[j], RELAY, None).map_err(|why| {
            anyhow::anyhow!(
                "{}: message {}: {why}",
                path.display(),
                raw.envelope.origin.index
            )
        })?;
        w.write(Some(sender), time[j], &body)?;
        for (to, t) in &copies[j] {
            let copy = redeliver(&raw.data, *t, RELAY, Some(to)).map_err(|why| {
                anyhow::anyhow!(
                    "{}: message {}: {why}",
                    path.display(),
                    raw.envelope.origin.index
                )
            })?;
            w.write(Some(sender), *t, &copy)?;
        }
    }
    w.into_inner().finish()?;
    report(a, InputKind::Mail, &chain, &costs)
}

/// A JSON-lines event file through message defences, one line a message, written back in
/// delivery order in the shape of each line (flow records stay flow records, mail lines mail
/// lines), readable by `tapir volume`, `sequence` and `watch`.
pub fn run_events(a: &DefendArgs) -> anyhow::Result<()> {
    let mut chain = chain(a, InputKind::Events)?;
    let path = &a.inputs[0];
    let name = path.display().to_string();
    let stream = Stream::open(path).with_context(|| format!("cannot read {name}"))?;
    let lines = tapir_analysis::read_event_lines(stream, &name)?;
    let mut msgs = Vec::new();
    let mut index = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(first) = l.events.first() else {
            eprintln!("{name} line {}: no recipient, left out", l.line);
            continue;
        };
        let mail = first.kind == tapir_analysis::EventKind::Mail;
        if chain.broadcasts() && !mail {
            return Err(usage(format!(
                "-d broadcast: {name} line {} is a flow; broadcast applies to mail only \
                 (an mbox, .eml files, or mail event lines)",
                l.line
            )));
        }
        index.push(i);
        msgs.push(Message {
            time: first.time,
            from: first.src.clone(),
            to: l.events.iter().map(|e| e.dst.clone()).collect(),
            size: if mail { first.size } else { first.bytes() },
        });
    }
    if msgs.is_empty() {
        anyhow::bail!("no events in {name}");
    }
    let (deliveries, costs) = chain.run(&msgs);
    let mut out = Output::create(a.output.as_deref())?;
    writeln!(out, "# tapir defend {}", chain.spec())?;
    for d in &deliveries {
        let line = &lines[index[d.message]];
        let v = match &d.to {
            None => line.retimed(d.time),
            // Every line given to broadcast is mail (checked above), so it has a copy.
            Some(to) => line
                .copy_to(to, d.time)
                .with_context(|| format!("{name} line {}: no copy of a flow", line.line))?,
        };
        serde_json::to_writer(&mut out, &v)?;
        out.write_all(b"\n")?;
    }
    out.finish()?;
    report(a, InputKind::Events, &chain, &costs)
}
