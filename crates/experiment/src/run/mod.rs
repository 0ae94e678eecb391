//! The experiment engine: for each condition the accuracy tables, the background sweep, the
//! multi-label table and the window-size sweep; across conditions the transfer matrix.

use crate::corpus::{Corpus, Role, Trace};
use crate::defenses::{defense_matrix, DefenseMatrix, DEFENSE_SETTINGS};
use crate::mix::{mix_background, play_together, SplitMix};
use crate::{paper, ExperimentError, Result};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;
use tapir_capture::{Timestamp, TracePacket};
use tapir_eval::{evaluate_grid, evaluate_hold_out, space_columns, Comparison, GridCell, HoldOut};
use tapir_features::{Extractor, FeatureConfig, FeatureSpace, WindowSpec, DEFAULT_WINDOW};
use tapir_learn::metrics::{hamming_loss, per_label_scores, subset_accuracy, ConfusionMatrix};
use tapir_learn::{
    fit_model, predict_rows, split_grouped_stratified, split_windows, Dataset, ModelKind,
    ModelParams, MultiLabelDataset, RfParams,
};

mod accuracy;
mod background;
mod multilabel;
mod results;
mod settings;
mod stats;
mod transfer;
mod window_sweep;

use accuracy::*;
use background::*;
use multilabel::*;
pub use results::*;
pub use settings::*;
pub use stats::*;
use transfer::*;
use window_sweep::*;

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
    total += u64::from(!s.defense_conditions.is_empty());
    total
}

/// Runs every experiment on `corpus`. Experiments a condition lacks data for are listed in
/// [`Results::skipped`] with the reason; only a corpus with no usable condition is an error.
pub fn run(corpus: &Corpus, root: &str, s: &Settings, progress: &dyn Progress) -> Result<Results> {
    s.validate()?;
    s.check_windows(corpus)?;
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
    let defense_attacks = crate::defenses::run_attacks(corpus, s, &mut |c, why| {
        ctx.skip(c, "metadata attacks", why)
    });
    if !s.defense_conditions.is_empty() {
        progress.step("metadata attacks against defences");
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
        defense_attacks,
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
        None,
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
