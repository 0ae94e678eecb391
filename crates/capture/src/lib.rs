//! tapir-capture: streaming readers for captures (pcap, pcapng) and trace files, and the
//! IP-layer decoding every other crate starts from.
#![deny(unsafe_code)]

mod time;
mod packet;

pub use packet::{Direction, TracePacket};
pub use time::Timestamp;
