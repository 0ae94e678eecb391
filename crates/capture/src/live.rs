//! [`LiveCapture`]: frames from a network interface through libpcap (feature `live`), as a
//! [`PacketSource`] like a capture file.
//!
//! Opening an interface needs root or `CAP_NET_RAW`; once it is open the process can give
//! those up (the `tapir` command switches to an unprivileged user) and go on reading.

use crate::{CaptureError, LinkType, PacketSource, Position, RawPacket, SourceItem, Timestamp};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::fmt;
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How an interface is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveOptions {
    /// Bytes kept of each frame. The pipeline reads headers only (link, IP, ports, SPI); the
    /// packet's size comes from the IP header, so a short snapshot loses nothing and leaves
    /// more of the kernel buffer for packets.
    pub snaplen: u32,
    /// Size of the kernel ring buffer in bytes: what absorbs bursts while the reader is busy.
    pub buffer_bytes: u32,
    /// Hand each packet over as it arrives (lowest decision latency, more wake-ups) instead of
    /// in blocks that the kernel fills or releases after `timeout_ms`.
    pub immediate: bool,
    pub promiscuous: bool,
    /// A BPF filter (tcpdump syntax), e.g. `esp or udp port 4500`.
    pub filter: Option<String>,
    /// How long a read waits with no packet before the stop condition is checked again.
    pub timeout_ms: u32,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            snaplen: 256,
            buffer_bytes: 64 << 20,
            immediate: false,
            promiscuous: true,
            filter: None,
            timeout_ms: 100,
        }
    }
}

/// Why an interface could not be opened or read.
#[derive(Debug)]
pub struct LiveError {
    pub interface: String,
    /// What was being done: `open`, `filter`, `read`, `statistics`.
    pub step: &'static str,
    /// libpcap's own words.
    pub detail: String,
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interface {}: ", self.interface)?;
        match self.step {
            "open" => write!(
                f,
                "cannot capture: {} (capturing needs root or CAP_NET_RAW; `ip link` lists \
                 interfaces)",
                self.detail
            ),
            "filter" => write!(f, "bad capture filter: {}", self.detail),
            step => write!(f, "{step} failed: {}", self.detail),
        }
    }
}

impl std::error::Error for LiveError {}

/// Packet counts of a live capture since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Frames handed to tapir.
    pub read: u64,
    /// Frames the kernel received for this capture (after the filter), libpcap's `ps_recv`.
    pub received: u64,
    /// Frames the kernel dropped because its buffer was full: the reader fell behind
    /// (`ps_drop`).
    pub dropped: u64,
    /// Frames the interface or its driver dropped (`ps_ifdrop`; not every driver counts).
    pub if_dropped: u64,
}

/// [`LiveStats`] as last read, shared with code that cannot reach the capture while it reads
/// (the consumer of its windows). Refreshed about once a second while packets come, and on
/// every read timeout.
#[derive(Debug, Default)]
pub struct SharedStats {
    read: AtomicU64,
    received: AtomicU64,
    dropped: AtomicU64,
    if_dropped: AtomicU64,
}

impl SharedStats {
    pub fn load(&self) -> LiveStats {
        LiveStats {
            read: self.read.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            if_dropped: self.if_dropped.load(Ordering::Relaxed),
        }
    }

    fn store(&self, s: &LiveStats) {
        self.read.store(s.read, Ordering::Relaxed);
        self.received.store(s.received, Ordering::Relaxed);
        self.dropped.store(s.dropped, Ordering::Relaxed);
        self.if_dropped.store(s.if_dropped, Ordering::Relaxed);
    }
}

/// A live capture on one interface. [`PacketSource::next_packet`] blocks until a packet comes,
/// checking the stop condition ([`LiveCapture::stop_when`]) while it waits; it returns `None`
/// once the condition holds, the packet limit is reached, or reading failed
/// ([`LiveCapture::take_error`] says why).
pub struct LiveCapture {
    cap: pcap::Capture<pcap::Active>,
    interface: String,
    link_type: LinkType,
    read: u64,
    limit: Option<u64>,
    stop: Option<Box<dyn FnMut() -> bool>>,
    timeout_ms: u16,
    error: Option<LiveError>,
    done: bool,
    /// libpcap's counters are 32-bit and wrap: the last values seen, and the totals.
    last: (u32, u32, u32),
    totals: LiveStats,
    /// The frame being handed out: its bytes, and (seconds, microseconds, length on the wire).
    buf: Vec<u8>,
    header: (i64, i64, u32),
    /// When the last frame was read, for the capture's clock while none comes.
    last_read: Option<Instant>,
    shared: Arc<SharedStats>,
    refreshed: Instant,
}

/// Packets between two checks of the stop condition while traffic flows.
const STOP_CHECK_EVERY: u64 = 1024;

/// Time between two reads of the kernel's counters while packets come (well before their 32
/// bits wrap at any rate).
const STATS_EVERY: Duration = Duration::from_secs(1);

impl LiveCapture {
    /// Opens `interface` for capture (it must exist and be up).
    pub fn open(interface: &str, opts: &LiveOptions) -> Result<LiveCapture, LiveError> {
        let err = |step, e: pcap::Error| LiveError {
            interface: interface.to_string(),
            step,
            detail: e.to_string(),
        };
        let clamp = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        // Microsecond timestamps, libpcap's default: every platform grants them, and a
        // precision silently refused would scale every gap by 1000.
        let mut cap = pcap::Capture::from_device(interface)
            .map_err(|e| err("open", e))?
            .snaplen(clamp(opts.snaplen))
            .buffer_size(clamp(opts.buffer_bytes))
            .promisc(opts.promiscuous)
            .immediate_mode(opts.immediate)
            .timeout(clamp(opts.timeout_ms.max(1)))
            .open()
            .and_then(|c| c.setnonblock())
            .map_err(|e| err("open", e))?;
        if let Some(f) = &opts.filter {
            cap.filter(f, true).map_err(|e| err("filter", e))?;
        }
        let dlt = cap.get_datalink().0;
        let link_type = LinkType(u16::try_from(dlt).unwrap_or(u16::MAX));
        Ok(LiveCapture {
            cap,
            interface: interface.to_string(),
            link_type,
            read: 0,
            limit: None,
            stop: None,
            timeout_ms: u16::try_from(opts.timeout_ms.max(1)).unwrap_or(u16::MAX),
            error: None,
            done: false,
            last: (0, 0, 0),
            totals: LiveStats::default(),
            buf: Vec::with_capacity(opts.snaplen as usize),
            header: (0, 0, 0),
            last_read: None,
            shared: Arc::default(),
            refreshed: Instant::now(),
        })
    }

    /// The addresses of `interface` (empty when it has none or cannot be listed): the
    /// capture's own host when the whole interface is one unit.
    pub fn addresses(interface: &str) -> Vec<IpAddr> {
        pcap::Device::list()
            .unwrap_or_default()
            .into_iter()
            .find(|d| d.name == interface)
            .map(|d| d.addresses.into_iter().map(|a| a.addr).collect())
            .unwrap_or_default()
    }

    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The interface's link-layer type as libpcap gives it.
    pub fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// End after this many frames.
    pub fn set_limit(&mut self, frames: Option<u64>) {
        self.limit = frames;
    }

    /// End once `stop` returns true; it is asked every 1,024 frames while traffic comes, and
    /// every read timeout while none does.
    pub fn stop_when(&mut self, stop: impl FnMut() -> bool + 'static) {
        self.stop = Some(Box::new(stop));
    }

    /// The error that ended reading, if one did.
    pub fn take_error(&mut self) -> Option<LiveError> {
        self.error.take()
    }

    /// Counts since the capture was opened, the kernel's included. The counters are read
    /// on their own about once a second as well, so the totals survive the wrap of libpcap's
    /// 32-bit counters.
    pub fn stats(&mut self) -> Result<LiveStats, LiveError> {
        let s = self.cap.stats().map_err(|e| LiveError {
            interface: self.interface.clone(),
            step: "statistics",
            detail: e.to_string(),
        })?;
        let (r, d, i) = self.last;
        self.totals.received += u64::from(s.received.wrapping_sub(r));
        self.totals.dropped += u64::from(s.dropped.wrapping_sub(d));
        self.totals.if_dropped += u64::from(s.if_dropped.wrapping_sub(i));
        self.last = (s.received, s.dropped, s.if_dropped);
        self.totals.read = self.read;
        self.shared.store(&self.totals);
        self.refreshed = Instant::now();
        Ok(self.totals)
    }

    /// The counters as last read, for a reader that cannot borrow the capture.
    pub fn shared_stats(&self) -> Arc<SharedStats> {
        Arc::clone(&self.shared)
    }

    /// Asks the stop condition, and reads the kernel's counters when they are a second old.
    fn should_stop(&mut self) -> bool {
        if self.refreshed.elapsed() >= STATS_EVERY {
            let _ = self.stats();
        }
        self.stop.as_mut().is_some_and(|f| f())
    }
}

/// What [`LiveCapture::next_or_idle`] hands over.
pub enum LiveNext<'a> {
    Packet(RawPacket<'a>),
    /// A read timeout passed with no packet: time went on, for a reader that ends flows on
    /// their idle timeout without waiting for the next packet.
    Idle,
}

impl LiveCapture {
    /// [`PacketSource::next_packet`] that also returns, with [`LiveNext::Idle`], after each
    /// read timeout (`timeout_ms`) in which no packet came. `None` as for `next_packet`.
    pub fn next_or_idle(&mut self) -> Option<LiveNext<'_>> {
        self.next(true)
    }

    fn next(&mut self, idle: bool) -> Option<LiveNext<'_>> {
        if self.done {
            return None;
        }
        if self.limit.is_some_and(|l| self.read >= l)
            || (self.read % STOP_CHECK_EVERY == STOP_CHECK_EVERY - 1 && self.should_stop())
        {
            self.done = true;
            return None;
        }
        loop {
            let timed_out = match self.cap.next_packet() {
                Ok(p) => {
                    // Copied (a snapshot, 256 bytes by default) so that no borrow of the
                    // capture outlives this loop, which reads again after a timeout.
                    self.buf.clear();
                    self.buf.extend_from_slice(p.data);
                    let ts = p.header.ts;
                    // time_t and suseconds_t are 32 bits on some targets.
                    #[allow(clippy::useless_conversion)]
                    let (sec, usec) = (i64::from(ts.tv_sec), i64::from(ts.tv_usec));
                    self.header = (sec, usec, p.header.len);
                    self.last_read = Some(Instant::now());
                    break;
                }
                // Nothing to read yet: wait for the kernel to hand over a block, at most one
                // timeout, then ask the stop condition. (A blocking read can wait for ever on
                // an idle interface, whatever its timeout, with libpcap's block mode.)
                Err(pcap::Error::TimeoutExpired) => {
                    let mut fds = [PollFd::new(self.cap.as_fd(), PollFlags::POLLIN)];
                    // Ok(0): the timeout passed with nothing ready.
                    matches!(poll(&mut fds, PollTimeout::from(self.timeout_ms)), Ok(0))
                }
                Err(e) => {
                    self.error = Some(LiveError {
                        interface: self.interface.clone(),
                        step: "read",
                        detail: e.to_string(),
                    });
                    self.done = true;
                    return None;
                }
            };
            if self.should_stop() {
                self.done = true;
                return None;
            }
            if idle && timed_out {
                return Some(LiveNext::Idle);
            }
        }
        self.read += 1;
        Some(LiveNext::Packet(self.current()))
    }

    /// The frame read last.
    fn current(&self) -> RawPacket<'_> {
        let (sec, usec, len) = self.header;
        RawPacket {
            ts: Timestamp::from_parts(sec, u64::try_from(usec).unwrap_or(0), 1_000_000),
            link_type: self.link_type,
            orig_len: len,
            data: &self.buf,
            interface: 0,
        }
    }
}

impl PacketSource for LiveCapture {
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>> {
        match self.next(false)? {
            LiveNext::Packet(p) => Some(Ok(p)),
            // Not asked for: `next` waits on through timeouts.
            LiveNext::Idle => None,
        }
    }

    fn position(&self) -> Position {
        Position::Packet(self.read)
    }

    /// The capture's clock while no packet comes: the last packet's timestamp plus the time
    /// since it was read. Packets reach tapir after the kernel stamped them (in blocks, up to
    /// a read timeout late), so this runs behind the capture's clock, never ahead: a unit
    /// ended on it ends a little late, never early. Before the first packet there is no clock
    /// and timeouts are waited through.
    fn next_item(&mut self) -> Option<Result<SourceItem<'_>, CaptureError>> {
        loop {
            let idle = matches!(self.next(true)?, LiveNext::Idle);
            if !idle {
                break;
            }
            if let Some(read) = self.last_read {
                let last = self.current().ts;
                let passed = i64::try_from(read.elapsed().as_nanos()).unwrap_or(i64::MAX);
                return Some(Ok(SourceItem::Idle(Timestamp(
                    last.0.saturating_add(passed),
                ))));
            }
        }
        // The frame `next` read is the one in the buffer.
        Some(Ok(SourceItem::Packet(self.current())))
    }
}
