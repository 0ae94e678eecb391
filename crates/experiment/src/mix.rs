//! Mixing packet streams as an observer on the shared link would see them: background traffic
//! re-timed to an exact rate and interleaved into a trace, and several single-application
//! traces interleaved into one multi-application stream. Windows are cut after mixing.

use tapir_capture::{SplitMix64, Timestamp, TracePacket};

/// The experiment's draws over tapir's one SplitMix64 (seed offset and modulo `below` as the
/// published figures were drawn): the same seed picks the same traces and offsets everywhere.
#[derive(Clone, Debug)]
pub struct SplitMix(SplitMix64);

impl SplitMix {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix(SplitMix64::new(seed ^ 0x9e37_79b9_7f4a_7c15))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// Merges streams sorted by time into one sorted stream; on equal timestamps the earlier
/// stream's packet goes first, so the result does not depend on sort stability.
pub fn interleave(streams: &[Vec<TracePacket>]) -> Vec<TracePacket> {
    let total = streams.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    let mut pos = vec![0usize; streams.len()];
    loop {
        let mut best: Option<(usize, Timestamp)> = None;
        for (s, stream) in streams.iter().enumerate() {
            if let Some(p) = stream.get(pos[s]) {
                if best.is_none_or(|(_, t)| p.ts < t) {
                    best = Some((s, p.ts));
                }
            }
        }
        let Some((s, _)) = best else { break };
        out.push(streams[s][pos[s]]);
        pos[s] += 1;
    }
    out
}

/// `trace` with background packets interleaved at exactly `rate` packets per second over its
/// span: `round(rate × span)` packets taken in order from `background` (cyclically, from
/// `offset`), their own gaps kept in proportion but stretched or squeezed so that they fill the
/// span. Keeping the gaps' shape keeps the background's bursts; fixing the count makes the rate
/// exact, as the paper's replayed background was specified by rate (`seeds/001`, §IV-D).
///
/// An empty background, a zero or negative rate, or a trace shorter than two packets gives the
/// trace unchanged.
pub fn mix_background(
    trace: &[TracePacket],
    background: &[TracePacket],
    rate: f64,
    offset: usize,
) -> Vec<TracePacket> {
    let (Some(first), Some(last)) = (trace.first(), trace.last()) else {
        return trace.to_vec();
    };
    let span_ns = last.ts.nanos_since(first.ts);
    if background.is_empty() || rate.is_nan() || rate <= 0.0 || trace.len() < 2 || span_ns <= 0 {
        return trace.to_vec();
    }
    let n = (rate * span_ns as f64 / 1e9).round();
    // A rate so high that the count would not fit memory is capped; 10 M packets is far beyond
    // any rate the report sweeps.
    let n = n.min(10_000_000.0) as usize;
    if n == 0 {
        return trace.to_vec();
    }
    // Gaps of the chosen background packets; where the pool wraps around, the median gap.
    let median_gap = {
        let mut g: Vec<i64> = background
            .windows(2)
            .map(|w| w[1].ts.nanos_since(w[0].ts).max(0))
            .collect();
        g.sort_unstable();
        g.get(g.len() / 2).copied().unwrap_or(0)
    };
    let pick = |k: usize| background[(offset + k) % background.len()];
    let mut gaps: Vec<f64> = Vec::with_capacity(n);
    for k in 0..n {
        let i = (offset + k) % background.len();
        let g = if i + 1 < background.len() && k + 1 < n {
            background[i + 1].ts.nanos_since(background[i].ts).max(0)
        } else {
            median_gap
        };
        gaps.push(g as f64);
    }
    let total: f64 = gaps.iter().sum();
    // n packets spread over the span with n gaps (the last one after the span's end), so that
    // back-to-back mixes keep the same rate. All-zero gaps fall back to even spacing.
    let scale = if total > 0.0 {
        span_ns as f64 / total
    } else {
        0.0
    };
    let even = span_ns as f64 / n as f64;
    let mut t = 0.0f64;
    let mut bg = Vec::with_capacity(n);
    for (k, g) in gaps.iter().enumerate() {
        let p = pick(k);
        bg.push(TracePacket::new(
            Timestamp(first.ts.0.saturating_add(t.round() as i64)),
            p.size,
            p.dir,
        ));
        t += if scale > 0.0 { g * scale } else { even };
    }
    interleave(&[trace.to_vec(), bg])
}

/// Several traces played at once from a common start: each is shifted so that it starts at
/// time zero plus its `offsets_ns` entry, they are interleaved, and the result stops at the
/// earliest end, so every application is active in every window that comes out.
pub fn play_together(traces: &[&[TracePacket]], offsets_ns: &[i64]) -> Vec<TracePacket> {
    let mut streams = Vec::with_capacity(traces.len());
    let mut end = i64::MAX;
    for (i, t) in traces.iter().enumerate() {
        let Some(first) = t.first() else { continue };
        let off = offsets_ns.get(i).copied().unwrap_or(0);
        let shifted: Vec<TracePacket> = t
            .iter()
            .map(|p| {
                TracePacket::new(
                    Timestamp(p.ts.nanos_since(first.ts).saturating_add(off)),
                    p.size,
                    p.dir,
                )
            })
            .collect();
        if let Some(l) = shifted.last() {
            end = end.min(l.ts.0);
        }
        streams.push(shifted);
    }
    let mut out = interleave(&streams);
    out.retain(|p| p.ts.0 <= end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapir_capture::Direction;

    fn stream(times_ms: &[i64], size: u32) -> Vec<TracePacket> {
        times_ms
            .iter()
            .map(|&t| TracePacket::new(Timestamp(t * 1_000_000), size, Direction::Up))
            .collect()
    }

    #[test]
    fn interleave_is_sorted_and_complete() {
        let a = stream(&[0, 10, 20, 30], 100);
        let b = stream(&[5, 10, 25], 200);
        let m = interleave(&[a, b]);
        assert_eq!(m.len(), 7);
        assert!(m.windows(2).all(|w| w[0].ts <= w[1].ts));
        // Equal timestamps: the first stream's packet first.
        assert_eq!((m[2].size, m[3].size), (100, 200));
    }

    #[test]
    fn background_rate_is_exact_and_inside_the_span() {
        // A 10 s trace, a bursty background: 300 packets/s must add exactly 3000 packets.
        let trace: Vec<TracePacket> = stream(&(0..=1000).map(|i| i * 10).collect::<Vec<_>>(), 100);
        let bg = stream(&[0, 1, 2, 3, 500, 501, 502, 1500], 60);
        let m = mix_background(&trace, &bg, 300.0, 3);
        assert_eq!(m.len(), trace.len() + 3000);
        assert!(m.windows(2).all(|w| w[0].ts <= w[1].ts));
        let added: Vec<&TracePacket> = m.iter().filter(|p| p.size == 60).collect();
        assert_eq!(added.len(), 3000);
        assert!(added
            .iter()
            .all(|p| p.ts.0 >= 0 && p.ts.0 <= 10_000_000_000));
        // Bursts survive: most gaps are far below the mean gap of 1/300 s.
        let gaps: Vec<i64> = added.windows(2).map(|w| w[1].ts.0 - w[0].ts.0).collect();
        let short = gaps.iter().filter(|&&g| g < 3_333_333 / 4).count();
        assert!(short > gaps.len() / 2, "{short} of {}", gaps.len());
    }

    #[test]
    fn background_edge_cases_leave_the_trace_alone() {
        let trace = stream(&[0, 10, 20], 100);
        assert_eq!(mix_background(&trace, &[], 300.0, 0), trace);
        assert_eq!(mix_background(&trace, &trace, 0.0, 0), trace);
        assert_eq!(mix_background(&trace, &trace, f64::NAN, 0), trace);
        assert_eq!(
            mix_background(&trace[..1], &trace, 50.0, 0),
            trace[..1].to_vec()
        );
        assert!(mix_background(&[], &trace, 50.0, 0).is_empty());
        // Background with all-zero gaps is spread evenly.
        let flat = stream(&[7, 7, 7], 60);
        let m = mix_background(&trace, &flat, 200.0, 0);
        assert_eq!(m.len(), 3 + 4);
    }

    #[test]
    fn playing_together_stops_at_the_earliest_end() {
        let a = stream(&[100, 110, 120, 130, 140], 100);
        let b = stream(&[5000, 5015, 5025], 200);
        let m = play_together(&[&a, &b], &[0, 0]);
        // b lasts 25 ms from its start, so a's packets at 30 and 40 ms are cut.
        assert_eq!(m.len(), 3 + 3);
        assert_eq!(m[0].ts.0, 0);
        assert!(m.iter().all(|p| p.ts.0 <= 25_000_000));
        assert_eq!(SplitMix::new(4).next_u64(), SplitMix::new(4).next_u64());
    }
}
