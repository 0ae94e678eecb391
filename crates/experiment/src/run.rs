//! The experiment engine: for each condition the accuracy tables, the background sweep, the
//! multi-label table and the window-size sweep; across conditions the transfer matrix.

use crate::corpus::{Corpus, Role, Trace};
use crate::defenses::{defense_matrix, DefenseMatrix, DEFENSE_SETTINGS};
use crate::grid::{evaluate_grid, space_columns, GridCell};
use crate::holdout::{evaluate_hold_out, Comparison, HoldOut};
use crate::mix::{mix_background, play_together, SplitMix};
use crate::{paper, ExperimentError, Result};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;
use tapir_capture::{Timestamp, TracePacket};
use tapir_features::{Extractor, FeatureConfig, FeatureSpace, WindowSpec, DEFAULT_WINDOW};
use tapir_learn::metrics::{hamming_loss, per_label_scores, subset_accuracy, ConfusionMatrix};
use tapir_learn::{
    fit_model, predict_rows, split_grouped_stratified, split_windows, Dataset, ModelKind,
    ModelParams, MultiLabelDataset, RfParams,
};

/// What to run. [`Settings::default`] is the full report; every field is documented with why.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    /// Packets per window (the paper: 1024), disjoint windows; any size [`WindowSpec`] accepts.
    pub window: usize,
    /// Fraction of traces (or windows) held out for testing (the paper: 20%).
    pub test_fraction: f64,
    /// One run per seed; tables give the mean and a 95% confidence interval over them.
    pub seeds: Vec<u64>,
    /// Trees per random forest.
    pub trees: usize,
    /// Background rates swept, packets per second.
    pub rates: Vec<f64>,
    /// Window sizes swept, packets.
    pub window_sizes: Vec<usize>,
    /// Synthetic multi-application mixes per number of applications and per split side.
    pub mixes: usize,
    /// Manifest columns to hold out, one leave-one-value-out evaluation each, in every
    /// condition. `None`: whichever of [`DEFAULT_HOLD_OUT`] the dataset has.
    pub hold_out: Option<Vec<String>>,
    /// Conditions the defence matrix runs on ([`crate::defense_matrix`]); empty: none (the
    /// default, as the matrix refits three forests per defence setting).
    pub defense_conditions: Vec<String>,
    /// Trees per random forest in the defence matrix (fewer than `trees` to keep it quick).
    pub defense_trees: usize,
    /// Bin edges and thresholds of the features.
    #[serde(skip)]
    pub features: FeatureConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            window: DEFAULT_WINDOW,
            test_fraction: 0.2,
            seeds: vec![1, 2, 3, 4, 5],
            trees: 100,
            rates: vec![0.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 600.0],
            window_sizes: vec![64, 128, 256, 512, 1024, 2048],
            mixes: 8,
            hold_out: None,
            defense_conditions: Vec::new(),
            defense_trees: 30,
            features: FeatureConfig::default(),
        }
    }
}

/// The columns held out by default when the manifest has them: the program that made the
/// traffic and the emulated network, the two things a user's traffic is sure to differ in.
pub const DEFAULT_HOLD_OUT: [&str; 2] = ["program", "wan_profile"];

impl Settings {
    /// Checks ranges; the messages name the setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, why: String| Err(ExperimentError::Setting { name, why });
        if let Err(e) = WindowSpec::disjoint(self.window) {
            return bad("window", e.to_string());
        }
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return bad(
                "test fraction",
                format!("{} is not in (0, 1)", self.test_fraction),
            );
        }
        if self.seeds.is_empty() {
            return bad("seeds", "need at least one seed".into());
        }
        if self.defense_trees == 0 {
            return bad("defense trees", "need at least one tree".into());
        }
        if self.trees == 0 {
            return bad("trees", "need at least one tree".into());
        }
        if let Some(r) = self.rates.iter().find(|r| !(r.is_finite() && **r >= 0.0)) {
            return bad("rates", format!("{r} is not a rate in packets/s"));
        }
        for &w in &self.window_sizes {
            if let Err(e) = WindowSpec::disjoint(w) {
                return bad("window sizes", e.to_string());
            }
        }
        self.features.validate()?;
        Ok(())
    }
}

/// Reports progress; the engine calls `begin` once with the number of steps (model fits and
/// mixing passes), then `step` after each.
pub trait Progress: Sync {
    /// The total number of steps.
    fn begin(&self, total: u64);
    /// One step done; `what` names the experiment and condition.
    fn step(&self, what: &str);
}

/// A progress sink that ignores everything.
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: u64) {}
    fn step(&self, _: &str) {}
}

/// Mean of several runs with a 95% confidence interval.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Stat {
    /// Mean over runs.
    pub mean: f64,
    /// Half-width of the 95% interval (Student's t over the runs; 0 for one run).
    pub ci95: f64,
    /// Each run's value.
    pub runs: Vec<f64>,
}

impl Stat {
    /// Mean and interval of `runs` (empty input gives NaN).
    pub fn of(runs: Vec<f64>) -> Stat {
        let n = runs.len();
        let mean = runs.iter().sum::<f64>() / n as f64;
        let ci95 = if n < 2 {
            0.0
        } else {
            let var = runs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            t975(n - 1) * (var / n as f64).sqrt()
        };
        Stat { mean, ci95, runs }
    }
}

/// 97.5% quantile of Student's t with `df` degrees of freedom (table; normal beyond 30).
fn t975(df: usize) -> f64 {
    const T: [f64; 10] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    ];
    match df {
        0 => f64::NAN,
        1..=10 => T[df - 1],
        11..=20 => 2.086,
        21..=30 => 2.042,
        _ => 1.96,
    }
}

/// One cell of Tables I–III.
#[derive(Clone, Debug, Serialize)]
pub struct TableCell {
    /// Feature space.
    pub features: String,
    /// Model.
    pub model: String,
    /// Accuracy with whole traces held out (ours), over the seeds.
    pub trace_split: Stat,
    /// Accuracy with random windows held out (the paper's split), over the seeds.
    pub window_split: Stat,
    /// The paper's figure for this cell, if it reported the condition.
    pub paper: Option<f64>,
    /// Confusion matrix of the trace split, summed over seeds (rows true, columns predicted).
    pub confusion: Vec<Vec<u64>>,
}

/// Tables I–III for one condition.
#[derive(Clone, Debug, Serialize)]
pub struct AccuracyTable {
    /// The paper's table for this condition, if any.
    pub paper_table: Option<&'static str>,
    /// Space × model cells, spaces in the paper's order.
    pub cells: Vec<TableCell>,
}

/// One line of Figure 3.
#[derive(Clone, Debug, Serialize)]
pub struct BackgroundSeries {
    /// Model.
    pub model: String,
    /// `clean`: trained without background; `mixed`: trained with background at the test rate.
    pub training: String,
    /// Accuracy at each rate of [`BackgroundSweep::rates`].
    pub accuracy: Vec<f64>,
}

/// Figure 3 for one condition.
#[derive(Clone, Debug, Serialize)]
pub struct BackgroundSweep {
    /// Background rates, packets/s.
    pub rates: Vec<f64>,
    /// Accuracy curves.
    pub series: Vec<BackgroundSeries>,
    /// Background traces and packets in the pool.
    pub background_traces: usize,
    /// Packets in the background pool.
    pub background_packets: usize,
    /// Test windows at each rate (mixing adds packets, so more windows).
    pub test_windows: Vec<usize>,
}

/// Scores of one label.
#[derive(Clone, Debug, Serialize)]
pub struct LabelScore {
    /// Label.
    pub label: String,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Test windows carrying the label.
    pub support: u64,
}

/// Subset accuracy and Hamming loss on part of the test windows.
#[derive(Clone, Debug, Serialize)]
pub struct MultiScore {
    /// Windows scored.
    pub windows: usize,
    /// Fraction of windows whose label set is exactly right.
    pub subset_accuracy: f64,
    /// Fraction of wrong label flags.
    pub hamming_loss: f64,
}

/// One row of Table IV.
#[derive(Clone, Debug, Serialize)]
pub struct MultiRow {
    /// Feature space.
    pub features: String,
    /// All test windows.
    pub all: MultiScore,
    /// Per-label precision, recall, F1.
    pub per_label: Vec<LabelScore>,
    /// Test windows by origin: `single`, `synthetic` (interleaved traces), `lab` (concurrent).
    pub by_origin: BTreeMap<String, MultiScore>,
    /// The paper's (subset accuracy, Hamming loss), Tor only.
    pub paper: Option<(f64, f64)>,
}

/// Table IV for one condition.
#[derive(Clone, Debug, Serialize)]
pub struct MultiLabelTable {
    /// Labels, sorted.
    pub labels: Vec<String>,
    /// Training windows.
    pub train_windows: usize,
    /// Test windows by number of labels (index 0 = one label).
    pub test_by_cardinality: Vec<usize>,
    /// One row per feature space.
    pub rows: Vec<MultiRow>,
}

/// Accuracy against window size.
#[derive(Clone, Debug, Serialize)]
pub struct WindowSweep {
    /// Window sizes, packets.
    pub sizes: Vec<usize>,
    /// Random-forest accuracy (combined features, trace split) at each size, over the seeds;
    /// `None` where the split was impossible (too few windows).
    pub accuracy: Vec<Option<Stat>>,
    /// Windows at each size.
    pub windows: Vec<usize>,
    /// Median seconds of traffic one window spans at each size: how long a QoS system waits.
    pub seconds: Vec<f64>,
}

/// An experiment that did not run, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// Condition (or `all`).
    pub condition: String,
    /// Which experiment.
    pub experiment: String,
    /// Why.
    pub reason: String,
}

/// A window kept for the report's example histograms (Figures 1–2).
#[derive(Clone, Debug)]
pub struct Example {
    /// Its class.
    pub label: String,
    /// Its packets.
    pub packets: Vec<TracePacket>,
}

/// Everything about one condition.
#[derive(Clone, Debug, Serialize)]
pub struct ConditionResults {
    /// Condition.
    pub condition: String,
    /// Single-application traces.
    pub traces: usize,
    /// Background traces.
    pub background_traces: usize,
    /// Concurrent (multi-label) captures.
    pub multi_traces: usize,
    /// Classes, sorted.
    pub classes: Vec<String>,
    /// Windows of each class at the main window size.
    pub class_windows: Vec<usize>,
    /// Tables I–III.
    pub table: Option<AccuracyTable>,
    /// Leave-one-value-out accuracy, one per held-out column (first seed's forests; intervals
    /// are bootstrap intervals over test traces).
    pub hold_out: Vec<HoldOut>,
    /// Paired comparisons on the hold-out folds (random forest: each half of the features
    /// against the combined space).
    pub comparisons: Vec<Comparison>,
    /// Figure 3.
    pub background: Option<BackgroundSweep>,
    /// Table IV.
    pub multi_label: Option<MultiLabelTable>,
    /// Accuracy against window size.
    pub window_sweep: Option<WindowSweep>,
    /// One example window per class.
    #[serde(skip)]
    pub examples: Vec<Example>,
}

/// Train on one condition, test on another.
#[derive(Clone, Debug, Serialize)]
pub struct Transfer {
    /// Conditions, rows = trained on, columns = tested on.
    pub conditions: Vec<String>,
    /// Random-forest accuracy (combined features); the diagonal is the trace-split accuracy.
    pub accuracy: Vec<Vec<Option<f64>>>,
}

/// The whole experiment.
#[derive(Clone, Debug, Serialize)]
pub struct Results {
    /// The dataset's root.
    pub root: String,
    /// What was run.
    pub settings: Settings,
    /// Columns held out (resolved: `profile` becomes `wan_profile`); empty when the dataset has
    /// none of them.
    pub hold_out_columns: Vec<String>,
    /// One entry per condition found.
    pub conditions: Vec<ConditionResults>,
    /// Cross-condition transfer, with two or more conditions.
    pub transfer: Option<Transfer>,
    /// Experiments that could not run.
    pub skipped: Vec<Skipped>,
    /// Files left out.
    pub warnings: Vec<String>,
    /// The defence matrix, one per condition of [`Settings::defense_conditions`] the corpus has.
    pub defenses: Vec<DefenseMatrix>,
    /// Wall time of the run.
    pub seconds: f64,
}

/// Feature rows of one trace's windows (combined space), row-major: disjoint windows cut as
/// `tapir eval` cuts them (the same [`WindowSpec`], on packets read by the same reader).
fn trace_rows(ex: &Extractor, packets: &[TracePacket], window: usize) -> Result<Vec<f32>> {
    let spec = WindowSpec::disjoint(window)?;
    let dim = ex.dim(FeatureSpace::Combined);
    let n = packets.len() / window;
    let mut x = vec![0.0f32; n * dim];
    for (w, out) in spec.windows(packets).zip(x.chunks_exact_mut(dim)) {
        ex.extract_into(FeatureSpace::Combined, w, out)?;
    }
    Ok(x)
}

/// Windows of several traces as one single-label dataset. `traces` are (trace index, class).
struct Built {
    ds: Dataset,
    /// Trace index of each row.
    trace_of: Vec<usize>,
}

fn build(
    ex: &Extractor,
    corpus: &Corpus,
    traces: &[usize],
    classes: &[String],
    window: usize,
) -> Result<Built> {
    use rayon::prelude::*;
    let dim = ex.dim(FeatureSpace::Combined);
    let rows: Vec<Result<Vec<f32>>> = traces
        .par_iter()
        .map(|&t| trace_rows(ex, &corpus.traces[t].packets, window))
        .collect();
    let (mut x, mut y, mut groups, mut trace_of) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut group_ids: BTreeMap<&str, u32> = BTreeMap::new();
    for (&t, r) in traces.iter().zip(rows) {
        let r = r?;
        let tr = &corpus.traces[t];
        let Some(class) = tr
            .labels
            .first()
            .and_then(|l| classes.iter().position(|c| c == l))
        else {
            continue;
        };
        let next = group_ids.len() as u32;
        let g = *group_ids.entry(tr.group.as_str()).or_insert(next);
        let n = r.len() / dim;
        x.extend(r);
        y.extend(std::iter::repeat_n(class, n));
        groups.extend(std::iter::repeat_n(g, n));
        trace_of.extend(std::iter::repeat_n(t, n));
    }
    Ok(Built {
        ds: Dataset::new(x, dim, y, classes.to_vec(), groups)?,
        trace_of,
    })
}

/// Sorted classes of the single-application traces `idx`.
fn classes_of(corpus: &Corpus, idx: &[usize]) -> Vec<String> {
    let set: BTreeSet<&String> = idx
        .iter()
        .filter_map(|&i| corpus.traces[i].labels.first())
        .collect();
    set.into_iter().cloned().collect()
}

struct Ctx<'a> {
    s: &'a Settings,
    ex: Extractor,
    spaces: Vec<(FeatureSpace, std::ops::Range<usize>)>,
    combined: std::ops::Range<usize>,
    progress: &'a dyn Progress,
    skipped: Vec<Skipped>,
    hold_out: Vec<String>,
}

impl Ctx<'_> {
    fn params(&self, seed: u64) -> ModelParams {
        ModelParams {
            rf: RfParams {
                n_trees: self.s.trees,
                seed,
                ..RfParams::default()
            },
            ..ModelParams::default()
        }
    }

    fn skip(&mut self, condition: &str, experiment: &str, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            condition: condition.to_string(),
            experiment: experiment.to_string(),
            reason: reason.into(),
        });
    }
}

/// Steps [`run`] will report for a corpus, for the progress bar.
fn plan(corpus: &Corpus, s: &Settings, hold_out: &[String]) -> u64 {
    let seeds = s.seeds.len() as u64;
    let conds = corpus.conditions();
    let mut total = 0u64;
    for c in &conds {
        total += 9 * 2 * seeds;
        for col in hold_out {
            let values: BTreeSet<&str> = corpus
                .select(c, Role::Single)
                .into_iter()
                .filter_map(|t| corpus.traces[t].column(col))
                .collect();
            if values.len() >= 2 {
                total += 9 * values.len() as u64;
            }
        }
        if !corpus.select(c, Role::Background).is_empty() {
            let nonzero = s.rates.iter().filter(|r| **r > 0.0).count() as u64;
            total += 3 + s.rates.len() as u64 + 3 * nonzero;
        }
        total += 3;
        total += s.window_sizes.len() as u64 * seeds;
    }
    if conds.len() >= 2 {
        total += conds.len() as u64;
    }
    total += s.defense_conditions.len() as u64;
    total
}

/// Runs every experiment on `corpus`. Experiments a condition lacks data for are listed in
/// [`Results::skipped`] with the reason; only a corpus with no usable condition is an error.
pub fn run(corpus: &Corpus, root: &str, s: &Settings, progress: &dyn Progress) -> Result<Results> {
    s.validate()?;
    let t0 = Instant::now();
    let ex = Extractor::new(&s.features)?;
    let spaces = FeatureSpace::ALL
        .iter()
        .map(|&sp| Ok((sp, space_columns(&s.features, sp)?)))
        .collect::<Result<Vec<_>>>()?;
    let combined = space_columns(&s.features, FeatureSpace::Combined)?;
    let hold_out = hold_out_columns(corpus, s)?;
    let mut ctx = Ctx {
        s,
        ex,
        spaces,
        combined,
        progress,
        skipped: Vec::new(),
        hold_out: hold_out.clone(),
    };
    progress.begin(plan(corpus, s, &hold_out));
    let mut conditions = Vec::new();
    let mut diag = BTreeMap::new();
    for cond in corpus.conditions() {
        let r = condition(&mut ctx, corpus, &cond)?;
        if let Some(t) = &r.table {
            if let Some(c) = t
                .cells
                .iter()
                .find(|c| c.features == "combined" && c.model == "rf")
            {
                diag.insert(cond.clone(), c.trace_split.mean);
            }
        }
        conditions.push(r);
    }
    let transfer = transfer(&mut ctx, corpus, &diag)?;
    let mut defenses = Vec::new();
    let present = corpus.conditions();
    for cond in &s.defense_conditions {
        if !present.contains(cond) {
            ctx.skip(cond, "defences", "no traces of this condition");
        } else {
            let ds = Settings {
                trees: s.defense_trees,
                ..s.clone()
            };
            match defense_matrix(corpus, cond, &ds, DEFENSE_SETTINGS) {
                Ok(m) => defenses.push(m),
                Err(e) => ctx.skip(cond, "defences", e.to_string()),
            }
        }
        progress.step(&format!("{cond}: defences"));
    }
    if conditions.iter().all(|c| c.table.is_none()) {
        let why: Vec<String> = ctx
            .skipped
            .iter()
            .map(|k| format!("{}: {}", k.condition, k.reason))
            .collect();
        return Err(ExperimentError::NoData(format!(
            "no condition has enough labelled traces for the accuracy tables ({})",
            why.join("; ")
        )));
    }
    Ok(Results {
        root: root.to_string(),
        settings: s.clone(),
        hold_out_columns: hold_out,
        conditions,
        transfer,
        skipped: ctx.skipped,
        warnings: corpus.warnings.clone(),
        defenses,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// The columns to hold out: those asked for (each must be a column of some trace), or by
/// default those of [`DEFAULT_HOLD_OUT`] the single-application traces have.
fn hold_out_columns(corpus: &Corpus, s: &Settings) -> Result<Vec<String>> {
    let singles = || corpus.traces.iter().filter(|t| t.role == Role::Single);
    // The stored spelling of a column, so `profile` and `Wan_Profile` report as `wan_profile`.
    let canonical = |name: &str| -> Option<String> {
        if name.eq_ignore_ascii_case("group") {
            return Some("group".into());
        }
        let find = |n: &str| {
            singles().find_map(|t| {
                t.extra
                    .iter()
                    .find(|(k, v)| k.eq_ignore_ascii_case(n) && !v.trim().is_empty())
                    .map(|(k, _)| k.clone())
            })
        };
        find(name).or_else(|| {
            name.eq_ignore_ascii_case("profile")
                .then(|| find("wan_profile"))
                .flatten()
        })
    };
    let mut out: Vec<String> = Vec::new();
    match &s.hold_out {
        None => {
            out.extend(DEFAULT_HOLD_OUT.iter().filter_map(|c| canonical(c)));
        }
        Some(list) => {
            for c in list {
                let Some(name) = canonical(c) else {
                    let mut have: BTreeSet<&str> = singles()
                        .flat_map(|t| t.extra.keys().map(String::as_str))
                        .collect();
                    have.insert("group");
                    return Err(ExperimentError::Setting {
                        name: "hold-out",
                        why: format!(
                            "no trace has a {c} column (columns: {}); holding out needs the \
                             lab's manifest.csv with that column",
                            have.into_iter().collect::<Vec<_>>().join(", ")
                        ),
                    });
                };
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    Ok(out)
}

/// Leave-one-value-out of `column` on a condition's windows (first seed), and the paired
/// comparisons of the feature spaces on its folds.
fn hold_out(
    ctx: &mut Ctx<'_>,
    corpus: &Corpus,
    cond: &str,
    built: &Built,
    column: &str,
) -> Result<(HoldOut, Vec<Comparison>)> {
    let names: Vec<&str> = {
        let set: BTreeSet<&str> = built
            .trace_of
            .iter()
            .filter_map(|&t| corpus.traces[t].column(column))
            .collect();
        set.into_iter().collect()
    };
    let values: Vec<Option<u32>> = built
        .trace_of
        .iter()
        .map(|&t| {
            let v = corpus.traces[t].column(column)?;
            names.binary_search(&v).ok().map(|i| i as u32)
        })
        .collect();
    let seed = ctx.s.seeds[0];
    let what = format!("{cond}: hold out {column}");
    let progress = ctx.progress;
    let h = evaluate_hold_out(
        &built.ds,
        &[],
        column,
        &values,
        &|id| {
            names
                .get(id as usize)
                .map_or_else(String::new, |n| n.to_string())
        },
        &ctx.spaces,
        &ModelKind::ALL,
        &ctx.params(seed),
        seed,
        &mut |_, _| progress.step(&what),
    )?;
    let mut comparisons = Vec::new();
    for part in ["size-iat", "burst"] {
        if let Some(c) = h.compare((part, "rf"), ("combined", "rf"), seed) {
            comparisons.push(c?);
        }
    }
    Ok((h, comparisons))
}

fn condition(ctx: &mut Ctx<'_>, corpus: &Corpus, cond: &str) -> Result<ConditionResults> {
    let s = ctx.s;
    let single = corpus.select(cond, Role::Single);
    let bg = corpus.select(cond, Role::Background);
    let multi = corpus.select(cond, Role::Multi);
    let classes = classes_of(corpus, &single);
    let mut out = ConditionResults {
        condition: cond.to_string(),
        traces: single.len(),
        background_traces: bg.len(),
        multi_traces: multi.len(),
        classes: classes.clone(),
        class_windows: Vec::new(),
        table: None,
        hold_out: Vec::new(),
        comparisons: Vec::new(),
        background: None,
        multi_label: None,
        window_sweep: None,
        examples: Vec::new(),
    };
    for c in &classes {
        if let Some(&t) = single
            .iter()
            .find(|&&t| corpus.traces[t].labels.first() == Some(c))
        {
            let p = &corpus.traces[t].packets;
            if p.len() >= s.window {
                out.examples.push(Example {
                    label: c.clone(),
                    packets: p[..s.window].to_vec(),
                });
            }
        }
    }
    if classes.len() < 2 {
        ctx.skip(
            cond,
            "all",
            format!(
                "{} class(es) of single-application traces; need two",
                classes.len()
            ),
        );
        return Ok(out);
    }
    let built = build(&ctx.ex, corpus, &single, &classes, s.window)?;
    out.class_windows = built.ds.class_counts();
    match table(ctx, cond, &built.ds) {
        Ok(t) => out.table = Some(t),
        Err(e) => {
            ctx.skip(cond, "accuracy tables", e.to_string());
            return Ok(out);
        }
    }
    for column in ctx.hold_out.clone() {
        match hold_out(ctx, corpus, cond, &built, &column) {
            Ok((h, c)) => {
                out.hold_out.push(h);
                out.comparisons.extend(c);
            }
            Err(e) => ctx.skip(cond, &format!("hold-out {column}"), e.to_string()),
        }
    }
    let split = split_grouped_stratified(&built.ds, s.test_fraction, s.seeds[0])?;
    let test_traces: BTreeSet<usize> = split.test.iter().map(|&r| built.trace_of[r]).collect();
    let (train_t, test_t): (Vec<usize>, Vec<usize>) =
        single.iter().partition(|t| !test_traces.contains(t));
    if bg.is_empty() {
        ctx.skip(
            cond,
            "background",
            "no background captures in this condition",
        );
    } else {
        out.background = Some(background(
            ctx, corpus, cond, &classes, &bg, &train_t, &test_t,
        )?);
    }
    match multi_label(ctx, corpus, cond, &classes, &train_t, &test_t, &multi) {
        Ok(m) => out.multi_label = Some(m),
        Err(e) => ctx.skip(cond, "multi-label", e.to_string()),
    }
    out.window_sweep = Some(window_sweep(ctx, corpus, cond, &single, &classes)?);
    Ok(out)
}

fn table(ctx: &mut Ctx<'_>, cond: &str, ds: &Dataset) -> Result<AccuracyTable> {
    let s = ctx.s;
    let mut per_seed: Vec<(Vec<GridCell>, Vec<GridCell>)> = Vec::new();
    for &seed in &s.seeds {
        let params = ctx.params(seed);
        let tsplit = split_grouped_stratified(ds, s.test_fraction, seed)?;
        let what = format!("{cond}: tables");
        let progress = ctx.progress;
        let trace = evaluate_grid(
            ds,
            &ctx.spaces,
            &ModelKind::ALL,
            &[(tsplit.train, tsplit.test)],
            &params,
            &mut |_, _| progress.step(&what),
        )?;
        let mut wds = ds.clone();
        // Every window its own group: the paper's split ignores traces.
        wds.groups = (0..ds.n_rows() as u32).collect();
        let wsplit = split_windows(&wds, s.test_fraction, seed)?;
        let window = evaluate_grid(
            &wds,
            &ctx.spaces,
            &ModelKind::ALL,
            &[(wsplit.train, wsplit.test)],
            &params,
            &mut |_, _| progress.step(&what),
        )?;
        per_seed.push((trace, window));
    }
    let n_classes = ds.classes.len();
    let mut cells = Vec::new();
    for (i, c) in per_seed[0].0.iter().enumerate() {
        let mut confusion = vec![vec![0u64; n_classes]; n_classes];
        for (tr, _) in &per_seed {
            let cm: &ConfusionMatrix = &tr[i].confusion;
            for (t, row) in confusion.iter_mut().enumerate() {
                for (p, v) in row.iter_mut().enumerate() {
                    *v += cm.get(t, p);
                }
            }
        }
        cells.push(TableCell {
            features: c.features.clone(),
            model: c.model.clone(),
            trace_split: Stat::of(per_seed.iter().map(|(t, _)| t[i].accuracy).collect()),
            window_split: Stat::of(per_seed.iter().map(|(_, w)| w[i].accuracy).collect()),
            paper: paper::table_accuracy(cond, &c.features, &c.model),
            confusion,
        });
    }
    Ok(AccuracyTable {
        paper_table: paper::table_name(cond),
        cells,
    })
}

/// Background traces joined end to end into one stream (each shifted to follow the previous
/// after one median gap), so the pool's gaps are the captures' own.
fn pool(corpus: &Corpus, idx: &[usize]) -> Vec<TracePacket> {
    let mut out: Vec<TracePacket> = Vec::new();
    for &i in idx {
        let p = &corpus.traces[i].packets;
        let Some(first) = p.first() else { continue };
        let start = out.last().map(|l| l.ts.0 + 1_000_000).unwrap_or(0);
        out.extend(p.iter().map(|q| {
            TracePacket::new(
                Timestamp(start.saturating_add(q.ts.nanos_since(first.ts))),
                q.size,
                q.dir,
            )
        }));
    }
    out
}

/// Windows of traces mixed with background at `rate`, as one dataset.
fn mixed_dataset(
    ctx: &Ctx<'_>,
    corpus: &Corpus,
    traces: &[usize],
    classes: &[String],
    bg: &[TracePacket],
    rate: f64,
) -> Result<Dataset> {
    use rayon::prelude::*;
    let dim = ctx.ex.dim(FeatureSpace::Combined);
    let rows: Vec<Result<(usize, Vec<f32>)>> = traces
        .par_iter()
        .enumerate()
        .map(|(k, &t)| {
            let tr = &corpus.traces[t];
            // Each trace starts at a different point of the pool, so traces do not all see
            // the same background packets.
            let offset = if bg.is_empty() {
                0
            } else {
                (k * 7919) % bg.len()
            };
            let mixed = mix_background(&tr.packets, bg, rate, offset);
            let class = tr
                .labels
                .first()
                .and_then(|l| classes.iter().position(|c| c == l))
                .unwrap_or(0);
            Ok((class, trace_rows(&ctx.ex, &mixed, ctx.s.window)?))
        })
        .collect();
    let (mut x, mut y, mut g) = (Vec::new(), Vec::new(), Vec::new());
    for (k, r) in rows.into_iter().enumerate() {
        let (class, r) = r?;
        let n = r.len() / dim;
        x.extend(r);
        y.extend(std::iter::repeat_n(class, n));
        g.extend(std::iter::repeat_n(k as u32, n));
    }
    Ok(Dataset::new(x, dim, y, classes.to_vec(), g)?)
}

#[allow(clippy::too_many_arguments)]
fn background(
    ctx: &mut Ctx<'_>,
    corpus: &Corpus,
    cond: &str,
    classes: &[String],
    bg: &[usize],
    train_t: &[usize],
    test_t: &[usize],
) -> Result<BackgroundSweep> {
    let s = ctx.s;
    // Background for training and for testing comes from different captures (or different
    // halves of one), so a mixed-trained model never saw the test background.
    let all = pool(corpus, bg);
    let (bg_train, bg_test) = if bg.len() >= 2 {
        let half = bg.len() / 2;
        (pool(corpus, &bg[..half]), pool(corpus, &bg[half..]))
    } else {
        let h = all.len() / 2;
        (all[..h].to_vec(), all[h..].to_vec())
    };
    let what = format!("{cond}: background");
    let params = ctx.params(s.seeds[0]);
    let clean_train = mixed_dataset(ctx, corpus, train_t, classes, &[], 0.0)?;
    let clean_models = ModelKind::ALL
        .iter()
        .map(|&k| {
            let m = fit_model(k, &params, &clean_train);
            ctx.progress.step(&what);
            m
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut series: Vec<BackgroundSeries> = Vec::new();
    for training in ["clean", "mixed"] {
        for k in ModelKind::ALL {
            series.push(BackgroundSeries {
                model: k.name().to_string(),
                training: training.to_string(),
                accuracy: Vec::new(),
            });
        }
    }
    let mut test_windows = Vec::new();
    for &rate in &s.rates {
        let test = mixed_dataset(ctx, corpus, test_t, classes, &bg_test, rate)?;
        ctx.progress.step(&what);
        test_windows.push(test.n_rows());
        let acc = |m: &tapir_learn::Model| {
            let pred = predict_rows(m, &test.x, test.n_features);
            tapir_learn::metrics::accuracy(&test.y, &pred)
        };
        for (i, m) in clean_models.iter().enumerate() {
            series[i].accuracy.push(acc(m));
        }
        if rate > 0.0 {
            let train = mixed_dataset(ctx, corpus, train_t, classes, &bg_train, rate)?;
            for (i, &k) in ModelKind::ALL.iter().enumerate() {
                let m = fit_model(k, &params, &train)?;
                ctx.progress.step(&what);
                series[3 + i].accuracy.push(acc(&m));
            }
        } else {
            for (i, m) in clean_models.iter().enumerate() {
                series[3 + i].accuracy.push(acc(m));
            }
        }
    }
    Ok(BackgroundSweep {
        rates: s.rates.clone(),
        series,
        background_traces: bg.len(),
        background_packets: all.len(),
        test_windows,
    })
}

/// Where a multi-label window came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Single,
    Synthetic,
    Lab,
}

impl Origin {
    fn name(self) -> &'static str {
        match self {
            Origin::Single => "single",
            Origin::Synthetic => "synthetic",
            Origin::Lab => "lab",
        }
    }
}

struct MultiRows {
    x: Vec<f32>,
    y: Vec<Vec<bool>>,
    origin: Vec<Origin>,
}

impl MultiRows {
    fn push(&mut self, rows: Vec<f32>, dim: usize, flags: &[bool], origin: Origin) {
        let n = rows.len() / dim;
        self.x.extend(rows);
        for _ in 0..n {
            self.y.push(flags.to_vec());
            self.origin.push(origin);
        }
    }
}

/// Windows for the multi-label model on one side of the split: the single traces, synthetic
/// mixes of 2..=4 of them (distinct labels, random start offsets), and the lab's captures.
fn multi_side(
    ctx: &Ctx<'_>,
    corpus: &Corpus,
    labels: &[String],
    singles: &[usize],
    lab: &[usize],
    seed: u64,
) -> Result<MultiRows> {
    let dim = ctx.ex.dim(FeatureSpace::Combined);
    let window = ctx.s.window;
    let flags_of = |ls: &[String]| -> Vec<bool> { labels.iter().map(|l| ls.contains(l)).collect() };
    let mut out = MultiRows {
        x: Vec::new(),
        y: Vec::new(),
        origin: Vec::new(),
    };
    for &t in singles {
        let tr = &corpus.traces[t];
        out.push(
            trace_rows(&ctx.ex, &tr.packets, window)?,
            dim,
            &flags_of(&tr.labels),
            Origin::Single,
        );
    }
    for &t in lab {
        let tr = &corpus.traces[t];
        out.push(
            trace_rows(&ctx.ex, &tr.packets, window)?,
            dim,
            &flags_of(&tr.labels),
            Origin::Lab,
        );
    }
    let mut by_label: BTreeMap<&str, Vec<&Trace>> = BTreeMap::new();
    for &t in singles {
        if let Some(l) = corpus.traces[t].labels.first() {
            by_label
                .entry(l.as_str())
                .or_default()
                .push(&corpus.traces[t]);
        }
    }
    let present: Vec<&str> = by_label.keys().copied().collect();
    let mut rng = SplitMix::new(seed);
    for k in 2..=present.len().min(4) {
        for _ in 0..ctx.s.mixes {
            let mut pick = present.clone();
            rng.shuffle(&mut pick);
            pick.truncate(k);
            let chosen: Vec<&Trace> = pick
                .iter()
                .map(|l| {
                    let v = &by_label[l];
                    v[rng.below(v.len())]
                })
                .collect();
            let streams: Vec<&[TracePacket]> =
                chosen.iter().map(|t| t.packets.as_slice()).collect();
            // Applications start up to two seconds apart, as a user opens one after another.
            let offsets: Vec<i64> = (0..k).map(|_| rng.below(2_000_000_000) as i64).collect();
            let mixed = play_together(&streams, &offsets);
            let ls: Vec<String> = pick.iter().map(|l| l.to_string()).collect();
            out.push(
                trace_rows(&ctx.ex, &mixed, window)?,
                dim,
                &flags_of(&ls),
                Origin::Synthetic,
            );
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn multi_label(
    ctx: &mut Ctx<'_>,
    corpus: &Corpus,
    cond: &str,
    classes: &[String],
    train_t: &[usize],
    test_t: &[usize],
    lab: &[usize],
) -> Result<MultiLabelTable> {
    let s = ctx.s;
    let mut labels: BTreeSet<String> = classes.iter().cloned().collect();
    for &t in lab {
        labels.extend(corpus.traces[t].labels.iter().cloned());
    }
    let labels: Vec<String> = labels.into_iter().collect();
    // Lab captures split by group like traces: a seeded shuffle, the test fraction held out.
    let mut groups: Vec<&str> = lab
        .iter()
        .map(|&t| corpus.traces[t].group.as_str())
        .collect();
    groups.sort_unstable();
    groups.dedup();
    let mut rng = SplitMix::new(s.seeds[0]);
    rng.shuffle(&mut groups);
    let k = if groups.len() >= 2 {
        ((s.test_fraction * groups.len() as f64).round() as usize).clamp(1, groups.len() - 1)
    } else {
        0
    };
    let test_groups: BTreeSet<&str> = groups[..k].iter().copied().collect();
    let (lab_test, lab_train): (Vec<usize>, Vec<usize>) = lab
        .iter()
        .partition(|&&t| test_groups.contains(corpus.traces[t].group.as_str()));
    let train = multi_side(ctx, corpus, &labels, train_t, &lab_train, s.seeds[0])?;
    let test = multi_side(ctx, corpus, &labels, test_t, &lab_test, s.seeds[0] ^ 0x7e57)?;
    if train.y.is_empty() || test.y.is_empty() {
        return Err(ExperimentError::NoData(
            "no multi-label windows on one side of the split".into(),
        ));
    }
    let dim = ctx.ex.dim(FeatureSpace::Combined);
    let train_ds = MultiLabelDataset::new(
        train.x,
        dim,
        train.y,
        labels.clone(),
        vec![0; train.origin.len()],
    )?;
    let mut card = vec![0usize; labels.len().max(1)];
    for f in &test.y {
        let c = f.iter().filter(|b| **b).count();
        if let Some(slot) = card.get_mut(c.saturating_sub(1)) {
            *slot += 1;
        }
    }
    let what = format!("{cond}: multi-label");
    let params = RfParams {
        n_trees: s.trees,
        seed: s.seeds[0],
        ..RfParams::default()
    };
    let mut rows = Vec::new();
    for (space, cols) in ctx.spaces.clone() {
        let sub = select_multi(&train_ds, cols.clone());
        let model = params.fit_multi_label(&sub)?;
        ctx.progress.step(&what);
        let pred: Vec<Vec<bool>> = test
            .x
            .chunks_exact(dim)
            .map(|r| model.predict(&r[cols.clone()]))
            .collect();
        let score = |keep: &dyn Fn(Origin) -> bool| {
            let (t, p): (Vec<Vec<bool>>, Vec<Vec<bool>>) = test
                .y
                .iter()
                .zip(&pred)
                .zip(&test.origin)
                .filter(|(_, o)| keep(**o))
                .map(|((t, p), _)| (t.clone(), p.clone()))
                .unzip();
            MultiScore {
                windows: t.len(),
                subset_accuracy: subset_accuracy(&t, &p),
                hamming_loss: hamming_loss(&t, &p),
            }
        };
        let mut by_origin = BTreeMap::new();
        for o in [Origin::Single, Origin::Synthetic, Origin::Lab] {
            let sc = score(&|x| x == o);
            if sc.windows > 0 {
                by_origin.insert(o.name().to_string(), sc);
            }
        }
        let per_label = per_label_scores(&test.y, &pred, labels.len())
            .into_iter()
            .zip(&labels)
            .map(|(c, l)| LabelScore {
                label: l.clone(),
                precision: c.precision,
                recall: c.recall,
                f1: c.f1,
                support: c.support,
            })
            .collect();
        rows.push(MultiRow {
            features: space.name().to_string(),
            all: score(&|_| true),
            per_label,
            by_origin,
            paper: paper::multi_label(space.name()),
        });
    }
    Ok(MultiLabelTable {
        labels,
        train_windows: train_ds.n_rows(),
        test_by_cardinality: card,
        rows,
    })
}

fn select_multi(ds: &MultiLabelDataset, cols: std::ops::Range<usize>) -> MultiLabelDataset {
    let mut x = Vec::with_capacity(ds.n_rows() * cols.len());
    for i in 0..ds.n_rows() {
        x.extend_from_slice(ds.row(i).get(cols.clone()).unwrap_or(&[]));
    }
    MultiLabelDataset {
        x,
        n_features: cols.len(),
        y: ds.y.clone(),
        labels: ds.labels.clone(),
        groups: ds.groups.clone(),
    }
}

fn window_sweep(
    ctx: &mut Ctx<'_>,
    corpus: &Corpus,
    cond: &str,
    single: &[usize],
    classes: &[String],
) -> Result<WindowSweep> {
    let s = ctx.s;
    let what = format!("{cond}: window sizes");
    let mut out = WindowSweep {
        sizes: s.window_sizes.clone(),
        accuracy: Vec::new(),
        windows: Vec::new(),
        seconds: Vec::new(),
    };
    for &w in &s.window_sizes {
        let built = build(&ctx.ex, corpus, single, classes, w)?;
        out.windows.push(built.ds.n_rows());
        out.seconds.push(median_window_seconds(corpus, single, w));
        let mut runs = Vec::new();
        let mut failed = None;
        for &seed in &s.seeds {
            match split_grouped_stratified(&built.ds, s.test_fraction, seed) {
                Ok(split) => {
                    let train = built.ds.subset(&split.train)?;
                    let test = built.ds.subset(&split.test)?;
                    if train.class_counts().iter().filter(|c| **c > 0).count() < 2 {
                        failed = Some("fewer than two classes left to train on".to_string());
                    } else {
                        let m = fit_model(ModelKind::Rf, &ctx.params(seed), &train)?;
                        let pred = predict_rows(&m, &test.x, test.n_features);
                        runs.push(tapir_learn::metrics::accuracy(&test.y, &pred));
                    }
                }
                Err(e) => failed = Some(e.to_string()),
            }
            ctx.progress.step(&what);
        }
        if runs.is_empty() {
            ctx.skip(
                cond,
                "window sizes",
                format!(
                    "window {w}: {}",
                    failed.unwrap_or_else(|| "no run".to_string())
                ),
            );
            out.accuracy.push(None);
        } else {
            out.accuracy.push(Some(Stat::of(runs)));
        }
    }
    let _ = &ctx.combined;
    Ok(out)
}

/// Median time one window of `w` packets spans over the traces `idx`, in seconds.
fn median_window_seconds(corpus: &Corpus, idx: &[usize], w: usize) -> f64 {
    let mut spans: Vec<f64> = idx
        .iter()
        .flat_map(|&t| corpus.traces[t].packets.chunks_exact(w))
        .filter_map(|c| Some(c.last()?.ts.nanos_since(c.first()?.ts) as f64 / 1e9))
        .collect();
    if spans.is_empty() {
        return f64::NAN;
    }
    spans.sort_by(f64::total_cmp);
    spans[spans.len() / 2]
}

fn transfer(
    ctx: &mut Ctx<'_>,
    corpus: &Corpus,
    diag: &BTreeMap<String, f64>,
) -> Result<Option<Transfer>> {
    let conds: Vec<String> = corpus
        .conditions()
        .into_iter()
        .filter(|c| diag.contains_key(c))
        .collect();
    if conds.len() < 2 {
        ctx.skip(
            "all",
            "transfer",
            format!(
                "{} condition(s) with an accuracy table; need two",
                conds.len()
            ),
        );
        return Ok(None);
    }
    let s = ctx.s;
    let mut sets = Vec::new();
    for c in &conds {
        let single = corpus.select(c, Role::Single);
        let classes = classes_of(corpus, &single);
        sets.push(build(&ctx.ex, corpus, &single, &classes, s.window)?.ds);
    }
    let mut acc = vec![vec![None; conds.len()]; conds.len()];
    for (a, train) in sets.iter().enumerate() {
        let m = fit_model(ModelKind::Rf, &ctx.params(s.seeds[0]), train)?;
        ctx.progress.step("transfer");
        for (b, test) in sets.iter().enumerate() {
            if a == b {
                acc[a][b] = diag.get(&conds[a]).copied();
                continue;
            }
            let pred = predict_rows(&m, &test.x, test.n_features);
            // Classes are matched by name; a test class the model never saw counts as wrong.
            let right = pred
                .iter()
                .zip(&test.y)
                .filter(|(p, t)| train.classes.get(**p) == test.classes.get(**t))
                .count();
            acc[a][b] = (!pred.is_empty()).then(|| right as f64 / pred.len() as f64);
        }
    }
    Ok(Some(Transfer {
        conditions: conds,
        accuracy: acc,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tapir eval` reads windows through `tapir_dataset::extract_file`; the experiment keeps
    /// each trace's packets ([`crate::load_corpus`]) and cuts them with `trace_rows`. On
    /// captures whose time goes backwards both must give the same features, row for row.
    #[test]
    fn eval_and_experiment_windows_agree_when_time_goes_backwards() {
        let root = std::env::temp_dir().join(format!("tapir-exp-order-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("web")).unwrap();
        // 96 packets; every seventh is stamped 3 ms before its predecessor.
        let mut text = String::new();
        for i in 0..96i64 {
            let t = i * 10_000 - if i % 7 == 3 { 13_000 } else { 0 };
            let size = if i % 3 == 0 {
                60
            } else {
                -1400 + (i % 5) * 100
            };
            text.push_str(&format!("{}.{:06} {size}\n", t / 1_000_000, t % 1_000_000));
        }
        let trace = root.join("web/jumpy.trace");
        std::fs::write(&trace, &text).unwrap();
        let pcap = root.join("web/time-backwards.pcap");
        std::fs::copy(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../capture/tests/data/time-backwards.pcap"
            ),
            &pcap,
        )
        .unwrap();

        let corpus = crate::load_corpus(&root, &|| ()).unwrap();
        assert_eq!(corpus.traces.len(), 2, "{:?}", corpus.warnings);
        let ex = Extractor::new(&FeatureConfig::default()).unwrap();
        for (path, window) in [(&trace, 16), (&pcap, 2)] {
            let t = corpus.traces.iter().find(|t| &t.path == path).unwrap();
            assert!(
                t.packets.windows(2).all(|p| p[0].ts <= p[1].ts),
                "one timeline"
            );
            let experiment = trace_rows(&ex, &t.packets, window).unwrap();
            let settings = tapir_dataset::ExtractSettings {
                window: WindowSpec::disjoint(window).unwrap(),
                ..Default::default()
            };
            let eval = tapir_dataset::extract_file(path, 0, &settings, &ex).unwrap();
            assert!(!eval.rows.is_empty());
            let eval: Vec<f32> = eval.rows.iter().flat_map(|r| r.features.clone()).collect();
            assert_eq!(eval, experiment, "{}", path.display());
            // Sorting by time instead (the experiment's old rule) gives other features.
            let mut sorted = t.packets.clone();
            let original: Vec<i64> = text_times(path);
            if original.windows(2).any(|w| w[1] < w[0]) && path == &trace {
                sorted.clear();
                for (ts, p) in original.iter().zip(&t.packets) {
                    sorted.push(TracePacket::new(Timestamp(*ts), p.size, p.dir));
                }
                sorted.sort_by_key(|p| p.ts);
                assert_ne!(trace_rows(&ex, &sorted, window).unwrap(), experiment);
            }
        }
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// The times of a trace file as written, in nanoseconds (empty for other files).
    fn text_times(path: &std::path::Path) -> Vec<i64> {
        if path.extension().is_none_or(|e| e != "trace") {
            return Vec::new();
        }
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                let (s, us) = l
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .split_once('.')
                    .unwrap();
                s.parse::<i64>().unwrap() * 1_000_000_000 + us.parse::<i64>().unwrap() * 1000
            })
            .collect()
    }

    #[test]
    fn stat_interval() {
        let s = Stat::of(vec![0.9, 0.8, 1.0]);
        assert!((s.mean - 0.9).abs() < 1e-12);
        // sd 0.1, n 3: 4.303 × 0.1 / sqrt 3.
        assert!((s.ci95 - 4.303 * 0.1 / 3f64.sqrt()).abs() < 1e-9);
        assert_eq!(Stat::of(vec![0.5]).ci95, 0.0);
    }

    #[test]
    fn settings_are_checked() {
        assert!(Settings::default().validate().is_ok());
        let s = Settings {
            rates: vec![-1.0],
            ..Settings::default()
        };
        assert!(s.validate().unwrap_err().to_string().contains("rates"));
        let s = Settings {
            seeds: vec![],
            ..Settings::default()
        };
        assert!(s.validate().is_err());
    }
}
