//! tapir-analysis: what metadata says without any content — the four kinds of analysis of the
//! M3AAWG introduction to traffic analysis (`seeds/000`), over flows and mail alike.
//!
//! Every analysis reads [`Event`]s: a flow record (initiator → responder) or one copy of a mail
//! message (sender → recipient). Read them with [`read_file`] (captures, `tapir flows --json`
//! output, mail JSON lines) or build them with [`Event::flow`] / [`Event::mail`], then:
//!
//! - [`Watcher`]: source/destination analysis — watchlist hits with their evidence, and new
//!   peers of sensitive hosts after a learned baseline; [`Graph`] and [`top_talkers`].
//! - [`VolumeCounter`]: counts per entity per interval, a robust (median/MAD, seasonal when the
//!   data allows) baseline, surge and silence events with scores.
//! - [`infer_groups`]: sequence analysis — one message in, k similar-sized copies out within Δt,
//!   the encrypted mailing list's members.
//! - [`Timeline`]: everything about one entity in time order.
//!
//! ```
//! use tapir_analysis::{Event, Grouping, Metric, VolumeConfig, VolumeCounter, VolumeEventKind};
//! use tapir_capture::Timestamp;
//!
//! let minute = 60_000_000_000i64;
//! let mut v = VolumeCounter::new(VolumeConfig::new(Grouping::Host, Metric::Messages, minute))?;
//! for m in 0..30 {
//!     // Two messages a minute, then thirty at minute 20: "increased chatter".
//!     let n = if m == 20 { 30 } else { 2 };
//!     for i in 0..n {
//!         v.add(&Event::mail(Timestamp(m * minute + i), "cell@example.org", "hq@example.net", 800));
//!     }
//! }
//! let report = v.finish();
//! let surge = &report.events[0];
//! assert_eq!(surge.kind, VolumeEventKind::Surge);
//! assert_eq!(surge.start, Timestamp(20 * minute));
//! # Ok::<(), tapir_analysis::AnalysisError>(())
//! ```
#![deny(unsafe_code)]

mod entity;
mod error;
mod event;
mod graph;
mod input;
mod sequence;
mod time;
mod timeline;
mod volume;
mod watch;

pub use entity::{
    mail_domain, parse_named_list, Grouping, NamedPattern, Pattern, PatternSet, PrefixMap,
};
pub use error::AnalysisError;
pub use event::{sort_events, Event, EventKind};
pub use graph::{Edge, Graph, GraphFormat, Node};
pub use input::{
    event_from_mail, event_from_record, read_capture, read_event_lines, read_file, read_jsonl,
    read_mail, EventLine, LineShape,
};
pub use sequence::{infer_groups, Group, Member, Occurrence, SequenceConfig, SequenceReport};
pub use time::{format_duration, format_utc, parse_duration, parse_rfc3339};
pub use timeline::{Entry, EntryKind, Timeline};
pub use volume::{
    Baseline, EntitySeries, Metric, Season, VolumeConfig, VolumeCounter, VolumeEvent,
    VolumeEventKind, VolumeReport,
};
pub use watch::{
    parse_sensitive, top_talkers, Hit, NewPeer, Rank, Talker, WatchConfig, WatchDirection, Watcher,
};
