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

    /// A file written in place from its first line (created, or emptied), for a stream that
    /// others read as it grows, such as a live capture's decisions.
    pub fn in_place(dest: &Path) -> anyhow::Result<Output> {
        let f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(!is_special(dest))
            .open(dest)
            .with_context(|| format!("cannot open {}", dest.display()))?;
        Ok(Output::Special(BufWriter::new(f)))
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

/// A folder of outputs (trace files, plots) written whole or not at all: built in a hidden
/// folder beside `dest` and swapped into place by [`StagedDir::commit`]. Into a folder that
/// exists already, its other files are carried over into the new one at the commit (hard links,
/// so nothing is copied; a file of the same name is replaced by the new one), so an existing
/// folder is likewise replaced whole or not at all: an error or a signal before the commit
/// leaves it as it was.
pub struct StagedDir {
    /// The folder to write (a link to a folder: the folder it points to).
    dest: PathBuf,
    tmp: Option<PathBuf>,
    /// Whether `dest` existed: its files are carried over at the commit.
    existing: bool,
}

impl StagedDir {
    pub fn new(dest: &Path) -> anyhow::Result<StagedDir> {
        let existing = match fs::metadata(dest) {
            Ok(m) if m.is_dir() => true,
            Ok(_) => anyhow::bail!(
                "{}: exists and is not a folder; give a folder (new or existing)",
                dest.display()
            ),
            Err(_) => false,
        };
        let dest = if existing {
            // The folder itself: `.` has no name to stage beside, and swapping a link would
            // turn it into a folder.
            let real = fs::canonicalize(dest)
                .with_context(|| format!("cannot read {}", dest.display()))?;
            let cwd = std::env::current_dir().and_then(fs::canonicalize);
            if cwd.is_ok_and(|c| c.starts_with(&real)) {
                anyhow::bail!(
                    "{}: is the current folder or holds it, which cannot be swapped for the new \
                     one; give a folder below it (e.g. ./traces)",
                    dest.display()
                );
            }
            real
        } else {
            dest.to_path_buf()
        };
        if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let tmp = crate::interrupt::sibling(&dest, "tmp");
        crate::interrupt::create_temp_dir(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(StagedDir {
            dest,
            tmp: Some(tmp),
            existing,
        })
    }

    /// Where to write now.
    pub fn path(&self) -> &Path {
        self.tmp.as_deref().unwrap_or(&self.dest)
    }

    /// Carries the existing folder's other files over and swaps the new folder into place.
    pub fn commit(mut self) -> anyhow::Result<()> {
        let Some(tmp) = self.tmp.clone() else {
            return Ok(());
        };
        if self.existing {
            if let Ok(perm) = fs::metadata(&self.dest).map(|m| m.permissions()) {
                let _ = fs::set_permissions(&tmp, perm);
            }
            carry_over(&self.dest, &tmp).with_context(|| {
                format!(
                    "cannot carry the files of {} over into {} (the folder is left as it was)",
                    self.dest.display(),
                    tmp.display()
                )
            })?;
        }
        crate::interrupt::commit_dir(&tmp, &self.dest)
            .with_context(|| format!("cannot move {} to {}", tmp.display(), self.dest.display()))?;
        self.tmp = None;
        Ok(())
    }
}

/// Puts every entry of the folder `from` that `to` does not have into `to`, recursively: files
/// as hard links (a copy where links are not possible), links as links, folders merged.
fn carry_over(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let src = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        let there = fs::symlink_metadata(&target).ok();
        if kind.is_dir() {
            match there {
                None => {
                    fs::create_dir(&target)?;
                    if let Ok(m) = fs::metadata(&src) {
                        let _ = fs::set_permissions(&target, m.permissions());
                    }
                    carry_over(&src, &target)?;
                }
                Some(m) if m.is_dir() => carry_over(&src, &target)?,
                // A new file of that name replaces the folder.
                Some(_) => {}
            }
        } else if there.is_some() {
            // The new output of that name replaces the old one.
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src)?, &target)?;
        } else if kind.is_file() {
            if fs::hard_link(&src, &target).is_err() {
                fs::copy(&src, &target)?;
            }
        } else {
            return Err(io::Error::other(format!(
                "{}: not a file, link or folder",
                src.display()
            )));
        }
    }
    Ok(())
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        // Not committed: an error happened part-way, so the partial folder goes.
        if let Some(tmp) = &self.tmp {
            crate::interrupt::discard(tmp);
        }
    }
}
