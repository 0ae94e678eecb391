//! Every number that shapes a feature vector, in one serialisable, validated struct.
//!
//! A model file stores the [`FeatureConfig`] it was trained with; [`FeatureConfig::fingerprint`]
//! lets it refuse windows extracted under any other configuration.

use crate::FeatureError;
use serde::{Deserialize, Serialize};

/// Largest number of bins on one axis. Extractors keep their edges in fixed arrays of this
/// size so that extraction never touches the heap; 128 is 4x the paper-style default of 32.
pub const MAX_BINS: usize = 128;

/// How the bins of an axis are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scale {
    /// `bins` equal-width bins from `min` to `max`.
    Linear,
    /// `bins` bins whose edges grow geometrically from `min` to `max` (`min > 0`).
    Log,
    /// For signed values: `bins / 2` geometric bins of the magnitude from `min` to `max` on each
    /// side of zero, mirrored; negative values fill the left half. `bins` must be even.
    SignedLog,
}

/// One axis of a 2-D histogram.
///
/// Edges are rounded to whole units (bytes, or nanoseconds for time axes, which are given here
/// in seconds) because every value binned is a whole number of them; the rounded edges must
/// still increase strictly. Values below the first edge count in the first bin and values at or
/// above the last edge in the last bin, so no packet is lost from a window's histogram.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// Spacing of the bins.
    pub scale: Scale,
    /// Lower edge (for [`Scale::SignedLog`], the smallest magnitude edge).
    pub min: f64,
    /// Upper edge (for [`Scale::SignedLog`], the largest magnitude edge).
    pub max: f64,
    /// Number of bins, 1..=[`MAX_BINS`].
    pub bins: usize,
}

impl Axis {
    /// An axis; check it with [`FeatureConfig::validate`].
    pub const fn new(scale: Scale, min: f64, max: f64, bins: usize) -> Self {
        Axis {
            scale,
            min,
            max,
            bins,
        }
    }

    fn validate(&self, field: &'static str) -> Result<(), FeatureError> {
        let bad = |reason: String| Err(FeatureError::InvalidConfig { field, reason });
        if self.bins == 0 || self.bins > MAX_BINS {
            return bad(format!("has {} bins; use 1..={MAX_BINS}", self.bins));
        }
        if !self.min.is_finite() || !self.max.is_finite() {
            return bad("needs finite `min` and `max`".into());
        }
        if self.min >= self.max {
            return bad(format!(
                "needs min < max (min = {}, max = {})",
                self.min, self.max
            ));
        }
        match self.scale {
            Scale::Linear => Ok(()),
            Scale::Log if self.min <= 0.0 => bad("is logarithmic, so `min` must be > 0".into()),
            Scale::Log => Ok(()),
            Scale::SignedLog if self.min <= 0.0 => {
                bad("is signed-logarithmic, so `min` (a magnitude) must be > 0".into())
            }
            Scale::SignedLog if self.bins % 2 != 0 => bad(format!(
                "is signed-logarithmic, so `bins` must be even (got {})",
                self.bins
            )),
            Scale::SignedLog => Ok(()),
        }
    }
}

/// Which packets are "acknowledgements" that neither extend nor break a burst.
///
/// The paper defines a burst over "(non-acknowledgement) packets" (§III.B). Inside a tunnel the
/// TCP flags are encrypted, so an ACK can only be recognised by its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AckFilter {
    /// Every packet is part of a burst; bursts are plain runs of one direction.
    Off,
    /// Packets whose IP length is at most `bytes` are treated as ACKs and skipped.
    MaxSize {
        /// Largest IP length, in bytes, still treated as an ACK.
        bytes: u32,
    },
    /// Relative to the window: a packet is an ACK when its IP length is at most the window's
    /// `percentile`-th percentile of sizes (both directions) plus `margin` bytes, and never
    /// above `max_bytes`. Tunnel overhead moves the ACK size and the limit together.
    Relative {
        /// Low percentile of the window's sizes taken as the ACK size, 1..=50.
        percentile: u32,
        /// Bytes above that size still counted as ACKs (TCP options, cipher padding).
        margin: u32,
        /// The limit never exceeds this many bytes, whatever the window (≤ 1536).
        max_bytes: u32,
    },
}

/// Defaults of [`AckFilter::Relative`]: the 5th percentile, a 32-byte margin, at most 192 bytes.
pub const RELATIVE_ACK: AckFilter = AckFilter::Relative {
    percentile: 5,
    margin: 32,
    max_bytes: 192,
};

/// Largest `max_bytes` of [`AckFilter::Relative`]: the extractor counts sizes up to it in a
/// fixed table.
pub const MAX_RELATIVE_ACK_BYTES: u32 = 1536;

/// What to do with "packets" larger than the MTU: captures taken on a host with receive or
/// segmentation offload (GRO, TSO, LRO) hold coalesced segments of up to 64 kB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Coalesced {
    /// Sizes are used as they are: a coalesced packet counts once, in the outermost size bin
    /// (its full bytes still count in its burst).
    Keep,
    /// Before windowing, a packet larger than `mtu` becomes packets of `mtu` bytes (the last
    /// holds the remainder) that end at its timestamp, spaced by the time since the unit's
    /// previous packet shared out between them, but by at most 12 µs (one 1500-byte packet at
    /// 1 Gbit/s), so that a coalesced packet after a pause does not spread over the pause.
    Split {
        /// Largest packet kept whole, bytes (68..=65535).
        mtu: u32,
    },
}

impl Default for Coalesced {
    /// Split at 1500 bytes, the Ethernet MTU.
    fn default() -> Self {
        Coalesced::Split { mtu: 1500 }
    }
}

impl Coalesced {
    /// The MTU above which packets are split, if any.
    pub fn split_mtu(&self) -> Option<u32> {
        match *self {
            Coalesced::Keep => None,
            Coalesced::Split { mtu } => Some(mtu),
        }
    }
}

/// The configuration of all feature spaces. `Default` gives the documented defaults of
/// `docs/features.md`; change a field, then call [`FeatureConfig::validate`] (extractors do).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureConfig {
    /// x of `size-iat`: signed IP length in bytes, negative = downstream.
    pub size_axis: Axis,
    /// y of `size-iat`: inter-arrival time in seconds.
    pub iat_axis: Axis,
    /// x of `burst`: burst size in bytes, signed by the burst's direction.
    pub burst_axis: Axis,
    /// y of `burst`: surge period (duration of the burst's surge) in seconds.
    pub surge_axis: Axis,
    /// Which packets count as ACKs for bursts.
    pub ack: AckFilter,
    /// Largest gap, in nanoseconds, between consecutive packets of one surge (a gap equal to
    /// it still continues the surge).
    pub surge_gap_ns: u64,
    /// Packets above the MTU (offload-coalesced segments). May be left out of a JSON
    /// configuration (it came after the others); left out, it is the default.
    #[serde(default)]
    pub coalesced: Coalesced,
}

/// The paper-style fixed ACK threshold (`{"mode": "max-size", "bytes": 128}`): a 52-byte TCP
/// ACK (40 bytes of headers + 12 of timestamp option)
/// grows to about 124 bytes in IPsec ESP tunnel mode (20 outer IP + 8 ESP + 32 ICV per the
/// paper §IV.B, plus IV and padding) or in WireGuard over IPv4 (20 + 8 UDP + 16 header, padded
/// to 64 + 16 tag); 128 covers both plus plain ACKs with SACK blocks.
pub const DEFAULT_ACK_MAX_BYTES: u32 = 128;

/// Default surge gap, 100 ms: longer than VoIP packetisation (20–60 ms) and typical RTTs, so
/// a call or a transfer stays one surge; shorter than human think time and the seconds between
/// video segment fetches, which end a surge. Our choice: the paper does not give its value.
pub const DEFAULT_SURGE_GAP_NS: u64 = 100_000_000;

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            // 96-byte bins; 1536 is the first multiple of 96 above the 1500-byte Ethernet MTU.
            size_axis: Axis::new(Scale::Linear, -1536.0, 1536.0, 32),
            // 1 µs .. 100 s, 4 bins per decade.
            iat_axis: Axis::new(Scale::Log, 1e-6, 100.0, 32),
            // 32 B .. 2 MiB magnitude, one bin per doubling on each side.
            burst_axis: Axis::new(Scale::SignedLog, 32.0, 2_097_152.0, 32),
            // Same decades as the IAT axis; with a 100 ms gap a 1024-packet surge lasts at most
            // 102.3 s, so 100 s is the useful top.
            surge_axis: Axis::new(Scale::Log, 1e-6, 100.0, 32),
            // Relative to the window, so that tunnel overhead moves the limit with the ACKs.
            ack: RELATIVE_ACK,
            surge_gap_ns: DEFAULT_SURGE_GAP_NS,
            coalesced: Coalesced::default(),
        }
    }
}

/// Version of the feature definitions; part of the fingerprint so that a change in how
/// features are computed invalidates old models even when the numbers stay the same.
const DEFINITION_VERSION: &[u8] = b"tapir-features/2";

impl FeatureConfig {
    /// The feature spaces as they were before the relative ACK rule and the splitting of
    /// coalesced packets: the paper-style fixed ACK rule (IP length ≤ 128 bytes), sizes kept as
    /// captured. `docs/feature-config-paper.json` is the same as JSON.
    pub fn paper() -> Self {
        FeatureConfig {
            ack: AckFilter::MaxSize {
                bytes: DEFAULT_ACK_MAX_BYTES,
            },
            coalesced: Coalesced::Keep,
            ..FeatureConfig::default()
        }
    }

    /// Checks every field; the error names the field and the accepted range.
    pub fn validate(&self) -> Result<(), FeatureError> {
        self.size_axis.validate("size_axis")?;
        self.iat_axis.validate("iat_axis")?;
        self.burst_axis.validate("burst_axis")?;
        self.surge_axis.validate("surge_axis")?;
        if let AckFilter::Relative {
            percentile,
            max_bytes,
            ..
        } = self.ack
        {
            if !(1..=50).contains(&percentile) {
                return Err(FeatureError::InvalidConfig {
                    field: "ack.percentile",
                    reason: format!("is {percentile}; use 1..=50"),
                });
            }
            if max_bytes > MAX_RELATIVE_ACK_BYTES {
                return Err(FeatureError::InvalidConfig {
                    field: "ack.max_bytes",
                    reason: format!("is {max_bytes}; use at most {MAX_RELATIVE_ACK_BYTES}"),
                });
            }
        }
        if let Coalesced::Split { mtu } = self.coalesced {
            if !(68..=65_535).contains(&mtu) {
                return Err(FeatureError::InvalidConfig {
                    field: "coalesced.mtu",
                    reason: format!("is {mtu}; use 68..=65535"),
                });
            }
        }
        if self.surge_gap_ns > i64::MAX as u64 {
            return Err(FeatureError::InvalidConfig {
                field: "surge_gap_ns",
                reason: format!("must be at most {} ns", i64::MAX),
            });
        }
        Ok(())
    }

    /// A stable 64-bit FNV-1a hash of the definition version and every field, independent of
    /// serialisation format and platform. Equal configurations have equal fingerprints.
    pub fn fingerprint(&self) -> u64 {
        let mut h = Fnv::new();
        h.bytes(DEFINITION_VERSION);
        for axis in [
            &self.size_axis,
            &self.iat_axis,
            &self.burst_axis,
            &self.surge_axis,
        ] {
            h.bytes(&[match axis.scale {
                Scale::Linear => 1,
                Scale::Log => 2,
                Scale::SignedLog => 3,
            }]);
            // Normalise -0.0 so that configs that compare equal hash equal.
            h.bytes(&(axis.min + 0.0).to_bits().to_le_bytes());
            h.bytes(&(axis.max + 0.0).to_bits().to_le_bytes());
            h.bytes(&(axis.bins as u64).to_le_bytes());
        }
        match self.ack {
            AckFilter::Off => h.bytes(&[0]),
            AckFilter::MaxSize { bytes } => {
                h.bytes(&[1]);
                h.bytes(&bytes.to_le_bytes());
            }
            AckFilter::Relative {
                percentile,
                margin,
                max_bytes,
            } => {
                h.bytes(&[2]);
                h.bytes(&percentile.to_le_bytes());
                h.bytes(&margin.to_le_bytes());
                h.bytes(&max_bytes.to_le_bytes());
            }
        }
        h.bytes(&self.surge_gap_ns.to_le_bytes());
        match self.coalesced {
            Coalesced::Keep => h.bytes(&[0]),
            Coalesced::Split { mtu } => {
                h.bytes(&[1]);
                h.bytes(&mtu.to_le_bytes());
            }
        }
        h.0
    }

    /// `Ok` when `self` (say, a model's configuration) equals `other` (the features offered).
    pub fn ensure_same(&self, other: &FeatureConfig) -> Result<(), FeatureError> {
        if self == other {
            Ok(())
        } else {
            Err(FeatureError::ConfigMismatch {
                expected: self.fingerprint(),
                got: other.fingerprint(),
            })
        }
    }
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_fingerprint_is_stable() {
        let c = FeatureConfig::default();
        c.validate().unwrap();
        assert_eq!(c.fingerprint(), FeatureConfig::default().fingerprint());
        let mut d = c;
        d.surge_gap_ns += 1;
        assert_ne!(c.fingerprint(), d.fingerprint());
        assert!(matches!(
            c.ensure_same(&d),
            Err(FeatureError::ConfigMismatch { .. })
        ));
        c.ensure_same(&c).unwrap();
    }

    #[test]
    fn fingerprint_does_not_drift() {
        // Pinned: a model file written today must still match tomorrow's build. If this fails
        // the feature definition changed; bump DEFINITION_VERSION and update the value.
        assert_eq!(
            FeatureConfig::default().fingerprint(),
            0xe6cd_1222_ee3a_095b
        );
    }

    #[test]
    fn serde_round_trip_and_unknown_fields() {
        let c = FeatureConfig::default();
        let s = serde_json::to_string(&c).unwrap();
        let back: FeatureConfig = serde_json::from_str(&s).unwrap();
        assert_eq!(back, c);
        assert!(s.contains("\"mode\":\"relative\""), "{s}");
        // A configuration written before `coalesced` existed still reads, as the default.
        let old = s.replace(",\"coalesced\":{\"mode\":\"split\",\"mtu\":1500}", "");
        assert_ne!(old, s);
        assert_eq!(serde_json::from_str::<FeatureConfig>(&old).unwrap(), c);
        let paper = serde_json::to_string(&FeatureConfig::paper()).unwrap();
        assert!(
            paper.contains("\"mode\":\"max-size\",\"bytes\":128"),
            "{paper}"
        );
        let shipped: FeatureConfig =
            serde_json::from_str(include_str!("../../../docs/feature-config-paper.json")).unwrap();
        assert_eq!(shipped, FeatureConfig::paper());
        let extra = s.replacen('{', "{\"bogus\":1,", 1);
        assert!(serde_json::from_str::<FeatureConfig>(&extra).is_err());
    }

    #[test]
    fn validation_names_the_field() {
        let mut c = FeatureConfig::default();
        c.iat_axis.min = 0.0;
        let e = c.validate().unwrap_err();
        assert!(e.to_string().contains("iat_axis"), "{e}");
        let mut c = FeatureConfig::default();
        c.burst_axis.bins = 31;
        assert!(c.validate().is_err());
        let mut c = FeatureConfig::default();
        c.size_axis.bins = MAX_BINS + 1;
        assert!(c.validate().is_err());
        let mut c = FeatureConfig::default();
        c.size_axis.max = f64::NAN;
        assert!(c.validate().is_err());
        let c = FeatureConfig {
            surge_gap_ns: u64::MAX,
            ..FeatureConfig::default()
        };
        assert!(c.validate().is_err());
    }
}
