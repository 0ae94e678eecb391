//! The evaluation grid shared by `tapir eval` and the experiment: every feature space × model
//! over a list of train/test folds, with pooled confusion matrices.

use crate::Result;
use serde::Serialize;
use std::ops::Range;
use std::time::Instant;
use tapir_features::{Extractor, FeatureConfig, FeatureSpace};
use tapir_learn::metrics::ConfusionMatrix;
use tapir_learn::{
    fit_model, predict_rows, trace_outcomes, Dataset, ModelKind, ModelParams, TraceOutcome,
};

/// Train and test row indices of one fold.
pub type Fold = (Vec<usize>, Vec<usize>);

/// One space × model cell of the grid.
#[derive(Clone, Debug, Serialize)]
pub struct GridCell {
    /// Feature space name (`size-iat`, `burst`, `combined`).
    pub features: String,
    /// Model name (`nb`, `lr`, `rf`).
    pub model: String,
    /// Accuracy over the test rows of all folds pooled.
    pub accuracy: f64,
    /// Macro F1 of the pooled confusion matrix.
    pub macro_f1: f64,
    /// Accuracy of each fold.
    pub fold_accuracy: Vec<f64>,
    /// Wall time of fitting and predicting, all folds.
    pub fit_seconds: f64,
    /// Pooled confusion matrix (true × predicted).
    #[serde(skip)]
    pub confusion: ConfusionMatrix,
    /// Windows right / windows tested per test trace (group), by ascending group id: two cells
    /// run on the same folds pair up index by index for [`tapir_learn::paired_bootstrap`].
    #[serde(skip)]
    pub outcomes: Vec<TraceOutcome>,
}

/// Columns of each feature space inside a `combined` row (combined = size-iat then burst, see
/// `docs/features.md`), so that features are extracted once and each space is a column slice.
pub fn space_columns(cfg: &FeatureConfig, space: FeatureSpace) -> Result<Range<usize>> {
    let ex = Extractor::new(cfg)?;
    let si = ex.dim(FeatureSpace::SizeIat);
    let total = ex.dim(FeatureSpace::Combined);
    Ok(match space {
        FeatureSpace::SizeIat => 0..si,
        FeatureSpace::Burst => si..total,
        FeatureSpace::Combined => 0..total,
    })
}

/// A copy of `ds` holding only columns `cols` (clamped to the row width).
pub fn select_columns(ds: &Dataset, cols: Range<usize>) -> Result<Dataset> {
    let end = cols.end.min(ds.n_features);
    let start = cols.start.min(end);
    let width = end - start;
    let mut x = Vec::with_capacity(ds.n_rows() * width);
    for i in 0..ds.n_rows() {
        x.extend_from_slice(ds.row(i).get(start..end).unwrap_or(&[]));
    }
    Ok(Dataset::new(
        x,
        width,
        ds.y.clone(),
        ds.classes.clone(),
        ds.groups.clone(),
    )?)
}

/// Fits every model of `models` on every feature space of `spaces` (given with their columns
/// in `ds`) for every fold, and scores the pooled test predictions. `on_fit` is called after
/// each fit with the cell's space and model, for progress bars.
pub fn evaluate_grid(
    ds: &Dataset,
    spaces: &[(FeatureSpace, Range<usize>)],
    models: &[ModelKind],
    folds: &[Fold],
    params: &ModelParams,
    on_fit: &mut dyn FnMut(FeatureSpace, ModelKind),
) -> Result<Vec<GridCell>> {
    let n_classes = ds.classes.len();
    let mut cells = Vec::with_capacity(spaces.len() * models.len());
    for (space, cols) in spaces {
        let sds = select_columns(ds, cols.clone())?;
        for &kind in models {
            let (mut y_true, mut y_pred, mut fold_acc) = (Vec::new(), Vec::new(), Vec::new());
            let mut groups = Vec::new();
            let t0 = Instant::now();
            for (train_idx, test_idx) in folds {
                let train = sds.subset(train_idx)?;
                let test = sds.subset(test_idx)?;
                let model = fit_model(kind, params, &train)?;
                let pred = predict_rows(&model, &test.x, test.n_features);
                fold_acc.push(tapir_learn::metrics::accuracy(&test.y, &pred));
                y_true.extend_from_slice(&test.y);
                groups.extend_from_slice(&test.groups);
                y_pred.extend(pred);
                on_fit(*space, kind);
            }
            let cm = ConfusionMatrix::new(&y_true, &y_pred, n_classes);
            cells.push(GridCell {
                features: space.name().to_string(),
                model: kind.name().to_string(),
                accuracy: cm.accuracy(),
                macro_f1: cm.macro_f1(),
                fold_accuracy: fold_acc,
                fit_seconds: t0.elapsed().as_secs_f64(),
                confusion: cm,
                outcomes: trace_outcomes(&groups, &y_true, &y_pred),
            });
        }
    }
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Dataset {
        // Two classes separated on column 1; column 0 is noise.
        let mut x = Vec::new();
        let mut y = Vec::new();
        let mut g = Vec::new();
        for i in 0..40u32 {
            let c = (i % 2) as usize;
            x.extend_from_slice(&[(i % 7) as f32, c as f32 * 5.0 + (i % 3) as f32 * 0.1]);
            y.push(c);
            g.push(i / 2);
        }
        Dataset::new(x, 2, y, vec!["a".into(), "b".into()], g).unwrap()
    }

    #[test]
    fn select_columns_keeps_labels_and_clamps() {
        let ds = toy();
        let s = select_columns(&ds, 1..2).unwrap();
        assert_eq!(s.n_features, 1);
        assert_eq!(s.row(3), &ds.row(3)[1..2]);
        assert_eq!(s.y, ds.y);
        let s = select_columns(&ds, 1..99).unwrap();
        assert_eq!(s.n_features, 1);
    }

    #[test]
    fn grid_separates_on_the_informative_column_only() {
        let ds = toy();
        let folds = tapir_learn::grouped_kfold(&ds, 4, 3).unwrap();
        let mut fits = 0;
        let cells = evaluate_grid(
            &ds,
            &[(FeatureSpace::SizeIat, 1..2), (FeatureSpace::Burst, 0..1)],
            &[ModelKind::Nb],
            &folds,
            &ModelParams::default(),
            &mut |_, _| fits += 1,
        )
        .unwrap();
        assert_eq!(fits, 8);
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[0].accuracy, 1.0);
        assert!(cells[1].accuracy < 0.9, "{}", cells[1].accuracy);
        assert_eq!(cells[0].fold_accuracy.len(), 4);
        assert_eq!(cells[0].confusion.get(1, 1), 20);
        // 20 traces of two windows, each tested once.
        assert_eq!(cells[0].outcomes.len(), 20);
        assert!(cells[0]
            .outcomes
            .iter()
            .all(|o| o.windows == 2 && o.correct == 2));
    }
}
