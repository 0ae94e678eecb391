//! Giving up root once a live capture is open: the capture socket stays usable, and code that
//! parses packets from the network no longer runs with every privilege.

use anyhow::Context;
use nix::unistd::{geteuid, setgid, setgroups, setuid, Uid, User};

/// The user a live capture runs as when started as root and no `--user` is given.
pub const DEFAULT_USER: &str = "nobody";

/// Switches to `user` (default [`DEFAULT_USER`]) when running as root: supplementary groups
/// dropped, then the group, then the user, and a check that root cannot be taken back. Not
/// root: nothing to give up (capabilities granted to the binary, e.g. `setcap cap_net_raw`,
/// stay), and `--user` is an error. `root` keeps root. Says what it did, for the log.
pub fn drop_to(user: Option<&str>) -> anyhow::Result<String> {
    if !geteuid().is_root() {
        if let Some(u) = user {
            anyhow::bail!("--user {u}: only a process started as root can switch user");
        }
        return Ok(format!("running as uid {}", geteuid()));
    }
    let name = user.unwrap_or(DEFAULT_USER);
    if name == "root" {
        return Ok("still root (--user root)".to_string());
    }
    let u = User::from_name(name)
        .with_context(|| format!("--user {name}: cannot look the user up"))?
        .with_context(|| {
            format!("--user {name}: no such user; give an existing unprivileged user")
        })?;
    if u.uid.is_root() {
        return Ok(format!("still root ({name} has uid 0)"));
    }
    // Groups first: once the user is not root, it may not change them any more.
    setgroups(&[u.gid]).with_context(|| format!("cannot drop supplementary groups for {name}"))?;
    setgid(u.gid).with_context(|| format!("cannot switch to the group of {name}"))?;
    setuid(u.uid).with_context(|| format!("cannot switch to user {name}"))?;
    if setuid(Uid::from_raw(0)).is_ok() {
        anyhow::bail!("switched to {name} but root could be taken back; stopping");
    }
    Ok(format!(
        "privileges dropped to {name} (uid {}, gid {})",
        u.uid, u.gid
    ))
}
