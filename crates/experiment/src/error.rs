//! The one error type of this crate.

use std::path::PathBuf;

/// Why an experiment could not run. Messages name the file or the step and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExperimentError {
    /// The dataset could not be found or read.
    #[error(transparent)]
    Dataset(#[from] tapir_dataset::DatasetError),
    /// Feature settings were rejected.
    #[error("feature settings: {0}")]
    Features(#[from] tapir_features::FeatureError),
    /// An evaluation (grid or hold-out) could not run.
    #[error(transparent)]
    Eval(#[from] tapir_eval::EvalError),
    /// A model, split or dataset was rejected by the learning crate.
    #[error(transparent)]
    Learn(#[from] tapir_learn::LearnError),
    /// A defence spec was rejected.
    #[error("defence: {0}")]
    Defense(#[from] tapir_defense::DefenseError),
    /// A metadata analysis rejected its settings.
    #[error("metadata analysis: {0}")]
    Analysis(#[from] tapir_analysis::AnalysisError),
    /// A figure could not be drawn.
    #[error(transparent)]
    Report(#[from] tapir_report::ReportError),
    /// Writing the report failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The dataset holds nothing an experiment can use.
    #[error("{0}")]
    NoData(String),
    /// The traces would give more windows than [`crate::Settings::max_windows`].
    #[error(
        "the traces hold {windows} windows of {window} packets (the smallest window size), more \
         than the {limit} held in memory at most; use fewer traces or larger window sizes, or \
         raise the limit"
    )]
    TooManyWindows {
        /// Windows the traces give at `window` packets.
        windows: usize,
        /// The smallest window size, packets.
        window: usize,
        /// [`crate::Settings::max_windows`].
        limit: usize,
    },
    /// A setting is out of range.
    #[error("{name}: {why}")]
    Setting {
        /// The setting's name.
        name: &'static str,
        /// What is wrong with it.
        why: String,
    },
}

impl ExperimentError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ExperimentError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`ExperimentError`].
pub type Result<T> = std::result::Result<T, ExperimentError>;
