//! Pre-binning of features into `u8` codes, once per fit.
//!
//! Histogram features take few distinct values (counts after a log transform), so most columns
//! fit in 256 exact bins and a split on bin codes is the same split as on the raw values. This is
//! the LightGBM idea (Ke et al., NeurIPS 2017): finding a split costs one pass over the node's
//! rows per feature instead of a sort.

use rayon::prelude::*;

/// Most bins a feature can have (`u8` codes).
pub(crate) const MAX_BINS: usize = 256;

/// Column-major `u8` codes of the non-constant features.
#[derive(Debug, Clone)]
pub(crate) struct Binned {
    pub n_rows: usize,
    /// `codes[a * n_rows + i]` is the bin of row `i` in active feature `a`.
    pub codes: Vec<u8>,
    /// Original column of each active feature. Constant columns are dropped: they never split.
    pub active: Vec<u32>,
    /// Per active feature, `thresholds[t]` separates bin `t` (goes left, `x <= thr`) from
    /// bin `t + 1`.
    pub thresholds: Vec<Vec<f32>>,
}

/// A threshold strictly between `a < b`, at the midpoint like scikit-learn; when the midpoint
/// rounds up to `b` in `f32`, `a` itself still separates them.
fn midpoint(a: f32, b: f32) -> f32 {
    let m = ((f64::from(a) + f64::from(b)) / 2.0) as f32;
    if m >= b || m < a {
        a
    } else {
        m
    }
}

/// Bins one column: `None` when it is constant.
fn bin_column(values: &mut [f32]) -> Option<(Vec<f32>, Vec<f32>)> {
    // Bins are defined by their upper bounds; `x` goes to the first bin whose bound is >= x.
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f32::total_cmp);
    let mut distinct = sorted.clone();
    distinct.dedup();
    if distinct.len() < 2 {
        return None;
    }
    let uppers: Vec<f32> = if distinct.len() <= MAX_BINS {
        distinct.clone()
    } else {
        // Equal-frequency bounds over the rows, then deduplicated; the last bound is the max.
        let n = sorted.len();
        let mut u: Vec<f32> = (1..=MAX_BINS)
            .map(|b| sorted[b * n / MAX_BINS - 1])
            .collect();
        u.dedup();
        u
    };
    let thresholds = uppers
        .windows(2)
        .map(|w| {
            // The smallest value above bound w[0] is where the next bin really starts.
            let next = distinct[distinct.partition_point(|&v| v <= w[0])];
            midpoint(w[0], next.min(w[1]))
        })
        .collect();
    Some((uppers, thresholds))
}

impl Binned {
    /// Bins a row-major matrix (`n_rows x n_features`), columns in parallel.
    pub(crate) fn new(x: &[f32], n_rows: usize, n_features: usize) -> Self {
        let per_column: Vec<Option<(Vec<u8>, Vec<f32>)>> = (0..n_features)
            .into_par_iter()
            .map(|j| {
                let mut col: Vec<f32> = (0..n_rows).map(|i| x[i * n_features + j]).collect();
                let (uppers, thresholds) = bin_column(&mut col)?;
                let codes = col
                    .iter()
                    .map(|&v| uppers.partition_point(|&u| u < v).min(uppers.len() - 1) as u8)
                    .collect();
                Some((codes, thresholds))
            })
            .collect();
        let mut codes = Vec::new();
        let mut active = Vec::new();
        let mut thresholds = Vec::new();
        for (j, c) in per_column.into_iter().enumerate() {
            if let Some((col, thr)) = c {
                codes.extend_from_slice(&col);
                active.push(j as u32);
                thresholds.push(thr);
            }
        }
        Self {
            n_rows,
            codes,
            active,
            thresholds,
        }
    }

    pub(crate) fn column(&self, a: usize) -> &[u8] {
        &self.codes[a * self.n_rows..(a + 1) * self.n_rows]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_bins_for_few_values_and_constant_columns_dropped() {
        // Column 0: values {0, 1, 3}; column 1 constant.
        let x = [0.0, 5.0, 3.0, 5.0, 1.0, 5.0, 3.0, 5.0];
        let b = Binned::new(&x, 4, 2);
        assert_eq!(b.active, vec![0]);
        assert_eq!(b.column(0), &[0, 2, 1, 2]);
        assert_eq!(b.thresholds[0], vec![0.5, 2.0]);
    }

    #[test]
    fn many_values_get_quantile_bins_consistent_with_thresholds() {
        let n = 2000;
        let x: Vec<f32> = (0..n).map(|i| ((i * 7919) % n) as f32 * 0.37).collect();
        let b = Binned::new(&x, n, 1);
        let thr = &b.thresholds[0];
        assert!(thr.len() < MAX_BINS);
        for (i, &v) in x.iter().enumerate() {
            let code = b.column(0)[i] as usize;
            // The raw value must fall on the same side of every threshold as its code says.
            for (t, &th) in thr.iter().enumerate() {
                assert_eq!(
                    code <= t,
                    v <= th,
                    "value {v}, code {code}, threshold {t}={th}"
                );
            }
        }
    }
}
