//! Paired comparisons of two settings on the same test traces, with bootstrap intervals over
//! traces.
//!
//! Windows of one trace are not independent draws: they share the trace's server, codec, path
//! and moment, so an interval computed as if every window were independent is far too narrow.
//! The unit of resampling is therefore the trace (or the group that keeps windows together in
//! a split). Two settings — two feature spaces, a model with and without augmentation, two
//! window rules — are scored on the *same* test traces; each bootstrap resample draws traces
//! with replacement and recomputes both accuracies on that draw, so the interval of their
//! difference reflects how much the gain depends on which traces happened to be tested.
//!
//! ```
//! use tapir_learn::{paired_bootstrap, TraceOutcome, BOOTSTRAP_RESAMPLES};
//! // Three test traces of ten windows: setting B gets two more windows right on each.
//! let a: Vec<TraceOutcome> = [6, 7, 5].iter().map(|&c| TraceOutcome::new(c, 10)).collect();
//! let b: Vec<TraceOutcome> = [8, 9, 7].iter().map(|&c| TraceOutcome::new(c, 10)).collect();
//! let d = paired_bootstrap(&a, &b, BOOTSTRAP_RESAMPLES, 1)?;
//! assert!((d.difference - 0.2).abs() < 1e-12);
//! assert!(d.ci95[0] > 0.0); // every resample sees the gain
//! # Ok::<(), tapir_learn::LearnError>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{LearnError, Result};
use crate::rng::Rng;

/// Resamples for the bootstrap intervals tapir reports: enough that the 2.5% and 97.5%
/// percentiles move by well under a point between seeds.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// How one test trace fared under one setting: windows classified right, windows scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceOutcome {
    /// Windows of the trace classified right.
    pub correct: u32,
    /// Windows of the trace scored.
    pub windows: u32,
}

impl TraceOutcome {
    /// `correct` of `windows` right.
    pub fn new(correct: u32, windows: u32) -> Self {
        Self { correct, windows }
    }
}

/// Per-trace outcomes of a list of predictions: `groups[i]` is row `i`'s trace (group id).
/// Returned in ascending group order, so two settings scored on the same test rows give
/// outcome lists that pair up index by index.
pub fn trace_outcomes(groups: &[u32], y_true: &[usize], y_pred: &[usize]) -> Vec<TraceOutcome> {
    let mut by: BTreeMap<u32, TraceOutcome> = BTreeMap::new();
    for ((&g, t), p) in groups.iter().zip(y_true).zip(y_pred) {
        let o = by.entry(g).or_insert(TraceOutcome::new(0, 0));
        o.windows += 1;
        o.correct += u32::from(t == p);
    }
    by.into_values().collect()
}

/// An accuracy with a bootstrap interval over traces ([`bootstrap_accuracy`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccuracyInterval {
    /// Test traces.
    pub traces: usize,
    /// Window-weighted accuracy over all test traces.
    pub accuracy: f64,
    /// 95% percentile interval `[low, high]` of the accuracy over resampled traces.
    pub ci95: [f64; 2],
}

/// The difference of two settings on the same test traces ([`paired_bootstrap`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairedDifference {
    /// Test traces (pairs).
    pub traces: usize,
    /// Window-weighted accuracy of setting A.
    pub accuracy_a: f64,
    /// Window-weighted accuracy of setting B.
    pub accuracy_b: f64,
    /// `accuracy_b - accuracy_a`.
    pub difference: f64,
    /// 95% percentile interval `[low, high]` of the difference over resampled traces; a gain
    /// is measured, not noise, when the interval excludes 0.
    pub ci95: [f64; 2],
    /// Share of resamples in which B did not beat A (difference ≤ 0): a one-sided bootstrap
    /// p-value for "B is better".
    pub share_not_better: f64,
    /// Resamples drawn.
    pub resamples: usize,
    /// Seed of the resampling.
    pub seed: u64,
}

fn check(name: &str, v: &[TraceOutcome]) -> Result<()> {
    if v.is_empty() {
        return Err(LearnError::InvalidDataset(format!(
            "{name}: no test traces to compare"
        )));
    }
    if let Some((i, o)) = v
        .iter()
        .enumerate()
        .find(|(_, o)| o.windows == 0 || o.correct > o.windows)
    {
        return Err(LearnError::InvalidDataset(format!(
            "{name}: trace {i} has {} right of {} windows",
            o.correct, o.windows
        )));
    }
    Ok(())
}

fn accuracy_of(v: &[TraceOutcome], draw: &[usize]) -> f64 {
    let (mut c, mut n) = (0u64, 0u64);
    for &i in draw {
        c += u64::from(v[i].correct);
        n += u64::from(v[i].windows);
    }
    c as f64 / n as f64
}

/// Percentile of sorted values, linear between neighbours (numpy's default).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    if lo == hi {
        sorted[lo]
    } else {
        sorted[lo] + (sorted[hi] - sorted[lo]) * frac
    }
}

fn check_resamples(resamples: usize) -> Result<()> {
    if resamples < 2 {
        return Err(crate::error::param(
            "resamples",
            format!("{resamples}; need at least 2 (tapir uses {BOOTSTRAP_RESAMPLES})"),
        ));
    }
    Ok(())
}

/// Draws `resamples` bootstrap samples of `n` trace indices and applies `stat` to each.
fn resample(
    n: usize,
    resamples: usize,
    seed: u64,
    mut stat: impl FnMut(&[usize]) -> f64,
) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let mut draw = vec![0usize; n];
    let mut out = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for d in draw.iter_mut() {
            *d = rng.below(n);
        }
        out.push(stat(&draw));
    }
    out.sort_by(f64::total_cmp);
    out
}

/// Accuracy of one setting with a 95% percentile bootstrap interval over its test traces
/// (`resamples` draws of as many traces, with replacement, seeded).
pub fn bootstrap_accuracy(
    outcomes: &[TraceOutcome],
    resamples: usize,
    seed: u64,
) -> Result<AccuracyInterval> {
    check("outcomes", outcomes)?;
    check_resamples(resamples)?;
    let all: Vec<usize> = (0..outcomes.len()).collect();
    let stats = resample(outcomes.len(), resamples, seed, |d| {
        accuracy_of(outcomes, d)
    });
    Ok(AccuracyInterval {
        traces: outcomes.len(),
        accuracy: accuracy_of(outcomes, &all),
        ci95: [percentile(&stats, 0.025), percentile(&stats, 0.975)],
    })
}

/// Paired bootstrap of two settings scored on the same test traces: `a[i]` and `b[i]` are the
/// outcomes of trace `i` under settings A and B (same folds, same traces; the window counts
/// may differ, e.g. when B cuts windows differently). Gives B's accuracy minus A's, both
/// window-weighted, with the 95% percentile interval over `resamples` draws of traces with
/// replacement (seeded: the same seed gives the same interval). Use [`BOOTSTRAP_RESAMPLES`].
pub fn paired_bootstrap(
    a: &[TraceOutcome],
    b: &[TraceOutcome],
    resamples: usize,
    seed: u64,
) -> Result<PairedDifference> {
    check("setting A", a)?;
    check("setting B", b)?;
    check_resamples(resamples)?;
    if a.len() != b.len() {
        return Err(LearnError::InvalidDataset(format!(
            "setting A has {} test traces, setting B {}; a paired comparison needs the same traces",
            a.len(),
            b.len()
        )));
    }
    let all: Vec<usize> = (0..a.len()).collect();
    let (acc_a, acc_b) = (accuracy_of(a, &all), accuracy_of(b, &all));
    let diffs = resample(a.len(), resamples, seed, |d| {
        accuracy_of(b, d) - accuracy_of(a, d)
    });
    let not_better = diffs.iter().filter(|d| **d <= 0.0).count();
    Ok(PairedDifference {
        traces: a.len(),
        accuracy_a: acc_a,
        accuracy_b: acc_b,
        difference: acc_b - acc_a,
        ci95: [percentile(&diffs, 0.025), percentile(&diffs, 0.975)],
        share_not_better: not_better as f64 / resamples as f64,
        resamples,
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(seed: u64, n: usize, p_right: f64) -> Vec<TraceOutcome> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| {
                let w = 4 + rng.below(12) as u32;
                let c = (0..w)
                    .filter(|_| (rng.below(1000) as f64) < p_right * 1000.0)
                    .count() as u32;
                TraceOutcome::new(c, w)
            })
            .collect()
    }

    #[test]
    fn identical_settings_differ_by_exactly_zero() {
        let a = outcomes(3, 40, 0.7);
        let d = paired_bootstrap(&a, &a, BOOTSTRAP_RESAMPLES, 9).unwrap();
        assert_eq!(d.difference, 0.0);
        assert!(d.ci95[0] <= 0.0 && d.ci95[1] >= 0.0, "{:?}", d.ci95);
        assert_eq!(d.ci95, [0.0, 0.0]);
        assert_eq!(d.share_not_better, 1.0);
        assert_eq!(d.traces, 40);
    }

    #[test]
    fn a_planted_gain_is_found_and_noise_is_not() {
        // B gets 20 points more right on every trace: the interval is clear of zero.
        let a = outcomes(5, 30, 0.5);
        let b: Vec<TraceOutcome> = a
            .iter()
            .map(|o| TraceOutcome::new((o.correct + o.windows / 5).min(o.windows), o.windows))
            .collect();
        let d = paired_bootstrap(&a, &b, BOOTSTRAP_RESAMPLES, 1).unwrap();
        assert!(d.difference > 0.1, "{d:?}");
        assert!(d.ci95[0] > 0.0 && d.ci95[1] > d.ci95[0], "{d:?}");
        assert!(d.ci95[0] <= d.difference && d.difference <= d.ci95[1]);
        assert!(d.share_not_better < 0.01);
        // Reversed, the difference and the interval flip sign.
        let r = paired_bootstrap(&b, &a, BOOTSTRAP_RESAMPLES, 1).unwrap();
        assert!((r.difference + d.difference).abs() < 1e-12);
        assert!(r.ci95[1] < 0.0);
        // Two independent draws of the same accuracy: the interval holds zero.
        let c = outcomes(77, 30, 0.5);
        let n = paired_bootstrap(&a, &c, BOOTSTRAP_RESAMPLES, 1).unwrap();
        assert!(n.ci95[0] < 0.0 && n.ci95[1] > 0.0, "{n:?}");
    }

    #[test]
    fn seeded_and_checked() {
        let a = outcomes(1, 20, 0.6);
        let b = outcomes(2, 20, 0.8);
        let d1 = paired_bootstrap(&a, &b, 500, 4).unwrap();
        assert_eq!(d1, paired_bootstrap(&a, &b, 500, 4).unwrap());
        assert_ne!(d1.ci95, paired_bootstrap(&a, &b, 500, 5).unwrap().ci95);
        assert!(paired_bootstrap(&a, &b[..19], 500, 4).is_err());
        assert!(paired_bootstrap(&[], &[], 500, 4).is_err());
        assert!(paired_bootstrap(&a, &b, 1, 4).is_err());
        let bad = [TraceOutcome::new(3, 2)];
        assert!(paired_bootstrap(&bad, &bad, 500, 4).is_err());
        let acc = bootstrap_accuracy(&a, 500, 4).unwrap();
        assert!(acc.ci95[0] <= acc.accuracy && acc.accuracy <= acc.ci95[1]);
        assert!(acc.ci95[0] < acc.ci95[1]);
    }

    #[test]
    fn outcomes_group_rows_by_trace() {
        let o = trace_outcomes(&[5, 1, 5, 1, 5], &[0, 1, 0, 1, 1], &[0, 0, 0, 1, 0]);
        assert_eq!(o, vec![TraceOutcome::new(1, 2), TraceOutcome::new(2, 3)]);
    }
}
