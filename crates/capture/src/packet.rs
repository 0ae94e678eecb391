//! The packet as the analysis sees it: when, how big, which way.

use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// Which way a packet travels, seen from the client (see PRODUCT.md: the flow's initiator, or
/// the capture's own host).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// From the client.
    Up,
    /// Towards the client.
    Down,
}

impl Direction {
    pub fn reverse(self) -> Self {
        match self {
            Direction::Up => Direction::Down,
            Direction::Down => Direction::Up,
        }
    }
}

/// One packet of a trace: timestamp, IP length in bytes and direction. This is exactly one line
/// of a `.trace` file (`<seconds> <signed size>`, positive = upstream).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracePacket {
    pub ts: Timestamp,
    /// IP packet length (header included, link layer excluded).
    pub size: u32,
    pub dir: Direction,
}

impl TracePacket {
    pub fn new(ts: Timestamp, size: u32, dir: Direction) -> Self {
        TracePacket { ts, size, dir }
    }

    /// The size with the direction as its sign: positive upstream, negative downstream.
    pub fn signed_size(&self) -> i64 {
        match self.dir {
            Direction::Up => self.size as i64,
            Direction::Down => -(self.size as i64),
        }
    }
}
