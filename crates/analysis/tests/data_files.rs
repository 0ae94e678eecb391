//! The example files in `tests/data` (also used by docs/analysis.md) parse and give the answers
//! the documentation shows.

use std::path::Path;
use tapir_analysis::{infer_groups, read_file, Grouping, PatternSet, SequenceConfig};

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn example_watchlist_and_sites() {
    let wl = PatternSet::parse(
        &std::fs::read_to_string(data("watchlist.txt")).unwrap(),
        "wl",
    )
    .unwrap();
    assert_eq!(wl.entries().len(), 5);
    let name = |s: &str| wl.lookup(s, s.parse().ok()).and_then(|e| e.name.clone());
    assert_eq!(name("203.0.113.99").as_deref(), Some("exfil-net"));
    assert_eq!(name("2001:db8:bad:1::5").as_deref(), Some("c2-v6"));
    assert!(wl.lookup("x@mx.leaks.example", None).is_some());
    assert!(wl
        .lookup("198.51.100.8", "198.51.100.8".parse().ok())
        .is_none());

    let sites =
        PatternSet::parse(&std::fs::read_to_string(data("sites.txt")).unwrap(), "s").unwrap();
    let g = Grouping::Site(sites);
    let site = |s: &str| g.entity(s, s.parse().ok());
    assert_eq!(site("10.2.5.9").as_deref(), Some("branch-north-lab"));
    assert_eq!(site("10.2.6.9").as_deref(), Some("branch-north"));
    assert_eq!(site("ann@example.org").as_deref(), Some("mail-hq"));
    assert_eq!(site("192.0.2.1"), None);
}

#[test]
fn example_list_mail_gives_its_group() {
    let ev = read_file(&data("list-mail.jsonl"), &mut |w| panic!("{w}")).unwrap();
    assert_eq!(ev.len(), 14);
    let r = infer_groups(&ev, &SequenceConfig::default()).unwrap();
    assert_eq!(r.occurrences.len(), 3);
    assert_eq!(r.groups.len(), 1);
    let g = &r.groups[0];
    assert_eq!((g.hub.as_str(), g.support), ("list@lists.example.net", 3));
    let members: Vec<(&str, usize)> = g
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.support))
        .collect();
    assert_eq!(
        members,
        [
            ("ann@example.org", 3),
            ("bo@example.com", 3),
            ("cy@example.net", 3),
            ("di@example.org", 3)
        ]
    );
}

#[test]
fn mbox_gives_one_event_per_copy_and_reports_the_broken_message() {
    let mut skipped = Vec::new();
    let ev = tapir_analysis::read_file(&data("list.mbox"), &mut |w| skipped.push(w)).unwrap();
    assert_eq!(ev.len(), 4, "{ev:?}");
    assert_eq!(ev[0].src, "ann@example.org");
    assert_eq!(ev[0].label.as_deref(), Some("p1@example.org"));
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    let cfg = SequenceConfig {
        min_support: 1,
        ..Default::default()
    };
    let r = infer_groups(&ev, &cfg).unwrap();
    assert_eq!(r.groups.len(), 1);
    assert_eq!(r.groups[0].members.len(), 4);
}
