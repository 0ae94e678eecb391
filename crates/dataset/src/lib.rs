//! tapir-dataset: labelled captures and traces → windows of features, in parallel.
//!
//! [`discover`] finds the files of a dataset (a folder per label, or a manifest CSV) and
//! [`extract_all`] turns each into windows of features, one file per thread. A file that cannot
//! be read is reported with its name and byte offset (or line) and the rest go on, unless
//! `strict` is set. [`stream_file`] hands one file's rows over as they are made, holding none,
//! for output that may be larger than memory, and [`stream_file_formatted`] does it with the
//! features of one file computed on several cores; live units and window buffers are bounded by
//! [`ExtractSettings::max_units`] and [`ExtractSettings::max_held_packets`] either way.
//! [`visit_windows`] streams one file's windows to a callback; [`visit_source`] does the same
//! for any `PacketSource`, such as a live interface.
//!
//! ```no_run
//! use tapir_dataset::{discover, extract_all, ExtractSettings};
//! let sources = discover(&["data/sample/ipsec".into()]).unwrap();
//! let results = extract_all(&sources, &ExtractSettings::default(), &|_, _| {}).unwrap();
//! let windows: usize = results.iter().filter_map(|r| r.result.as_ref().ok()).map(|f| f.rows.len()).sum();
//! println!("{} files, {windows} windows", sources.len());
//! ```
#![deny(unsafe_code)]

mod error;
mod extract;
pub mod inspect;
mod parallel;
mod source;
mod units;

pub use error::DatasetError;
pub use extract::{
    extract_all, extract_file, stream_file, stream_source, visit_packets, visit_source,
    visit_windows, Augmentation, ExtractSettings, FileWindows, ReadStats, RowRef, SourceResult,
    StateStats, UnitEvent, Visit, WindowRef, WindowRow, DEFAULT_MAX_HELD_PACKETS,
    DEFAULT_MAX_UNITS, DEFAULT_MAX_WINDOWS,
};
pub use parallel::{stream_file_formatted, FormatRow};
pub use source::{discover, expand_inputs, read_manifest, split_labels, Columns, Source};
