//! tapir-features (in progress).
