//! The one error type of tapir-analysis.

use std::path::PathBuf;

/// What went wrong, with the place (file, line) where it is known.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// A watchlist, site list or JSON-lines line that does not parse.
    #[error("{source_name} line {line}: {why}")]
    Parse {
        source_name: String,
        line: usize,
        why: String,
    },
    /// A value of a setting that makes no sense (an interval of 0, a fan-out of 0): `what`
    /// names the setting as the library's configuration does (`interval_ns`, `min_fanout`);
    /// a command line maps it to its own flag.
    #[error("{what}: {why}")]
    Invalid { what: &'static str, why: String },
    /// A file that cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A capture that cannot be read or decoded.
    #[error("{}: {source}", path.display())]
    Capture {
        path: PathBuf,
        #[source]
        source: tapir_capture::CaptureError,
    },
}

impl AnalysisError {
    pub(crate) fn invalid(what: &'static str, why: impl Into<String>) -> Self {
        AnalysisError::Invalid {
            what,
            why: why.into(),
        }
    }
}
