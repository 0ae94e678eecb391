//! Errors: an input that cannot be read at all ([`MailError`]), and one message that cannot be
//! used ([`Broken`]), which callers report and skip.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// An input that cannot be opened or read. Unlike [`Broken`], this stops the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// The file or folder cannot be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Why one message was skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BrokenKind {
    /// No bytes between two separators.
    Empty,
    /// The first line is not a header field (`Name: value`).
    NotAHeader,
    /// A line inside the header section is neither a field nor a continuation.
    BadHeaderLine { line: u64 },
    /// The header section runs to the end of the message without the blank line that ends it:
    /// typically a message cut short (a truncated mbox).
    NoHeaderEnd,
    /// Larger than the configured limit; skipped to keep memory bounded.
    TooLarge { limit: u64 },
    /// More header fields than the configured limit; skipped to keep memory bounded.
    TooManyHeaders { limit: u64 },
    /// The parser found no header at all.
    Unparsable,
}

impl fmt::Display for BrokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokenKind::Empty => f.write_str("empty message"),
            BrokenKind::NotAHeader => f.write_str("does not start with a header field"),
            BrokenKind::BadHeaderLine { line } => {
                write!(
                    f,
                    "header line {line} is neither a field nor a continuation"
                )
            }
            BrokenKind::NoHeaderEnd => {
                f.write_str("no blank line ends the header (message cut short?)")
            }
            BrokenKind::TooLarge { limit } => write!(f, "larger than the {limit}-byte limit"),
            BrokenKind::TooManyHeaders { limit } => {
                write!(
                    f,
                    "more than {limit} header fields (--max-headers raises the limit)"
                )
            }
            BrokenKind::Unparsable => f.write_str("no header could be parsed"),
        }
    }
}

/// One message that was skipped: where it is and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Broken {
    /// The file it came from.
    pub file: PathBuf,
    /// Its index within the file (0 for a single-message file).
    pub index: u64,
    /// Byte offset of its first byte within the file.
    pub offset: u64,
    pub why: BrokenKind,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: message {} at byte {}: {}",
            self.file.display(),
            self.index,
            self.offset,
            self.why
        )
    }
}

impl std::error::Error for Broken {}
