//! tapir-learn (in progress).
