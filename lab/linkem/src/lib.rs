//! tapir-linkem: a user-space link emulator for the tapir lab.
//!
//! The kernel of the lab machine has no netem, so the WAN namespace of each
//! lab slot runs `linkem` instead: it bridges two interfaces at layer 2 with
//! AF_PACKET raw sockets and gives each direction its own delay, correlated
//! jitter, loss and (optionally) a serialising rate limit ([`Profile`],
//! [`sched`]). lab/run places it on the client's access link and leaves the
//! rate to the kernel's `tbf` qdisc (see lab/lib/netns.sh `linkem_up` and
//! docs/lab.md).
//!
//! The scheduling is plain data and testable without sockets:
//!
//! ```
//! use tapir_linkem::{Direction, Profile, Verdict};
//!
//! let p = Profile::named("broadband").unwrap();
//! let mut up: Direction<Vec<u8>> = Direction::new(&p.up, p.reorder, 7);
//! // A 1500-byte frame offered at t = 0 leaves about 20 ms later (±3 × 2 ms of
//! // jitter, plus 1.2 ms of transmission at 10 Mbit/s).
//! match up.offer(0, 1500, vec![0; 1500]) {
//!     Verdict::Deliver(t) => assert!((14_000_000..=28_000_000).contains(&t)),
//!     other => panic!("{other:?}"),
//! }
//! assert!(up.pop_due(10_000_000).is_none());
//! assert!(up.pop_due(30_000_000).is_some());
//! ```
#![deny(unsafe_code)]

mod error;
pub mod profile;
pub mod sched;
pub mod sock;
pub mod vnet;

pub use error::LinkemError;
pub use profile::{DirectionParams, Profile};
pub use sched::{Counters, Direction, Nanos, Serialiser, Verdict};
