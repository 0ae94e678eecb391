//! The one reusable buffer behind [`crate::CaptureReader`].
//!
//! Records are handed out as slices of this buffer, so reading a packet copies its bytes once
//! (from the OS into the buffer) and allocates nothing. The buffer only grows when a single
//! record is larger than it, and records are capped at [`crate::MAX_CAPLEN`] (blocks at
//! `MAX_BLOCK_LEN`), so memory stays bounded whatever the file claims.

use std::io::{self, BufRead, Read};

/// Default size: large enough that refills (and the memmove that goes with them) are rare, small
/// enough that many files can be open at once.
pub(crate) const DEFAULT_CAPACITY: usize = 512 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

impl Endian {
    #[inline(always)]
    pub(crate) fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        }
    }

    #[inline(always)]
    pub(crate) fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        }
    }

    #[inline(always)]
    pub(crate) fn u64(self, b: [u8; 8]) -> u64 {
        match self {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        }
    }
}

/// Copies `N` bytes at `at` out of `b`, or `None` if `b` is too short. Lets parsers read fields
/// without any indexing that could panic.
#[inline(always)]
pub(crate) fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..)?.first_chunk::<N>().copied()
}

pub(crate) struct Input<R> {
    inner: R,
    buf: Vec<u8>,
    /// `buf[start..end]` holds bytes read but not consumed yet.
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    pos: u64,
}

impl<R: Read> Input<R> {
    pub(crate) fn new(inner: R) -> Self {
        Input::with_capacity(inner, DEFAULT_CAPACITY)
    }

    pub(crate) fn with_capacity(inner: R, capacity: usize) -> Self {
        Input {
            inner,
            buf: vec![0; capacity.max(1)],
            start: 0,
            end: 0,
            pos: 0,
        }
    }

    /// The same buffer (and the bytes already in it) over another reader: lets a format be told
    /// from the first bytes and the reader then be wrapped, without losing what was read.
    pub(crate) fn map_inner<S>(self, f: impl FnOnce(R) -> S) -> Input<S> {
        Input {
            inner: f(self.inner),
            buf: self.buf,
            start: self.start,
            end: self.end,
            pos: self.pos,
        }
    }

    /// Grows the buffer to at least `capacity` bytes, keeping what it holds.
    pub(crate) fn grow_to(&mut self, capacity: usize) {
        if self.buf.len() < capacity {
            self.buf.resize(capacity, 0);
        }
    }

    /// File offset of the next unconsumed byte.
    #[inline(always)]
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// The unconsumed bytes in the buffer.
    #[inline(always)]
    pub(crate) fn peek(&self) -> &[u8] {
        // `start <= end <= buf.len()` always holds, so this cannot fail; `get` keeps it
        // panic-free anyway.
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// Index in the buffer of the next unconsumed byte (for [`Input::slice`]).
    #[inline(always)]
    pub(crate) fn start(&self) -> usize {
        self.start
    }

    /// Bytes of the buffer at absolute indices `from..from + len`; valid until the next `fill`.
    #[inline(always)]
    pub(crate) fn slice(&self, from: usize, len: usize) -> &[u8] {
        self.buf.get(from..from.saturating_add(len)).unwrap_or(&[])
    }

    /// Makes at least `need` bytes available, unless the input ends first. Returns how many are
    /// available (fewer than `need` only at end of input).
    #[inline(always)]
    pub(crate) fn fill(&mut self, need: usize) -> io::Result<usize> {
        let have = self.end - self.start;
        if have >= need {
            return Ok(have);
        }
        self.fill_slow(need)
    }

    #[cold]
    fn fill_slow(&mut self, need: usize) -> io::Result<usize> {
        if self.start + need > self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if need > self.buf.len() {
                self.buf.resize(need, 0);
            }
        }
        while self.end - self.start < need {
            let free = match self.buf.get_mut(self.end..) {
                Some(free) if !free.is_empty() => free,
                _ => break,
            };
            match self.inner.read(free) {
                Ok(0) => break,
                Ok(n) => self.end += n.min(free.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start)
    }

    /// Marks `n` available bytes as read.
    #[inline(always)]
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.pos += n as u64;
    }

    /// Skips `n` bytes without keeping them (unknown pcapng blocks may be large). Returns how
    /// many were skipped: fewer than `n` only at end of input.
    pub(crate) fn skip(&mut self, n: u64) -> io::Result<u64> {
        let mut skipped = 0u64;
        while skipped < n {
            let have = self.end - self.start;
            if have == 0 && self.fill(1)? == 0 {
                break;
            }
            let have = self.end - self.start;
            let step = (n - skipped).min(have as u64) as usize;
            self.consume(step);
            skipped += step as u64;
        }
        Ok(skipped)
    }
}

/// Lets a decompressor (or the trace reader) read through the buffer, so that bytes looked at
/// to tell the format are read again, not lost.
impl<R: Read> Read for Input<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let have = self.fill(1)?;
        let n = have.min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), self.buf.get(self.start..self.start + n))
        {
            dst.copy_from_slice(src);
        }
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Input<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.fill(1)?;
        Ok(self.peek())
    }

    fn consume(&mut self, n: usize) {
        Input::consume(self, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte per call, the worst case for refills.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn fill_gathers_short_reads_and_grows_for_big_records() {
        let data: Vec<u8> = (0..=255u8).cycle().take(DEFAULT_CAPACITY + 100).collect();
        let mut input = Input::new(Trickle(&data));
        assert_eq!(input.fill(10).unwrap(), 10);
        input.consume(3);
        assert_eq!(input.pos(), 3);
        assert_eq!(input.peek()[0], 3);
        // More than the default capacity: the buffer must grow, and keep unconsumed bytes.
        let need = DEFAULT_CAPACITY + 50;
        assert_eq!(input.fill(need).unwrap(), need);
        assert_eq!(input.peek()[0], 3);
        assert_eq!(
            input.skip(1_000_000).unwrap(),
            (DEFAULT_CAPACITY + 97) as u64
        );
        assert_eq!(input.pos(), (DEFAULT_CAPACITY + 100) as u64);
        assert_eq!(input.fill(1).unwrap(), 0);
    }

    #[test]
    fn array_is_bounds_checked() {
        assert_eq!(array::<2>(&[1, 2, 3], 1), Some([2, 3]));
        assert_eq!(array::<2>(&[1, 2, 3], 2), None);
        assert_eq!(array::<2>(&[1, 2, 3], usize::MAX), None);
        assert_eq!(Endian::Big.u16([1, 2]), 0x0102);
        assert_eq!(Endian::Little.u32([1, 0, 0, 0]), 1);
    }
}
