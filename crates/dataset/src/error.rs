use std::io;
use std::path::{Path, PathBuf};

/// Why a dataset or one of its files could not be read. Every message names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}, line {line}: {why}")]
    Manifest {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error("{path}: {source}")]
    Capture {
        path: PathBuf,
        source: tapir_capture::CaptureError,
    },
    #[error("{path}: {source}")]
    Trace {
        path: PathBuf,
        source: tapir_capture::TraceError,
    },
    #[error("no capture or trace files found in {}", .inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    Empty { inputs: Vec<PathBuf> },
    #[error("feature settings: {0}")]
    Features(tapir_features::FeatureError),
    #[error("not read: stopped after an earlier file failed (--strict)")]
    Cancelled,
    /// More windows than [`crate::ExtractSettings::max_windows`] would be held at once.
    #[error(
        "more than {limit} windows (augmented copies included) to hold in memory at once; \
         the limit keeps memory bounded"
    )]
    TooManyWindows { limit: usize },
}

impl DatasetError {
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        DatasetError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn manifest(path: &Path, line: usize, why: &str) -> Self {
        DatasetError::Manifest {
            path: path.to_path_buf(),
            line,
            why: why.to_string(),
        }
    }

    pub(crate) fn capture(path: &Path, source: tapir_capture::CaptureError) -> Self {
        DatasetError::Capture {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn trace(path: &Path, source: tapir_capture::TraceError) -> Self {
        DatasetError::Trace {
            path: path.to_path_buf(),
            source,
        }
    }
}
