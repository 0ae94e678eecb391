//! Means over seeds with a 95% confidence interval.

use super::*;

/// Mean of several runs with a 95% confidence interval.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Stat {
    /// Mean over runs.
    pub mean: f64,
    /// Half-width of the 95% interval (Student's t over the runs; 0 for one run).
    pub ci95: f64,
    /// Each run's value.
    pub runs: Vec<f64>,
}

impl Stat {
    /// Mean and interval of `runs` (empty input gives NaN).
    pub fn of(runs: Vec<f64>) -> Stat {
        let n = runs.len();
        let mean = runs.iter().sum::<f64>() / n as f64;
        let ci95 = if n < 2 {
            0.0
        } else {
            let var = runs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            t975(n - 1) * (var / n as f64).sqrt()
        };
        Stat { mean, ci95, runs }
    }
}

/// 97.5% quantile of Student's t with `df` degrees of freedom (table; normal beyond 30).
fn t975(df: usize) -> f64 {
    const T: [f64; 10] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    ];
    match df {
        0 => f64::NAN,
        1..=10 => T[df - 1],
        11..=20 => 2.086,
        21..=30 => 2.042,
        _ => 1.96,
    }
}
