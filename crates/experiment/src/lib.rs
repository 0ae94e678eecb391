//! tapir-experiment: the paper's experiments (`seeds/001`, §III–IV) end to end on a dataset of
//! captures, and past it.
//!
//! * [`load_corpus`] reads every trace of every condition (`plain`, `ipsec`, `wireguard`, `tor`)
//!   once into memory, with background and concurrent (multi-label) captures marked.
//! * [`run`] computes, per condition, the leave-one-value-out accuracy of every held-out
//!   manifest column (network profile, program: [`evaluate_hold_out`]), the 3 × 3 accuracy table (Tables I–III) with the
//!   paper's window split and a trace split side by side over several seeds, the background
//!   sweep (Figure 3), the multi-label table (Table IV), accuracy against window size, and across
//!   conditions the train-here/test-there transfer matrix.
//! * [`write_report`] writes `results.json`, a self-contained `index.html` with SVG figures,
//!   and PNG copies of the figures; [`summary`] gives the same tables as text.
//! * [`evaluate_grid`] is the space × model × fold loop `tapir eval` also uses.
//!
//! ```no_run
//! use tapir_experiment::{load_corpus, run, summary, write_report, Settings, Silent};
//! let corpus = load_corpus("data/sample".as_ref(), &|| {})?;
//! let results = run(&corpus, "data/sample", &Settings::default(), &Silent)?;
//! print!("{}", summary(&results));
//! write_report(&results, "report".as_ref())?;
//! # Ok::<(), tapir_experiment::ExperimentError>(())
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod corpus;
pub mod defenses;
mod error;
mod mix;
pub mod paper;
mod report;
mod run;
mod summary;

pub use corpus::{discover_traces, load_corpus, Corpus, Role, Trace, CONDITIONS};
pub use defenses::{
    attack_matrix, corpus_attack_matrix, defend_trace, defense_matrix, sequence, volume, watch,
    AttackMatrix, AttackRow, AttackSettings, DefenseMatrix, DefenseRow, LiteratureFigure,
    DEFENSE_SETTINGS, LITERATURE,
};
pub use error::{ExperimentError, Result};
pub use mix::{interleave, mix_background, play_together, SplitMix};
pub use report::write_report;
pub use run::{
    run, AccuracyTable, BackgroundSeries, BackgroundSweep, ConditionResults, Example, LabelScore,
    MultiLabelTable, MultiRow, MultiScore, Progress, Results, Settings, Silent, Skipped, Stat,
    TableCell, Transfer, WindowSweep, DEFAULT_HOLD_OUT,
};
pub use summary::summary;
pub use tapir_eval::{
    column_kind, evaluate_grid, evaluate_hold_out, select_columns, space_columns, Comparison, Fold,
    GridCell, HeldOutValue, HoldOut, HoldOutCell,
};
