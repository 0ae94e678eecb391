//! Cutting a packet stream into fixed-size windows (the paper's 1024-packet windows, §III).

use crate::FeatureError;
use tapir_capture::TracePacket;

/// The paper's window: "We extracted windows containing 1024 packets from each trace" (§III).
pub const DEFAULT_WINDOW: usize = 1024;

/// Largest window accepted, to keep a typo from reserving gigabytes.
pub const MAX_WINDOW: usize = 1 << 24;

/// Turns a stream of packets into windows of `window` packets, one every `stride` packets.
///
/// The first window is returned on the `window`-th packet, the next `stride` packets later.
/// With `stride < window` windows overlap; with `stride > window` the packets between windows
/// are skipped. An incomplete tail never becomes a window. The buffer holds at most
/// `2 * window` packets and, once it has grown to that, push never allocates: windows are
/// contiguous slices, and the live packets are moved to the front only when the buffer is full
/// (at most every `window` pushes, so the copy costs O(1) per packet).
#[derive(Clone, Debug)]
pub struct Windower {
    window: usize,
    stride: usize,
    buf: Vec<TracePacket>,
    /// Index in `buf` of the first packet of the next window.
    start: usize,
    /// Packets still to skip before the next window starts (only when stride > window).
    skip: usize,
}

impl Windower {
    /// `window` and `stride` in packets, both at least 1 and `window` at most [`MAX_WINDOW`].
    pub fn new(window: usize, stride: usize) -> Result<Self, FeatureError> {
        if window == 0 || window > MAX_WINDOW {
            return Err(FeatureError::InvalidWindow(format!(
                "window of {window} packets; use 1..={MAX_WINDOW}"
            )));
        }
        if stride == 0 {
            return Err(FeatureError::InvalidWindow(
                "stride of 0 packets; use at least 1 (equal to the window for disjoint windows)"
                    .into(),
            ));
        }
        Ok(Windower {
            window,
            stride,
            buf: Vec::new(),
            start: 0,
            skip: 0,
        })
    }

    /// Packets per window.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Packets between the starts of consecutive windows.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Adds one packet; returns the window it completes, if any.
    pub fn push(&mut self, p: TracePacket) -> Option<&[TracePacket]> {
        if self.skip > 0 {
            self.skip -= 1;
            return None;
        }
        if self.buf.len() >= 2 * self.window {
            // Fewer than `window` packets are live here (else a window would have been
            // returned), so `start > window` and the copy frees at least half the buffer.
            self.buf.copy_within(self.start.., 0);
            self.buf.truncate(self.buf.len() - self.start);
            self.start = 0;
        }
        self.buf.push(p);
        if self.buf.len() - self.start < self.window {
            return None;
        }
        let first = self.start;
        if self.stride >= self.window {
            self.start += self.window;
            self.skip = self.stride - self.window;
        } else {
            self.start += self.stride;
        }
        self.buf.get(first..first + self.window)
    }

    /// Forgets buffered packets, e.g. at the end of a trace, so that no window spans two traces.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.skip = 0;
    }
}

impl Default for Windower {
    /// 1024-packet disjoint windows.
    fn default() -> Self {
        Windower {
            window: DEFAULT_WINDOW,
            stride: DEFAULT_WINDOW,
            buf: Vec::new(),
            start: 0,
            skip: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapir_capture::{Direction, Timestamp};

    fn pkt(i: i64) -> TracePacket {
        TracePacket::new(Timestamp(i), 100, Direction::Up)
    }

    /// Feeds packets 0..n and returns each window as the list of its timestamps.
    fn run(window: usize, stride: usize, n: i64) -> Vec<Vec<i64>> {
        let mut w = Windower::new(window, stride).unwrap();
        let mut out = Vec::new();
        for i in 0..n {
            if let Some(win) = w.push(pkt(i)) {
                out.push(win.iter().map(|p| p.ts.0).collect());
            }
        }
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
    fn stride_longer_than_window_skips() {
        let w = run(2, 5, 13);
        assert_eq!(w, vec![vec![0, 1], vec![5, 6], vec![10, 11]]);
    }

    #[test]
    fn buffer_stays_bounded() {
        let mut w = Windower::new(8, 3).unwrap();
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
        let mut w = Windower::new(3, 3).unwrap();
        assert!(w.push(pkt(0)).is_none());
        assert!(w.push(pkt(1)).is_none());
        w.reset();
        assert!(w.push(pkt(2)).is_none());
        assert!(w.push(pkt(3)).is_none());
        assert_eq!(w.push(pkt(4)).map(|s| s.len()), Some(3));
        assert!(Windower::new(0, 1).is_err());
        assert!(Windower::new(1, 0).is_err());
        assert!(Windower::new(MAX_WINDOW + 1, 1).is_err());
        assert_eq!(Windower::default().window(), 1024);
        assert_eq!(Windower::default().stride(), 1024);
    }
}
