//! tapir-flow (in progress).
