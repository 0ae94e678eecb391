//! What a run gives: one struct per table and figure, serialised into `results.json`.

use super::*;

/// One cell of Tables I–III.
#[derive(Clone, Debug, Serialize)]
pub struct TableCell {
    /// Feature space.
    pub features: String,
    /// Model.
    pub model: String,
    /// Accuracy with whole traces held out (ours), over the seeds.
    pub trace_split: Stat,
    /// Accuracy with random windows held out (the paper's split), over the seeds.
    pub window_split: Stat,
    /// The paper's figure for this cell, if it reported the condition.
    pub paper: Option<f64>,
    /// Confusion matrix of the trace split, summed over seeds (rows true, columns predicted).
    pub confusion: Vec<Vec<u64>>,
}

/// Tables I–III for one condition.
#[derive(Clone, Debug, Serialize)]
pub struct AccuracyTable {
    /// The paper's table for this condition, if any.
    pub paper_table: Option<&'static str>,
    /// Space × model cells, spaces in the paper's order.
    pub cells: Vec<TableCell>,
}

/// One line of Figure 3.
#[derive(Clone, Debug, Serialize)]
pub struct BackgroundSeries {
    /// Model.
    pub model: String,
    /// `clean`: trained without background; `mixed`: trained with background at the test rate.
    pub training: String,
    /// Accuracy at each rate of [`BackgroundSweep::rates`].
    pub accuracy: Vec<f64>,
}

/// Figure 3 for one condition.
#[derive(Clone, Debug, Serialize)]
pub struct BackgroundSweep {
    /// Background rates, packets/s.
    pub rates: Vec<f64>,
    /// Accuracy curves.
    pub series: Vec<BackgroundSeries>,
    /// Background traces and packets in the pool.
    pub background_traces: usize,
    /// Packets in the background pool.
    pub background_packets: usize,
    /// Test windows at each rate (mixing adds packets, so more windows).
    pub test_windows: Vec<usize>,
}

/// Scores of one label.
#[derive(Clone, Debug, Serialize)]
pub struct LabelScore {
    /// Label.
    pub label: String,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Test windows carrying the label.
    pub support: u64,
}

/// Subset accuracy and Hamming loss on part of the test windows.
#[derive(Clone, Debug, Serialize)]
pub struct MultiScore {
    /// Windows scored.
    pub windows: usize,
    /// Fraction of windows whose label set is exactly right.
    pub subset_accuracy: f64,
    /// Fraction of wrong label flags.
    pub hamming_loss: f64,
}

/// One row of Table IV.
#[derive(Clone, Debug, Serialize)]
pub struct MultiRow {
    /// Feature space.
    pub features: String,
    /// All test windows.
    pub all: MultiScore,
    /// Per-label precision, recall, F1.
    pub per_label: Vec<LabelScore>,
    /// Test windows by origin: `single`, `synthetic` (interleaved traces), `lab` (concurrent).
    pub by_origin: BTreeMap<String, MultiScore>,
    /// The paper's (subset accuracy, Hamming loss), Tor only.
    pub paper: Option<(f64, f64)>,
}

/// Table IV for one condition.
#[derive(Clone, Debug, Serialize)]
pub struct MultiLabelTable {
    /// Labels, sorted.
    pub labels: Vec<String>,
    /// Training windows.
    pub train_windows: usize,
    /// Test windows by number of labels (index 0 = one label).
    pub test_by_cardinality: Vec<usize>,
    /// One row per feature space.
    pub rows: Vec<MultiRow>,
}

/// Accuracy against window size.
#[derive(Clone, Debug, Serialize)]
pub struct WindowSweep {
    /// Window sizes, packets.
    pub sizes: Vec<usize>,
    /// Random-forest accuracy (combined features, trace split) at each size, over the seeds;
    /// `None` where the split was impossible (too few windows).
    pub accuracy: Vec<Option<Stat>>,
    /// Windows at each size.
    pub windows: Vec<usize>,
    /// Median seconds of traffic one window spans at each size: how long a QoS system waits.
    pub seconds: Vec<f64>,
}

/// An experiment that did not run, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// Condition (or `all`).
    pub condition: String,
    /// Which experiment.
    pub experiment: String,
    /// Why.
    pub reason: String,
}

/// A window kept for the report's example histograms (Figures 1–2).
#[derive(Clone, Debug)]
pub struct Example {
    /// Its class.
    pub label: String,
    /// Its packets.
    pub packets: Vec<TracePacket>,
}

/// Everything about one condition.
#[derive(Clone, Debug, Serialize)]
pub struct ConditionResults {
    /// Condition.
    pub condition: String,
    /// Single-application traces.
    pub traces: usize,
    /// Background traces.
    pub background_traces: usize,
    /// Concurrent (multi-label) captures.
    pub multi_traces: usize,
    /// Classes, sorted.
    pub classes: Vec<String>,
    /// Windows of each class at the main window size.
    pub class_windows: Vec<usize>,
    /// Tables I–III.
    pub table: Option<AccuracyTable>,
    /// Leave-one-value-out accuracy, one per held-out column (first seed's forests; intervals
    /// are bootstrap intervals over test traces).
    pub hold_out: Vec<HoldOut>,
    /// Paired comparisons on the hold-out folds (random forest: each half of the features
    /// against the combined space).
    pub comparisons: Vec<Comparison>,
    /// Figure 3.
    pub background: Option<BackgroundSweep>,
    /// Table IV.
    pub multi_label: Option<MultiLabelTable>,
    /// Accuracy against window size.
    pub window_sweep: Option<WindowSweep>,
    /// One example window per class.
    #[serde(skip)]
    pub examples: Vec<Example>,
}

/// Train on one condition, test on another.
#[derive(Clone, Debug, Serialize)]
pub struct Transfer {
    /// Conditions, rows = trained on, columns = tested on.
    pub conditions: Vec<String>,
    /// Random-forest accuracy (combined features); the diagonal is the trace-split accuracy.
    pub accuracy: Vec<Vec<Option<f64>>>,
}

/// The whole experiment.
#[derive(Clone, Debug, Serialize)]
pub struct Results {
    /// The dataset's root.
    pub root: String,
    /// What was run.
    pub settings: Settings,
    /// Columns held out (resolved: `profile` becomes `wan_profile`); empty when the dataset has
    /// none of them.
    pub hold_out_columns: Vec<String>,
    /// One entry per condition found.
    pub conditions: Vec<ConditionResults>,
    /// Cross-condition transfer, with two or more conditions.
    pub transfer: Option<Transfer>,
    /// Experiments that could not run.
    pub skipped: Vec<Skipped>,
    /// Files left out.
    pub warnings: Vec<String>,
    /// The defence matrix, one per condition of [`Settings::defense_conditions`] the corpus has.
    pub defenses: Vec<DefenseMatrix>,
    /// The metadata attacks against the defences (volume timelines from the first defence
    /// condition the corpus has).
    pub defense_attacks: Option<crate::defenses::AttackMatrix>,
    /// Wall time of the run.
    pub seconds: f64,
}
