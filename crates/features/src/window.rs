//! Cutting a packet stream into fixed-size windows (the paper's 1024-packet windows, §III).

use crate::FeatureError;
use tapir_capture::TracePacket;

/// The paper's window: "We extracted windows containing 1024 packets from each trace" (§III).
pub const DEFAULT_WINDOW: usize = 1024;

/// Largest window accepted, to keep a typo from reserving gigabytes.
pub const MAX_WINDOW: usize = 1 << 24;

/// Smallest window accepted: an inter-arrival time needs two packets.
pub const MIN_WINDOW: usize = 2;

/// How a trace is cut into windows: `window` packets per window, one window every `stride`
/// packets. The one place the window rule lives: every command, the dataset reader and the
/// experiment engine take a `WindowSpec`, so a value accepted by one is accepted by all.
///
/// `window` is in [`MIN_WINDOW`]`..=`[`MAX_WINDOW`] and `stride` in `1..=window` (overlapping or
/// disjoint windows; a stride above the window would drop packets between windows unseen).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WindowSpec {
    window: usize,
    stride: usize,
}

impl WindowSpec {
    /// Disjoint windows of [`DEFAULT_WINDOW`] packets.
    pub const DEFAULT: WindowSpec = WindowSpec {
        window: DEFAULT_WINDOW,
        stride: DEFAULT_WINDOW,
    };

    /// `window` packets per window, one every `stride` packets (`None`: the window, disjoint).
    /// The error says which of the two is out of range and what is accepted.
    pub fn new(window: usize, stride: Option<usize>) -> Result<Self, FeatureError> {
        if !(MIN_WINDOW..=MAX_WINDOW).contains(&window) {
            return Err(FeatureError::InvalidWindow(format!(
                "window of {window} packets; use {MIN_WINDOW}..={MAX_WINDOW}"
            )));
        }
        let stride = stride.unwrap_or(window);
        if stride == 0 || stride > window {
            return Err(FeatureError::InvalidStride(format!(
                "stride of {stride} packets; use 1..={window} (the window size: disjoint windows)"
            )));
        }
        Ok(WindowSpec { window, stride })
    }

    /// Disjoint windows of `window` packets.
    pub fn disjoint(window: usize) -> Result<Self, FeatureError> {
        WindowSpec::new(window, None)
    }

    /// Packets per window.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Packets between the starts of consecutive windows.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The windows of a trace held in memory: the same windows, in the same order, as
    /// [`Windower`] returns when the packets are pushed one by one. An incomplete tail is no
    /// window.
    pub fn windows<'a>(
        &self,
        packets: &'a [TracePacket],
    ) -> impl Iterator<Item = &'a [TracePacket]> {
        let (window, stride) = (self.window, self.stride);
        (0..)
            .map(move |k: usize| k * stride)
            .take_while(move |&start| start + window <= packets.len())
            .map(move |start| &packets[start..start + window])
    }
}

impl Default for WindowSpec {
    fn default() -> Self {
        WindowSpec::DEFAULT
    }
}

/// Turns a stream of packets into windows as a [`WindowSpec`] says.
///
/// The first window is returned on the `window`-th packet, the next `stride` packets later;
/// with `stride < window` windows overlap. An incomplete tail never becomes a window. The buffer
/// holds at most `2 * window` packets and, once it has grown to that, push never allocates:
/// windows are contiguous slices, and the live packets are moved to the front only when the
/// buffer is full (at most every `window` pushes, so the copy costs O(1) per packet).
#[derive(Clone, Debug)]
pub struct Windower {
    spec: WindowSpec,
    buf: Vec<TracePacket>,
    /// Index in `buf` of the first packet of the next window.
    start: usize,
}

impl Windower {
    /// An empty windower cutting windows as `spec` says.
    pub fn new(spec: WindowSpec) -> Self {
        Windower {
            spec,
            buf: Vec::new(),
            start: 0,
        }
    }

    /// How windows are cut.
    pub fn spec(&self) -> WindowSpec {
        self.spec
    }

    /// Packets per window.
    pub fn window(&self) -> usize {
        self.spec.window
    }

    /// Packets between the starts of consecutive windows.
    pub fn stride(&self) -> usize {
        self.spec.stride
    }

    /// Adds one packet; returns the window it completes, if any.
    #[inline]
    pub fn push(&mut self, p: TracePacket) -> Option<&[TracePacket]> {
        let window = self.spec.window;
        if self.buf.len() >= 2 * window {
            // Fewer than `window` packets are live here (else a window would have been
            // returned), so `start > window` and the copy frees at least half the buffer.
            self.buf.copy_within(self.start.., 0);
            self.buf.truncate(self.buf.len() - self.start);
            self.start = 0;
        }
        self.buf.push(p);
        if self.buf.len() - self.start < window {
            return None;
        }
        let first = self.start;
        self.start += self.spec.stride;
        self.buf.get(first..first + window)
    }

    /// Forgets buffered packets, e.g. at the end of a trace, so that no window spans two traces.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// Packets held for windows still to come (fewer than `window`).
    pub fn held(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Packets the buffer has room for without growing: its memory is this many
    /// [`TracePacket`]s. Up to twice the window once the first window was cut.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Forgets buffered packets, like [`reset`](Self::reset), and gives their memory back.
    pub fn release(&mut self) {
        self.buf = Vec::new();
        self.start = 0;
    }
}

impl Default for Windower {
    /// 1024-packet disjoint windows.
    fn default() -> Self {
        Windower::new(WindowSpec::DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapir_capture::{Direction, Timestamp};

    fn pkt(i: i64) -> TracePacket {
        TracePacket::new(Timestamp(i), 100, Direction::Up)
    }

    #[test]
    fn release_frees_the_buffer_and_starts_over() {
        let mut w = Windower::new(WindowSpec::disjoint(4).unwrap());
        for i in 0..6 {
            w.push(pkt(i));
        }
        assert_eq!(w.held(), 2);
        assert!(w.capacity() >= 6);
        w.release();
        assert_eq!((w.held(), w.capacity()), (0, 0));
        let got: Vec<Vec<i64>> = (10..18)
            .filter_map(|i| w.push(pkt(i)).map(|p| p.iter().map(|p| p.ts.0).collect()))
            .collect();
        assert_eq!(got, vec![vec![10, 11, 12, 13], vec![14, 15, 16, 17]]);
    }

    /// Feeds packets 0..n and returns each window as the list of its timestamps.
    fn run(window: usize, stride: usize, n: i64) -> Vec<Vec<i64>> {
        let spec = WindowSpec::new(window, Some(stride)).unwrap();
        let mut w = Windower::new(spec);
        let mut out = Vec::new();
        for i in 0..n {
            if let Some(win) = w.push(pkt(i)) {
                out.push(win.iter().map(|p| p.ts.0).collect());
            }
        }
        // The in-memory path gives the same windows.
        let packets: Vec<TracePacket> = (0..n).map(pkt).collect();
        let sliced: Vec<Vec<i64>> = spec
            .windows(&packets)
            .map(|win| win.iter().map(|p| p.ts.0).collect())
            .collect();
        assert_eq!(sliced, out);
        out
    }

    #[test]
    fn disjoint_windows_drop_the_tail() {
        let w = run(4, 4, 11);
        assert_eq!(w, vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
    }

    #[test]
    fn overlapping_windows() {
        let w = run(4, 2, 9);
        assert_eq!(
            w,
            vec![vec![0, 1, 2, 3], vec![2, 3, 4, 5], vec![4, 5, 6, 7]]
        );
        // Stride 1: one window per packet after warm-up, across many buffer compactions.
        let w = run(3, 1, 100);
        assert_eq!(w.len(), 98);
        for (i, win) in w.iter().enumerate() {
            let i = i as i64;
            assert_eq!(win, &vec![i, i + 1, i + 2]);
        }
    }

    #[test]
    fn buffer_stays_bounded() {
        let mut w = Windower::new(WindowSpec::new(8, Some(3)).unwrap());
        for i in 0..10_000 {
            let _ = w.push(pkt(i));
            assert!(w.buf.len() <= 16);
        }
        let cap = w.buf.capacity();
        for i in 0..10_000 {
            let _ = w.push(pkt(i));
        }
        assert_eq!(w.buf.capacity(), cap, "no growth after warm-up");
    }

    #[test]
    fn reset_and_bad_arguments() {
        let mut w = Windower::new(WindowSpec::disjoint(3).unwrap());
        assert!(w.push(pkt(0)).is_none());
        assert!(w.push(pkt(1)).is_none());
        w.reset();
        assert!(w.push(pkt(2)).is_none());
        assert!(w.push(pkt(3)).is_none());
        assert_eq!(w.push(pkt(4)).map(|s| s.len()), Some(3));
        assert!(WindowSpec::new(0, Some(1)).is_err());
        assert!(
            WindowSpec::new(1, None).is_err(),
            "one packet has no inter-arrival time"
        );
        assert!(WindowSpec::new(2, Some(0)).is_err());
        assert!(
            WindowSpec::new(4, Some(5)).is_err(),
            "stride above the window"
        );
        assert!(WindowSpec::new(MAX_WINDOW + 1, None).is_err());
        assert!(WindowSpec::new(MAX_WINDOW, Some(MAX_WINDOW)).is_ok());
        let e = WindowSpec::new(8, Some(9)).unwrap_err().to_string();
        assert!(e.contains("stride") && e.contains("1..=8"), "{e}");
        assert_eq!(
            WindowSpec::default(),
            WindowSpec::disjoint(DEFAULT_WINDOW).unwrap()
        );
        assert_eq!(Windower::default().window(), 1024);
        assert_eq!(Windower::default().stride(), 1024);
    }
}
