//! The one error type of this crate.

/// What went wrong while configuring or running feature extraction.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureError {
    /// A field of [`crate::FeatureConfig`] is out of range; the message says which and why.
    #[error("invalid feature configuration: `{field}` {reason}")]
    InvalidConfig {
        /// Dotted path of the offending field, e.g. `iat_axis.min`.
        field: &'static str,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// The output slice given to an extractor does not have [`crate::dim`] slots.
    #[error("output buffer holds {got} values but feature space `{space}` needs {need}")]
    OutputLength {
        /// Name of the feature space.
        space: &'static str,
        /// Required length.
        need: usize,
        /// Length given.
        got: usize,
    },
    /// A feature-space name that is not `size-iat`, `burst` or `combined`.
    #[error("unknown feature space `{0}`: expected size-iat, burst or combined")]
    UnknownSpace(String),
    /// Window size of a [`crate::WindowSpec`] out of range.
    #[error("invalid window: {0}")]
    InvalidWindow(String),
    /// Stride of a [`crate::WindowSpec`] out of range.
    #[error("invalid stride: {0}")]
    InvalidStride(String),
    /// A model's stored fingerprint is not what this build computes for its configuration: the
    /// feature definitions changed since it was trained.
    #[error(
        "the model was trained under another feature definition (fingerprint {stored:016x}; \
         this version of tapir computes {current:016x} for the same settings): its features \
         would be computed differently; retrain it with `tapir train`"
    )]
    DefinitionChanged {
        /// Fingerprint stored in the model.
        stored: u64,
        /// Fingerprint this build computes for the stored configuration.
        current: u64,
    },
    /// A model that carries no feature fingerprint at all.
    #[error(
        "the model carries no feature fingerprint, so whether its features are computed the \
         same way cannot be checked; retrain it with `tapir train`"
    )]
    NoFingerprint,
    /// Features computed with one configuration were offered to a model trained with another.
    #[error(
        "feature configuration mismatch: the model was trained with configuration {expected:016x} \
         but these features use {got:016x}; extract them again with the model's configuration"
    )]
    ConfigMismatch {
        /// Fingerprint the model carries.
        expected: u64,
        /// Fingerprint of the configuration offered.
        got: u64,
    },
}
