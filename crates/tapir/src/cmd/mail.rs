//! `tapir mail`: for each message, what an SMTP relay sees (the M3AAWG table: Return-Path,
//! Received chain, From, To, Cc, Date, Subject, Message-ID, other headers, size, time received,
//! apparent encryption), then what the relay learns from the whole mailbox, the correspondence
//! graph, and mail events for `tapir volume` and `tapir sequence`.

use crate::load::warn;
use crate::output::Output;
use crate::settings::usage;
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use tapir_mail::{
    anonymize_meta, events, format_utc, Anonymizer, Item, MailMeta, MailRecord, Messages,
    ReadOptions, Summary,
};

#[derive(Args, Debug)]
pub struct MailArgs {
    /// mbox files, Maildir folders, .eml files or folders of them.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output format: a table row per message and the summary, or one flat JSON record per
    /// message (lists joined with `;`, the Received chain counted, its first and last hop).
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: Format,
    /// Same as --format jsonl.
    #[arg(long)]
    pub json: bool,
    /// Write the table or records to this file instead of stdout; written whole or not at all.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only the summary, not one row per message (table format).
    #[arg(long)]
    pub summary_only: bool,
    /// Also write the summary as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// How many senders, recipients, pairs, MTAs and clients the summary lists.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub top: usize,
    /// Write the correspondence graph (sender → recipient, messages with a time and a sender)
    /// as dot, graphml or json: `--graph dot talk.dot`.
    #[arg(long, num_args = 2, value_names = ["FORMAT", "FILE"])]
    pub graph: Vec<String>,
    /// Write one JSON line per message and recipient (time, from, to, size, message_id): the
    /// input of `tapir volume` and `tapir sequence`.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Replace addresses and message ids by keyed hashes and relay IPs by Crypto-PAn
    /// pseudonyms under this key (64 hex digits, or a passphrase), in every output.
    #[arg(long, value_name = "KEY")]
    pub anonymize: Option<String>,
    /// Skip messages larger than this many bytes (they are reported).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_size: u64,
    /// Skip messages with more header fields than this (they are reported).
    #[arg(long, value_name = "N", default_value_t = tapir_mail::DEFAULT_MAX_HEADERS)]
    pub max_headers: u64,
    /// Stop at the first broken message or unreadable input instead of reporting it.
    #[arg(long)]
    pub strict: bool,
}

/// `mail --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    #[value(alias = "json")]
    Jsonl,
}

fn cell(s: &str, max: usize) -> String {
    // Header text may hold control characters (8-bit garbage decoded lossily); keep rows on
    // one line.
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= max {
        clean
    } else {
        let mut t: String = clean.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn row(m: &MailMeta) -> Vec<String> {
    let rcpt: Vec<&str> = m.recipients().map(|r| r.address.as_str()).collect();
    let to = match rcpt.len() {
        0 => String::new(),
        1 => rcpt[0].to_owned(),
        n => format!("{} +{}", rcpt[0], n - 1),
    };
    vec![
        format!("{}:{}", m.origin.file.display(), m.origin.index),
        m.time_received.map(format_utc).unwrap_or_default(),
        cell(m.from.first().map_or("", |f| f.address.as_str()), 32),
        cell(&to, 36),
        cell(m.subject.as_deref().unwrap_or_default(), 40),
        m.size.to_string(),
        format!("{}/{}", m.tls_hops(), m.received.len()),
        m.encryption.as_str().to_owned(),
    ]
}

/// One JSON line. Serialised first, then written, so that a closed pipe surfaces as the
/// `io::Error` that `main` recognises, not wrapped in a serde error.
fn write_line(w: &mut impl Write, v: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut line = serde_json::to_vec(v)?;
    line.push(b'\n');
    w.write_all(&line)?;
    Ok(())
}

pub fn run(a: MailArgs) -> anyhow::Result<()> {
    let format = if a.json { Format::Jsonl } else { a.format };
    let graph_to = crate::settings::graph_flag(&a.graph)?;
    // Built from the messages' events, as `tapir watch` builds it from mail events: one graph
    // type and one drawing for both.
    let mut graph = tapir_analysis::Graph::new();
    if a.max_size == 0 {
        return Err(usage("--max-size must be at least 1 byte"));
    }
    let anon = match &a.anonymize {
        Some(k) => {
            Some(Anonymizer::from_passphrase(k).map_err(|e| usage(format!("--anonymize: {e}")))?)
        }
        None => None,
    };

    // Ctrl-C ends reading; the outputs are still written with the messages read so far.
    let _coop = crate::interrupt::cooperate();
    let (mut read, mut broken) = (0u64, 0u64);
    let mut out = Output::create(a.output.as_deref())?;
    let mut ev_out = match &a.events {
        Some(p) => Some(Output::create(Some(p))?),
        None => None,
    };
    let mut summary = Summary::new();
    let mut rows = Vec::new();
    let opts = ReadOptions {
        max_message: a.max_size,
        max_headers: a.max_headers,
    };
    for item in Messages::new(&a.inputs, opts) {
        if crate::interrupt::requested().is_some() {
            break;
        }
        let mut m = match item {
            Ok(Item::Message(m)) => m,
            Ok(Item::Broken(b)) => {
                if a.strict {
                    return Err(anyhow::Error::new(b).context("broken message (--strict)"));
                }
                warn(format!("skipped {b}"));
                summary.add_broken();
                broken += 1;
                continue;
            }
            Err(e) => {
                if a.strict {
                    return Err(e.into());
                }
                crate::load::skipped(e);
                continue;
            }
        };
        if let Some(an) = &anon {
            anonymize_meta(an, &mut m);
        }
        summary.add(&m);
        read += 1;
        if ev_out.is_some() || graph_to.is_some() {
            for e in events(&m) {
                if let Some(w) = &mut ev_out {
                    write_line(w, &e)?;
                }
                if graph_to.is_some() {
                    graph.add(&tapir_analysis::event_from_mail(&e));
                }
            }
        }
        match format {
            Format::Jsonl => {
                write_line(&mut out, &MailRecord::from(&*m))?;
            }
            Format::Table if !a.summary_only => rows.push(row(&m)),
            Format::Table => {}
        }
    }
    if read == 0
        && broken == 0
        && crate::load::skipped_inputs() > 0
        && crate::interrupt::requested().is_none()
    {
        // Nothing was read at all: an error, not an empty table.
        anyhow::bail!("no input could be read");
    }
    let report = summary.report(a.top);
    if format == Format::Table {
        if !a.summary_only {
            let t = tapir_report::text_table(
                &[
                    "message",
                    "received",
                    "from",
                    "to",
                    "subject",
                    "size",
                    "tls hops",
                    "encryption",
                ],
                &rows,
            );
            out.write_all(t.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.write_all(report.to_text().as_bytes())?;
    }
    if let Some(p) = &a.summary {
        let mut w = Output::create(Some(p))?;
        serde_json::to_writer_pretty(&mut w, &report)?;
        w.write_all(b"\n")?;
        w.finish()?;
    }
    if let Some((format, p)) = graph_to {
        let mut w = Output::create(Some(&p))?;
        w.write_all(graph.render(format).as_bytes())
            .with_context(|| format!("cannot write {}", p.display()))?;
        w.finish()?;
    }
    if let Some(w) = ev_out {
        w.finish()?;
    }
    out.finish()?;
    if let Some(signal) = crate::interrupt::requested() {
        let to = match &a.output {
            Some(p) => format!(" to {}", p.display()),
            None => String::new(),
        };
        return Err(crate::interrupt::Interrupted {
            signal,
            summary: format!("{read} messages read; their metadata written{to}"),
        }
        .into());
    }
    Ok(())
}
