//! Models and evaluation for tapir: the classifiers of the paper (naive Bayes, logistic
//! regression, random forest) on dense `f32` feature rows, seeded dataset splits that keep traces
//! whole, metrics, and a checked, versioned model file.
//!
//! Entry points:
//! - [`Dataset`] / [`MultiLabelDataset`] with [`split_grouped_stratified`], [`split_windows`],
//!   [`grouped_kfold`] and [`hold_out_folds`] (leave one network, program or tunnel out);
//! - [`paired_bootstrap`]: the accuracy difference of two settings on the same test traces, with
//!   a bootstrap interval over traces (not windows);
//! - hyper-parameters [`NbParams`], [`LrParams`], [`RfParams`] → `validate()` → `fit(&Dataset)` →
//!   a model implementing [`Classifier`]; or [`fit_model`] with a [`ModelKind`] for a [`Model`];
//! - [`metrics`] for accuracy, confusion matrix, P/R/F1, subset accuracy and Hamming loss;
//! - [`write_model_file`] / [`read_model_file`] for [`ModelFile`]s.
//!
//! ```
//! use tapir_learn::{fit_model, metrics, split_grouped_stratified, Classifier, Dataset,
//!                   ModelKind, ModelParams};
//!
//! // Two classes of 4-bin "histograms", ten traces of three windows each.
//! let (mut x, mut y, mut groups) = (Vec::new(), Vec::new(), Vec::new());
//! for trace in 0..10u32 {
//!     let class = (trace % 2) as usize;
//!     for w in 0..3 {
//!         let bump = (w + trace as usize) % 2;
//!         x.extend_from_slice(&if class == 0 {
//!             [3.0, 1.0 + bump as f32, 0.0, 0.0]
//!         } else {
//!             [0.0, 0.0, 2.0 + bump as f32, 4.0]
//!         });
//!         y.push(class);
//!         groups.push(trace);
//!     }
//! }
//! let ds = Dataset::new(x, 4, y, vec!["web".into(), "voip".into()], groups)?;
//! let split = split_grouped_stratified(&ds, 0.2, 7)?;
//! let (train, test) = (ds.subset(&split.train)?, ds.subset(&split.test)?);
//!
//! let model = fit_model(ModelKind::Rf, &ModelParams::default(), &train)?;
//! let predicted: Vec<usize> = (0..test.n_rows()).map(|i| model.predict(test.row(i))).collect();
//! assert_eq!(metrics::accuracy(&test.y, &predicted), 1.0);
//!
//! let mut proba = [0.0; 2];
//! model.predict_proba_into(test.row(0), &mut proba);
//! assert!((proba[0] + proba[1] - 1.0).abs() < 1e-9);
//! # Ok::<(), tapir_learn::LearnError>(())
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod compare;
mod dataset;
mod error;
mod forest;
mod lbfgs;
mod lr;
pub mod metrics;
mod model_file;
mod nb;
mod rng;

use serde::{Deserialize, Serialize};

pub use compare::{
    bootstrap_accuracy, paired_bootstrap, trace_outcomes, AccuracyInterval, PairedDifference,
    TraceOutcome, BOOTSTRAP_RESAMPLES,
};
pub use dataset::{
    balance_strata, grouped_kfold, hold_out_folds, split_grouped_stratified, split_windows,
    Dataset, HoldOutFold, MultiLabelDataset, Split,
};
pub use error::{LearnError, Result};
pub use forest::{MaxFeatures, MultiLabelForest, RandomForest, RfParams};
pub use lr::{LogisticRegression, LrParams};
pub use model_file::{
    crc32, from_bytes, read_model_file, read_model_file_limited, to_bytes, write_model_file,
    CheckModel, ModelFile, FORMAT_VERSION, MAGIC, MAX_MODEL_FILE,
};
pub use nb::{GaussianNb, NbParams};

/// What every fitted single-label model offers, so evaluation does not care which model it runs.
///
/// Rows shorter than the training width are read as if padded with zeros and extra columns are
/// ignored; no input makes these methods panic.
pub trait Classifier: Send + Sync {
    /// Number of classes the outputs are indexed by.
    fn n_classes(&self) -> usize;

    /// Class probabilities of `row` into `out[..n_classes]` (they sum to 1); entries beyond
    /// `out.len()` are not written.
    fn predict_proba_into(&self, row: &[f32], out: &mut [f64]);

    /// Most probable class (the lowest index on ties).
    fn predict(&self, row: &[f32]) -> usize {
        let mut p = vec![0.0; self.n_classes()];
        self.predict_proba_into(row, &mut p);
        argmax(&p)
    }
}

/// Something a model works out from its fitted tables on first use (not stored in model
/// files): it takes no part in comparisons, so a model that has predicted equals its copy that
/// has not.
#[derive(Clone, Default)]
pub(crate) struct Cache<T>(std::sync::OnceLock<T>);

impl<T> Cache<T> {
    pub(crate) fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(f)
    }
}

impl<T> PartialEq for Cache<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> std::fmt::Debug for Cache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cache")
    }
}

/// `Σ w[j] · x[j]` over the shorter of the two, in eight running sums so that the loop
/// vectorises (prediction of a linear model is this, once per class).
#[inline]
pub(crate) fn dot(w: &[f64], x: &[f32]) -> f64 {
    let n = w.len().min(x.len());
    let (w, x) = (&w[..n], &x[..n]);
    let mut acc = [0.0f64; 8];
    let mut wc = w.chunks_exact(8);
    let mut xc = x.chunks_exact(8);
    for (a, b) in (&mut wc).zip(&mut xc) {
        for l in 0..8 {
            acc[l] += a[l] * f64::from(b[l]);
        }
    }
    let mut s: f64 = acc.iter().sum();
    for (a, &b) in wc.remainder().iter().zip(xc.remainder()) {
        s += a * f64::from(b);
    }
    s
}

/// Predicted class of every row of a row-major matrix, rows scored in parallel.
pub fn predict_rows(model: &dyn Classifier, x: &[f32], n_features: usize) -> Vec<usize> {
    use rayon::prelude::*;
    if n_features == 0 {
        return Vec::new();
    }
    x.par_chunks(n_features)
        .map(|row| model.predict(row))
        .collect()
}

/// Index of the largest value, the first on ties; NaN never wins; 0 for an empty slice.
pub fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] || values[best].is_nan() && !v.is_nan() {
            best = i;
        }
    }
    best
}

/// In-place softmax of log-scores; entries of `-inf` become 0.
pub(crate) fn softmax_in_place(v: &mut [f64]) {
    let max = v.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x));
    if !max.is_finite() {
        // All -inf (or +inf/NaN): no information, fall back to uniform.
        let n = v.len().max(1) as f64;
        v.iter_mut().for_each(|x| *x = 1.0 / n);
        return;
    }
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    v.iter_mut().for_each(|x| *x /= sum);
}

/// Which model to fit; spelled `nb`, `lr`, `rf` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Gaussian naive Bayes.
    Nb,
    /// Multinomial logistic regression.
    Lr,
    /// Random forest.
    Rf,
}

impl ModelKind {
    /// All kinds, in the paper's table order.
    pub const ALL: [ModelKind; 3] = [ModelKind::Nb, ModelKind::Lr, ModelKind::Rf];

    /// Short name (`nb`, `lr`, `rf`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Nb => "nb",
            Self::Lr => "lr",
            Self::Rf => "rf",
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ModelKind {
    type Err = LearnError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "nb" => Ok(Self::Nb),
            "lr" => Ok(Self::Lr),
            "rf" => Ok(Self::Rf),
            other => Err(error::param(
                "model",
                format!("unknown model `{other}`; use nb, lr or rf"),
            )),
        }
    }
}

/// Hyper-parameters for every kind; [`fit_model`] uses the one matching the kind.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelParams {
    /// Naive Bayes settings.
    pub nb: NbParams,
    /// Logistic regression settings.
    pub lr: LrParams,
    /// Random forest settings.
    pub rf: RfParams,
}

/// A fitted model of any kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Model {
    /// Gaussian naive Bayes.
    Nb(GaussianNb),
    /// Multinomial logistic regression.
    Lr(LogisticRegression),
    /// Random forest.
    Rf(RandomForest),
}

impl Model {
    /// The kind of this model.
    pub fn kind(&self) -> ModelKind {
        match self {
            Self::Nb(_) => ModelKind::Nb,
            Self::Lr(_) => ModelKind::Lr,
            Self::Rf(_) => ModelKind::Rf,
        }
    }

    /// Number of features the model was trained on.
    pub fn n_features(&self) -> usize {
        match self {
            Self::Nb(m) => m.n_features(),
            Self::Lr(m) => m.n_features(),
            Self::Rf(m) => m.n_features(),
        }
    }

    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        match self {
            Self::Nb(m) => m.check(),
            Self::Lr(m) => m.check(),
            Self::Rf(m) => m.check(),
        }
    }
}

impl Classifier for Model {
    fn n_classes(&self) -> usize {
        match self {
            Self::Nb(m) => m.n_classes(),
            Self::Lr(m) => m.n_classes(),
            Self::Rf(m) => m.n_classes(),
        }
    }

    fn predict_proba_into(&self, row: &[f32], out: &mut [f64]) {
        match self {
            Self::Nb(m) => m.predict_proba_into(row, out),
            Self::Lr(m) => m.predict_proba_into(row, out),
            Self::Rf(m) => m.predict_proba_into(row, out),
        }
    }
}

/// Fits the model `kind` with its hyper-parameters from `params`.
pub fn fit_model(kind: ModelKind, params: &ModelParams, ds: &Dataset) -> Result<Model> {
    Ok(match kind {
        ModelKind::Nb => Model::Nb(params.nb.fit(ds)?),
        ModelKind::Lr => Model::Lr(params.lr.fit(ds)?),
        ModelKind::Rf => Model::Rf(params.rf.fit(ds)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_and_softmax_edge_cases() {
        assert_eq!(argmax(&[]), 0);
        assert_eq!(argmax(&[0.2, 0.5, 0.5]), 1);
        assert_eq!(argmax(&[f64::NAN, 0.1]), 1);
        let mut v = [f64::NEG_INFINITY, 0.0, f64::NEG_INFINITY];
        softmax_in_place(&mut v);
        assert_eq!(v, [0.0, 1.0, 0.0]);
        let mut w = [f64::NEG_INFINITY; 2];
        softmax_in_place(&mut w);
        assert_eq!(w, [0.5, 0.5]);
    }

    #[test]
    fn model_kind_parses() {
        assert_eq!("RF".parse::<ModelKind>().unwrap(), ModelKind::Rf);
        assert!("svm".parse::<ModelKind>().is_err());
        assert_eq!(ModelKind::Lr.to_string(), "lr");
    }
}
