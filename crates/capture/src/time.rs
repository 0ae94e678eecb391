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

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible
/// Low-Level Date Algorithms"). Months are 1–12; out-of-range days simply carry over.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (m, d) = (month as i64, day as i64);
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(year, month 1–12, day 1–31)` of a day counted from
/// 1970-01-01: the inverse of [`days_from_civil`] (same source).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A timestamp as a UTC calendar date and time of day, for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtcDateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

impl Timestamp {
    /// The UTC date and time of day of this timestamp.
    pub fn utc(self) -> UtcDateTime {
        let secs = self.0.div_euclid(1_000_000_000);
        let nanos = self.0.rem_euclid(1_000_000_000) as u32;
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
        let (year, month, day) = civil_from_days(days);
        UtcDateTime {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
            nanos,
        }
    }
}

impl UtcDateTime {
    /// `YYYY-MM-DD hh:mm:ss` followed by `decimals` (0–9) digits of the second.
    pub fn format(&self, decimals: usize) -> String {
        let base = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        match decimals.min(9) {
            0 => base,
            n => format!(
                "{base}.{:0width$}",
                self.nanos / 10u32.pow(9 - n as u32),
                width = n
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(Timestamp(0).utc().format(6), "1970-01-01 00:00:00.000000");
        assert_eq!(
            Timestamp(1_795_314_586_500_000_000).utc().format(3),
            "2026-11-22 02:29:46.500"
        );
        assert_eq!(
            Timestamp(951_782_400_000_000_000).utc().format(0),
            "2000-02-29 00:00:00"
        );
        assert_eq!(
            Timestamp(-1).utc().format(9),
            "1969-12-31 23:59:59.999999999"
        );
        for days in [-800_000i64, -1, 0, 59, 11_016, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

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
