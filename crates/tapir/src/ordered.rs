//! Many files read in parallel, their output written in the order of the files, as it is made.
//!
//! Each worker takes the next file in order and sends its output in chunks that wait, a few
//! at most, until the writer reaches that file; then the file's result. The first file not yet
//! written is always being read, so the writer never waits on a worker that waits on it; memory
//! holds a few chunks per file being read, never a file's whole output; and the output is the
//! same whatever the number of threads.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Chunks waiting per file at most.
const QUEUED_CHUNKS: usize = 4;

enum Msg<R> {
    /// Output bytes and how many rows they hold.
    Chunk(Vec<u8>, u64),
    Done(R),
}

/// Where a worker sends a file's output. [`Chunks::send`] is false once the writer has gone
/// (an error elsewhere): the worker should stop.
pub struct Chunks<'a, R> {
    tx: &'a SyncSender<Msg<R>>,
}

impl<R> Chunks<'_, R> {
    pub fn send(&self, bytes: Vec<u8>, rows: u64) -> bool {
        self.tx.send(Msg::Chunk(bytes, rows)).is_ok()
    }
}

/// Runs `work(i, chunks)` for every file index `i < n` on `threads` threads and writes the
/// chunks to `out` in file order; `done(i, rows, result)` is called on the writer's thread after
/// file `i`'s last chunk, with the rows it wrote. An error of `out` or of `done` stops every
/// worker and is returned.
pub fn write_in_order<R: Send>(
    n: usize,
    threads: usize,
    work: &(dyn Fn(usize, &Chunks<'_, R>) -> R + Sync),
    out: &mut dyn Write,
    done: &mut dyn FnMut(usize, u64, R) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut txs: Vec<SyncSender<Msg<R>>> = Vec::with_capacity(n);
    let mut rxs: Vec<Receiver<Msg<R>>> = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = sync_channel(QUEUED_CHUNKS);
        txs.push(tx);
        rxs.push(rx);
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, n.max(1)) {
            scope.spawn(|| loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(tx) = txs.get(i) else { break };
                let r = work(i, &Chunks { tx });
                if tx.send(Msg::Done(r)).is_err() {
                    break;
                }
            });
        }
        let r = (|| {
            for (i, rx) in rxs.into_iter().enumerate() {
                let mut rows = 0u64;
                let result = loop {
                    match rx.recv() {
                        Ok(Msg::Chunk(bytes, n)) => {
                            out.write_all(&bytes)?;
                            rows += n;
                        }
                        Ok(Msg::Done(r)) => break r,
                        Err(_) => anyhow::bail!("the reader of file {} stopped", i + 1),
                    }
                };
                done(i, rows, result)?;
            }
            Ok(())
        })();
        // On error the receivers are gone, so workers blocked on a send wake up and stop.
        stop.store(true, Ordering::Relaxed);
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// File i sends i + 1 chunks "i.k;" of k + 1 rows each, slowly for the early files, so that
    /// later files finish first.
    fn work(i: usize, chunks: &Chunks<'_, usize>) -> usize {
        for k in 0..=i {
            std::thread::sleep(std::time::Duration::from_millis((8 - i as u64) % 5));
            if !chunks.send(format!("{i}.{k};").into_bytes(), k as u64 + 1) {
                return usize::MAX;
            }
        }
        i * 10
    }

    #[test]
    fn files_come_out_in_order_whatever_the_threads() {
        let want: String = (0..8)
            .flat_map(|i| (0..=i).map(move |k| format!("{i}.{k};")))
            .collect();
        for threads in [1, 2, 3, 8] {
            let mut out = Vec::new();
            let mut seen = Vec::new();
            write_in_order(8, threads, &work, &mut out, &mut |i, rows, r| {
                seen.push((i, rows, r));
                Ok(())
            })
            .unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{threads} threads");
            let rows = |i: u64| (i + 1) * (i + 2) / 2;
            let expect: Vec<_> = (0..8).map(|i| (i, rows(i as u64), i * 10)).collect();
            assert_eq!(seen, expect, "{threads} threads");
        }
    }

    #[test]
    fn an_error_of_the_writer_side_stops_every_worker() {
        let mut out = Vec::new();
        let r = write_in_order(8, 3, &work, &mut out, &mut |i, _, _| {
            if i == 2 {
                anyhow::bail!("file 3 is bad")
            }
            Ok(())
        });
        assert_eq!(r.unwrap_err().to_string(), "file 3 is bad");
        assert!(String::from_utf8(out)
            .unwrap()
            .starts_with("0.0;1.0;1.1;2.0;"));
    }
}
