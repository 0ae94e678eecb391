//! Multinomial logistic regression with an L2 penalty, fitted by L-BFGS on standardised features;
//! the objective is scikit-learn's `LogisticRegression(C, lbfgs)` on `StandardScaler` output.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{param, LearnError, Result};
use crate::lbfgs::{minimize, LbfgsConfig};
use crate::{softmax_in_place, Classifier, Dataset};

/// Hyper-parameters of [`LogisticRegression`].
///
/// | name | default | purpose | range |
/// |---|---|---|---|
/// | `c` | `1.0` | inverse L2 strength, sklearn's `C`: loss summed over rows plus `‖W‖²/(2C)`; smaller = simpler model | `> 0`, finite |
/// | `tol` | `1e-5` | stop when every gradient component of the mean loss is at most this | `> 0` |
/// | `max_iter` | `500` | L-BFGS iteration cap (each iteration is one or a few passes over the data) | `>= 1` |
/// | `memory` | `10` | L-BFGS correction pairs, as scipy | `1..=100` |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LrParams {
    /// Inverse regularisation strength (sklearn's `C`).
    pub c: f64,
    /// Gradient tolerance.
    pub tol: f64,
    /// Maximum L-BFGS iterations.
    pub max_iter: usize,
    /// L-BFGS memory.
    pub memory: usize,
}

impl Default for LrParams {
    fn default() -> Self {
        Self {
            c: 1.0,
            tol: 1e-5,
            max_iter: 500,
            memory: 10,
        }
    }
}

/// Rows per parallel chunk: fixed, so the floating-point summation order (and so the fitted
/// model) does not depend on the number of threads.
const CHUNK: usize = 128;

/// Standardised training data and labels; computes the objective and its gradient.
pub(crate) struct Problem {
    /// Standardised rows, row-major.
    z: Vec<f32>,
    y: Vec<usize>,
    d: usize,
    k: usize,
    /// Multiplier of `‖W‖²/2` in the mean objective: `1 / (C n)`.
    l2: f64,
}

impl Problem {
    fn n(&self) -> usize {
        self.y.len()
    }

    /// Mean log-loss plus penalty at `theta = [W (k x d) row-major, b (k)]`; gradient into `grad`.
    pub(crate) fn value_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let (d, k) = (self.d, self.k);
        let (w, b) = theta.split_at(k * d);
        let partials: Vec<(f64, Vec<f64>)> = self
            .z
            .par_chunks(CHUNK * d)
            .zip(self.y.par_chunks(CHUNK))
            .map(|(rows, ys)| {
                let mut g = vec![0.0; k * (d + 1)];
                let mut loss = 0.0;
                let mut p = vec![0.0; k];
                for (row, &yi) in rows.chunks_exact(d).zip(ys) {
                    for c in 0..k {
                        let wc = &w[c * d..(c + 1) * d];
                        p[c] = b[c]
                            + wc.iter()
                                .zip(row)
                                .map(|(a, &x)| a * f64::from(x))
                                .sum::<f64>();
                    }
                    let max = p.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                    let lse = max + p.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                    loss += lse - p[yi];
                    for c in 0..k {
                        let r = (p[c] - lse).exp() - if c == yi { 1.0 } else { 0.0 };
                        if r != 0.0 {
                            let gc = &mut g[c * d..(c + 1) * d];
                            gc.iter_mut()
                                .zip(row)
                                .for_each(|(gj, &x)| *gj += r * f64::from(x));
                        }
                        g[k * d + c] += r;
                    }
                }
                (loss, g)
            })
            .collect();
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut loss = 0.0;
        for (l, g) in partials {
            loss += l;
            grad.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
        }
        let inv_n = 1.0 / self.n() as f64;
        loss *= inv_n;
        grad.iter_mut().for_each(|g| *g *= inv_n);
        // The intercept is not penalised (sklearn's convention).
        let mut pen = 0.0;
        for (gj, &wj) in grad[..k * d].iter_mut().zip(w) {
            pen += wj * wj;
            *gj += self.l2 * wj;
        }
        loss + 0.5 * self.l2 * pen
    }
}

impl LrParams {
    /// Checks the ranges in the table above.
    pub fn validate(&self) -> Result<()> {
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(param("c", format!("{} is not a finite number > 0", self.c)));
        }
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(param(
                "tol",
                format!("{} is not a finite number > 0", self.tol),
            ));
        }
        if self.max_iter == 0 {
            return Err(param("max_iter", "must be at least 1"));
        }
        if !(1..=100).contains(&self.memory) {
            return Err(param(
                "memory",
                format!("{} is not in 1..=100", self.memory),
            ));
        }
        Ok(())
    }

    pub(crate) fn problem(&self, ds: &Dataset) -> Result<(Problem, Vec<f64>, Vec<f64>)> {
        ds.validate()?;
        let (n, d) = (ds.n_rows(), ds.n_features);
        if d == 0 {
            return Err(LearnError::InvalidDataset("zero features per row".into()));
        }
        let mut mean = vec![0.0f64; d];
        for i in 0..n {
            mean.iter_mut()
                .zip(ds.row(i))
                .for_each(|(m, &v)| *m += f64::from(v));
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut scale = vec![0.0f64; d];
        for i in 0..n {
            scale
                .iter_mut()
                .zip(ds.row(i).iter().zip(&mean))
                .for_each(|(s, (&v, m))| *s += (f64::from(v) - m).powi(2));
        }
        // StandardScaler: population std; a constant column keeps scale 1 (it becomes all zero).
        scale.iter_mut().for_each(|s| {
            let sd = (*s / n as f64).sqrt();
            *s = if sd > 0.0 { sd } else { 1.0 };
        });
        let mut z = Vec::with_capacity(n * d);
        for i in 0..n {
            z.extend(
                ds.row(i)
                    .iter()
                    .zip(mean.iter().zip(&scale))
                    .map(|(&v, (m, s))| ((f64::from(v) - m) / s) as f32),
            );
        }
        let problem = Problem {
            z,
            y: ds.y.clone(),
            d,
            k: ds.n_classes(),
            l2: 1.0 / (self.c * n as f64),
        };
        Ok((problem, mean, scale))
    }

    /// Standardises the features and minimises the penalised multinomial log-loss.
    pub fn fit(&self, ds: &Dataset) -> Result<LogisticRegression> {
        self.validate()?;
        let (problem, mean, scale) = self.problem(ds)?;
        let (d, k) = (problem.d, problem.k);
        let mut theta = vec![0.0; k * (d + 1)];
        let outcome = minimize(
            |t, g| problem.value_grad(t, g),
            &mut theta,
            &LbfgsConfig {
                memory: self.memory,
                gtol: self.tol,
                ftol: 1e-14,
                max_iter: self.max_iter,
            },
        );
        let coef = theta[..k * d].to_vec();
        let intercept = theta[k * d..].to_vec();
        // Fold the scaler into the weights so prediction is one dot product per class.
        let mut raw_coef = vec![0.0; k * d];
        let mut raw_intercept = intercept.clone();
        for c in 0..k {
            for j in 0..d {
                let w = coef[c * d + j] / scale[j];
                raw_coef[c * d + j] = w;
                raw_intercept[c] -= w * mean[j];
            }
        }
        Ok(LogisticRegression {
            n_features: d,
            n_classes: k,
            mean,
            scale,
            coef,
            intercept,
            raw_coef,
            raw_intercept,
            iterations: outcome.iterations,
            converged: outcome.converged,
        })
    }
}

/// A fitted multinomial logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegression {
    n_features: usize,
    n_classes: usize,
    mean: Vec<f64>,
    scale: Vec<f64>,
    coef: Vec<f64>,
    intercept: Vec<f64>,
    raw_coef: Vec<f64>,
    raw_intercept: Vec<f64>,
    iterations: usize,
    converged: bool,
}

impl LogisticRegression {
    /// Weights on standardised features, `n_classes x n_features` row-major (sklearn's `coef_`).
    pub fn coef(&self) -> &[f64] {
        &self.coef
    }

    /// Intercepts on standardised features (sklearn's `intercept_`).
    pub fn intercept(&self) -> &[f64] {
        &self.intercept
    }

    /// L-BFGS iterations used.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Whether the gradient tolerance was met before `max_iter`.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Number of features the model was trained on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        let (k, d) = (self.n_classes, self.n_features);
        let kd = k.checked_mul(d).ok_or("size overflow")?;
        if k == 0
            || d == 0
            || self.mean.len() != d
            || self.scale.len() != d
            || self.coef.len() != kd
            || self.raw_coef.len() != kd
            || self.intercept.len() != k
            || self.raw_intercept.len() != k
        {
            return Err("logistic regression tables have inconsistent sizes".into());
        }
        Ok(())
    }
}

impl Classifier for LogisticRegression {
    fn n_classes(&self) -> usize {
        self.n_classes
    }

    fn predict_proba_into(&self, row: &[f32], out: &mut [f64]) {
        let d = self.n_features;
        let k = self.n_classes.min(out.len());
        for (c, o) in out.iter_mut().enumerate().take(k) {
            let w = &self.raw_coef[c * d..(c + 1) * d];
            *o = self.raw_intercept[c] + crate::dot(w, row);
        }
        softmax_in_place(&mut out[..k]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> Dataset {
        let mut x = Vec::new();
        let mut y = Vec::new();
        let mut rng = crate::rng::Rng::new(5);
        for i in 0..90 {
            let c = i % 3;
            for j in 0..4 {
                let centre = if j == c { 3.0 } else { 0.0 };
                x.push(centre + (rng.below(1000) as f32 / 1000.0 - 0.5) * 2.0);
            }
            y.push(c);
        }
        Dataset::new(
            x,
            4,
            y,
            vec!["a".into(), "b".into(), "c".into()],
            (0..90).collect(),
        )
        .unwrap()
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let ds = blobs();
        let (problem, _, _) = LrParams {
            c: 0.7,
            ..Default::default()
        }
        .problem(&ds)
        .unwrap();
        let dim = 3 * 5;
        let theta: Vec<f64> = (0..dim)
            .map(|i| ((i * 7) % 11) as f64 / 10.0 - 0.5)
            .collect();
        let mut g = vec![0.0; dim];
        problem.value_grad(&theta, &mut g);
        let mut scratch = vec![0.0; dim];
        let h = 1e-6;
        for i in 0..dim {
            let mut tp = theta.clone();
            tp[i] += h;
            let fp = problem.value_grad(&tp, &mut scratch);
            tp[i] -= 2.0 * h;
            let fm = problem.value_grad(&tp, &mut scratch);
            let fd = (fp - fm) / (2.0 * h);
            assert!(
                (fd - g[i]).abs() < 1e-6,
                "component {i}: analytic {} vs numeric {fd}",
                g[i]
            );
        }
    }

    #[test]
    fn fits_separable_blobs_and_converges() {
        let ds = blobs();
        let lr = LrParams::default().fit(&ds).unwrap();
        assert!(lr.converged());
        let correct = (0..ds.n_rows())
            .filter(|&i| lr.predict(ds.row(i)) == ds.y[i])
            .count();
        assert!(correct >= 88, "{correct}/90");
        let mut p = [0.0; 3];
        lr.predict_proba_into(ds.row(0), &mut p);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // At the optimum the penalty makes per-feature weights sum to zero across classes.
        for j in 0..4 {
            let s: f64 = (0..3).map(|c| lr.coef()[c * 4 + j]).sum();
            assert!(s.abs() < 1e-3, "{s}");
        }
    }

    #[test]
    fn rejects_bad_params() {
        assert!(LrParams {
            c: 0.0,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(LrParams {
            max_iter: 0,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(LrParams {
            tol: f64::NAN,
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
