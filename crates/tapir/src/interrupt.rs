//! Ctrl-C (SIGINT) and SIGTERM.
//!
//! A command that streams (`flows`, the collector, `mail`) asks for the signal
//! with [`cooperate`]: the first signal only raises a flag that its loop polls with
//! [`requested`]; it then stops reading, completes its outputs with what it has and returns
//! [`Interrupted`], which `main` turns into a one-line summary and exit code 130 (SIGINT) or
//! 143 (SIGTERM). Any other command, and a second signal in any command, stops at once: every
//! temporary file and folder registered here is removed first, so an interrupted run leaves
//! its targets as they were (an existing output is never half replaced).
//!
//! Temporary paths are created, committed and discarded under one lock that the signal thread
//! also takes before it exits, so none can appear or be renamed while it cleans up. A commit
//! also looks at what the signal handler itself has seen: a signal that would stop the program
//! but that the signal thread has not acted on yet (it may wait for a core on a loaded machine)
//! stops it at the commit instead, so an output is never put in place after such a signal.

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

static SIGNAL: AtomicI32 = AtomicI32::new(0);
static COOPERATIVE: AtomicBool = AtomicBool::new(false);
/// Set by the signal thread when it takes a first signal as a request to finish.
static ACCEPTED: AtomicBool = AtomicBool::new(false);
/// The last signal the handler saw, set in the handler itself, before the signal thread runs.
static RAW: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
static TEMPS: Mutex<Vec<Temp>> = Mutex::new(Vec::new());

enum Temp {
    File(PathBuf),
    Dir(PathBuf),
}

impl Temp {
    fn path(&self) -> &Path {
        match self {
            Temp::File(p) | Temp::Dir(p) => p,
        }
    }

    fn remove(&self) -> bool {
        match self {
            Temp::File(p) => fs::remove_file(p).is_ok(),
            Temp::Dir(p) => fs::remove_dir_all(p).is_ok(),
        }
    }
}

fn temps() -> MutexGuard<'static, Vec<Temp>> {
    TEMPS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The name of a signal number, for messages.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// Starts the thread that receives SIGINT and SIGTERM. Without it (the handler could not be
/// installed) the signals keep their default action.
pub fn install() {
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let raw = RAW.get_or_init(Default::default);
    for sig in [SIGINT, SIGTERM] {
        let _ = signal_hook::flag::register_usize(sig, Arc::clone(raw), sig as usize);
    }
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                let first = SIGNAL
                    .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok();
                if first && COOPERATIVE.load(Ordering::SeqCst) {
                    ACCEPTED.store(true, Ordering::SeqCst);
                    eprintln!(
                        "tapir: {}: finishing the output (again to stop at once)",
                        signal_name(sig)
                    );
                    continue;
                }
                stop_now(SIGNAL.load(Ordering::SeqCst));
            }
        });
}

/// Removes every registered temporary path and exits with 128 + the signal number.
fn stop_now(sig: i32) -> ! {
    // Held until exit: no temporary path is created or renamed meanwhile.
    stop_locked(sig, temps())
}

/// [`stop_now`] with the lock of the temporary paths already taken.
fn stop_locked(sig: i32, temps: MutexGuard<'static, Vec<Temp>>) -> ! {
    let removed = temps.iter().filter(|t| t.remove()).count();
    let what = match removed {
        0 => String::new(),
        1 => "; 1 temporary file removed".to_string(),
        n => format!("; {n} temporary files removed"),
    };
    eprintln!(
        "tapir: interrupted by {}: stopped at once, unfinished outputs not written{what}",
        signal_name(sig)
    );
    std::process::exit(128 + sig);
}

/// The signal received, if any, since the program started.
pub fn requested() -> Option<i32> {
    match SIGNAL.load(Ordering::Relaxed) {
        0 => None,
        s => Some(s),
    }
}

/// While the guard lives, the first signal raises the flag of [`requested`] instead of stopping
/// the program.
pub struct Cooperate(());

pub fn cooperate() -> Cooperate {
    COOPERATIVE.store(true, Ordering::SeqCst);
    // A signal that came before this point has already stopped the program.
    Cooperate(())
}

impl Drop for Cooperate {
    fn drop(&mut self) {
        COOPERATIVE.store(false, Ordering::SeqCst);
    }
}

/// The error a cooperating command returns when it stopped for a signal; `main` prints the
/// summary and exits with 128 + the signal number.
#[derive(Debug)]
pub struct Interrupted {
    pub signal: i32,
    /// What was done, e.g. "790 records written to f.jsonl".
    pub summary: String,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interrupted by {}: {}",
            signal_name(self.signal),
            self.summary
        )
    }
}

impl std::error::Error for Interrupted {}

impl Interrupted {
    pub fn exit_code(&self) -> u8 {
        u8::try_from(128 + self.signal).unwrap_or(1)
    }
}

/// Creates the temporary file `tmp`, registered for removal on a signal.
pub fn create_temp_file(tmp: &Path) -> io::Result<fs::File> {
    let mut temps = temps();
    let f = fs::File::create(tmp)?;
    temps.push(Temp::File(tmp.to_path_buf()));
    Ok(f)
}

/// Creates the temporary folder `tmp` (empty), registered for removal on a signal.
pub fn create_temp_dir(tmp: &Path) -> io::Result<()> {
    let mut temps = temps();
    fs::create_dir(tmp)?;
    temps.push(Temp::Dir(tmp.to_path_buf()));
    Ok(())
}

fn forget(temps: &mut Vec<Temp>, tmp: &Path) {
    temps.retain(|t| t.path() != tmp);
}

/// Takes the lock of the temporary paths to put an output in place; stops the program first if
/// a signal that stops it has come (see the module's documentation).
fn temps_to_commit() -> MutexGuard<'static, Vec<Temp>> {
    let temps = temps();
    let raw = RAW.get().map_or(0, |r| r.load(Ordering::SeqCst));
    if raw != 0 && !ACCEPTED.load(Ordering::SeqCst) && !COOPERATIVE.load(Ordering::SeqCst) {
        stop_locked(i32::try_from(raw).unwrap_or(SIGTERM), temps);
    }
    temps
}

/// Renames the temporary file or folder `tmp` to `dest` and stops tracking it.
pub fn commit(tmp: &Path, dest: &Path) -> io::Result<()> {
    let mut temps = temps_to_commit();
    fs::rename(tmp, dest)?;
    forget(&mut temps, tmp);
    Ok(())
}

/// Replaces the folder `dest` (if there is one) by the temporary folder `tmp`: the old folder
/// is moved aside, the new one renamed into place, the old one removed. A signal cannot come
/// between the two renames; if the second fails the old folder is put back.
pub fn commit_dir(tmp: &Path, dest: &Path) -> io::Result<()> {
    let mut temps = temps_to_commit();
    if fs::symlink_metadata(dest).is_err() {
        fs::rename(tmp, dest)?;
        forget(&mut temps, tmp);
        return Ok(());
    }
    let old = sibling(dest, "old");
    fs::rename(dest, &old)?;
    if let Err(e) = fs::rename(tmp, dest) {
        let _ = fs::rename(&old, dest);
        return Err(e);
    }
    forget(&mut temps, tmp);
    // The old folder is removed without the lock (it may be large), registered so that a
    // signal meanwhile removes the rest of it rather than leaving it beside the new one.
    temps.push(Temp::Dir(old.clone()));
    drop(temps);
    let removed = fs::remove_dir_all(&old);
    forget(&mut self::temps(), &old);
    removed
}

/// Removes the temporary file or folder `tmp` (an output abandoned after an error).
pub fn discard(tmp: &Path) {
    let mut temps = temps();
    if let Some(i) = temps.iter().position(|t| t.path() == tmp) {
        temps.remove(i).remove();
    }
}

/// A hidden path beside `dest`, unique to this process: `.NAME.KIND-PID`.
pub fn sibling(dest: &Path, kind: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    dest.with_file_name(format!(".{name}.{kind}-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dir_replaces_a_folder_whole() {
        let base = std::env::temp_dir().join(format!("tapir-interrupt-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).unwrap();
        let dest = base.join("report");
        fs::create_dir(&dest).unwrap();
        fs::write(dest.join("old.txt"), "old").unwrap();
        let tmp = sibling(&dest, "tmp");
        create_temp_dir(&tmp).unwrap();
        fs::write(tmp.join("new.txt"), "new").unwrap();
        commit_dir(&tmp, &dest).unwrap();
        assert!(!tmp.exists());
        assert!(!sibling(&dest, "old").exists());
        assert_eq!(fs::read_to_string(dest.join("new.txt")).unwrap(), "new");
        assert!(!dest.join("old.txt").exists());
        assert!(temps().iter().all(|t| t.path() != tmp));
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn discarded_temp_file_is_gone() {
        let tmp = std::env::temp_dir().join(format!("tapir-discard-{}", std::process::id()));
        create_temp_file(&tmp).unwrap();
        assert!(tmp.exists());
        discard(&tmp);
        assert!(!tmp.exists());
        assert!(temps().iter().all(|t| t.path() != tmp));
    }
}
