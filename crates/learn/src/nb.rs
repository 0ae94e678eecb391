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
            prepared: Default::default(),
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
    /// Tables worked out on the first prediction (not stored in model files).
    #[serde(skip)]
    prepared: crate::Cache<Prepared>,
}

/// What prediction reads, laid out for it.
#[derive(Debug, Clone, Default)]
struct Prepared {
    /// Per class, `Σ mean² / var`: what a row of zeros adds to the distance, so a row costs
    /// one term per non-zero feature (histogram windows are mostly zeros).
    zero_sum: Vec<f64>,
    /// `(mean, 1 / var)` feature-major (`j * n_classes + c`): a non-zero feature's terms for
    /// every class are adjacent, one or two cache lines, where the class-major tables put
    /// them `n_features` apart.
    by_feature: Vec<[f64; 2]>,
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
        let n_classes = self.log_prior.len();
        let prepared = self.prepared.get_or_init(|| Prepared {
            zero_sum: (0..n_classes)
                .map(|c| {
                    let (mu, iv) = (
                        &self.mean[c * d..(c + 1) * d],
                        &self.inv_var[c * d..(c + 1) * d],
                    );
                    mu.iter().zip(iv).map(|(m, v)| m * m * v).sum()
                })
                .collect(),
            by_feature: (0..d * n_classes)
                .map(|i| {
                    let at = (i % n_classes) * d + i / n_classes;
                    [self.mean[at], self.inv_var[at]]
                })
                .collect(),
        });
        out[..k].copy_from_slice(&prepared.zero_sum[..k]);
        // The non-zero features of each block of the row are listed first, without a branch
        // per feature (where they are is random, so a branch would be mispredicted about once
        // per non-zero feature), then summed in order.
        const BLOCK: usize = 256;
        let mut nonzero = [0u16; BLOCK];
        let row = &row[..d.min(row.len())];
        for (b, block) in row.chunks(BLOCK).enumerate() {
            let mut n = 0;
            for (i, &x) in block.iter().enumerate() {
                // n <= i < BLOCK: always in bounds.
                if let Some(slot) = nonzero.get_mut(n) {
                    *slot = i as u16;
                }
                n += usize::from(x != 0.0);
            }
            for &i in &nonzero[..n] {
                let (i, j) = (usize::from(i), b * BLOCK + usize::from(i));
                let x = f64::from(block[i]);
                let terms = &prepared.by_feature[j * n_classes..j * n_classes + k];
                for (o, &[m, iv]) in out[..k].iter_mut().zip(terms) {
                    *o += x * (x - 2.0 * m) * iv;
                }
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

    /// The sparse sum (zeros worked out once, non-zero features listed per block) gives the
    /// dense formula's joint log-likelihood, on rows longer than a block, shorter than the
    /// model, all zeros and all non-zero.
    #[test]
    fn sparse_sum_is_the_dense_formula() {
        let (n, d, k) = (60, 600, 3);
        let mut rng = crate::rng::Rng::new(11);
        let mut x = Vec::with_capacity(n * d);
        for _ in 0..n * d {
            x.push(if rng.next_f64() < 0.2 {
                rng.next_f64() as f32 * 4.0
            } else {
                0.0
            });
        }
        let y: Vec<usize> = (0..n).map(|i| i % k).collect();
        let ds = Dataset::new(
            x,
            d,
            y,
            vec!["a".into(), "b".into(), "c".into()],
            (0..n as u32).collect(),
        )
        .unwrap();
        let nb = NbParams::default().fit(&ds).unwrap();
        let dense = |row: &[f32]| -> Vec<f64> {
            (0..k)
                .map(|c| {
                    let s: f64 = (0..d)
                        .map(|j| {
                            let x = f64::from(row.get(j).copied().unwrap_or(0.0));
                            let at = c * d + j;
                            (x - nb.mean[at]).powi(2) * nb.inv_var[at]
                        })
                        .sum();
                    nb.log_prior[c] + nb.log_norm[c] - 0.5 * s
                })
                .collect()
        };
        let mut rows: Vec<Vec<f32>> = (0..5).map(|i| ds.row(i).to_vec()).collect();
        rows.push(vec![0.0; d]);
        rows.push(vec![1.5; d]);
        rows.push(ds.row(7)[..300].to_vec());
        for row in &rows {
            let mut got = vec![0.0; k];
            nb.joint_log_likelihood_into(row, &mut got);
            for (g, w) in got.iter().zip(dense(row)) {
                assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{g} against {w}");
            }
        }
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
