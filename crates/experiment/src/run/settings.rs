//! What to run: the experiment settings and the progress callback.

use super::*;

/// What to run. [`Settings::default`] is the full report; every field is documented with why.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    /// Packets per window (the paper: 1024), disjoint windows; any size [`WindowSpec`] accepts.
    pub window: usize,
    /// Fraction of traces (or windows) held out for testing (the paper: 20%).
    pub test_fraction: f64,
    /// One run per seed; tables give the mean and a 95% confidence interval over them.
    pub seeds: Vec<u64>,
    /// Trees per random forest.
    pub trees: usize,
    /// Background rates swept, packets per second.
    pub rates: Vec<f64>,
    /// Window sizes swept, packets.
    pub window_sizes: Vec<usize>,
    /// Synthetic multi-application mixes per number of applications and per split side.
    pub mixes: usize,
    /// Manifest columns to hold out, one leave-one-value-out evaluation each, in every
    /// condition. `None`: whichever of [`DEFAULT_HOLD_OUT`] the dataset has.
    pub hold_out: Option<Vec<String>>,
    /// Conditions the defence matrix runs on ([`crate::defense_matrix`]); empty: none (the
    /// default, as the matrix refits three forests per defence setting).
    pub defense_conditions: Vec<String>,
    /// Trees per random forest in the defence matrix (fewer than `trees` to keep it quick).
    pub defense_trees: usize,
    /// Simulated trials per row of the metadata attacks against defences.
    pub defense_trials: usize,
    /// Windows held in memory at most: the traces cut at the smallest window size (of
    /// `window` and `window_sizes`) must give no more, or the run is refused before it starts
    /// ([`ExperimentError::TooManyWindows`]).
    pub max_windows: usize,
    /// Bin edges and thresholds of the features.
    #[serde(skip)]
    pub features: FeatureConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            window: DEFAULT_WINDOW,
            test_fraction: 0.2,
            seeds: vec![1, 2, 3, 4, 5],
            trees: 100,
            rates: vec![0.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 600.0],
            window_sizes: vec![64, 128, 256, 512, 1024, 2048],
            mixes: 8,
            hold_out: None,
            defense_conditions: Vec::new(),
            defense_trees: 30,
            defense_trials: 8,
            max_windows: tapir_dataset::DEFAULT_MAX_WINDOWS,
            features: FeatureConfig::default(),
        }
    }
}

/// The columns held out by default when the manifest has them: the program that made the
/// traffic and the emulated network, the two things a user's traffic is sure to differ in.
pub const DEFAULT_HOLD_OUT: [&str; 2] = ["program", "wan_profile"];

impl Settings {
    /// Checks ranges; the messages name the setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, why: String| Err(ExperimentError::Setting { name, why });
        if let Err(e) = WindowSpec::disjoint(self.window) {
            return bad("window", e.to_string());
        }
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return bad(
                "test fraction",
                format!("{} is not in (0, 1)", self.test_fraction),
            );
        }
        if self.seeds.is_empty() {
            return bad("seeds", "need at least one seed".into());
        }
        if self.defense_trials == 0 {
            return bad("defense trials", "need at least one trial".into());
        }
        if self.defense_trees == 0 {
            return bad("defense trees", "need at least one tree".into());
        }
        if self.trees == 0 {
            return bad("trees", "need at least one tree".into());
        }
        if let Some(r) = self.rates.iter().find(|r| !(r.is_finite() && **r >= 0.0)) {
            return bad("rates", format!("{r} is not a rate in packets/s"));
        }
        for &w in &self.window_sizes {
            if let Err(e) = WindowSpec::disjoint(w) {
                return bad("window sizes", e.to_string());
            }
        }
        if self.max_windows == 0 {
            return bad("max windows", "need at least 1".into());
        }
        self.features.validate()?;
        Ok(())
    }

    /// Checks that `corpus` cut at the smallest window size gives at most
    /// [`Settings::max_windows`] windows, the most any step holds at once.
    pub fn check_windows(&self, corpus: &Corpus) -> Result<()> {
        let window = self
            .window_sizes
            .iter()
            .copied()
            .chain([self.window])
            .min()
            .unwrap_or(self.window)
            .max(1);
        let windows: usize = corpus.traces.iter().map(|t| t.packets.len() / window).sum();
        if windows > self.max_windows {
            return Err(ExperimentError::TooManyWindows {
                windows,
                window,
                limit: self.max_windows,
            });
        }
        Ok(())
    }
}

/// Reports progress; the engine calls `begin` once with the number of steps (model fits and
/// mixing passes), then `step` after each.
pub trait Progress: Sync {
    /// The total number of steps.
    fn begin(&self, total: u64);
    /// One step done; `what` names the experiment and condition.
    fn step(&self, what: &str);
}

/// A progress sink that ignores everything.
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: u64) {}
    fn step(&self, _: &str) {}
}
