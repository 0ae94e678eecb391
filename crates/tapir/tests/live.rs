//! `tapir classify --live`: flags checked before any capture, a clear error from a build
//! without the `live` feature and, with it, a live run in a network namespace of its own
//! against real traffic: two captures of the bundled sample (P2P and video over IPsec)
//! replayed on the namespace's loopback with tcpreplay at their own pace, then Ctrl-C.
//!
//! The namespace test needs root, `ip netns` and tcpreplay. Without them it says why and
//! passes, except under CI (`CI` set), where it fails: CI installs tcpreplay and runs as root.

#[cfg(feature = "live")]
use std::io::{BufRead, BufReader, Read};
#[cfg(feature = "live")]
use std::path::{Path, PathBuf};
use std::process::Command;
#[cfg(feature = "live")]
use std::process::Stdio;

fn tapir(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .output()
        .expect("run tapir")
}

#[test]
fn live_flags_need_live() {
    let out = tapir(&["classify", "--filter", "esp", "x.pcap"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--filter is a flag of live capture"), "{err}");
}

#[test]
fn live_and_files_exclude_each_other() {
    let out = tapir(&["classify", "--live", "lo", "x.pcap"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn a_bad_qos_map_is_a_usage_error() {
    let out = tapir(&["classify", "--qos", "mail=EF", "x.pcap"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no class \"mail\""), "{err}");
}

#[cfg(not(feature = "live"))]
#[test]
fn without_the_feature_live_says_how_to_get_it() {
    let out = tapir(&["classify", "--live", "lo"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--features live"), "{err}");
}

#[cfg(feature = "live")]
fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// Why the namespace test cannot run here, if it cannot.
#[cfg(feature = "live")]
fn missing_prerequisite() -> Option<String> {
    let id = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&id.stdout).trim() != "0" {
        return Some("not root".into());
    }
    let ok = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ok("ip", &["netns", "list"]) {
        return Some("`ip netns` is not available".into());
    }
    if !ok("tcpreplay", &["--version"]) {
        return Some("tcpreplay is not installed (apt-get install tcpreplay)".into());
    }
    None
}

/// A network namespace, deleted when dropped.
#[cfg(feature = "live")]
struct Netns(String);

#[cfg(feature = "live")]
impl Netns {
    fn new(name: String) -> Netns {
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        let st = Command::new("ip").args(["netns", "add", &name]).status();
        assert!(st.is_ok_and(|s| s.success()), "ip netns add {name}");
        let ns = Netns(name);
        assert!(ns.exec("ip", &["link", "set", "lo", "up"]).success());
        ns
    }

    fn command(&self, cmd: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, cmd]).args(args);
        c
    }

    fn exec(&self, cmd: &str, args: &[&str]) -> std::process::ExitStatus {
        self.command(cmd, args)
            .stdout(Stdio::null())
            .status()
            .expect("ip netns exec")
    }
}

#[cfg(feature = "live")]
impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Decompresses a zstd-compressed sample capture into `dest` (tcpreplay reads plain pcaps).
#[cfg(feature = "live")]
fn unzstd(src: &Path, dest: &Path) {
    let mut bytes = Vec::new();
    ruzstd::decoding::StreamingDecoder::new(std::fs::File::open(src).unwrap())
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    std::fs::write(dest, bytes).unwrap();
}

#[cfg(feature = "live")]
#[test]
fn live_capture_in_a_namespace_labels_replayed_tunnels() {
    use serde_json::Value;
    use std::time::{Duration, Instant};

    if let Some(why) = missing_prerequisite() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the live capture test must run in CI: {why}"
        );
        eprintln!("skipped: the live capture test needs root, ip netns and tcpreplay: {why}");
        return;
    }
    let pid = std::process::id();
    let dir = std::env::temp_dir().join(format!("tapir-live-test-{pid}"));
    std::fs::create_dir_all(&dir).unwrap();
    // 16,500 frames each, one ESP-in-UDP flow each: 2.8 s of P2P and 13.4 s of video.
    let captures = [
        ("data/sample/ipsec/p2p/p2p-43c4a556.pcap.zst", "p2p"),
        ("data/sample/ipsec/video/video-38fb9d98.pcap.zst", "video"),
    ];
    let mut files = Vec::new();
    for (src, label) in captures {
        let dest = dir.join(format!("{label}.pcap"));
        unzstd(&repo(src), &dest);
        files.push(dest);
    }
    let ns = Netns::new(format!("tapir-live-test-{pid}"));
    let mut child = ns
        .command(
            env!("CARGO_BIN_EXE_tapir"),
            &[
                "classify",
                "--live",
                "lo",
                "--by",
                "flow",
                "--qos",
                "web=AF21,voip=EF,video=AF41,p2p=CS1",
                "--duration",
                "240",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tapir in the namespace");
    // `ip netns exec` execs the command: the child is tapir itself.
    let tapir_pid = child.id().to_string();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut said = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !said.iter().any(|l: &String| l.contains("capturing on lo")) {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(l) => said.push(l),
            Err(_) => {
                let _ = child.kill();
                panic!("tapir did not start capturing: {said:?}");
            }
        }
    }
    assert!(
        said.iter()
            .any(|l| l.contains("privileges dropped to nobody")),
        "{said:?}"
    );
    // Both tunnels at once, each at its own recorded pace.
    let replays: Vec<_> = files
        .iter()
        .map(|f| {
            ns.command("tcpreplay", &["-q", "-i", "lo", f.to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("tcpreplay")
        })
        .collect();
    for mut r in replays {
        assert!(r.wait().unwrap().success(), "tcpreplay failed");
    }
    // The last block of packets reaches tapir within its 100 ms buffer timeout.
    std::thread::sleep(Duration::from_millis(500));
    assert!(Command::new("kill")
        .args(["-INT", &tapir_pid])
        .status()
        .unwrap()
        .success());
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    said.extend(rx.try_iter());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(status.code(), Some(130), "{said:?}");
    assert!(
        said.iter()
            .any(|l| l.contains("interrupted by SIGINT: 33000 packets")),
        "{said:?}"
    );

    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let fin = lines.last().unwrap();
    assert_eq!(fin["summary"], "live", "{fin}");
    assert_eq!(fin["packets"], 33000, "{fin}");
    assert_eq!(fin["dropped"], 0, "kernel drops: {fin}");
    assert_eq!(fin["stopped_by"], "signal", "{fin}");
    assert_eq!(fin["units"], 2, "{fin}");
    // 16 windows of 1,024 packets in each tunnel.
    let windows: Vec<&Value> = lines.iter().filter(|l| l.get("window").is_some()).collect();
    assert_eq!(windows.len(), 32, "{stdout}");
    assert_eq!(fin["windows"], 32, "{fin}");
    for w in &windows {
        let ms = w["latency_ms"].as_f64().unwrap();
        assert!((0.0..10_000.0).contains(&ms), "{w}");
        let sum: f64 = w
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with("p_"))
            .map(|(_, p)| p.as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-3, "{w}");
    }
    let summary_of = |unit: &str| {
        lines
            .iter()
            .find(|l| l["summary"] == "unit" && l["unit"] == unit)
            .unwrap_or_else(|| panic!("no summary of {unit}: {stdout}"))
    };
    let p2p = summary_of("udp 10.77.1.1:4500 > 10.78.1.2:4500");
    assert_eq!(p2p["label"], "p2p", "{p2p}");
    assert_eq!((&p2p["qos"], &p2p["dscp"]), (&"CS1".into(), &8.into()));
    assert_eq!(p2p["windows"], 16);
    let video = summary_of("udp 10.77.6.1:4500 > 10.78.6.2:4500");
    assert_eq!(video["label"], "video", "{video}");
    assert_eq!(
        (&video["qos"], &video["dscp"]),
        (&"AF41".into(), &34.into())
    );
}
