//! Dates that mail-parser does not handle: the `asctime` date of an mbox `From ` line.

pub(crate) use tapir_capture::days_from_civil;
use tapir_capture::Timestamp;

/// `2025-11-20T10:00:00Z`: a time to the second in UTC, for people.
pub fn format_utc(t: Timestamp) -> String {
    let u = t.utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        u.year, u.month, u.day, u.hour, u.minute, u.second
    )
}

fn month(tok: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let t = tok.get(..3)?.to_ascii_lowercase();
    MONTHS.iter().position(|m| *m == t).map(|i| i as u32 + 1)
}

/// The envelope sender and time of an mbox separator line
/// (`From alice@example.org Thu Nov 20 10:00:00 2026`). The time is read as UTC: the
/// format carries no zone, and mbox writers (procmail, Postfix `local`) use the system clock.
/// Returns `None` for the time when the line does not hold an `asctime` date.
pub(crate) fn parse_from_line(line: &[u8]) -> (Option<String>, Option<Timestamp>) {
    let text = String::from_utf8_lossy(line);
    let rest = text.strip_prefix("From ").unwrap_or(&text);
    let mut toks = rest.split_whitespace();
    let sender = toks.next().map(str::to_owned);
    let toks: Vec<&str> = toks.collect();
    let Some(mi) = toks.iter().position(|t| t.len() == 3 && month(t).is_some()) else {
        return (sender, None);
    };
    let time = (|| {
        let mon = month(toks[mi])?;
        let day: u32 = toks.get(mi + 1)?.parse().ok()?;
        let mut hms = toks.get(mi + 2)?.split(':').map(|p| p.parse::<i64>().ok());
        let (h, m) = (hms.next()??, hms.next()??);
        let s = hms.next().flatten().unwrap_or(0);
        // The year follows the time, possibly after a zone name or offset.
        let year: i64 = toks[mi + 3..]
            .iter()
            .find_map(|t| (t.len() == 4).then(|| t.parse().ok()).flatten())?;
        if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
            return None;
        }
        let secs = days_from_civil(year, mon, day) * 86_400 + h * 3600 + m * 60 + s;
        Some(Timestamp::from_parts(secs, 0, 1))
    })();
    (sender, time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapir_capture::civil_from_days;

    #[test]
    fn epoch_and_leap_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }

    #[test]
    fn utc_format_round_trips_civil_dates() {
        assert_eq!(format_utc(Timestamp::ZERO), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_utc(Timestamp::from_parts(1_763_632_800, 0, 1)),
            "2025-11-20T10:00:00Z"
        );
        assert_eq!(format_utc(Timestamp(-1)), "1969-12-31T23:59:59Z");
        for z in [-800_000, -1, 0, 59, 60, 11_016, 19_782, 2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn asctime_from_lines() {
        let (s, t) = parse_from_line(b"From alice@example.org Thu Nov 20 10:00:00 2025");
        assert_eq!(s.as_deref(), Some("alice@example.org"));
        // 2025-11-20T10:00:00Z
        assert_eq!(t, Some(Timestamp::from_parts(1_763_632_800, 0, 1)));
        let (_, t) = parse_from_line(b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011");
        assert_eq!(t, Some(Timestamp::from_parts(1_310_126_914, 0, 1)));
        let (s, t) = parse_from_line(b"From bob");
        assert_eq!(s.as_deref(), Some("bob"));
        assert_eq!(t, None);
        assert_eq!(parse_from_line(b"From x Thu Nov 99 10:00:00 2025").1, None);
    }
}
