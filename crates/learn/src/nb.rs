//! Gaussian naive Bayes, numerically the same as scikit-learn's `GaussianNB`.

use serde::{Deserialize, Serialize};

use crate::error::{param, LearnError, Result};
use crate::{softmax_in_place, Classifier, Dataset};

/// Hyper-parameters of [`GaussianNb`].
///
/// | name | default | purpose | range |
/// |---|---|---|---|
/// | `var_smoothing` | `1e-9` | added to every variance, times the largest feature variance, so all-zero columns (common in histograms) do not divide by zero | `>= 0`, finite |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NbParams {
    /// Fraction of the largest feature variance added to all variances (sklearn's convention).
    pub var_smoothing: f64,
}

impl Default for NbParams {
    fn default() -> Self {
        Self {
            var_smoothing: 1e-9,
        }
    }
}

impl NbParams {
    /// Checks the ranges in the table above.
    pub fn validate(&self) -> Result<()> {
        if !(self.var_smoothing.is_finite() && self.var_smoothing >= 0.0) {
            return Err(param(
                "var_smoothing",
                format!("{} is not a finite number >= 0", self.var_smoothing),
            ));
        }
        Ok(())
    }

    /// Fits class priors, per-class means and variances.
    pub fn fit(&self, ds: &Dataset) -> Result<GaussianNb> {
        self.validate()?;
        ds.validate()?;
        if ds.n_features == 0 {
            return Err(LearnError::InvalidDataset("zero features per row".into()));
        }
        let d = ds.n_features;
        let k = ds.n_classes();
        let n = ds.n_rows();
        let counts = ds.class_counts();
        let mut mean = vec![0.0f64; k * d];
        for (i, &c) in ds.y.iter().enumerate() {
            for (m, &v) in mean[c * d..(c + 1) * d].iter_mut().zip(ds.row(i)) {
                *m += f64::from(v);
            }
        }
        for c in 0..k {
            let cnt = counts[c].max(1) as f64;
            mean[c * d..(c + 1) * d].iter_mut().for_each(|m| *m /= cnt);
        }
        // Two-pass variance: sums of squared deviations, stable for large windows.
        let mut var = vec![0.0f64; k * d];
        for (i, &c) in ds.y.iter().enumerate() {
            let mu = &mean[c * d..(c + 1) * d];
            for ((s, &v), &m) in var[c * d..(c + 1) * d].iter_mut().zip(ds.row(i)).zip(mu) {
                let e = f64::from(v) - m;
                *s += e * e;
            }
        }
        // sklearn: epsilon = var_smoothing * max over features of the variance of all of X.
        let mut total_mean = vec![0.0f64; d];
        for i in 0..n {
            for (m, &v) in total_mean.iter_mut().zip(ds.row(i)) {
                *m += f64::from(v);
            }
        }
        total_mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut total_var = vec![0.0f64; d];
        for i in 0..n {
            for ((s, &v), &m) in total_var.iter_mut().zip(ds.row(i)).zip(&total_mean) {
                let e = f64::from(v) - m;
                *s += e * e;
            }
        }
        let max_var = total_var.iter().fold(0.0f64, |a, &s| a.max(s / n as f64));
        let mut epsilon = self.var_smoothing * max_var;
        if epsilon <= 0.0 {
            // Every feature constant: any positive variance keeps the likelihood finite.
            epsilon = f64::MIN_POSITIVE.max(self.var_smoothing);
            if epsilon <= 0.0 {
                epsilon = 1e-300;
            }
        }
        for c in 0..k {
            let cnt = counts[c];
            for v in &mut var[c * d..(c + 1) * d] {
                *v = if cnt > 0 { *v / cnt as f64 } else { 1.0 } + epsilon;
            }
        }
        let log_prior = counts
            .iter()
            .map(|&c| {
                if c == 0 {
                    f64::NEG_INFINITY
                } else {
                    (c as f64 / n as f64).ln()
                }
            })
            .collect();
        // The per-class normaliser -0.5 * sum(log(2 pi var)) does not depend on the row.
        let log_norm = (0..k)
            .map(|c| {
                -0.5 * var[c * d..(c + 1) * d]
                    .iter()
                    .map(|v| (2.0 * std::f64::consts::PI * v).ln())
                    .sum::<f64>()
            })
            .collect();
        let inv_var = var.iter().map(|v| 1.0 / v).collect();
        Ok(GaussianNb {
            n_features: d,
            log_prior,
            mean,
            var,
            inv_var,
            log_norm,
            epsilon,
            zero_sum: Default::default(),
        })
    }
}

/// A fitted Gaussian naive Bayes model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianNb {
    n_features: usize,
    log_prior: Vec<f64>,
    mean: Vec<f64>,
    var: Vec<f64>,
    inv_var: Vec<f64>,
    log_norm: Vec<f64>,
    epsilon: f64,
    /// Per class, `Σ mean² / var`: what a row of zeros adds to the distance; worked out on
    /// the first prediction (not stored in model files), so a row costs one term per
    /// non-zero feature (histogram windows are mostly zeros).
    #[serde(skip)]
    zero_sum: crate::Cache<Vec<f64>>,
}

impl GaussianNb {
    /// Per-class means, `n_classes x n_features` row-major.
    pub fn means(&self) -> &[f64] {
        &self.mean
    }

    /// Per-class variances including smoothing, `n_classes x n_features` row-major.
    pub fn variances(&self) -> &[f64] {
        &self.var
    }

    /// The variance added to every feature (`var_smoothing * max variance`).
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// Number of features the model was trained on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        let k = self.log_prior.len();
        let kd = k.checked_mul(self.n_features).ok_or("size overflow")?;
        if k == 0
            || self.n_features == 0
            || self.mean.len() != kd
            || self.var.len() != kd
            || self.inv_var.len() != kd
            || self.log_norm.len() != k
        {
            return Err("naive Bayes tables have inconsistent sizes".into());
        }
        Ok(())
    }

    /// Joint log-likelihood `log P(c) + log P(x | c)` per class; missing features count as 0.
    ///
    /// `Σ (x - m)² / v = Σ m² / v + Σ x (x - 2m) / v`, where the first sum is the row of zeros'
    /// (worked out once) and the second has a term for each non-zero feature only.
    pub fn joint_log_likelihood_into(&self, row: &[f32], out: &mut [f64]) {
        let d = self.n_features;
        let k = self.log_prior.len().min(out.len());
        let zero = self.zero_sum.get_or_init(|| {
            (0..self.log_prior.len())
                .map(|c| {
                    let (mu, iv) = (
                        &self.mean[c * d..(c + 1) * d],
                        &self.inv_var[c * d..(c + 1) * d],
                    );
                    mu.iter().zip(iv).map(|(m, v)| m * m * v).sum()
                })
                .collect()
        });
        out[..k].copy_from_slice(&zero[..k]);
        for (j, &x) in row.iter().enumerate().take(d) {
            if x == 0.0 {
                continue;
            }
            let x = f64::from(x);
            for (c, o) in out[..k].iter_mut().enumerate() {
                let at = c * d + j;
                *o += x * (x - 2.0 * self.mean[at]) * self.inv_var[at];
            }
        }
        for (c, o) in out[..k].iter_mut().enumerate() {
            *o = self.log_prior[c] + self.log_norm[c] - 0.5 * *o;
        }
    }
}

impl Classifier for GaussianNb {
    fn n_classes(&self) -> usize {
        self.log_prior.len()
    }

    fn predict_proba_into(&self, row: &[f32], out: &mut [f64]) {
        let k = self.n_classes().min(out.len());
        self.joint_log_likelihood_into(row, &mut out[..k]);
        softmax_in_place(&mut out[..k]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_posterior() {
        // Class 0: x in {1, 3} (mean 2, var 1); class 1: x in {5, 7, 9} (mean 7, var 8/3).
        let ds = Dataset::new(
            vec![1.0, 3.0, 5.0, 7.0, 9.0],
            1,
            vec![0, 0, 1, 1, 1],
            vec!["a".into(), "b".into()],
            vec![0, 1, 2, 3, 4],
        )
        .unwrap();
        let nb = NbParams { var_smoothing: 0.0 }.fit(&ds).unwrap();
        assert!((nb.means()[0] - 2.0).abs() < 1e-12);
        assert!((nb.variances()[1] - 8.0 / 3.0).abs() < 1e-12);
        let x = 4.0f64;
        let g = |m: f64, v: f64| {
            (-(x - m).powi(2) / (2.0 * v)).exp() / (2.0 * std::f64::consts::PI * v).sqrt()
        };
        let p0 = 0.4 * g(2.0, 1.0);
        let p1 = 0.6 * g(7.0, 8.0 / 3.0);
        let mut out = [0.0; 2];
        nb.predict_proba_into(&[4.0], &mut out);
        assert!((out[0] - p0 / (p0 + p1)).abs() < 1e-12, "{out:?}");
        assert!((out[0] + out[1] - 1.0).abs() < 1e-12);
        assert_eq!(nb.predict(&[8.0]), 1);
    }

    #[test]
    fn constant_columns_and_empty_classes_stay_finite() {
        let ds = Dataset::new(
            vec![0.0, 1.0, 0.0, 2.0, 0.0, 9.0],
            2,
            vec![0, 0, 2],
            vec!["a".into(), "b".into(), "c".into()],
            vec![0, 1, 2],
        )
        .unwrap();
        let nb = NbParams::default().fit(&ds).unwrap();
        let mut out = [0.0; 3];
        nb.predict_proba_into(&[0.0, 1.5], &mut out);
        assert!(out.iter().all(|p| p.is_finite()));
        assert_eq!(out[1], 0.0, "class with no rows gets no mass");
        assert!((out.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(NbParams {
            var_smoothing: -1.0
        }
        .validate()
        .is_err());
    }
}
