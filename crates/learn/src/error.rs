//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while building datasets, fitting models or reading model files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LearnError {
    /// The dataset's parts disagree (row count, label count, feature count).
    #[error("invalid dataset: {0}")]
    InvalidDataset(String),
    /// A feature value is NaN or infinite; features must be finite.
    #[error("feature value at row {row}, column {column} is not finite ({value}); clean the features before training")]
    NonFiniteFeature {
        /// Row of the offending value.
        row: usize,
        /// Column of the offending value.
        column: usize,
        /// The value itself.
        value: f32,
    },
    /// A hyper-parameter is outside its documented range.
    #[error("invalid hyper-parameter `{name}`: {reason}")]
    InvalidParam {
        /// Name of the hyper-parameter, as in the params struct.
        name: &'static str,
        /// What is wrong and what range is accepted.
        reason: String,
    },
    /// The data cannot be split as asked (too few groups, k too large, ...).
    #[error("cannot split dataset: {0}")]
    InvalidSplit(String),
    /// A row given to a fitted model has the wrong number of features.
    #[error("row has {got} features but the model was trained on {expected}")]
    FeatureCountMismatch {
        /// Number of features the model expects.
        expected: usize,
        /// Number of features supplied.
        got: usize,
    },
    /// Model file I/O failed.
    #[error("model file {path}: {source}")]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The model file does not start with the `TAPIRMDL` magic.
    #[error("model file {path}: not a tapir model (bad magic); was it written by `tapir train`?")]
    BadMagic {
        /// The file being read.
        path: PathBuf,
    },
    /// The model file's format version is not one this build reads.
    #[error("model file {path}: model file version {found}, this tapir reads version {supported}: retrain it with `tapir train` (or use the tapir that wrote it)")]
    UnsupportedVersion {
        /// The file being read.
        path: PathBuf,
        /// Version stored in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// The model file ends before the header says it should.
    #[error("model file {path}: truncated: need {needed} bytes, file has {available}; the file is incomplete")]
    Truncated {
        /// The file being read.
        path: PathBuf,
        /// Bytes the header promises.
        needed: u64,
        /// Bytes actually present.
        available: u64,
    },
    /// The payload checksum does not match.
    #[error("model file {path}: checksum mismatch (stored {stored:#010x}, computed {computed:#010x}); the file is corrupted")]
    BadChecksum {
        /// The file being read.
        path: PathBuf,
        /// CRC32 stored in the file.
        stored: u32,
        /// CRC32 computed over the payload.
        computed: u32,
    },
    /// Bytes follow the checksum.
    #[error(
        "model file {path}: {extra} unexpected bytes after the checksum; the file is corrupted"
    )]
    TrailingBytes {
        /// The file being read.
        path: PathBuf,
        /// How many bytes follow the checksum.
        extra: u64,
    },
    /// The payload passed its checksum but does not decode as a model.
    #[error("model file {path}: payload does not decode: {reason}; the file is damaged or was not written by this version of tapir: train the model again with `tapir train`")]
    BadPayload {
        /// The file being read.
        path: PathBuf,
        /// Decoder message.
        reason: String,
    },
    /// The file is larger than the limit given to [`crate::read_model_file_limited`].
    #[error("model file {path}: {size} bytes, above the limit of {limit} bytes; if the model is genuine, raise the limit (tapir classify --max-model-size)")]
    TooLarge {
        /// The file being read.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Encoding the model failed.
    #[error("cannot encode model: {0}")]
    Encode(String),
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, LearnError>;

pub(crate) fn param(name: &'static str, reason: impl Into<String>) -> LearnError {
    LearnError::InvalidParam {
        name,
        reason: reason.into(),
    }
}
