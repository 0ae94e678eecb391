//! Leave-one-value-out evaluation: every fold tests on all windows of one value of a trace
//! attribute (a network profile, a program, a tunnel) and trains on all the others, so the
//! accuracy predicts what happens on traffic of a kind the lab's training data never held.

use crate::grid::{evaluate_grid, Fold};
use crate::Result;
use serde::Serialize;
use std::collections::BTreeSet;
use std::ops::Range;
use tapir_features::FeatureSpace;
use tapir_learn::metrics::ConfusionMatrix;
use tapir_learn::{
    balance_strata, bootstrap_accuracy, hold_out_folds, paired_bootstrap, Dataset, ModelKind,
    ModelParams, PairedDifference, TraceOutcome, BOOTSTRAP_RESAMPLES,
};

/// One held-out value: what its fold tested on, and what could not be learnt.
#[derive(Clone, Debug, Serialize)]
pub struct HeldOutValue {
    /// The value (`lan`, `mobile`, a program name, …).
    pub value: String,
    /// Test traces (groups) of the value.
    pub traces: usize,
    /// Test windows of the value.
    pub windows: usize,
    /// Classes of the test windows.
    pub classes: Vec<String>,
    /// Classes with no training window in this fold (the other values lack them).
    pub missing_in_training: Vec<String>,
    /// Test windows of a class the fold's training side never saw: they cannot be right.
    pub unlearnable_windows: usize,
    /// Whether the fold ran (false when fewer than two classes were left to train on).
    pub ran: bool,
    /// What went wrong with this fold, in words, if anything.
    pub note: Option<String>,
}

/// One feature space × model cell of a hold-out evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct HoldOutCell {
    /// Feature space.
    pub features: String,
    /// Model.
    pub model: String,
    /// Accuracy on each held-out value (`None` where the fold could not run), in the order of
    /// [`HoldOut::values`].
    pub per_value: Vec<Option<f64>>,
    /// Mean of the per-value accuracies: every network (or program) counts the same.
    pub mean: f64,
    /// Window-weighted accuracy over all folds' test windows pooled.
    pub pooled: f64,
    /// 95% bootstrap interval of the pooled accuracy over test traces.
    pub pooled_ci95: [f64; 2],
    /// Macro F1 of the pooled confusion matrix.
    pub macro_f1: f64,
    /// Per-trace outcomes over all folds, by ascending group id (for paired comparisons).
    #[serde(skip)]
    pub outcomes: Vec<TraceOutcome>,
    /// Pooled confusion matrix.
    #[serde(skip)]
    pub confusion: ConfusionMatrix,
}

/// A paired comparison of two cells on the same held-out folds.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The folds both were scored on (`hold-out wan_profile`).
    pub on: String,
    /// Setting A, `space model`.
    pub a: String,
    /// Setting B, `space model`.
    pub b: String,
    /// B minus A with a bootstrap interval over test traces.
    pub result: PairedDifference,
}

/// Leave-one-value-out results for one column.
#[derive(Clone, Debug, Serialize)]
pub struct HoldOut {
    /// The column held out (`wan_profile`, `program`, …).
    pub column: String,
    /// One entry per value, sorted by name.
    pub values: Vec<HeldOutValue>,
    /// One entry per feature space × model.
    pub cells: Vec<HoldOutCell>,
    /// Traces with no value in the column: they train in every fold and are never tested.
    pub untested_traces: usize,
}

impl HoldOut {
    /// The cell with the highest mean held-out accuracy (ties: pooled, then macro F1).
    pub fn best(&self) -> Option<&HoldOutCell> {
        self.cells.iter().max_by(|a, b| {
            a.mean
                .total_cmp(&b.mean)
                .then(a.pooled.total_cmp(&b.pooled))
                .then(a.macro_f1.total_cmp(&b.macro_f1))
        })
    }

    /// The cell of `features` × `model`.
    pub fn cell(&self, features: &str, model: &str) -> Option<&HoldOutCell> {
        self.cells
            .iter()
            .find(|c| c.features == features && c.model == model)
    }

    /// Paired bootstrap of cell `b` against cell `a` (each `(space, model)`) on the same folds;
    /// `None` when either cell is missing.
    pub fn compare(
        &self,
        a: (&str, &str),
        b: (&str, &str),
        seed: u64,
    ) -> Option<Result<Comparison>> {
        let ca = self.cell(a.0, a.1)?;
        let cb = self.cell(b.0, b.1)?;
        Some(
            paired_bootstrap(&ca.outcomes, &cb.outcomes, BOOTSTRAP_RESAMPLES, seed)
                .map(|result| Comparison {
                    on: format!("hold-out {}", self.column),
                    a: format!("{} {}", a.0, a.1),
                    b: format!("{} {}", b.0, b.1),
                    result,
                })
                .map_err(Into::into),
        )
    }
}

/// Runs the leave-one-value-out evaluation of `column` on `ds`: `values[row]` is the id of the
/// row's value (`None`: no value, always trains), `names[id]` its name. Every space × model of
/// `spaces` × `models` is fitted on each fold whose training side holds two or more classes;
/// a fold with fewer is reported, not run. `seed` seeds the forests and the bootstrap.
///
/// `copies` lists augmented training copies: the last `copies.len()` rows of `ds` are copies,
/// row `n + j` (with `n = ds.n_rows() - copies.len()`) a copy of row `copies[j]`. Folds are
/// drawn on the first `n` rows; a copy joins the training side of its original and is never
/// tested, so a held-out value's windows reach training in no form. `values` covers the first
/// `n` rows.
///
/// `balance`, when given, holds a stratum per row of `ds` (copies included): each fold's
/// training side is then re-weighted with [`tapir_learn::balance_strata`] so that every stratum
/// of a class counts the same.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_hold_out(
    ds: &Dataset,
    copies: &[usize],
    balance: Option<&[Option<u32>]>,
    column: &str,
    values: &[Option<u32>],
    names: &dyn Fn(u32) -> String,
    spaces: &[(FeatureSpace, Range<usize>)],
    models: &[ModelKind],
    params: &ModelParams,
    seed: u64,
    on_fit: &mut dyn FnMut(FeatureSpace, ModelKind),
) -> Result<HoldOut> {
    let n = ds.n_rows() - copies.len().min(ds.n_rows());
    let mut folds = if copies.is_empty() {
        hold_out_folds(ds, values)?
    } else {
        let idx: Vec<usize> = (0..n).collect();
        hold_out_folds(&ds.subset(&idx)?, &values[..n.min(values.len())])?
    };
    if !copies.is_empty() {
        for f in &mut folds {
            let mut in_train = vec![false; n];
            for &i in &f.train {
                in_train[i] = true;
            }
            f.train.extend(
                copies
                    .iter()
                    .enumerate()
                    .filter(|(_, &o)| in_train.get(o).copied().unwrap_or(false))
                    .map(|(j, _)| n + j),
            );
        }
    }
    let values = &values[..n.min(values.len())];
    let mut held = Vec::with_capacity(folds.len());
    let mut runnable: Vec<Fold> = Vec::new();
    for f in &folds {
        let train_classes: BTreeSet<usize> = f.train.iter().map(|&i| ds.y[i]).collect();
        let test_classes: BTreeSet<usize> = f.test.iter().map(|&i| ds.y[i]).collect();
        let missing: Vec<String> = (0..ds.n_classes())
            .filter(|c| !train_classes.contains(c))
            .map(|c| ds.classes[c].clone())
            .collect();
        let unlearnable = f
            .test
            .iter()
            .filter(|&&i| !train_classes.contains(&ds.y[i]))
            .count();
        let ran = train_classes.len() >= 2;
        let mut notes = Vec::new();
        if !ran {
            notes.push(format!(
                "not run: the other values hold {} class(es) to train on",
                train_classes.len()
            ));
        } else if !missing.is_empty() {
            notes.push(format!("training has no {}", missing.join(", ")));
        }
        if ran && unlearnable > 0 {
            notes.push(format!(
                "{unlearnable} test window(s) of a class never seen in training count as wrong"
            ));
        }
        let traces: BTreeSet<u32> = f.test.iter().map(|&i| ds.groups[i]).collect();
        held.push(HeldOutValue {
            value: names(f.value),
            traces: traces.len(),
            windows: f.test.len(),
            classes: test_classes
                .iter()
                .map(|&c| ds.classes[c].clone())
                .collect(),
            missing_in_training: missing,
            unlearnable_windows: unlearnable,
            ran,
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        });
        if ran {
            let train = match balance {
                Some(strata) => balance_strata(&f.train, &ds.y, strata),
                None => f.train.clone(),
            };
            runnable.push((train, f.test.clone()));
        }
    }
    let untested = {
        let g: BTreeSet<u32> = ds
            .groups
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_none())
            .map(|(g, _)| *g)
            .collect();
        g.len()
    };
    if runnable.is_empty() {
        return Err(crate::EvalError::NoData(format!(
            "hold-out {column}: no fold has two classes left to train on"
        )));
    }
    let grid = evaluate_grid(ds, spaces, models, &runnable, params, on_fit)?;
    let cells = grid
        .into_iter()
        .map(|g| {
            let mut per_value = Vec::with_capacity(held.len());
            let mut it = g.fold_accuracy.iter();
            for h in &held {
                per_value.push(if h.ran { it.next().copied() } else { None });
            }
            let ran: Vec<f64> = per_value.iter().flatten().copied().collect();
            let ci = bootstrap_accuracy(&g.outcomes, BOOTSTRAP_RESAMPLES, seed)
                .map(|b| b.ci95)
                .unwrap_or([f64::NAN, f64::NAN]);
            HoldOutCell {
                mean: ran.iter().sum::<f64>() / ran.len() as f64,
                pooled: g.accuracy,
                pooled_ci95: ci,
                macro_f1: g.macro_f1,
                per_value,
                features: g.features,
                model: g.model,
                outcomes: g.outcomes,
                confusion: g.confusion,
            }
        })
        .collect();
    Ok(HoldOut {
        column: column.to_string(),
        values: held,
        cells,
        untested_traces: untested,
    })
}

/// What a held-out column stands for, in words: `wan_profile` → "network", `program` →
/// "program", `condition` → "tunnel", anything else "COLUMN value".
pub fn column_kind(column: &str) -> String {
    match column {
        c if c.contains("profile") => "network".into(),
        "program" => "program".into(),
        "condition" => "tunnel".into(),
        c => format!("{c} value"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes told apart by column 0; column 1 is the "network": its offset differs by
    /// value, and value 2 holds only class 0.
    fn toy() -> (Dataset, Vec<Option<u32>>) {
        let (mut x, mut y, mut g, mut v) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for trace in 0..24u32 {
            let value = trace % 3;
            let class = if value == 2 {
                0
            } else {
                (trace / 3 % 2) as usize
            };
            for w in 0..4 {
                x.extend_from_slice(&[
                    class as f32 * 4.0 + (w % 2) as f32 * 0.3,
                    value as f32 + w as f32 * 0.1,
                ]);
                y.push(class);
                g.push(trace);
                v.push(Some(value));
            }
        }
        (
            Dataset::new(x, 2, y, vec!["a".into(), "b".into()], g).unwrap(),
            v,
        )
    }

    #[test]
    fn one_fold_per_value_with_means_pooled_and_paired() {
        let (ds, values) = toy();
        let mut fits = 0;
        let h = evaluate_hold_out(
            &ds,
            &[],
            None,
            "net",
            &values,
            &|v| format!("net{v}"),
            &[(FeatureSpace::SizeIat, 0..1), (FeatureSpace::Burst, 1..2)],
            &[ModelKind::Nb],
            &ModelParams::default(),
            1,
            &mut |_, _| fits += 1,
        )
        .unwrap();
        assert_eq!(fits, 6);
        let names: Vec<&str> = h.values.iter().map(|v| v.value.as_str()).collect();
        assert_eq!(names, ["net0", "net1", "net2"]);
        assert_eq!(h.values[2].classes, ["a"]);
        assert!(h
            .values
            .iter()
            .all(|v| v.ran && v.windows == 32 && v.traces == 8));
        let good = h.cell("size-iat", "nb").unwrap();
        assert_eq!(good.per_value, vec![Some(1.0); 3]);
        assert_eq!((good.mean, good.pooled), (1.0, 1.0));
        assert_eq!(good.outcomes.len(), 24);
        assert_eq!(h.best().unwrap().features, "size-iat");
        let bad = h.cell("burst", "nb").unwrap();
        assert!(bad.pooled < 0.9, "{}", bad.pooled);
        let c = h
            .compare(("burst", "nb"), ("size-iat", "nb"), 3)
            .unwrap()
            .unwrap();
        assert!(c.result.difference > 0.1 && c.result.ci95[0] > 0.0, "{c:?}");
        assert!(h.compare(("x", "nb"), ("size-iat", "nb"), 3).is_none());
    }

    #[test]
    fn a_value_that_holds_a_class_alone_is_reported_not_a_panic() {
        let (mut ds, values) = toy();
        // Class b only in value 1: holding it out leaves no b to train on.
        for (i, v) in values.iter().enumerate() {
            if *v != Some(1) {
                ds.y[i] = 0;
            } else {
                ds.y[i] = 1;
            }
        }
        let h = evaluate_hold_out(
            &ds,
            &[],
            None,
            "net",
            &values,
            &|v| v.to_string(),
            &[(FeatureSpace::SizeIat, 0..2)],
            &[ModelKind::Nb],
            &ModelParams::default(),
            1,
            &mut |_, _| {},
        )
        .unwrap();
        let one = &h.values[1];
        assert!(!one.ran, "{one:?}");
        assert_eq!(one.missing_in_training, ["b"]);
        assert!(one.note.as_deref().unwrap().contains("not run"));
        assert_eq!(h.cells[0].per_value[1], None);
        assert!(h.values[0].ran && h.values[2].ran);
    }
}
