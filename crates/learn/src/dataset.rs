//! Datasets and seeded, deterministic splits.
//!
//! Rows are feature windows; each row belongs to a *group*, the trace it was cut from. Windows
//! of one trace are strongly correlated (same session, same server, same codec), so a split that
//! puts some on each side measures memory rather than generalisation. [`split_grouped_stratified`]
//! and [`grouped_kfold`] keep groups whole; [`split_windows`] reproduces the paper's random window
//! split for comparison. [`hold_out_folds`] goes further: each fold tests on every row of one
//! value of a trace attribute (a network profile, a program, a tunnel) that training never saw.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{LearnError, Result};
use crate::rng::Rng;

/// Single-label dataset: dense `f32` rows, one class per row, one group per row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Row-major features, `n_rows * n_features` values.
    pub x: Vec<f32>,
    /// Columns per row.
    pub n_features: usize,
    /// Class index of each row, `< classes.len()`.
    pub y: Vec<usize>,
    /// Class names, indexed by class.
    pub classes: Vec<String>,
    /// Source trace of each row; rows of one group never straddle a grouped split.
    pub groups: Vec<u32>,
}

/// Indices of the rows on each side of a split, each sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Training rows.
    pub train: Vec<usize>,
    /// Test rows.
    pub test: Vec<usize>,
}

impl Dataset {
    /// Builds a dataset and checks it: lengths agree, labels are in range, values are finite.
    pub fn new(
        x: Vec<f32>,
        n_features: usize,
        y: Vec<usize>,
        classes: Vec<String>,
        groups: Vec<u32>,
    ) -> Result<Self> {
        let ds = Self {
            x,
            n_features,
            y,
            classes,
            groups,
        };
        ds.validate()?;
        Ok(ds)
    }

    /// Checks the invariants [`Dataset::new`] establishes; models call it before fitting because
    /// the fields are public.
    pub fn validate(&self) -> Result<()> {
        check_matrix(&self.x, self.n_features, self.y.len(), self.groups.len())?;
        if self.classes.is_empty() {
            return Err(LearnError::InvalidDataset("no class names".into()));
        }
        if let Some((row, &c)) = self
            .y
            .iter()
            .enumerate()
            .find(|(_, &c)| c >= self.classes.len())
        {
            return Err(LearnError::InvalidDataset(format!(
                "row {row} has class {c} but there are only {} classes",
                self.classes.len()
            )));
        }
        Ok(())
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.y.len()
    }

    /// Number of classes (names), including classes with no rows.
    pub fn n_classes(&self) -> usize {
        self.classes.len()
    }

    /// Row `i`; empty when out of range.
    pub fn row(&self, i: usize) -> &[f32] {
        self.x
            .get(i * self.n_features..(i + 1) * self.n_features)
            .unwrap_or(&[])
    }

    /// Rows per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for &c in &self.y {
            if let Some(n) = counts.get_mut(c) {
                *n += 1;
            }
        }
        counts
    }

    /// A new dataset holding rows `idx` in that order (same classes); out-of-range indices are
    /// an error.
    pub fn subset(&self, idx: &[usize]) -> Result<Self> {
        let n = self.n_rows();
        if self.groups.len() != n || Some(self.x.len()) != n.checked_mul(self.n_features) {
            return Err(LearnError::InvalidDataset(
                "features, labels and groups disagree in length".into(),
            ));
        }
        if let Some(&bad) = idx.iter().find(|&&i| i >= n) {
            return Err(LearnError::InvalidDataset(format!(
                "subset index {bad} out of range ({n} rows)"
            )));
        }
        let mut x = Vec::with_capacity(idx.len() * self.n_features);
        for &i in idx {
            x.extend_from_slice(self.row(i));
        }
        Ok(Self {
            x,
            n_features: self.n_features,
            y: idx.iter().map(|&i| self.y[i]).collect(),
            classes: self.classes.clone(),
            groups: idx.iter().map(|&i| self.groups[i]).collect(),
        })
    }
}

/// Multi-label dataset (paper Table IV: a window may carry several traffic types at once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiLabelDataset {
    /// Row-major features, `n_rows * n_features` values.
    pub x: Vec<f32>,
    /// Columns per row.
    pub n_features: usize,
    /// `y[row][label]` is true when the row carries that label.
    pub y: Vec<Vec<bool>>,
    /// Label names, indexed by label.
    pub labels: Vec<String>,
    /// Source trace of each row.
    pub groups: Vec<u32>,
}

impl MultiLabelDataset {
    /// Builds a multi-label dataset and checks it like [`Dataset::new`]; every row must have one
    /// flag per label.
    pub fn new(
        x: Vec<f32>,
        n_features: usize,
        y: Vec<Vec<bool>>,
        labels: Vec<String>,
        groups: Vec<u32>,
    ) -> Result<Self> {
        let ds = Self {
            x,
            n_features,
            y,
            labels,
            groups,
        };
        ds.validate()?;
        Ok(ds)
    }

    /// Checks the invariants [`MultiLabelDataset::new`] establishes.
    pub fn validate(&self) -> Result<()> {
        check_matrix(&self.x, self.n_features, self.y.len(), self.groups.len())?;
        if self.labels.is_empty() {
            return Err(LearnError::InvalidDataset("no label names".into()));
        }
        if let Some((row, flags)) = self
            .y
            .iter()
            .enumerate()
            .find(|(_, f)| f.len() != self.labels.len())
        {
            return Err(LearnError::InvalidDataset(format!(
                "row {row} has {} label flags but there are {} labels",
                flags.len(),
                self.labels.len()
            )));
        }
        Ok(())
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.y.len()
    }

    /// Row `i`; empty when out of range.
    pub fn row(&self, i: usize) -> &[f32] {
        self.x
            .get(i * self.n_features..(i + 1) * self.n_features)
            .unwrap_or(&[])
    }

    /// A new dataset holding rows `idx` in that order; out-of-range indices are an error.
    pub fn subset(&self, idx: &[usize]) -> Result<Self> {
        let n = self.n_rows();
        if self.groups.len() != n || Some(self.x.len()) != n.checked_mul(self.n_features) {
            return Err(LearnError::InvalidDataset(
                "features, labels and groups disagree in length".into(),
            ));
        }
        if let Some(&bad) = idx.iter().find(|&&i| i >= n) {
            return Err(LearnError::InvalidDataset(format!(
                "subset index {bad} out of range ({n} rows)"
            )));
        }
        let mut x = Vec::with_capacity(idx.len() * self.n_features);
        for &i in idx {
            x.extend_from_slice(self.row(i));
        }
        Ok(Self {
            x,
            n_features: self.n_features,
            y: idx.iter().map(|&i| self.y[i].clone()).collect(),
            labels: self.labels.clone(),
            groups: idx.iter().map(|&i| self.groups[i]).collect(),
        })
    }

    /// The single-label view used to stratify splits: each distinct label set becomes one class
    /// (named like `voip+web`), so splits keep every combination on both sides when they can.
    /// Split it with [`split_grouped_stratified`] or [`grouped_kfold`], then take
    /// [`MultiLabelDataset::subset`]s of the returned rows.
    pub fn label_sets(&self) -> Dataset {
        let mut names: BTreeMap<Vec<bool>, usize> = BTreeMap::new();
        for flags in &self.y {
            let next = names.len();
            names.entry(flags.clone()).or_insert(next);
        }
        let mut classes = vec![String::new(); names.len()];
        for (flags, &i) in &names {
            let parts: Vec<&str> = flags
                .iter()
                .zip(&self.labels)
                .filter(|(f, _)| **f)
                .map(|(_, l)| l.as_str())
                .collect();
            classes[i] = if parts.is_empty() {
                "(none)".into()
            } else {
                parts.join("+")
            };
        }
        Dataset {
            x: Vec::new(),
            n_features: 0,
            y: self.y.iter().map(|f| names[f]).collect(),
            classes,
            groups: self.groups.clone(),
        }
    }
}

fn check_matrix(x: &[f32], n_features: usize, n_y: usize, n_groups: usize) -> Result<()> {
    if n_y == 0 {
        return Err(LearnError::InvalidDataset("no rows".into()));
    }
    if n_groups != n_y {
        return Err(LearnError::InvalidDataset(format!(
            "{n_y} labels but {n_groups} group ids"
        )));
    }
    // An empty feature matrix is allowed only as a label-only view (used for stratification).
    if !x.is_empty() || n_features != 0 {
        if n_features == 0 {
            return Err(LearnError::InvalidDataset("zero features per row".into()));
        }
        if Some(x.len()) != n_y.checked_mul(n_features) {
            return Err(LearnError::InvalidDataset(format!(
                "{} feature values is not {n_y} rows x {n_features} features",
                x.len()
            )));
        }
        if let Some((i, &v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(LearnError::NonFiniteFeature {
                row: i / n_features,
                column: i % n_features,
                value: v,
            });
        }
    }
    Ok(())
}

/// Each group's label for stratification: the most common class among its rows (ties go to the
/// lower class index, so the result does not depend on row order). Returns groups in ascending id
/// order with their rows.
fn groups_by_label(ds: &Dataset) -> BTreeMap<u32, (usize, Vec<usize>)> {
    let mut rows: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, &g) in ds.groups.iter().enumerate() {
        rows.entry(g).or_default().push(i);
    }
    rows.into_iter()
        .map(|(g, r)| {
            let mut counts = vec![0usize; ds.classes.len()];
            for &i in &r {
                if let Some(c) = counts.get_mut(ds.y[i]) {
                    *c += 1;
                }
            }
            let mut best = 0;
            for (c, &n) in counts.iter().enumerate() {
                if n > counts[best] {
                    best = c;
                }
            }
            (g, (best, r))
        })
        .collect()
}

fn check_frac(test_frac: f64) -> Result<()> {
    if !(test_frac > 0.0 && test_frac < 1.0) {
        return Err(crate::error::param(
            "test_frac",
            format!("{test_frac} is not in (0, 1)"),
        ));
    }
    Ok(())
}

/// Splits by whole groups, stratified by each group's label.
///
/// For each class, its groups are shuffled with `seed` and `round(test_frac * n)` of them go to
/// the test side, clamped to `1..=n-1` when the class has at least two groups so that every such
/// class appears on both sides. A class with a single group stays in training (testing on it
/// would leave nothing to learn it from).
pub fn split_grouped_stratified(ds: &Dataset, test_frac: f64, seed: u64) -> Result<Split> {
    check_frac(test_frac)?;
    validate_labels(ds)?;
    let groups = groups_by_label(ds);
    let mut per_class: Vec<Vec<u32>> = vec![Vec::new(); ds.classes.len()];
    for (&g, (label, _)) in &groups {
        per_class[*label].push(g);
    }
    let mut rng = Rng::new(seed);
    let mut test_groups = std::collections::BTreeSet::new();
    for gs in &mut per_class {
        rng.shuffle(gs);
        let n = gs.len();
        if n < 2 {
            continue;
        }
        let k = ((test_frac * n as f64).round() as usize).clamp(1, n - 1);
        test_groups.extend(gs[..k].iter().copied());
    }
    let mut split = Split {
        train: Vec::new(),
        test: Vec::new(),
    };
    for (g, (_, rows)) in groups {
        if test_groups.contains(&g) {
            split.test.extend(rows);
        } else {
            split.train.extend(rows);
        }
    }
    split.train.sort_unstable();
    split.test.sort_unstable();
    if split.test.is_empty() {
        return Err(LearnError::InvalidSplit(
            "no class has two or more groups, so no group can be held out; add traces".into(),
        ));
    }
    Ok(split)
}

/// The paper's split: windows shuffled with `seed`, `round(test_frac * n)` of them to the test
/// side, ignoring groups.
///
/// This leaks: neighbouring windows of one trace land on both sides, and they share the trace's
/// server, codec and path, so accuracy measures recognition of seen traces more than of traffic
/// types. It is kept to reproduce the paper's tables; prefer [`split_grouped_stratified`].
pub fn split_windows(ds: &Dataset, test_frac: f64, seed: u64) -> Result<Split> {
    check_frac(test_frac)?;
    let n = ds.n_rows();
    if n < 2 {
        return Err(LearnError::InvalidSplit(format!(
            "{n} rows cannot be split"
        )));
    }
    let mut idx: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut idx);
    let k = ((test_frac * n as f64).round() as usize).clamp(1, n - 1);
    let mut test = idx[..k].to_vec();
    let mut train = idx[k..].to_vec();
    test.sort_unstable();
    train.sort_unstable();
    Ok(Split { train, test })
}

/// `k` folds of whole groups, stratified by group label: each class's groups are shuffled with
/// `seed` and dealt round-robin, continuing across classes so fold sizes stay even. Returns
/// `(train, test)` row indices per fold, each sorted.
pub fn grouped_kfold(ds: &Dataset, k: usize, seed: u64) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    validate_labels(ds)?;
    let groups = groups_by_label(ds);
    if k < 2 {
        return Err(crate::error::param(
            "k",
            format!("{k} folds; need at least 2"),
        ));
    }
    if k > groups.len() {
        return Err(LearnError::InvalidSplit(format!(
            "{k} folds but only {} groups",
            groups.len()
        )));
    }
    let mut per_class: Vec<Vec<u32>> = vec![Vec::new(); ds.classes.len()];
    for (&g, (label, _)) in &groups {
        per_class[*label].push(g);
    }
    let mut rng = Rng::new(seed);
    let mut fold_of: BTreeMap<u32, usize> = BTreeMap::new();
    let mut next = 0;
    for gs in &mut per_class {
        rng.shuffle(gs);
        for &g in gs.iter() {
            fold_of.insert(g, next % k);
            next += 1;
        }
    }
    let mut folds = Vec::with_capacity(k);
    for f in 0..k {
        let mut train = Vec::new();
        let mut test = Vec::new();
        for (g, (_, rows)) in &groups {
            if fold_of.get(g) == Some(&f) {
                test.extend_from_slice(rows);
            } else {
                train.extend_from_slice(rows);
            }
        }
        train.sort_unstable();
        test.sort_unstable();
        folds.push((train, test));
    }
    Ok(folds)
}

/// One fold of a leave-one-value-out evaluation ([`hold_out_folds`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldOutFold {
    /// The value held out: every test row has it, no training row does.
    pub value: u32,
    /// Training rows, sorted ascending.
    pub train: Vec<usize>,
    /// Test rows, sorted ascending.
    pub test: Vec<usize>,
}

/// Leave-one-value-out folds: `values[row]` is the row's value of an attribute of its trace
/// (its network profile, the program that made it, …), `None` when the trace has none. Each
/// distinct value gives one fold that tests on all rows of that value and trains on all others,
/// so the test measures what happens on traffic of a value the model has never seen. Rows
/// without a value train in every fold and are never tested. Folds come in ascending value
/// order.
///
/// Groups stay whole: a group (trace) whose rows carry two different values is an error, since
/// it would be on both sides of some fold. Fewer than two distinct values is an error too
/// (nothing would be left to train on).
pub fn hold_out_folds(ds: &Dataset, values: &[Option<u32>]) -> Result<Vec<HoldOutFold>> {
    if values.len() != ds.n_rows() || ds.groups.len() != ds.n_rows() {
        return Err(LearnError::InvalidDataset(format!(
            "{} hold-out values for {} rows ({} group ids)",
            values.len(),
            ds.n_rows(),
            ds.groups.len()
        )));
    }
    let mut value_of_group: BTreeMap<u32, Option<u32>> = BTreeMap::new();
    for (&g, &v) in ds.groups.iter().zip(values) {
        match value_of_group.insert(g, v) {
            Some(before) if before != v => {
                return Err(LearnError::InvalidSplit(format!(
                    "group {g} has rows of two hold-out values ({} and {}); a group must have one \
                     value so that it stays on one side",
                    show_value(before),
                    show_value(v)
                )))
            }
            _ => {}
        }
    }
    let mut rows_of: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, v) in values.iter().enumerate() {
        if let Some(v) = v {
            rows_of.entry(*v).or_default().push(i);
        }
    }
    if rows_of.len() < 2 {
        return Err(LearnError::InvalidSplit(format!(
            "{} distinct hold-out value(s); need two or more to hold one out",
            rows_of.len()
        )));
    }
    Ok(rows_of
        .into_iter()
        .map(|(value, test)| {
            let train = values
                .iter()
                .enumerate()
                .filter(|(_, v)| **v != Some(value))
                .map(|(i, _)| i)
                .collect();
            HoldOutFold { value, train, test }
        })
        .collect())
}

/// Training rows re-weighted by repetition so that, inside each class, every stratum (the
/// program that made a trace, its network, …) carries the same number of rows: each stratum's
/// rows are repeated until it matches the class's largest stratum (whole repeats, then an
/// evenly spaced selection of its rows for the remainder). Rows whose stratum is `None` form
/// one stratum of their own per class. Deterministic; the result is sorted.
///
/// Why: a class learnt mostly from one program is learnt as that program (a forest trained on
/// 38 chromium and 6 firefox page loads calls "web" what looks like chromium). Equal weight per
/// program makes the model keep what the programs of a class share. Every model here treats a
/// repeated row as a row of weight two, so repetition is a weighting, not new data.
///
/// `y` and `strata` are indexed by row; `train` lists the rows to balance (any order).
pub fn balance_strata(train: &[usize], y: &[usize], strata: &[Option<u32>]) -> Vec<usize> {
    let mut by: BTreeMap<(usize, Option<u32>), Vec<usize>> = BTreeMap::new();
    for &i in train {
        let (Some(&c), Some(&s)) = (y.get(i), strata.get(i)) else {
            continue;
        };
        by.entry((c, s)).or_default().push(i);
    }
    let mut largest: BTreeMap<usize, usize> = BTreeMap::new();
    for ((c, _), rows) in &by {
        let m = largest.entry(*c).or_default();
        *m = (*m).max(rows.len());
    }
    let mut out = Vec::with_capacity(train.len());
    for ((c, _), rows) in &by {
        let target = largest[c];
        let n = rows.len();
        for _ in 0..target / n {
            out.extend_from_slice(rows);
        }
        let rem = target % n;
        out.extend((0..rem).map(|k| rows[k * n / rem]));
    }
    out.sort_unstable();
    out
}

fn show_value(v: Option<u32>) -> String {
    v.map_or_else(|| "none".to_string(), |v| v.to_string())
}

fn validate_labels(ds: &Dataset) -> Result<()> {
    if ds.y.is_empty() || ds.y.len() != ds.groups.len() {
        return Err(LearnError::InvalidDataset(format!(
            "{} labels and {} group ids",
            ds.y.len(),
            ds.groups.len()
        )));
    }
    if ds.y.iter().any(|&c| c >= ds.classes.len()) {
        return Err(LearnError::InvalidDataset("label out of range".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// 3 classes; class 0 has 10 groups, class 1 has 5, class 2 has 1; 4 rows per group.
    fn toy() -> Dataset {
        let mut y = Vec::new();
        let mut groups = Vec::new();
        let mut g = 0u32;
        for (class, n_groups) in [(0usize, 10), (1, 5), (2, 1)] {
            for _ in 0..n_groups {
                for _ in 0..4 {
                    y.push(class);
                    groups.push(g);
                }
                g += 1;
            }
        }
        let n = y.len();
        Dataset::new(
            (0..n).map(|i| i as f32).collect(),
            1,
            y,
            vec!["a".into(), "b".into(), "c".into()],
            groups,
        )
        .unwrap()
    }

    fn groups_of(ds: &Dataset, rows: &[usize]) -> BTreeSet<u32> {
        rows.iter().map(|&i| ds.groups[i]).collect()
    }

    #[test]
    fn grouped_split_keeps_groups_whole_and_stratifies() {
        let ds = toy();
        let s = split_grouped_stratified(&ds, 0.2, 42).unwrap();
        assert_eq!(s.train.len() + s.test.len(), ds.n_rows());
        let tr = groups_of(&ds, &s.train);
        let te = groups_of(&ds, &s.test);
        assert!(tr.is_disjoint(&te));
        let test_classes: BTreeSet<usize> = s.test.iter().map(|&i| ds.y[i]).collect();
        let train_classes: BTreeSet<usize> = s.train.iter().map(|&i| ds.y[i]).collect();
        // Classes 0 and 1 have >= 2 groups: both sides. Class 2 has one group: train only.
        assert_eq!(test_classes, BTreeSet::from([0, 1]));
        assert_eq!(train_classes, BTreeSet::from([0, 1, 2]));
        // 20% of 10 groups = 2, of 5 groups = 1.
        assert_eq!(te.len(), 3);
        assert_eq!(s, split_grouped_stratified(&ds, 0.2, 42).unwrap());
        assert_ne!(s, split_grouped_stratified(&ds, 0.2, 43).unwrap());
    }

    #[test]
    fn window_split_is_seeded_and_complete() {
        let ds = toy();
        let s = split_windows(&ds, 0.25, 1).unwrap();
        assert_eq!(s.test.len(), 16);
        let all: BTreeSet<usize> = s.train.iter().chain(&s.test).copied().collect();
        assert_eq!(all.len(), ds.n_rows());
        assert_eq!(s, split_windows(&ds, 0.25, 1).unwrap());
        assert!(split_windows(&ds, 1.0, 1).is_err());
        assert!(split_windows(&ds, f64::NAN, 1).is_err());
    }

    #[test]
    fn kfold_covers_every_row_once_and_keeps_groups_whole() {
        let ds = toy();
        let folds = grouped_kfold(&ds, 5, 9).unwrap();
        assert_eq!(folds.len(), 5);
        let mut seen = vec![0; ds.n_rows()];
        for (train, test) in &folds {
            assert!(groups_of(&ds, train).is_disjoint(&groups_of(&ds, test)));
            assert_eq!(train.len() + test.len(), ds.n_rows());
            for &i in test {
                seen[i] += 1;
            }
            // 16 groups over 5 folds: 3 or 4 groups each.
            let n = groups_of(&ds, test).len();
            assert!((3..=4).contains(&n), "{n}");
            // Stratified: each fold tests 2 of class 0's 10 groups.
            assert_eq!(test.iter().filter(|&&i| ds.y[i] == 0).count(), 8);
        }
        assert!(seen.iter().all(|&s| s == 1));
        assert!(grouped_kfold(&ds, 1, 0).is_err());
        assert!(grouped_kfold(&ds, 17, 0).is_err());
    }

    #[test]
    fn hold_out_folds_test_each_value_once() {
        let ds = toy();
        // Groups 0..16; value = group % 3, group 15 without a value.
        let values: Vec<Option<u32>> = ds
            .groups
            .iter()
            .map(|&g| (g != 15).then_some(g % 3))
            .collect();
        let folds = hold_out_folds(&ds, &values).unwrap();
        assert_eq!(folds.iter().map(|f| f.value).collect::<Vec<_>>(), [0, 1, 2]);
        for f in &folds {
            assert!(f.test.iter().all(|&i| values[i] == Some(f.value)));
            assert!(f.train.iter().all(|&i| values[i] != Some(f.value)));
            assert_eq!(f.train.len() + f.test.len(), ds.n_rows());
            // Group 15 has no value: always trains.
            assert!(f.train.iter().any(|&i| ds.groups[i] == 15));
        }
        // A group with two values would straddle; one value leaves nothing to train on.
        let mut mixed = values.clone();
        mixed[0] = Some(1);
        let e = hold_out_folds(&ds, &mixed).unwrap_err().to_string();
        assert!(e.contains("group 0"), "{e}");
        assert!(hold_out_folds(&ds, &vec![Some(4); ds.n_rows()]).is_err());
        assert!(hold_out_folds(&ds, &values[1..]).is_err());
    }

    proptest::proptest! {
        /// Whatever the assignment of values to groups, no fold puts a value or a group on both
        /// sides, and every row with a value is tested exactly once.
        #[test]
        fn hold_out_never_puts_a_value_or_group_on_both_sides(
            group_values in proptest::collection::vec(proptest::option::weighted(0.9, 0u32..6), 2..40),
            rows_per_group in proptest::collection::vec(1usize..5, 40),
        ) {
            let (mut y, mut groups, mut values) = (Vec::new(), Vec::new(), Vec::new());
            for (g, v) in group_values.iter().enumerate() {
                for _ in 0..rows_per_group[g] {
                    y.push(g % 2);
                    groups.push(g as u32);
                    values.push(*v);
                }
            }
            let n = y.len();
            let ds = Dataset::new(vec![0.0; n], 1, y, vec!["a".into(), "b".into()], groups)
                .unwrap();
            let distinct: BTreeSet<u32> = values.iter().flatten().copied().collect();
            match hold_out_folds(&ds, &values) {
                Err(_) => proptest::prop_assert!(distinct.len() < 2),
                Ok(folds) => {
                    proptest::prop_assert_eq!(folds.len(), distinct.len());
                    let mut tested = vec![0usize; n];
                    for f in &folds {
                        let train_values: BTreeSet<Option<u32>> =
                            f.train.iter().map(|&i| values[i]).collect();
                        proptest::prop_assert!(!train_values.contains(&Some(f.value)));
                        proptest::prop_assert!(f.test.iter().all(|&i| values[i] == Some(f.value)));
                        proptest::prop_assert!(
                            groups_of(&ds, &f.train).is_disjoint(&groups_of(&ds, &f.test))
                        );
                        proptest::prop_assert_eq!(f.train.len() + f.test.len(), n);
                        for &i in &f.test {
                            tested[i] += 1;
                        }
                    }
                    for (i, t) in tested.iter().enumerate() {
                        proptest::prop_assert_eq!(*t, usize::from(values[i].is_some()));
                    }
                }
            }
        }
    }

    #[test]
    fn invalid_datasets_are_rejected() {
        let names = vec!["a".to_string()];
        assert!(Dataset::new(vec![1.0; 3], 2, vec![0, 0], names.clone(), vec![0, 0]).is_err());
        assert!(Dataset::new(vec![1.0; 2], 1, vec![0, 1], names.clone(), vec![0, 0]).is_err());
        assert!(matches!(
            Dataset::new(
                vec![1.0, f32::NAN],
                1,
                vec![0, 0],
                names.clone(),
                vec![0, 0]
            ),
            Err(LearnError::NonFiniteFeature {
                row: 1,
                column: 0,
                ..
            })
        ));
        assert!(Dataset::new(vec![], 1, vec![], names, vec![]).is_err());
    }

    #[test]
    fn label_sets_name_combinations() {
        let ds = MultiLabelDataset::new(
            vec![0.0; 3],
            1,
            vec![vec![true, false], vec![true, true], vec![true, false]],
            vec!["web".into(), "voip".into()],
            vec![0, 1, 2],
        )
        .unwrap();
        let single = ds.label_sets();
        let part = ds.subset(&[1, 2]).unwrap();
        assert_eq!(part.y, vec![vec![true, true], vec![true, false]]);
        assert_eq!(part.groups, vec![1, 2]);
        assert!(ds.subset(&[3]).is_err());
        assert_eq!(single.y[0], single.y[2]);
        assert_ne!(single.y[0], single.y[1]);
        assert_eq!(single.classes[single.y[1]], "web+voip");
    }

    #[test]
    fn balance_gives_every_stratum_of_a_class_the_same_rows() {
        // Class 0: stratum 1 has 6 rows, stratum 2 has 2 rows, no stratum 1 row; class 1: 3 rows
        // of stratum 1 only.
        let y = vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1];
        let s: Vec<Option<u32>> = [
            vec![Some(1); 6],
            vec![Some(2); 2],
            vec![None],
            vec![Some(1); 3],
        ]
        .concat();
        let train: Vec<usize> = (0..12).collect();
        let b = balance_strata(&train, &y, &s);
        let count =
            |c: usize, st: Option<u32>| b.iter().filter(|&&i| y[i] == c && s[i] == st).count();
        assert_eq!(count(0, Some(1)), 6);
        assert_eq!(count(0, Some(2)), 6);
        assert_eq!(count(0, None), 6);
        assert_eq!(
            count(1, Some(1)),
            3,
            "a class is not scaled to another class's size"
        );
        // Stratum 2's two rows three times each; the lone None row six times.
        assert_eq!(b.iter().filter(|&&i| i == 6).count(), 3);
        assert_eq!(b.iter().filter(|&&i| i == 8).count(), 6);
        // Only training rows appear, and balancing a balanced set changes nothing.
        let part = balance_strata(&[0, 1, 9, 10], &y, &s);
        assert_eq!(part, vec![0, 1, 9, 10]);
    }

    #[test]
    fn balance_remainder_is_spread_over_the_stratum() {
        let y = vec![0; 7];
        let s = [vec![Some(1); 5], vec![Some(2); 2]].concat();
        let b = balance_strata(&[0, 1, 2, 3, 4, 5, 6], &y, &s);
        // Stratum 2 needs 5 rows from 2: both twice, then row 5 once more.
        assert_eq!(b, vec![0, 1, 2, 3, 4, 5, 5, 5, 6, 6]);
    }
}
