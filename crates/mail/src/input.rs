//! Where messages come from: mbox files (streamed, one message in memory at a time), Maildir
//! folders (`cur/` and `new/`), single `.eml` files and folders of them.

use crate::date::parse_from_line;
use crate::error::{Broken, BrokenKind, MailError};
use crate::meta::{parse_message_with, Envelope, MailMeta, Origin};
use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use tapir_capture::Timestamp;

/// Reading limits.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Messages larger than this are skipped and reported. Default 64 MiB, above the 50 MB
    /// limit of large providers, so that real mail passes and one bad file cannot exhaust memory.
    pub max_message: u64,
    /// Messages with more header fields than this are skipped and reported. Default
    /// [`crate::DEFAULT_MAX_HEADERS`].
    pub max_headers: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_message: 64 << 20,
            max_headers: crate::DEFAULT_MAX_HEADERS,
        }
    }
}

/// One message's bytes and what its container said about it.
#[derive(Clone, Debug, Default)]
pub struct RawMessage {
    pub data: Vec<u8>,
    pub envelope: Envelope,
}

/// A streaming mbox reader (mboxrd and mboxo).
///
/// A separator is a line starting with `From ` at the start of the file or after a blank line
/// (the rule of RFC 4155's "default" format; requiring the blank line keeps an unescaped `From `
/// in a body from splitting a message). The blank line before a separator belongs to the mbox,
/// not the message. Lines `>From `, `>>From `, … lose one `>` (mboxrd); in mboxo files, where
/// only `From ` was escaped, this is the same operation.
pub struct Mbox<R> {
    reader: R,
    file: PathBuf,
    max: u64,
    /// Offset of the next byte to read.
    pos: u64,
    index: u64,
    /// The separator line of the next message and its offset.
    pending: Option<(Vec<u8>, u64)>,
    done: bool,
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

impl<R: BufRead> Mbox<R> {
    pub fn new(reader: R, file: impl Into<PathBuf>, opts: &ReadOptions) -> Self {
        Mbox {
            reader,
            file: file.into(),
            max: opts.max_message,
            pos: 0,
            index: 0,
            pending: None,
            done: false,
        }
    }

    /// The next message, or a message that was too large (reported and skipped), or `None`
    /// at the end. Lines before the first separator form a message of their own, reported
    /// by the parser if they are not one.
    pub fn next_raw(&mut self) -> io::Result<Option<Result<RawMessage, Broken>>> {
        if self.done {
            return Ok(None);
        }
        let mut data = Vec::new();
        let mut prev_blank = true;
        if self.pending.is_none() && self.pos == 0 {
            let n = self.reader.read_until(b'\n', &mut data)?;
            if n == 0 {
                self.done = true;
                return Ok(None);
            }
            self.pos = n as u64;
            if data.starts_with(b"From ") {
                self.pending = Some((std::mem::take(&mut data), 0));
            } else {
                prev_blank = is_blank(&data);
            }
        }
        let (sep, offset) = self.pending.take().unwrap_or((Vec::new(), 0));
        let (sender, time) = if sep.is_empty() {
            (None, None)
        } else {
            parse_from_line(&sep)
        };
        let mut too_large = false;
        loop {
            let start = data.len();
            let n = self.reader.read_until(b'\n', &mut data)?;
            if n == 0 {
                self.done = true;
                break;
            }
            let line_off = self.pos;
            self.pos += n as u64;
            let line = &data[start..];
            if prev_blank && line.starts_with(b"From ") {
                self.pending = Some((line.to_vec(), line_off));
                data.truncate(start);
                // The blank line before the separator is mbox framing.
                if data.ends_with(b"\r\n") {
                    data.truncate(data.len() - 2);
                } else if data.ends_with(b"\n") {
                    data.truncate(data.len() - 1);
                }
                break;
            }
            prev_blank = is_blank(line);
            if line.first() == Some(&b'>') {
                let gt = line.iter().take_while(|&&b| b == b'>').count();
                if line[gt..].starts_with(b"From ") {
                    data.remove(start);
                }
            }
            if too_large {
                data.clear();
            } else if data.len() as u64 > self.max {
                too_large = true;
                data = Vec::new();
            }
        }
        let origin = Origin {
            file: self.file.clone(),
            index: self.index,
            offset,
        };
        self.index += 1;
        if too_large {
            return Ok(Some(Err(Broken {
                file: origin.file,
                index: origin.index,
                offset: origin.offset,
                why: BrokenKind::TooLarge { limit: self.max },
            })));
        }
        Ok(Some(Ok(RawMessage {
            data,
            envelope: Envelope {
                origin,
                sender,
                time,
            },
        })))
    }
}

/// One parsed message or one skipped message.
#[derive(Clone, Debug)]
pub enum Item {
    Message(Box<MailMeta>),
    Broken(Broken),
}

enum Current {
    Mbox(Box<Mbox<BufReader<File>>>),
}

/// Every message under the given paths, in order: files as given, folders sorted by name.
///
/// A file starting with `From ` is an mbox; any other file is one message. A folder with
/// `cur/` or `new/` is a Maildir (its `tmp/` holds deliveries in progress and is skipped); any
/// other folder is walked. An input that cannot be read yields one `Err` and reading goes on
/// with the next.
pub struct Messages {
    queue: VecDeque<PathBuf>,
    current: Option<Current>,
    opts: ReadOptions,
}

impl Messages {
    pub fn new<P: AsRef<Path>>(paths: &[P], opts: ReadOptions) -> Self {
        Messages {
            queue: paths.iter().map(|p| p.as_ref().to_path_buf()).collect(),
            current: None,
            opts,
        }
    }

    fn io(path: &Path, source: io::Error) -> MailError {
        MailError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Replaces a folder in the queue by its contents.
    fn expand(&mut self, dir: &Path) -> Result<(), MailError> {
        let mut entries = Vec::new();
        for e in fs::read_dir(dir).map_err(|e| Self::io(dir, e))? {
            let e = e.map_err(|e| Self::io(dir, e))?;
            entries.push(e.path());
        }
        entries.sort();
        let maildir = entries
            .iter()
            .any(|p| p.is_dir() && matches!(name(p), "cur" | "new"));
        let mut files = Vec::new();
        for p in entries {
            let n = name(&p);
            if p.is_dir() {
                if maildir && n == "tmp" {
                    continue;
                }
                if maildir && matches!(n, "cur" | "new") {
                    let mut inner: Vec<PathBuf> = fs::read_dir(&p)
                        .map_err(|e| Self::io(&p, e))?
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_file())
                        .collect();
                    inner.sort();
                    files.extend(inner);
                    continue;
                }
                files.push(p);
            } else if !n.starts_with('.') {
                files.push(p);
            }
        }
        for p in files.into_iter().rev() {
            self.queue.push_front(p);
        }
        Ok(())
    }

    fn open(&mut self, path: PathBuf) -> Result<Option<Result<RawMessage, Broken>>, MailError> {
        if path.is_dir() {
            self.expand(&path)?;
            return Ok(None);
        }
        let f = File::open(&path).map_err(|e| Self::io(&path, e))?;
        let len = f.metadata().map_err(|e| Self::io(&path, e))?.len();
        let mut r = BufReader::with_capacity(1 << 16, f);
        let head = r.fill_buf().map_err(|e| Self::io(&path, e))?;
        if head.starts_with(b"From ") {
            self.current = Some(Current::Mbox(Box::new(Mbox::new(r, path, &self.opts))));
            return Ok(None);
        }
        let origin = Origin {
            file: path.clone(),
            index: 0,
            offset: 0,
        };
        if len > self.opts.max_message {
            return Ok(Some(Err(Broken {
                file: path,
                index: 0,
                offset: 0,
                why: BrokenKind::TooLarge {
                    limit: self.opts.max_message,
                },
            })));
        }
        let mut data = Vec::with_capacity(len as usize);
        r.read_to_end(&mut data).map_err(|e| Self::io(&path, e))?;
        let env = Envelope {
            origin,
            sender: None,
            time: maildir_time(&path),
        };
        Ok(Some(Ok(RawMessage {
            data,
            envelope: env,
        })))
    }

    /// The next message's bytes, unparsed (a message too large to read comes out as its
    /// [`Broken`]), in the order [`Messages`] yields parsed ones; `None` at the end.
    pub fn next_raw(&mut self) -> Option<Result<Result<RawMessage, Broken>, MailError>> {
        loop {
            if let Some(Current::Mbox(mbox)) = &mut self.current {
                match mbox.next_raw() {
                    Ok(Some(m)) => return Some(Ok(m)),
                    Ok(None) => self.current = None,
                    Err(e) => {
                        let path = mbox.file.clone();
                        self.current = None;
                        return Some(Err(Self::io(&path, e)));
                    }
                }
                continue;
            }
            let path = self.queue.pop_front()?;
            match self.open(path) {
                Ok(Some(m)) => return Some(Ok(m)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

fn name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or_default()
}

/// Maildir file names start with the delivery time in seconds (`1700000000.M1P2.host:2,S`).
fn maildir_time(p: &Path) -> Option<Timestamp> {
    let n = name(p);
    let digits = n.split('.').next()?;
    if digits.len() < 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits
        .parse::<i64>()
        .ok()
        .map(|s| Timestamp::from_parts(s, 0, 1))
}

/// Parses a raw message into an [`Item`] under the default [`ReadOptions`].
pub fn to_item(raw: RawMessage) -> Item {
    to_item_with(raw, &ReadOptions::default())
}

/// Parses a raw message into an [`Item`] under `opts` (its header-field limit).
pub fn to_item_with(raw: RawMessage, opts: &ReadOptions) -> Item {
    let origin = raw.envelope.origin.clone();
    match parse_message_with(&raw.data, raw.envelope, opts.max_headers) {
        Ok(m) => Item::Message(Box::new(m)),
        Err(why) => Item::Broken(Broken {
            file: origin.file,
            index: origin.index,
            offset: origin.offset,
            why,
        }),
    }
}

impl Iterator for Messages {
    type Item = Result<Item, MailError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.next_raw()?.map(|m| match m {
            Ok(raw) => to_item_with(raw, &self.opts),
            Err(b) => Item::Broken(b),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(mbox: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut r = Mbox::new(mbox, "t.mbox", &ReadOptions::default());
        let mut out = Vec::new();
        while let Some(m) = r.next_raw().unwrap() {
            let m = m.unwrap();
            out.push((m.envelope.origin.offset, m.data));
        }
        out
    }

    #[test]
    fn crlf_separators_and_unescaping() {
        let got = split(b"From a\r\nA: 1\r\n\r\n>From x\r\n\r\nFrom b\r\nB: 2\r\n\r\nbody");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (0, b"A: 1\r\n\r\nFrom x\r\n".to_vec()));
        assert_eq!(got[1], (27, b"B: 2\r\n\r\nbody".to_vec()));
    }

    #[test]
    fn maildir_names() {
        assert_eq!(
            maildir_time(Path::new("new/1700000000.M1P2.host")),
            Some(Timestamp::from_parts(1_700_000_000, 0, 1))
        );
        assert_eq!(maildir_time(Path::new("msg.eml")), None);
    }

    proptest! {
        /// Whatever the bytes, the reader ends, never panics, and accounts for every byte:
        /// message bytes + separators + framing blank lines + removed '>' = input length.
        #[test]
        fn mbox_reader_never_panics(body in proptest::collection::vec(
            prop_oneof![Just(b"From x\n".to_vec()), Just(b"\n".to_vec()), Just(b">From y\n".to_vec()),
                        proptest::collection::vec(any::<u8>(), 0..40)], 0..40)) {
            let raw: Vec<u8> = body.concat();
            let mut r = Mbox::new(&raw[..], "p", &ReadOptions {
                    max_message: 1 << 20,
                    ..ReadOptions::default()
                });
            let mut n = 0;
            while let Some(m) = r.next_raw().unwrap() {
                prop_assert!(m.is_ok());
                n += 1;
                prop_assert!(n <= raw.len() + 1);
            }
        }
    }
}
