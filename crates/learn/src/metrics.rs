//! Evaluation metrics: accuracy, confusion matrix, per-class precision/recall/F1, macro F1, and
//! for multi-label output subset accuracy, Hamming loss and per-label F1.

use serde::{Deserialize, Serialize};

use crate::{predict_rows, Classifier, Dataset, MultiLabelDataset, MultiLabelForest};

/// Everything a single-label evaluation reports (paper Tables I-III plus per-class detail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Fraction of rows classified correctly.
    pub accuracy: f64,
    /// Unweighted mean F1 over classes present.
    pub macro_f1: f64,
    /// Counts of true vs predicted class.
    pub confusion: ConfusionMatrix,
    /// Precision, recall, F1, support per class.
    pub per_class: Vec<ClassScores>,
}

/// Predicts every row of `ds` (in parallel) and scores the predictions.
pub fn evaluate(model: &dyn Classifier, ds: &Dataset) -> Evaluation {
    let pred = predict_rows(model, &ds.x, ds.n_features);
    let confusion = ConfusionMatrix::new(&ds.y, &pred, ds.n_classes().max(model.n_classes()));
    Evaluation {
        accuracy: accuracy(&ds.y, &pred),
        macro_f1: confusion.macro_f1(),
        per_class: confusion.per_class(),
        confusion,
    }
}

/// Everything a multi-label evaluation reports (paper Table IV).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiLabelEvaluation {
    /// Fraction of rows whose whole label set is right.
    pub subset_accuracy: f64,
    /// Fraction of wrong label flags.
    pub hamming_loss: f64,
    /// Precision, recall, F1, support per label.
    pub per_label: Vec<ClassScores>,
}

/// Predicts every row of `ds` with a multi-label forest and scores the predictions.
pub fn evaluate_multi_label(
    model: &MultiLabelForest,
    ds: &MultiLabelDataset,
) -> MultiLabelEvaluation {
    use rayon::prelude::*;
    let d = ds.n_features.max(1);
    let pred: Vec<Vec<bool>> = ds.x.par_chunks(d).map(|row| model.predict(row)).collect();
    MultiLabelEvaluation {
        subset_accuracy: subset_accuracy(&ds.y, &pred),
        hamming_loss: hamming_loss(&ds.y, &pred),
        per_label: per_label_scores(&ds.y, &pred, ds.labels.len()),
    }
}

/// Fraction of equal entries; 0 for empty input. Extra entries in the longer slice are ignored.
pub fn accuracy(y_true: &[usize], y_pred: &[usize]) -> f64 {
    let n = y_true.len().min(y_pred.len());
    if n == 0 {
        return 0.0;
    }
    y_true.iter().zip(y_pred).filter(|(a, b)| a == b).count() as f64 / n as f64
}

/// `matrix[true][predicted]` counts; labels `>= n_classes` are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// Number of classes.
    pub n_classes: usize,
    /// Row-major counts, `n_classes x n_classes`, rows = true class.
    pub counts: Vec<u64>,
}

/// Precision, recall, F1 and support of one class (or label).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// `tp / (tp + fp)`, 0 when nothing was predicted as this class (sklearn's zero_division=0).
    pub precision: f64,
    /// `tp / (tp + fn)`, 0 when the class has no true rows.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub f1: f64,
    /// Number of true rows of the class.
    pub support: u64,
}

impl ClassScores {
    fn from_counts(tp: u64, fp: u64, fn_: u64) -> Self {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = ratio(2 * tp, 2 * tp + fp + fn_);
        Self {
            precision,
            recall,
            f1,
            support: tp + fn_,
        }
    }
}

impl ConfusionMatrix {
    /// Counts pairs of true and predicted labels.
    pub fn new(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Self {
        let mut counts = vec![0u64; n_classes * n_classes];
        for (&t, &p) in y_true.iter().zip(y_pred) {
            if t < n_classes && p < n_classes {
                counts[t * n_classes + p] += 1;
            }
        }
        Self { n_classes, counts }
    }

    /// Count of rows of class `t` predicted as `p` (0 when out of range).
    pub fn get(&self, t: usize, p: usize) -> u64 {
        if t < self.n_classes && p < self.n_classes {
            self.counts[t * self.n_classes + p]
        } else {
            0
        }
    }

    /// Trace over total.
    pub fn accuracy(&self) -> f64 {
        let total: u64 = self.counts.iter().sum();
        let diag: u64 = (0..self.n_classes).map(|c| self.get(c, c)).sum();
        if total == 0 {
            0.0
        } else {
            diag as f64 / total as f64
        }
    }

    /// Precision, recall, F1 and support per class.
    pub fn per_class(&self) -> Vec<ClassScores> {
        let k = self.n_classes;
        (0..k)
            .map(|c| {
                let tp = self.get(c, c);
                let fp = (0..k).map(|t| self.get(t, c)).sum::<u64>() - tp;
                let fn_ = (0..k).map(|p| self.get(c, p)).sum::<u64>() - tp;
                ClassScores::from_counts(tp, fp, fn_)
            })
            .collect()
    }

    /// Unweighted mean F1 over classes that occur in the truth or the predictions (sklearn's
    /// `f1_score(average="macro")` with labels taken from the data).
    pub fn macro_f1(&self) -> f64 {
        let k = self.n_classes;
        let scores = self.per_class();
        let present: Vec<f64> = (0..k)
            .filter(|&c| scores[c].support > 0 || (0..k).any(|t| self.get(t, c) > 0))
            .map(|c| scores[c].f1)
            .collect();
        if present.is_empty() {
            0.0
        } else {
            present.iter().sum::<f64>() / present.len() as f64
        }
    }
}

/// Fraction of rows whose whole label set is right (paper Table IV's accuracy).
pub fn subset_accuracy(y_true: &[Vec<bool>], y_pred: &[Vec<bool>]) -> f64 {
    let n = y_true.len().min(y_pred.len());
    if n == 0 {
        return 0.0;
    }
    y_true.iter().zip(y_pred).filter(|(a, b)| a == b).count() as f64 / n as f64
}

/// Fraction of wrong label flags over all rows and labels (missing flags count as wrong).
pub fn hamming_loss(y_true: &[Vec<bool>], y_pred: &[Vec<bool>]) -> f64 {
    let mut wrong = 0usize;
    let mut total = 0usize;
    for (t, p) in y_true.iter().zip(y_pred) {
        total += t.len();
        wrong += t
            .iter()
            .enumerate()
            .filter(|&(i, &v)| p.get(i) != Some(&v))
            .count();
    }
    if total == 0 {
        0.0
    } else {
        wrong as f64 / total as f64
    }
}

/// Precision, recall and F1 of each of `n_labels` labels, treating each as a binary problem.
pub fn per_label_scores(
    y_true: &[Vec<bool>],
    y_pred: &[Vec<bool>],
    n_labels: usize,
) -> Vec<ClassScores> {
    (0..n_labels)
        .map(|l| {
            let (mut tp, mut fp, mut fn_) = (0, 0, 0);
            for (t, p) in y_true.iter().zip(y_pred) {
                let t = t.get(l).copied().unwrap_or(false);
                let p = p.get(l).copied().unwrap_or(false);
                match (t, p) {
                    (true, true) => tp += 1,
                    (false, true) => fp += 1,
                    (true, false) => fn_ += 1,
                    (false, false) => {}
                }
            }
            ClassScores::from_counts(tp, fp, fn_)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_and_scores_match_hand_counts() {
        let t = [0, 0, 0, 1, 1, 2];
        let p = [0, 1, 0, 1, 2, 2];
        let cm = ConfusionMatrix::new(&t, &p, 3);
        assert_eq!(cm.get(0, 1), 1);
        assert!((cm.accuracy() - 4.0 / 6.0).abs() < 1e-12);
        assert!((accuracy(&t, &p) - 4.0 / 6.0).abs() < 1e-12);
        let s = cm.per_class();
        // Class 1: tp 1, fp 1, fn 1.
        assert!((s[1].precision - 0.5).abs() < 1e-12);
        assert!((s[1].recall - 0.5).abs() < 1e-12);
        // Class 0: tp 2, fp 0, fn 1 -> F1 = 4/5.
        assert!((s[0].f1 - 0.8).abs() < 1e-12);
        assert_eq!(s[0].support, 3);
        // Class 2: tp 1, fp 1, fn 0 -> F1 = 2/3. Macro = (0.8 + 0.5 + 2/3) / 3.
        assert!((cm.macro_f1() - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn evaluate_scores_a_fitted_model() {
        let ds = Dataset::new(
            vec![0.0, 1.0, 10.0, 11.0],
            1,
            vec![0, 0, 1, 1],
            vec!["a".into(), "b".into()],
            vec![0, 1, 2, 3],
        )
        .unwrap();
        let nb = crate::NbParams::default().fit(&ds).unwrap();
        let e = evaluate(&nb, &ds);
        assert_eq!(e.accuracy, 1.0);
        assert_eq!(e.confusion.get(1, 1), 2);
        assert_eq!(e.per_class[0].support, 2);
        assert_eq!(e.macro_f1, 1.0);
    }

    #[test]
    fn multi_label_metrics() {
        let t = vec![vec![true, false], vec![true, true], vec![false, false]];
        let p = vec![vec![true, false], vec![true, false], vec![true, false]];
        assert!((subset_accuracy(&t, &p) - 1.0 / 3.0).abs() < 1e-12);
        assert!((hamming_loss(&t, &p) - 2.0 / 6.0).abs() < 1e-12);
        let s = per_label_scores(&t, &p, 2);
        assert!((s[0].precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s[1].f1, 0.0);
        assert_eq!(hamming_loss(&[], &[]), 0.0);
    }
}
