//! Durations (`90s`, `5m`, `1h`, `7d`) and UTC dates, in and out.

use crate::AnalysisError;
use tapir_capture::Timestamp;

pub const SECOND: i64 = 1_000_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;
pub const WEEK: i64 = 7 * DAY;

/// Parses a duration such as `500ms`, `90s`, `5m`, `1h`, `7d`, `2w` or `1.5h` into
/// nanoseconds. A bare number is seconds. Zero and negative durations are errors.
pub fn parse_duration(s: &str) -> Result<i64, AnalysisError> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit_ns = match unit.trim() {
        "" | "s" | "sec" => SECOND,
        "ms" => 1_000_000,
        "us" => 1_000,
        "ns" => 1,
        "m" | "min" => MINUTE,
        "h" => HOUR,
        "d" => DAY,
        "w" => WEEK,
        u => {
            return Err(AnalysisError::invalid(
                "duration",
                format!("{s:?}: unknown unit {u:?} (use ms, s, m, h, d or w)"),
            ))
        }
    };
    let v: f64 = num
        .parse()
        .map_err(|_| AnalysisError::invalid("duration", format!("{s:?} is not e.g. 90s or 5m")))?;
    let ns = v * unit_ns as f64;
    if !(ns >= 1.0 && ns < i64::MAX as f64) {
        return Err(AnalysisError::invalid(
            "duration",
            format!("{s:?} must be at least 1 ns and at most 292 years"),
        ));
    }
    Ok(ns.round() as i64)
}

/// A duration as the shortest exact form among `w d h m s`, or seconds with a fraction.
pub fn format_duration(ns: i64) -> String {
    for (unit, name) in [
        (WEEK, "w"),
        (DAY, "d"),
        (HOUR, "h"),
        (MINUTE, "m"),
        (SECOND, "s"),
    ] {
        if ns != 0 && ns % unit == 0 {
            return format!("{}{name}", ns / unit);
        }
    }
    format!("{}s", ns as f64 / 1e9)
}

/// `2026-11-22 02:17:31.123 UTC`-style text (milliseconds) for a timestamp.
pub fn format_utc(t: Timestamp) -> String {
    t.utc().format(3)
}

/// Parses an RFC 3339 time such as `2026-11-22T02:17:31Z` or `2026-11-22 02:17:31.5+01:00`.
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = b.get(r)?;
        if t.is_empty() || !t.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(t).ok()?.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac_ns = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100_000_000;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            frac_ns += i64::from(c - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() => {
            let o = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        None => 0,
        _ => return None,
    };
    let days = tapir_capture::days_from_civil(y, mo as u32, d as u32);
    // A day the month does not have (02-30, or 02-29 outside a leap year) is refused, not
    // carried into the next month.
    if tapir_capture::civil_from_days(days) != (y, mo as u32, d as u32) {
        return None;
    }
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset;
    Some(Timestamp(secs.checked_mul(SECOND)?.checked_add(frac_ns)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_a_month_does_not_have_are_refused() {
        assert!(parse_rfc3339("2024-02-29T00:00:00Z").is_some());
        assert!(parse_rfc3339("1678-02-29T00:00:00Z").is_none());
        assert!(parse_rfc3339("1900-02-29T00:00:00Z").is_none());
        assert!(parse_rfc3339("2000-02-29T00:00:00Z").is_some());
        assert!(parse_rfc3339("2026-04-31T00:00:00Z").is_none());
        assert!(parse_rfc3339("2026-12-31T23:59:59Z").is_some());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), 90 * SECOND);
        assert_eq!(parse_duration("5m").unwrap(), 5 * MINUTE);
        assert_eq!(parse_duration("1.5h").unwrap(), 90 * MINUTE);
        assert_eq!(parse_duration("250ms").unwrap(), 250_000_000);
        assert_eq!(parse_duration("2").unwrap(), 2 * SECOND);
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(format_duration(HOUR), "1h");
        assert_eq!(format_duration(90 * SECOND), "90s");
    }

    #[test]
    fn dates_round_trip() {
        let t = parse_rfc3339("2026-11-22T02:17:31.250Z").unwrap();
        assert_eq!(format_utc(t), "2026-11-22 02:17:31.250");
        assert_eq!(
            parse_rfc3339("2026-11-22T03:17:31.25+01:00"),
            Some(t),
            "offsets move the instant"
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(Timestamp(0)));
        assert_eq!(
            parse_rfc3339("2000-02-29 12:00:00"),
            Some(Timestamp(951_825_600 * SECOND))
        );
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
