//! tapir-report (in progress).
