//! Extracted windows → a labelled dataset for the models: the bridge from `tapir-dataset` to
//! `tapir-learn` that `tapir train` and `tapir eval` share.

use crate::{EvalError, Result};
use std::collections::{BTreeMap, BTreeSet};
use tapir_dataset::{FileWindows, Source};
use tapir_learn::Dataset;

/// A single-label dataset from extracted windows: sources with exactly one label; columns
/// `cols` of the feature rows. Windows of one group (by default one file) share a group id.
/// Rows read as they are come first (`0..n_original`); augmented copies follow, row
/// `n_original + j` being a copy of row `original_of[j]`.
pub struct Labelled {
    /// The windows, their classes and groups.
    pub dataset: Dataset,
    /// Traces (units) that gave at least one row.
    pub traces: usize,
    /// Index into the sources of each row: with [`tapir_dataset::Columns`] it gives the
    /// row's manifest columns (condition, network profile, program, …).
    pub row_source: Vec<u32>,
    /// Rows read as they are, before the augmented copies.
    pub n_original: usize,
    /// For each augmented row `n_original + j`, the row it is a copy of.
    pub original_of: Vec<usize>,
    /// Readable sources left out, and why.
    pub set_aside: SetAside,
}

/// Sources [`labelled`] left out of a single-label dataset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetAside {
    /// Sources with no label.
    pub unlabelled: usize,
    /// Background captures (when background is not a class).
    pub background: usize,
    /// Sources with several labels.
    pub multi_label: usize,
}

impl Labelled {
    /// The windows as read, without augmented copies: what folds and splits are drawn on, so
    /// that they are the same with and without augmentation.
    pub fn originals(&self) -> Result<Dataset> {
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

/// The single-label dataset of `sources` and their extracted `files` (`None`: unreadable, left
/// out); with `background_class`, background captures are a class of their own (named
/// [`BACKGROUND`]) instead of being set aside.
pub fn labelled(
    sources: &[Source],
    files: &[Option<FileWindows>],
    cols: std::ops::Range<usize>,
    background_class: bool,
) -> Result<Labelled> {
    let mut classes = BTreeSet::new();
    let mut skipped_multi = 0usize;
    let mut unlabelled = 0usize;
    let mut background = 0usize;
    for (s, f) in sources.iter().zip(files) {
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
    let classes: Vec<String> = classes.into_iter().collect();
    if classes.len() < 2 {
        return Err(EvalError::NoData(format!(
            "need at least two labels to train or evaluate, found {}: {}",
            classes.len(),
            if classes.is_empty() {
                "none".to_string()
            } else {
                classes.join(", ")
            }
        )));
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
        for (si, (s, f)) in sources.iter().zip(files).enumerate() {
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
        return Err(EvalError::NoData(
            "no windows: every trace is shorter than one window (try a smaller --window)".into(),
        ));
    }
    let dataset = Dataset::new(x, width, y, classes, groups)?;
    Ok(Labelled {
        dataset,
        traces: traces.len(),
        n_original,
        original_of,
        row_source,
        set_aside: SetAside {
            unlabelled,
            background,
            multi_label: skipped_multi,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapir_capture::Timestamp;
    use tapir_dataset::WindowRow;

    fn source(name: &str, labels: &[&str], group: &str) -> Source {
        Source {
            path: name.into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            group: group.into(),
            extra: Default::default(),
        }
    }

    /// `n` windows of one value each, plus one augmented copy of the first.
    fn windows(source: usize, value: f32, n: u32) -> FileWindows {
        let row = |index, copy| WindowRow {
            source,
            unit: 0,
            index,
            start: Timestamp(0),
            end: Timestamp(1),
            copy,
            features: vec![value, value + 1.0],
        };
        let mut rows: Vec<WindowRow> = (0..n).map(|i| row(i, 0)).collect();
        rows.push(row(0, 1));
        FileWindows {
            rows,
            ..Default::default()
        }
    }

    #[test]
    fn single_label_rows_copies_and_what_is_set_aside() {
        let sources = vec![
            source("a.pcap", &["web"], "g1"),
            source("b.pcap", &["voip"], "g2"),
            source("c.pcap", &["web"], "g1"),
            source("d.pcap", &["web", "voip"], "g3"),
            source("e.pcap", &[], "g4"),
            source("f.pcap", &[BACKGROUND], "g5"),
            source("g.pcap", &["video"], "g6"),
        ];
        let files = vec![
            Some(windows(0, 1.0, 2)),
            Some(windows(1, 2.0, 3)),
            Some(windows(2, 3.0, 1)),
            Some(windows(3, 4.0, 1)),
            Some(windows(4, 5.0, 1)),
            Some(windows(5, 6.0, 1)),
            None,
        ];
        let lab = labelled(&sources, &files, 1..2, false).unwrap();
        assert_eq!(
            lab.dataset.classes,
            ["voip", "web"],
            "the unreadable video file gives no class"
        );
        assert_eq!(lab.n_original, 6);
        assert_eq!(
            lab.original_of,
            [0, 2, 5],
            "one copy per file, of its first window"
        );
        assert_eq!(lab.dataset.n_rows(), 9);
        assert_eq!(lab.traces, 3);
        assert_eq!(
            lab.set_aside,
            SetAside {
                unlabelled: 1,
                background: 1,
                multi_label: 1
            }
        );
        // Folds drawn on the originals get the copies of their training windows.
        let folds = lab.with_copies(vec![(vec![0, 1], vec![2, 3, 4, 5])]);
        assert_eq!(folds[0].0, [0, 1, 6]);
        assert_eq!(lab.originals().unwrap().n_rows(), 6);
        // Background as a class of its own.
        let with_bg = labelled(&sources, &files, 0..2, true).unwrap();
        assert_eq!(with_bg.dataset.classes, [BACKGROUND, "voip", "web"]);
        assert_eq!(with_bg.set_aside.background, 0);
        // One class is not a dataset.
        let e = labelled(&sources[..1], &files[..1], 0..2, false)
            .err()
            .unwrap();
        assert!(e.to_string().contains("at least two labels"), "{e}");
    }
}
