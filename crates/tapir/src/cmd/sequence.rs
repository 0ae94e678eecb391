//! `tapir sequence`: the encrypted mailing list — one message or flow in, at least k copies of
//! similar size out within Δt — and the groups (memberships) this reveals.

use super::watch::{write_rows, EventArgs, Format};
use crate::output::Output;
use crate::settings::{analysis_usage, usage};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use tapir_analysis::{format_utc, infer_groups, parse_duration, SequenceConfig, SequenceReport};

#[derive(Args, Debug, Clone)]
pub struct SequenceArgs {
    #[command(flatten)]
    pub input: EventArgs,
    #[command(flatten)]
    pub sequence: SequenceFlags,
    /// List every fan-out occurrence instead of the merged memberships.
    #[arg(long)]
    pub occurrences: bool,
}

/// Settings of the fan-out search (shared with `tapir timeline`).
#[derive(Args, Debug, Clone)]
pub struct SequenceFlags {
    /// Δt: how long after the inbound event the copies may leave.
    #[arg(long = "within", value_name = "DURATION", default_value = "60s")]
    pub within: String,
    /// Fewest distinct recipients of a fan-out.
    #[arg(long = "fanout", value_name = "K", default_value_t = 3)]
    pub fanout: usize,
    /// Relative size tolerance ε of a copy.
    #[arg(long, value_name = "EPS", default_value_t = 0.1)]
    pub epsilon: f64,
    /// Absolute size tolerance in bytes, added to ε × size.
    #[arg(long, value_name = "BYTES", default_value_t = 64)]
    pub slack: u64,
    /// Jaccard similarity of member sets at which occurrences merge into one group.
    #[arg(long, value_name = "J", default_value_t = 0.5)]
    pub similarity: f64,
    /// Fewest occurrences for a group to be reported.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub min_support: usize,
}

impl SequenceFlags {
    pub fn config(&self) -> anyhow::Result<SequenceConfig> {
        let cfg = SequenceConfig {
            window_ns: parse_duration(&self.within).map_err(|e| usage(format!("--within: {e}")))?,
            min_fanout: self.fanout,
            epsilon: self.epsilon,
            slack_bytes: self.slack,
            merge_similarity: self.similarity,
            min_support: self.min_support,
        };
        cfg.validate().map_err(|e| {
            analysis_usage(
                e,
                &[
                    ("window_ns", "--within"),
                    ("min_fanout", "--fanout"),
                    ("epsilon", "--epsilon"),
                    ("merge_similarity", "--similarity"),
                ],
            )
        })?;
        Ok(cfg)
    }

    pub fn run(&self, events: &[tapir_analysis::Event]) -> anyhow::Result<SequenceReport> {
        Ok(infer_groups(events, &self.config()?)?)
    }
}

/// One membership: a member of an inferred group.
#[derive(Serialize)]
struct Membership<'a> {
    group: usize,
    hub: &'a str,
    group_support: usize,
    member: &'a str,
    support: usize,
    sent: usize,
    first: tapir_capture::Timestamp,
    last: tapir_capture::Timestamp,
}

pub fn run(a: SequenceArgs) -> anyhow::Result<()> {
    let format = a.input.format();
    a.sequence.config()?;
    let events = a.input.load()?;
    let r = a.sequence.run(&events)?;
    let mut out = Output::create(a.input.output.as_deref())?;
    if format == Format::Table {
        writeln!(
            out,
            "{} events, {} fan-outs, {} recurring groups",
            events.len(),
            r.occurrences.len(),
            r.groups.len()
        )?;
    }
    if a.occurrences {
        write_rows(
            &mut out,
            format,
            &["time", "hub", "sender", "size", "recipients", "spread_s"],
            &r.occurrences,
            |o| {
                vec![
                    format_utc(o.time),
                    o.hub.clone(),
                    o.sender.clone(),
                    o.size.to_string(),
                    o.recipients.join(" "),
                    format!("{:.3}", o.spread_ns as f64 / 1e9),
                ]
            },
        )?;
        return out.finish();
    }
    let rows: Vec<Membership> = r
        .groups
        .iter()
        .flat_map(|g| {
            g.members.iter().map(move |m| Membership {
                group: g.id,
                hub: &g.hub,
                group_support: g.support,
                member: &m.name,
                support: m.support,
                sent: m.sent,
                first: g.first,
                last: g.last,
            })
        })
        .collect();
    write_rows(
        &mut out,
        format,
        &[
            "group", "hub", "seen", "member", "support", "sent", "first", "last",
        ],
        &rows,
        |m| {
            vec![
                m.group.to_string(),
                m.hub.to_string(),
                m.group_support.to_string(),
                m.member.to_string(),
                m.support.to_string(),
                m.sent.to_string(),
                format_utc(m.first),
                format_utc(m.last),
            ]
        },
    )?;
    out.finish()
}
