//! Padding: every packet grows to a size that says less about its content. Timing is left as
//! it is, so padding costs bytes and no delay — and, as the traffic-classification paper notes,
//! it does not hide timing or volume.

use crate::{Defense, Pkt, SplitMix64, Timestamp};

/// How a packet's size is padded. Sizes above the MTU (coalesced "packets" of an offloading
/// capture) are left as they are by every mode.
#[derive(Clone, Debug, PartialEq)]
pub enum PadMode {
    /// Every packet to the MTU.
    Mtu(u32),
    /// Up to the next multiple of the bucket (514: Tor's cell size).
    Bucket(u32),
    /// Up to the next power of two, at most the MTU.
    Pow2(u32),
    /// Up to the smallest size of the set that holds it (sorted, ascending); above the largest,
    /// unchanged.
    Set(Vec<u32>),
    /// A random amount, uniform in 0..=max, at most the MTU.
    Random { max: u32, mtu: u32 },
}

/// Padding defence.
pub struct Pad {
    mode: PadMode,
    rng: SplitMix64,
}

impl Pad {
    /// Padding in `mode`; the seed matters only for [`PadMode::Random`].
    pub fn new(mode: PadMode, seed: u64) -> Self {
        Pad {
            mode,
            rng: SplitMix64::new(seed),
        }
    }

    /// The padded size of a packet of `size` bytes.
    pub fn padded(&mut self, size: u32) -> u32 {
        match &self.mode {
            PadMode::Mtu(mtu) => size.max(*mtu),
            PadMode::Bucket(b) => size.div_ceil(*b) * b,
            PadMode::Pow2(mtu) => {
                if size >= *mtu {
                    size
                } else {
                    size.next_power_of_two().min(*mtu)
                }
            }
            PadMode::Set(set) => set.iter().copied().find(|&s| s >= size).unwrap_or(size),
            PadMode::Random { max, mtu } => {
                if size >= *mtu {
                    size
                } else {
                    let extra = self.rng.range_u64(0, u64::from(*max)) as u32;
                    (size + extra).min(*mtu)
                }
            }
        }
    }
}

impl Defense for Pad {
    fn spec(&self) -> String {
        match &self.mode {
            PadMode::Mtu(m) => format!("pad-mtu:{m}"),
            PadMode::Bucket(b) => format!("pad-bucket:{b}"),
            PadMode::Pow2(m) => format!("pad-pow2:{m}"),
            PadMode::Set(s) => format!(
                "pad-set:{}",
                s.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
            ),
            PadMode::Random { max, mtu } => format!("pad-random:max={max},mtu={mtu}"),
        }
    }

    fn advance(&mut self, _now: Timestamp, _out: &mut Vec<Pkt>) {}

    fn send(&mut self, p: Pkt, out: &mut Vec<Pkt>) {
        let size = self.padded(p.size);
        out.push(Pkt { size, ..p });
    }

    fn finish(&mut self, _out: &mut Vec<Pkt>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_pad_as_documented() {
        let p = |m| Pad::new(m, 1);
        assert_eq!(p(PadMode::Mtu(1500)).padded(40), 1500);
        assert_eq!(p(PadMode::Mtu(1500)).padded(9000), 9000);
        assert_eq!(p(PadMode::Bucket(514)).padded(1), 514);
        assert_eq!(p(PadMode::Bucket(514)).padded(514), 514);
        assert_eq!(p(PadMode::Bucket(514)).padded(515), 1028);
        assert_eq!(p(PadMode::Pow2(1500)).padded(100), 128);
        assert_eq!(p(PadMode::Pow2(1500)).padded(1100), 1500);
        assert_eq!(p(PadMode::Set(vec![128, 512, 1500])).padded(129), 512);
        assert_eq!(p(PadMode::Set(vec![128, 512, 1500])).padded(1600), 1600);
        let mut r = p(PadMode::Random {
            max: 100,
            mtu: 1500,
        });
        for _ in 0..1000 {
            let s = r.padded(1000);
            assert!((1000..=1100).contains(&s));
            assert!(r.padded(1450) <= 1500);
        }
    }
}
