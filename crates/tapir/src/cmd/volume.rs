//! `tapir volume`: counts per entity per interval, a robust baseline, surge ("increased
//! chatter") and silence ("radio silence") events with scores, and a plot.

use super::watch::{anon_set, read_patterns, write_rows, EventArgs, Format};
use crate::cli::Named;
use crate::output::{write_atomic, Output};
use crate::settings::{analysis_usage, usage};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use tapir_analysis::{
    format_duration, format_utc, parse_duration, Event, EventKind, Grouping, Metric, Season,
    VolumeConfig, VolumeCounter, VolumeEventKind, VolumeReport,
};
use tapir_anon::Anonymizer;
use tapir_report::chart::{LineChart, Mark, Series};

#[derive(Args, Debug, Clone)]
pub struct VolumeArgs {
    #[command(flatten)]
    pub input: EventArgs,
    #[command(flatten)]
    pub volume: VolumeFlags,
    /// Also write every entity's count and baseline per interval as CSV.
    #[arg(long, value_name = "FILE")]
    pub counts: Option<PathBuf>,
    /// Draw one entity's counts, baseline and events (.svg or .png).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// The entity to plot (default: the one with the highest-scoring event, else the busiest).
    #[arg(long, value_name = "ENTITY")]
    pub plot_entity: Option<String>,
}

/// The settings of the volume analysis (shared with `tapir timeline`).
#[derive(Args, Debug, Clone)]
pub struct VolumeFlags {
    /// What an entity is: host, prefix/NN (IPv6 /64), prefix/NN/MM (IPv6 /MM), domain (mail)
    /// or site (needs --sites). (`--by` is the machine-learning unit of classify and extract.)
    #[arg(long = "group", value_name = "ENTITY", default_value = "host")]
    pub group: String,
    /// Site map for --group site: prefix, address or @domain and a site name per line.
    #[arg(long, value_name = "FILE")]
    pub sites: Option<PathBuf>,
    /// What is counted (default: messages for mail-only input, else flows).
    #[arg(long, value_name = "METRIC")]
    pub metric: Option<Named<Metric>>,
    /// Length of one interval.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub interval: String,
    /// Earlier intervals in the rolling baseline.
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub window: usize,
    /// Intervals an entity must have been seen for before it has a baseline.
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub min_history: usize,
    /// Surge when count > median + K × robust spread …
    #[arg(long, value_name = "K", default_value_t = 4.0)]
    pub k: f64,
    /// … and count ≥ RATIO × median.
    #[arg(long, value_name = "RATIO", default_value_t = 3.0)]
    pub ratio: f64,
    /// Silence when an active entity has N empty intervals in a row.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub silence: usize,
    /// Seasonal baseline: auto, none, day, week or a duration.
    #[arg(long, default_value = "auto")]
    pub season: String,
}

/// The volume settings' names in tapir-analysis → this command's flags.
const FLAGS: &[(&str, &str)] = &[
    ("grouping", "--group"),
    ("metric", "--metric"),
    ("interval_ns", "--interval"),
    ("window, min_history", "--window/--min-history"),
    ("k, ratio", "--k/--ratio"),
    ("silence, season_depth", "--silence"),
    ("season", "--season"),
];

impl VolumeFlags {
    pub fn config(
        &self,
        events: &[Event],
        an: Option<&Anonymizer>,
    ) -> anyhow::Result<VolumeConfig> {
        let sites = match &self.sites {
            Some(p) => Some(anon_set(an, read_patterns(p)?)),
            None => None,
        };
        let grouping = Grouping::parse(&self.group, sites).map_err(|e| analysis_usage(e, FLAGS))?;
        let metric = match &self.metric {
            Some(m) => m.0,
            None if !events.is_empty() && events.iter().all(|e| e.kind == EventKind::Mail) => {
                Metric::Messages
            }
            None => Metric::Flows,
        };
        let interval =
            parse_duration(&self.interval).map_err(|e| usage(format!("--interval: {e}")))?;
        let season: Season = self
            .season
            .parse()
            .map_err(|e| usage(format!("--season: {e}")))?;
        let mut cfg = VolumeConfig::new(grouping, metric, interval);
        cfg.window = self.window;
        cfg.min_history = self.min_history;
        cfg.k = self.k;
        cfg.ratio = self.ratio;
        cfg.silence = self.silence;
        cfg.season = season;
        cfg.validate().map_err(|e| analysis_usage(e, FLAGS))?;
        Ok(cfg)
    }

    pub fn run(&self, events: &[Event], an: Option<&Anonymizer>) -> anyhow::Result<VolumeReport> {
        let mut v =
            VolumeCounter::new(self.config(events, an)?).map_err(|e| usage(e.to_string()))?;
        for e in events {
            v.add(e);
        }
        Ok(v.finish())
    }
}

pub fn run(a: VolumeArgs) -> anyhow::Result<()> {
    let format = a.input.format();
    // Flag mistakes are reported before any file is read.
    let an = a.input.anonymizer()?;
    a.volume.config(&[], an.as_ref())?;
    let events = a.input.load()?;
    let r = a.volume.run(&events, an.as_ref())?;
    let metric = r.metric.name();

    if let Some(path) = &a.counts {
        let mut csv = String::from("entity,interval_start,count,median,mad,seasonal\n");
        for s in &r.series {
            let counts = s.counts(r.intervals);
            let baselines = r.baselines(s);
            for (i, (c, b)) in counts.iter().zip(&baselines).enumerate().skip(s.first) {
                let (m, d, seas) = match b {
                    Some(b) => (
                        b.median.to_string(),
                        b.mad.to_string(),
                        b.seasonal.to_string(),
                    ),
                    None => (String::new(), String::new(), String::new()),
                };
                csv.push_str(&format!(
                    "{},{},{c},{m},{d},{seas}\n",
                    s.entity,
                    format_utc(r.interval_start(i))
                ));
            }
        }
        write_atomic(path, csv.as_bytes())?;
    }
    if let Some(path) = &a.plot {
        plot(&r, a.plot_entity.as_deref(), path)?;
    }

    let mut out = Output::create(a.input.output.as_deref())?;
    if format == Format::Table {
        writeln!(
            out,
            "{} entities, {} intervals of {} from {}, {} {}; baseline: {}",
            r.series.len(),
            r.intervals,
            format_duration(r.interval_ns),
            format_utc(r.origin),
            events.len(),
            if events.iter().all(|e| e.kind == EventKind::Mail) {
                "mail events"
            } else {
                "events"
            },
            match r.season_intervals {
                Some(p) => format!(
                    "seasonal ({}) after two seasons, rolling median/MAD before",
                    format_duration(p as i64 * r.interval_ns)
                ),
                None => format!("rolling median/MAD of {} intervals", a.volume.window),
            }
        )?;
        writeln!(out, "events: {}", r.events.len())?;
    }
    write_rows(
        &mut out,
        format,
        &[
            "start",
            "entity",
            "event",
            "intervals",
            metric,
            "usual",
            "ratio",
            "score",
        ],
        &r.events,
        |e| {
            vec![
                format_utc(e.start),
                e.entity.clone(),
                match e.kind {
                    VolumeEventKind::Surge => "surge".into(),
                    _ => "silence".into(),
                },
                e.intervals.to_string(),
                e.value.to_string(),
                format!("{:.1}", e.expected),
                e.ratio
                    .map(|r| format!("×{r:.1}"))
                    .unwrap_or_else(|| "-".into()),
                format!("{:.1}", e.score),
            ]
        },
    )?;
    out.finish()
}

fn plot(r: &VolumeReport, entity: Option<&str>, path: &std::path::Path) -> anyhow::Result<()> {
    let s = match entity {
        Some(name) => r.series.iter().find(|s| s.entity == name).ok_or_else(|| {
            usage(format!(
                "--plot-entity {name:?}: no such entity in the data"
            ))
        })?,
        None => {
            let top_event = r
                .events
                .iter()
                .max_by(|a, b| a.score.total_cmp(&b.score))
                .map(|e| e.entity.as_str());
            match top_event {
                Some(name) => r.series.iter().find(|s| s.entity == name),
                None => r.series.iter().max_by_key(|s| s.total()),
            }
            .ok_or_else(|| anyhow::anyhow!("--plot: nothing to plot, no entity has any count"))?
        }
    };
    // x in hours or minutes from the first interval, whichever keeps the numbers readable.
    let (unit, unit_name) = if r.interval_ns * r.intervals as i64 >= 2 * 3_600_000_000_000 {
        (3_600e9, "hours")
    } else {
        (60e9, "minutes")
    };
    let x = |i: usize| (i as i64 * r.interval_ns) as f64 / unit;
    let dense = s.counts(r.intervals);
    let baselines = r.baselines(s);
    let counts = Series {
        name: r.metric.name().to_string(),
        points: dense
            .iter()
            .enumerate()
            .skip(s.first)
            .map(|(i, &c)| (x(i), c as f64))
            .collect(),
        dashed: false,
        colour: 0,
    };
    let baseline = Series {
        name: "baseline median".into(),
        points: baselines
            .iter()
            .enumerate()
            .skip(s.first)
            .map(|(i, b)| (x(i), b.map_or(f64::NAN, |b| b.median)))
            .collect(),
        dashed: true,
        colour: 1,
    };
    let marks = r
        .events
        .iter()
        .filter(|e| e.entity == s.entity)
        .map(|e| {
            let i = ((e.start.0 - r.origin.0) / r.interval_ns) as usize;
            match e.kind {
                VolumeEventKind::Surge => Mark {
                    label: format!("surge {:.0}", e.score),
                    x: x(i),
                    y: e.value as f64,
                },
                _ => Mark {
                    label: format!("silence {}", format_duration(e.end.0 - e.start.0)),
                    x: x(i),
                    y: 0.0,
                },
            }
        })
        .collect();
    let chart = LineChart {
        title: format!(
            "{}: {} per {}",
            s.entity,
            r.metric.name(),
            format_duration(r.interval_ns)
        ),
        x_label: format!("{unit_name} from {}", format_utc(r.origin)),
        y_label: r.metric.name().to_string(),
        series: vec![counts, baseline],
        marks,
        ..Default::default()
    };
    let bytes = match path.extension().and_then(|e| e.to_str()) {
        Some("png") => chart.png()?,
        Some("svg") => chart.svg().into_bytes(),
        _ => {
            return Err(usage(format!(
                "--plot {}: use a .svg or .png file",
                path.display()
            )))
        }
    };
    write_atomic(path, &bytes)
}
