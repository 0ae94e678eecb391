//! The seeded generator of this crate: tapir's one SplitMix64, so results depend on the seed
//! alone and not on a crate's version.

/// [`tapir_capture::SplitMix64`] under the name this crate uses.
pub(crate) type Rng = tapir_capture::SplitMix64;
