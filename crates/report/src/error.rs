//! The one error type of this crate.

/// What went wrong while producing a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The PNG encoder refused the image (e.g. a dimension of 0).
    #[error("could not encode the PNG image: {0}")]
    Png(#[from] png::EncodingError),
}
