//! `tapir timeline ENTITY`: inferential analysis — the entity's flows and mail, watchlist hits,
//! new peers, surges and silences, and fan-out groups, merged in time order.

use super::sequence::SequenceFlags;
use super::volume::VolumeFlags;
use super::watch::{anon_pattern, anon_set, read_patterns, write_rows, EventArgs};
use crate::output::Output;
use crate::settings::{analysis_usage, usage};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use tapir_analysis::{
    format_utc, parse_duration, parse_sensitive, Pattern, PatternSet, Timeline, WatchConfig,
    Watcher,
};

#[derive(Args, Debug, Clone)]
pub struct TimelineArgs {
    /// An address, prefix, mail address or @domain.
    #[arg(value_name = "ENTITY")]
    pub entity: String,
    #[command(flatten)]
    pub input: EventArgs,
    /// Watchlists whose hits join the timeline (see `tapir watch`). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub watchlist: Vec<PathBuf>,
    /// Hosts whose new peers after the baseline join the timeline. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub sensitive: Vec<String>,
    /// Learning period for --sensitive.
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub baseline: String,
    /// Leave out the entity's own flows and messages (keep only the findings).
    #[arg(long)]
    pub findings_only: bool,
    #[command(flatten)]
    pub volume: VolumeFlags,
    #[command(flatten)]
    pub sequence: SequenceFlags,
}

pub fn run(a: TimelineArgs) -> anyhow::Result<()> {
    let format = a.input.format();
    let an = a.input.anonymizer()?;
    let entity = match (&an, Pattern::parse(&a.entity)) {
        (Some(_), Ok(p)) => anon_pattern(an.as_ref(), p).to_string(),
        _ => a.entity.clone(),
    };
    let mut timeline =
        Timeline::new(&entity).map_err(|e| analysis_usage(e, &[("entity", "ENTITY")]))?;
    let baseline_ns = parse_duration(&a.baseline).map_err(|e| usage(format!("--baseline: {e}")))?;
    let sensitive = parse_sensitive(&a.sensitive)
        .map_err(|e| analysis_usage(e, &[("sensitive", "--sensitive")]))?
        .into_iter()
        .map(|p| anon_pattern(an.as_ref(), p))
        .collect();
    let mut entries = Vec::new();
    for w in &a.watchlist {
        entries.extend(read_patterns(w)?.entries().iter().cloned());
    }
    a.volume.config(&[], an.as_ref())?;
    a.sequence.config()?;
    let events = a.input.load()?;

    let mut watcher = Watcher::new(WatchConfig {
        watchlist: anon_set(an.as_ref(), PatternSet::new(entries)),
        sensitive,
        baseline_ns,
    });
    for e in &events {
        watcher.push(e);
        if !a.findings_only {
            timeline.add_event(e);
        }
    }
    let (hits, new_peers) = watcher.finish();
    hits.iter().for_each(|h| timeline.add_hit(h));
    new_peers.iter().for_each(|p| timeline.add_new_peer(p));
    let vol = a.volume.run(&events, an.as_ref())?;
    for v in &vol.events {
        timeline.add_volume(v, vol.metric.name());
    }
    for g in &a.sequence.run(&events)?.groups {
        timeline.add_group(g);
    }
    let lines = timeline.finish();

    let mut out = Output::create(a.input.output.as_deref())?;
    if format == super::watch::Format::Table {
        for l in &lines {
            writeln!(out, "{}", l.line())?;
        }
        if lines.is_empty() {
            writeln!(out, "nothing about {entity} in {} events", events.len())?;
        }
        return out.finish();
    }
    write_rows(
        &mut out,
        format,
        &["time", "end", "kind", "summary"],
        &lines,
        |l| {
            vec![
                format_utc(l.time),
                format_utc(l.end),
                l.kind.name().to_string(),
                l.summary.clone(),
            ]
        },
    )?;
    out.finish()
}
