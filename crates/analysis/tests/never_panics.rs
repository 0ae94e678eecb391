//! The text parsers of tapir-analysis return errors, never panic, whatever they are given.

use proptest::prelude::*;
use tapir_analysis::{parse_duration, parse_named_list, parse_rfc3339, read_jsonl, Pattern};

proptest! {
    #[test]
    fn parsers_never_panic(s in "\\PC{0,64}") {
        let _ = parse_duration(&s);
        let _ = parse_rfc3339(&s);
        let _ = Pattern::parse(&s);
        let _ = parse_named_list(&s, "p");
        let _ = read_jsonl(s.as_bytes(), "p");
    }

    #[test]
    fn near_miss_dates_never_panic(y in 0u32..10000, mo in 0u32..20, d in 0u32..40, h in 0u32..30, tail in "[0-9Zz+:.-]{0,8}") {
        let s = format!("{y:04}-{mo:02}-{d:02}T{h:02}:00:00{tail}");
        if let Some(t) = parse_rfc3339(&s) {
            // Without an offset, what parses prints back as the same date and hour.
            if tail.is_empty() || tail == "Z" {
                let back = tapir_analysis::format_utc(t);
                prop_assert_eq!(&back[..13], &s.replace('T', " ")[..13]);
            }
        }
    }

    #[test]
    fn durations_round_trip(n in 1i64..100_000, unit in prop::sample::select(vec!["s", "m", "h", "d"])) {
        let ns = parse_duration(&format!("{n}{unit}")).unwrap();
        let back = parse_duration(&tapir_analysis::format_duration(ns)).unwrap();
        prop_assert_eq!(ns, back);
    }

    #[test]
    fn json_lines_of_arbitrary_objects_never_panic(
        time in prop::num::f64::ANY, size in any::<i64>(), from in "\\PC{0,12}", to in "\\PC{0,12}"
    ) {
        let line = serde_json::json!({"time": time, "from": from, "to": to, "size": size}).to_string();
        let _ = read_jsonl(line.as_bytes(), "p");
        let line = serde_json::json!({"time": size, "from": from, "to": [to]}).to_string();
        let _ = read_jsonl(line.as_bytes(), "p");
    }
}
