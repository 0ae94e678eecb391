//! tapir's one time type: integer nanoseconds since the Unix epoch.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time, in nanoseconds since the Unix epoch.
///
/// Integer nanoseconds keep pcapng's nanosecond captures exact and make differences exact;
/// `i64` covers the years 1677–2262.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp(0);

    pub const fn from_nanos(ns: i64) -> Self {
        Timestamp(ns)
    }

    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// From seconds and a fraction given in `units_per_sec` (1e6 for microseconds, 1e9 for
    /// nanoseconds, any power of two or ten for pcapng's `if_tsresol`). Saturates instead of
    /// overflowing, so a hostile timestamp cannot panic.
    pub fn from_parts(secs: i64, frac: u64, units_per_sec: u64) -> Self {
        let units_per_sec = units_per_sec.max(1);
        let frac_ns = ((frac as u128 * 1_000_000_000u128) / units_per_sec as u128) as i64;
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(frac_ns))
    }

    /// From floating-point seconds; rounds to the nearest nanosecond, saturating (NaN gives 0).
    pub fn from_secs_f64(secs: f64) -> Self {
        Timestamp((secs * 1e9).round() as i64)
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// `self - earlier` in nanoseconds, saturating.
    pub fn nanos_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Sign and magnitude, so that -1 ns prints as "-0.000000001" and reads back the same.
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:09}",
            abs / 1_000_000_000,
            abs % 1_000_000_000
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_display() {
        let t = Timestamp::from_parts(12, 345_678, 1_000_000);
        assert_eq!(t.as_nanos(), 12_345_678_000);
        assert_eq!(t.to_string(), "12.345678000");
        assert_eq!(Timestamp(-1).to_string(), "-0.000000001");
        assert_eq!(Timestamp(i64::MIN).to_string(), "-9223372036.854775808");
        assert_eq!(Timestamp::from_parts(i64::MAX, 0, 1).as_nanos(), i64::MAX);
    }
}
