use thiserror::Error;

/// Errors of defence specs.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DefenseError {
    /// A spec names no known defence.
    #[error("unknown defence '{name}'\n{help}")]
    Unknown {
        /// What was given.
        name: String,
        /// The list of defences and their settings.
        help: &'static str,
    },
    /// A known defence that does not apply to this kind of input (padding on mail).
    #[error("defence '{spec}' does not apply to {kind}\n{help}")]
    DoesNotApply {
        /// The whole spec.
        spec: String,
        /// What the input is (`"mail"`, `"flow events"`, `"packets"`).
        kind: &'static str,
        /// The defences that do apply.
        help: &'static str,
    },
    /// A setting of a known defence is malformed or out of range.
    #[error("defence '{spec}': {why}")]
    BadSetting {
        /// The whole spec.
        spec: String,
        /// What is wrong and what is allowed.
        why: String,
    },
}
