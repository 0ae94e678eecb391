//! Where results go: stdout, or a file written atomically (a temporary file in the same folder,
//! renamed into place only when everything was written), so no half-written output is left.
//! Temporary files are registered with [`crate::interrupt`], which removes them on Ctrl-C.

use anyhow::Context;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub enum Output {
    Stdout(BufWriter<io::Stdout>),
    /// A target that is not a regular file (a device such as /dev/null, a FIFO): written in
    /// place, since renaming a temporary file over it would replace the device node.
    Special(BufWriter<File>),
    File {
        tmp: PathBuf,
        dest: PathBuf,
        w: Option<BufWriter<File>>,
    },
}

impl Output {
    pub fn create(dest: Option<&Path>) -> anyhow::Result<Output> {
        match dest {
            None => Ok(Output::Stdout(BufWriter::new(io::stdout()))),
            Some(dest) if is_special(dest) => {
                let f = fs::OpenOptions::new()
                    .write(true)
                    .open(dest)
                    .with_context(|| format!("cannot open {}", dest.display()))?;
                Ok(Output::Special(BufWriter::new(f)))
            }
            Some(dest) => {
                let tmp = temp_path(dest);
                let f = crate::interrupt::create_temp_file(&tmp)
                    .with_context(|| format!("cannot create {}", tmp.display()))?;
                Ok(Output::File {
                    tmp,
                    dest: dest.to_path_buf(),
                    w: Some(BufWriter::new(f)),
                })
            }
        }
    }

    /// Flushes and, for a file, moves it into place.
    pub fn finish(mut self) -> anyhow::Result<()> {
        match &mut self {
            Output::Stdout(w) => w.flush()?,
            Output::Special(w) => w.flush()?,
            Output::File { tmp, dest, w } => {
                let w = w.take().expect("finish runs once");
                let f = w
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("cannot write {}", tmp.display()))?;
                f.sync_all()
                    .with_context(|| format!("cannot write {}", tmp.display()))?;
                crate::interrupt::commit(tmp, dest).with_context(|| {
                    format!("cannot move {} to {}", tmp.display(), dest.display())
                })?;
            }
        }
        Ok(())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::Special(w) => w.write(buf),
            Output::File { w, .. } => w.as_mut().map_or(Ok(0), |w| w.write(buf)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::Special(w) => w.flush(),
            Output::File { w, .. } => w.as_mut().map_or(Ok(()), |w| w.flush()),
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // Not finished: an error happened part-way, so the partial file goes.
        if let Output::File {
            tmp, w: Some(_), ..
        } = self
        {
            crate::interrupt::discard(tmp);
        }
    }
}

/// Whether `dest` exists and is not a regular file (or a link to one): a device, a FIFO, a socket.
pub fn is_special(dest: &Path) -> bool {
    fs::metadata(dest).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

pub fn temp_path(dest: &Path) -> PathBuf {
    crate::interrupt::sibling(dest, "tmp")
}

/// Writes a whole file atomically.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = Output::create(Some(dest))?;
    out.write_all(bytes)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    out.finish()
}

/// A folder of outputs (trace files, plots) written whole or not at all when it is new: built
/// in a hidden folder beside `dest` and renamed into place by [`StagedDir::commit`]. Into a
/// folder that exists already, files are added in place (each one still written atomically).
pub struct StagedDir {
    dest: PathBuf,
    tmp: Option<PathBuf>,
}

impl StagedDir {
    pub fn new(dest: &Path) -> anyhow::Result<StagedDir> {
        if dest.exists() {
            return Ok(StagedDir {
                dest: dest.to_path_buf(),
                tmp: None,
            });
        }
        if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let tmp = crate::interrupt::sibling(dest, "tmp");
        crate::interrupt::create_temp_dir(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(StagedDir {
            dest: dest.to_path_buf(),
            tmp: Some(tmp),
        })
    }

    /// Where to write now.
    pub fn path(&self) -> &Path {
        self.tmp.as_deref().unwrap_or(&self.dest)
    }

    /// Moves a new folder into place.
    pub fn commit(mut self) -> anyhow::Result<()> {
        if let Some(tmp) = self.tmp.take() {
            crate::interrupt::commit(&tmp, &self.dest).with_context(|| {
                format!("cannot move {} to {}", tmp.display(), self.dest.display())
            })?;
        }
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        // Not committed: an error happened part-way, so the partial folder goes.
        if let Some(tmp) = &self.tmp {
            crate::interrupt::discard(tmp);
        }
    }
}
