//! tapir-eval: how well a model recognises traffic it was not trained on, as `tapir eval` and
//! `tapir experiment` both measure it.
//!
//! * [`evaluate_grid`] fits every feature space × model on a list of train/test folds and pools
//!   the test windows of all folds into one confusion matrix per cell.
//! * [`evaluate_hold_out`] is leave-one-value-out on a trace attribute (a network profile, a
//!   program, a tunnel), with bootstrap intervals over traces and paired comparisons of cells.
//! * [`labelled`] turns windows extracted by `tapir-dataset` into a `tapir_learn::Dataset`, with
//!   augmented copies tracked so folds are drawn on the windows as read.
//! * [`space_columns`] gives the columns of each feature space inside a `combined` row, so
//!   features are extracted once.
//!
//! ```
//! use tapir_eval::{evaluate_grid, space_columns};
//! use tapir_features::{FeatureConfig, FeatureSpace};
//! use tapir_learn::{Dataset, ModelKind, ModelParams};
//!
//! let cols = space_columns(&FeatureConfig::default(), FeatureSpace::SizeIat)?;
//! assert_eq!(cols, 0..1024);
//! // Two well separated classes, one window per trace.
//! let x = vec![0.0, 0.1, 0.2, 5.0, 5.1, 5.2];
//! let ds = Dataset::new(x, 1, vec![0, 0, 0, 1, 1, 1], vec!["a".into(), "b".into()], vec![0, 1, 2, 3, 4, 5])?;
//! let folds = vec![(vec![0, 1, 3, 4], vec![2, 5])];
//! let cells = evaluate_grid(
//!     &ds,
//!     &[(FeatureSpace::SizeIat, 0..1)],
//!     &[ModelKind::Nb],
//!     &folds,
//!     &ModelParams::default(),
//!     &mut |_, _| {},
//! )?;
//! assert_eq!(cells[0].accuracy, 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod grid;
mod holdout;
mod labelled;

pub use grid::{evaluate_grid, select_columns, space_columns, Fold, GridCell};
pub use holdout::{column_kind, evaluate_hold_out, Comparison, HeldOutValue, HoldOut, HoldOutCell};
pub use labelled::{labelled, Labelled, SetAside, BACKGROUND};

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// Feature settings were rejected.
    #[error("feature settings: {0}")]
    Features(#[from] tapir_features::FeatureError),
    /// A model, split or dataset was rejected by the learning crate.
    #[error(transparent)]
    Learn(#[from] tapir_learn::LearnError),
    /// The data holds nothing the evaluation can use; the message says what is missing.
    #[error("{0}")]
    NoData(String),
}

/// Result with [`EvalError`].
pub type Result<T> = std::result::Result<T, EvalError>;
