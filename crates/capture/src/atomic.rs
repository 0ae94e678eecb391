//! Writing a whole output file so that a reader sees the old file or the new one, never half.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path`. A regular file (or a new one) is replaced atomically: the bytes go
/// to a temporary file in the same folder, are flushed to disk, and the temporary file is renamed
/// over `path`; on failure it is removed. Anything else that exists at `path` (a device such as
/// `/dev/null`, a FIFO) is written in place, since a rename would replace the device node itself.
/// The error is the operating system's; callers add the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut f = fs::OpenOptions::new().write(true).open(path)?;
        return f.write_all(bytes);
    }
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `.NAME.tmp-PID-NANOS` beside `path`: hidden, and unique per process and call.
fn temp_path(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    dir.join(format!(".{name}.tmp-{}-{nanos}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_a_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("tapir-atomic-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("out.json");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        // A folder that does not exist: the error, and still nothing left behind.
        let missing = dir.join("no/such/dir/x");
        assert_eq!(
            write_atomic(&missing, b"x").unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_in_place() {
        let null = Path::new("/dev/null");
        if !null.exists() {
            return;
        }
        write_atomic(null, b"discarded").unwrap();
        let m = fs::metadata(null).unwrap();
        assert!(!m.is_file(), "/dev/null is still a device");
    }
}
