//! `tapir experiment`: accuracy with each network profile or program held out first, then every
//! table and figure of the paper on a dataset, ours beside the paper's, plus background, multi-label, window-size, split and transfer studies; a report
//! folder with `index.html`, `results.json` and PNG figures.

use crate::progress;
use crate::settings::usage;
use anyhow::Context;
use clap::Args;
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};
use tapir_experiment::{load_corpus, summary, write_report, ExperimentError, Progress, Settings};

#[derive(Args, Debug)]
pub struct ExperimentArgs {
    /// Dataset root: condition folders (plain/, ipsec/, wireguard/, tor/) of label folders, or a
    /// folder with the lab's manifest.csv.
    #[arg(value_name = "ROOT", default_value = "data/sample")]
    pub root: PathBuf,
    /// Report folder (created): index.html, results.json, figures/.
    #[arg(long, value_name = "DIR", default_value = "experiment-report")]
    pub out: PathBuf,
    /// Seeds: one run per seed; tables show mean ±95% CI (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5")]
    pub seeds: Vec<u64>,
    /// Trees per random forest.
    #[arg(long, default_value_t = 100)]
    pub trees: usize,
    /// Packets per window (the paper: 1024).
    #[arg(long, value_name = "N", default_value_t = tapir_features::DEFAULT_WINDOW)]
    pub window: usize,
    /// Fraction of traces (or windows) held out for testing.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Background rates to sweep, packets/s (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0,50,100,150,200,250,300,400,600"
    )]
    pub rates: Vec<f64>,
    /// Window sizes to sweep, packets (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "64,128,256,512,1024,2048"
    )]
    pub window_sizes: Vec<usize>,
    /// Interleaved multi-application mixes per number of applications and split side.
    #[arg(long, default_value_t = 8)]
    pub mixes: usize,
    /// Manifest columns to hold out, one value per fold (comma-separated; profile = wan_profile;
    /// `none` for none). Default: program and wan_profile, those the manifest has.
    #[arg(long, value_name = "COLUMN[,COLUMN]", value_delimiter = ',')]
    pub hold_out: Option<Vec<String>>,
    /// Also run the defence matrix (every defence setting against the classifier, with its
    /// costs and stand-out) on these conditions (`--defenses=plain,tor`); `--defenses` alone:
    /// plain and ipsec.
    #[arg(
        long = "defenses",
        value_name = "CONDITION[,CONDITION]",
        value_delimiter = ',',
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "plain,ipsec"
    )]
    pub defenses: Option<Vec<String>>,
    /// Trees per random forest in the defence matrix.
    #[arg(long, default_value_t = 30)]
    pub defense_trees: usize,
    /// Simulated trials per row of the metadata attacks against defences (volume timelines,
    /// mail communities, offices).
    #[arg(long, default_value_t = 8)]
    pub defense_trials: usize,
    /// Windows held in memory at most: the traces cut at the smallest window size must give
    /// no more, or the run is refused before it starts (docs/limits.md).
    #[arg(long, value_name = "N", default_value_t = tapir_dataset::DEFAULT_MAX_WINDOWS)]
    pub max_windows: usize,
    /// Print the results as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// The progress bar the engine drives.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn begin(&self, total: u64) {
        self.0.set_length(total);
        self.0.set_position(0);
    }

    fn step(&self, what: &str) {
        self.0.set_message(what.to_string());
        self.0.inc(1);
    }
}

pub fn run(a: ExperimentArgs) -> anyhow::Result<()> {
    let settings = Settings {
        window: a.window,
        test_fraction: a.test_fraction,
        seeds: a.seeds,
        trees: a.trees,
        rates: a.rates,
        window_sizes: a.window_sizes,
        mixes: a.mixes,
        hold_out: a.hold_out.map(|cols| {
            cols.into_iter()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("none"))
                .collect()
        }),
        defense_conditions: a
            .defenses
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
        defense_trees: a.defense_trees,
        defense_trials: a.defense_trials,
        max_windows: a.max_windows,
        ..Settings::default()
    };
    // Bad values are usage errors (exit 2), caught before any file is read.
    settings.validate().map_err(|e| usage(format!("{e}")))?;
    if !a.root.exists() {
        anyhow::bail!(
            "{}: no such dataset (give a folder of condition folders, or the lab's output)",
            a.root.display()
        );
    }
    // Before the run, which may take minutes: a folder that is not a report is kept.
    check_replaceable(&a.out)?;
    let reading = progress::spinner("reading traces");
    let corpus = load_corpus(&a.root, &|| reading.tick())?;
    reading.finish_and_clear();
    for w in &corpus.warnings {
        crate::load::warn(w);
    }
    // Files that could not be read, and files with no label (nothing in them is used), end
    // the run with exit code 1 once the report is written.
    crate::load::count_skipped(corpus.unreadable + corpus.unlabelled);
    let pb = progress::bar(0, "experiments");
    let results = tapir_experiment::run(
        &corpus,
        &a.root.display().to_string(),
        &settings,
        &Bar(pb.clone()),
    )
    .map_err(|e| match e {
        ExperimentError::TooManyWindows { limit, .. } => {
            anyhow::anyhow!("{e} (--max-windows, now {limit})")
        }
        e => e.into(),
    })?;
    pb.finish_and_clear();
    let index = write_report_atomic(&results, &a.out)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        print!("{}", summary(&results));
        println!(
            "{} traces, {} packets, {:.0} s; report: {}",
            corpus.traces.len(),
            corpus.packets(),
            results.seconds,
            index.display()
        );
    }
    if a.json {
        eprintln!("report: {}", index.display());
    }
    Ok(())
}

/// The files and folders a report is made of: a folder holding anything else is not replaced.
const REPORT_ENTRIES: [&str; 3] = ["results.json", "index.html", "figures"];

/// Writes the report in a temporary folder beside `out` and renames it into place at the end,
/// so that an existing report is replaced whole or not at all and an interrupted run leaves
/// none half-written. Returns the path of `index.html` in `out`.
fn write_report_atomic(results: &tapir_experiment::Results, out: &Path) -> anyhow::Result<PathBuf> {
    check_replaceable(out)?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let tmp = crate::interrupt::sibling(out, "tmp");
    crate::interrupt::create_temp_dir(&tmp).with_context(|| {
        format!(
            "cannot create {} (the report is built there, then renamed to {})",
            tmp.display(),
            out.display()
        )
    })?;
    let written = write_report(results, &tmp)
        .map_err(anyhow::Error::from)
        .and_then(|index| {
            crate::interrupt::commit_dir(&tmp, out)
                .with_context(|| format!("cannot move {} to {}", tmp.display(), out.display()))?;
            Ok(index)
        });
    match written {
        Ok(index) => Ok(out.join(index.file_name().unwrap_or_default())),
        Err(e) => {
            crate::interrupt::discard(&tmp);
            Err(e)
        }
    }
}

/// `out` may be missing, an empty folder or a folder holding a report; anything else is kept.
fn check_replaceable(out: &Path) -> anyhow::Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(out) else {
        return Ok(());
    };
    if !meta.is_dir() {
        anyhow::bail!(
            "--out {}: exists and is not a folder; give a folder for the report",
            out.display()
        );
    }
    let entries =
        std::fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?;
    for e in entries {
        let e = e.with_context(|| format!("cannot read {}", out.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !REPORT_ENTRIES.contains(&name.as_str()) {
            anyhow::bail!(
                "--out {}: holds {name}, which is not part of a tapir report; the report \
                 replaces the whole folder, so give a new or empty folder",
                out.display()
            );
        }
    }
    Ok(())
}
