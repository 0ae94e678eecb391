//! tapir-features: fixed-size windows of packets and the 2-D histogram feature spaces of the
//! paper (`seeds/001`, §III) that classify the traffic inside encrypted tunnels.
//!
//! * [`WindowSpec`] says how to cut windows (1024 packets by default, with a stride), validated
//!   once; [`Windower`] cuts a packet stream into them.
//! * [`FeatureSpace`] picks `size-iat` (signed packet size × inter-arrival time), `burst`
//!   (burst size × surge period) or `combined` (both, 2,048 features by default).
//! * [`FeatureConfig`] holds every bin edge and threshold; it is serialisable so a model file can
//!   carry it, and [`FeatureConfig::fingerprint`] / [`FeatureConfig::ensure_same`] let a model
//!   refuse features computed differently. `docs/features.md` explains each default.
//! * [`Extractor`] turns a window into `ln(1 + count)` features without allocating, and into
//!   [`Hist2D`] views for plotting.
//!
//! ```
//! use tapir_capture::{Direction, Timestamp, TracePacket};
//! use tapir_features::{Extractor, FeatureConfig, FeatureSpace, WindowSpec, Windower};
//!
//! let cfg = FeatureConfig::default();
//! let ex = Extractor::new(&cfg)?;
//! let space: FeatureSpace = "combined".parse()?;
//! let mut out = vec![0.0f32; ex.dim(space)];
//! assert_eq!(out.len(), 2048);
//!
//! let mut windows = Windower::new(WindowSpec::disjoint(4)?);
//! let mut seen = 0;
//! for i in 0..10i64 {
//!     let dir = if i % 3 == 0 { Direction::Up } else { Direction::Down };
//!     let p = TracePacket::new(Timestamp(i * 20_000_000), 200, dir);
//!     if let Some(window) = windows.push(p) {
//!         ex.extract_into(space, window, &mut out)?;
//!         assert!(out.iter().all(|v| v.is_finite() && *v >= 0.0));
//!         seen += 1;
//!     }
//! }
//! assert_eq!(seen, 2); // 10 packets make two windows of 4; the tail of 2 is dropped
//! # Ok::<(), tapir_features::FeatureError>(())
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod augment;
mod bins;
mod config;
mod error;
mod extract;
mod hist;
mod space;
mod trained;
mod window;

pub use augment::{window_seed, AugmentSpec, Transform, DEFAULT_AUGMENT, DEFAULT_RTT_MS};
pub use config::{
    AckFilter, Axis, Coalesced, FeatureConfig, Scale, DEFAULT_ACK_MAX_BYTES, DEFAULT_SURGE_GAP_NS,
    MAX_BINS, MAX_RELATIVE_ACK_BYTES, RELATIVE_ACK,
};
pub use error::FeatureError;
pub use extract::{dim, extract_into, feature_names, histograms, Extractor};
pub use hist::{EdgeUnit, Hist2D};
pub use space::FeatureSpace;
pub use trained::{parse_fingerprint, TrainedFeatures};
pub use window::{WindowSpec, Windower, DEFAULT_WINDOW, MAX_WINDOW, MIN_WINDOW};
