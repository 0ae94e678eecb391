//! Reading datasets for the commands: discovery, parallel extraction with a progress bar,
//! warnings on stderr, and labelled datasets for the models.

use crate::progress;
use anyhow::Context;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use tapir_dataset::{discover, extract_all, ExtractSettings, FileWindows, Source};
use tapir_learn::Dataset;

pub struct Loaded {
    pub sources: Vec<Source>,
    /// Per source: its windows, or `None` when it could not be read (already reported).
    pub files: Vec<Option<FileWindows>>,
}

impl Loaded {
    pub fn windows(&self) -> usize {
        self.files.iter().flatten().map(|f| f.rows.len()).sum()
    }

    pub fn packets(&self) -> u64 {
        self.files.iter().flatten().map(|f| f.packets).sum()
    }
}

pub fn warn(msg: impl std::fmt::Display) {
    eprintln!("tapir: warning: {msg}");
}

/// Inputs skipped so far because they could not be read.
static SKIPPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// An input that could not be read, or that held nothing the command reads: reported now, the
/// command goes on with the others, and the run ends with exit code 1 (see `main`).
pub fn skipped(msg: impl std::fmt::Display) {
    warn(msg);
    SKIPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Counts `n` inputs already reported as unreadable by a library (its warnings printed).
pub fn count_skipped(n: usize) {
    SKIPPED.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
}

/// How many inputs [`skipped`] reported.
pub fn skipped_inputs() -> usize {
    SKIPPED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Finds and reads every file of `inputs`. Unreadable files are reported on stderr and skipped
/// (with `strict`, the first one is the error).
pub fn load(inputs: &[PathBuf], settings: &ExtractSettings) -> anyhow::Result<Loaded> {
    let sources = discover(inputs)?;
    let pb = progress::bar(sources.len() as u64, "reading");
    let results = extract_all(&sources, settings, &|_, _| pb.inc(1))?;
    pb.finish_and_clear();
    let mut files = Vec::with_capacity(sources.len());
    for r in results {
        match r.result {
            Ok(f) => {
                for w in &f.warnings {
                    warn(w);
                }
                if f.packets == 0 {
                    skipped(format!(
                        "{}: no packets in it; file skipped",
                        sources[r.source].path.display()
                    ));
                }
                if f.skipped > 0 {
                    if let Some(first) = &f.first_skip {
                        warn(format!("{} frames skipped (first: {first})", f.skipped));
                    }
                }
                files.push(Some(f));
            }
            Err(e) => {
                skipped(format!("{e}; file skipped"));
                files.push(None);
            }
        }
    }
    Ok(Loaded { sources, files })
}

/// A single-label dataset from `loaded`: sources with exactly one label; columns `cols` of the
/// feature rows. Windows of one group (by default one file) share a group id.
/// Rows read as they are come first (`0..n_original`); augmented copies follow, row
/// `n_original + j` being a copy of row `original_of[j]`.
pub struct Labelled {
    pub dataset: Dataset,
    pub traces: usize,
    /// Index into `Loaded::sources` of each row: with [`tapir_dataset::Columns`] it gives the
    /// row's manifest columns (condition, network profile, program, …).
    pub row_source: Vec<u32>,
    pub n_original: usize,
    pub original_of: Vec<usize>,
}

impl Labelled {
    /// The windows as read, without augmented copies: what folds and splits are drawn on, so
    /// that they are the same with and without augmentation.
    pub fn originals(&self) -> anyhow::Result<Dataset> {
        if self.original_of.is_empty() {
            return Ok(self.dataset.clone());
        }
        let idx: Vec<usize> = (0..self.n_original).collect();
        Ok(self.dataset.subset(&idx)?)
    }

    /// Folds drawn on [`Labelled::originals`] with the augmented copies of each training
    /// window added to its training side; test sides keep windows as read only.
    pub fn with_copies(
        &self,
        folds: Vec<(Vec<usize>, Vec<usize>)>,
    ) -> Vec<(Vec<usize>, Vec<usize>)> {
        if self.original_of.is_empty() {
            return folds;
        }
        folds
            .into_iter()
            .map(|(mut train, test)| {
                let mut in_train = vec![false; self.n_original];
                for &i in &train {
                    in_train[i] = true;
                }
                train.extend(
                    self.original_of
                        .iter()
                        .enumerate()
                        .filter(|(_, &o)| in_train[o])
                        .map(|(j, _)| self.n_original + j),
                );
                (train, test)
            })
            .collect()
    }
}

/// The label of background-traffic captures (the lab's DNS, NTP, polls and updates): traffic to
/// mix into windows for robustness experiments, not an application class.
pub const BACKGROUND: &str = "background";

pub fn labelled(loaded: &Loaded, cols: std::ops::Range<usize>) -> anyhow::Result<Labelled> {
    labelled_with(loaded, cols, false)
}

/// [`labelled`]; with `background_class`, background captures are a class of their own
/// (named [`BACKGROUND`]) instead of being set aside.
pub fn labelled_with(
    loaded: &Loaded,
    cols: std::ops::Range<usize>,
    background_class: bool,
) -> anyhow::Result<Labelled> {
    let mut classes = BTreeSet::new();
    let mut skipped_multi = 0usize;
    let mut unlabelled = 0usize;
    let mut background = 0usize;
    for (s, f) in loaded.sources.iter().zip(&loaded.files) {
        if f.is_none() {
            continue;
        }
        match s.labels.len() {
            0 => unlabelled += 1,
            1 if s.labels[0] == BACKGROUND && !background_class => background += 1,
            1 => {
                classes.insert(s.labels[0].clone());
            }
            _ => skipped_multi += 1,
        }
    }
    if unlabelled > 0 {
        warn(format!("{unlabelled} unlabelled files ignored (a dataset is a folder per label or a manifest CSV)"));
    }
    if background > 0 {
        eprintln!(
            "tapir: note: {background} background captures set aside (background traffic is mixed into windows by `tapir experiment`, not a class)"
        );
    }
    if skipped_multi > 0 {
        eprintln!("tapir: note: {skipped_multi} multi-label captures set aside (single-label models; `tapir experiment` uses them)");
    }
    let classes: Vec<String> = classes.into_iter().collect();
    if classes.len() < 2 {
        anyhow::bail!(
            "need at least two labels to train or evaluate, found {}: {}",
            classes.len(),
            if classes.is_empty() {
                "none".to_string()
            } else {
                classes.join(", ")
            }
        );
    }
    let class_of: BTreeMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let mut group_ids: BTreeMap<&str, u32> = BTreeMap::new();
    let width = cols.len();
    let (mut x, mut y, mut groups, mut row_source) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut traces = BTreeSet::new();
    // (source, unit, window) → row of the window as read, for its augmented copies.
    let mut row_of: BTreeMap<(usize, u64, u32), usize> = BTreeMap::new();
    let mut original_of = Vec::new();
    for pass in [false, true] {
        for (si, (s, f)) in loaded.sources.iter().zip(&loaded.files).enumerate() {
            let (Some(f), [label]) = (f, s.labels.as_slice()) else {
                continue;
            };
            if label == BACKGROUND && !background_class {
                continue;
            }
            let class = class_of[label.as_str()];
            let next = group_ids.len() as u32;
            let g = *group_ids.entry(s.group.as_str()).or_insert(next);
            for r in f.rows.iter().filter(|r| (r.copy > 0) == pass) {
                if pass {
                    let Some(&o) = row_of.get(&(si, r.unit, r.index)) else {
                        continue;
                    };
                    original_of.push(o);
                } else {
                    row_of.insert((si, r.unit, r.index), y.len());
                }
                x.extend_from_slice(&r.features[cols.clone()]);
                y.push(class);
                groups.push(g);
                row_source.push(si as u32);
                traces.insert((si, r.unit));
            }
        }
    }
    let n_original = y.len() - original_of.len();
    if y.is_empty() {
        anyhow::bail!(
            "no windows: every trace is shorter than one window (try a smaller --window)"
        );
    }
    let dataset = Dataset::new(x, width, y, classes, groups).context("building the dataset")?;
    Ok(Labelled {
        dataset,
        traces: traces.len(),
        n_original,
        original_of,
        row_source,
    })
}
