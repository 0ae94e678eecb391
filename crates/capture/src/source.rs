//! [`PacketSource`]: where packets come from, a capture file or a live interface, so that one
//! pipeline (units, windows, features) reads both.

use crate::{CaptureError, CaptureReader, RawPacket, Timestamp};
use std::fmt;
use std::io::Read;

/// A stream of link-layer frames: a capture file ([`CaptureReader`]) or, with the `live`
/// feature, an interface (`LiveCapture`).
pub trait PacketSource {
    /// The next frame; `None` at the end (of the file, or of a live capture told to stop) or
    /// after an error.
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>>;

    /// Where the next frame is, for messages about it. Called before every frame, so cheap.
    fn position(&self) -> Position;

    /// [`PacketSource::next_packet`], or [`SourceItem::Idle`] when a source that waits for
    /// packets (a live interface) has waited a while with none: time went on, and units idle
    /// past their timeout can end now rather than at the next packet. A file is never idle.
    fn next_item(&mut self) -> Option<Result<SourceItem<'_>, CaptureError>> {
        self.next_packet().map(|r| r.map(SourceItem::Packet))
    }
}

/// What [`PacketSource::next_item`] hands over.
pub enum SourceItem<'a> {
    Packet(RawPacket<'a>),
    /// No packet for a while; the capture's clock reads this now (never ahead of the time the
    /// next packet will carry).
    Idle(Timestamp),
}

/// Where a frame is in its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// Byte offset of its record in a capture file (`xxd -s OFFSET` shows it).
    Byte(u64),
    /// Frames read before it from a live interface.
    Packet(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Byte(n) => write!(f, "record at byte {n}"),
            Position::Packet(n) => write!(f, "packet {n}"),
        }
    }
}

impl<R: Read> PacketSource for CaptureReader<R> {
    #[inline]
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>> {
        CaptureReader::next_packet(self)
    }

    #[inline]
    fn position(&self) -> Position {
        Position::Byte(self.offset())
    }
}
