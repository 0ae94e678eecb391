//! `tapir classify --live`, `tapir flows --live` and `tapir extract --live`: flags checked
//! before any capture, a clear error from a build without the `live` feature and, with it, a
//! live run of each command in a network namespace of its own against real traffic: two
//! captures of the bundled sample (P2P and video over IPsec) replayed on the namespace's
//! loopback with tcpreplay at their own pace, then Ctrl-C.
//!
//! The namespace test needs root, `ip netns` and tcpreplay. Without them it says why and
//! passes, except under CI (`CI` set), where it fails: CI installs tcpreplay and runs as root.

mod common;

use common::tapir;
#[cfg(feature = "live")]
use common::{repo_path as repo, temp_dir};
#[cfg(feature = "live")]
use std::io::{BufRead, BufReader, Read};
#[cfg(feature = "live")]
use std::path::Path;
#[cfg(feature = "live")]
use std::process::Command;
#[cfg(feature = "live")]
use std::process::Stdio;

#[test]
fn live_flags_need_live() {
    let out = tapir(&["classify", "--filter", "esp", "x.pcap"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--filter is a flag of live capture"), "{err}");
}

#[test]
fn live_flags_need_live_in_flows_and_extract() {
    for args in [
        &["flows", "--count", "10", "x.pcap"][..],
        &["extract", "--count", "10", "x.pcap"],
    ] {
        let out = tapir(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--count is a flag of live capture"), "{err}");
    }
}

#[test]
fn live_and_files_exclude_each_other() {
    for args in [
        &["classify", "--live", "lo", "x.pcap"][..],
        &["flows", "--live", "lo", "x.pcap"],
        &["flows", "--live", "lo", "--listen", "127.0.0.1:2055"],
        &["extract", "--live", "lo", "x.pcap"],
        &["extract", "--live", "lo", "--plots", "plots"],
    ] {
        let out = tapir(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
}

#[cfg(feature = "live")]
#[test]
fn live_flows_refuse_parquet_before_any_capture() {
    let out = tapir(&[
        "flows", "--live", "lo", "--format", "parquet", "-o", "flows/",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--format jsonl or csv"), "{err}");
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
    for cmd in ["classify", "flows", "extract"] {
        let out = tapir(&[cmd, "--live", "lo"]);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("built without live capture"), "{cmd}: {err}");
        assert!(err.contains("--features live"), "{cmd}: {err}");
    }
}

#[cfg(feature = "live")]
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
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
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

/// The two replayed tunnels: (sample capture, label, unit). 16,500 frames each, one
/// ESP-in-UDP flow each: 2.8 s of P2P and 13.4 s of video (16,498 IP packets).
#[cfg(feature = "live")]
const TUNNELS: [(&str, &str, &str); 2] = [
    (
        "data/sample/ipsec/p2p/p2p-43c4a556.pcap.zst",
        "p2p",
        "udp 10.77.1.1:4500 > 10.78.1.2:4500",
    ),
    (
        "data/sample/ipsec/video/video-38fb9d98.pcap.zst",
        "video",
        "udp 10.77.6.1:4500 > 10.78.6.2:4500",
    ),
];

/// What a live run printed, and how it ended.
#[cfg(feature = "live")]
struct LiveRun {
    /// Lines of stdout, and how many of them came before the Ctrl-C.
    stdout: Vec<String>,
    before_signal: usize,
    /// Lines of stderr.
    said: Vec<String>,
    status: std::process::ExitStatus,
}

/// Runs `tapir ARGS` in a network namespace of its own (`tag` names it) and, once it is
/// capturing, replays both [`TUNNELS`] on its loopback at once, each at its recorded pace
/// (plain pcaps written to `dir`). Then waits for `wait_lines` lines on stdout (at most 30 s)
/// or, with 0, half a second for the last block of packets to reach tapir within its 100 ms
/// buffer timeout, and sends SIGINT.
#[cfg(feature = "live")]
fn live_run(tag: &str, dir: &Path, args: &[&str], wait_lines: usize) -> LiveRun {
    use std::sync::mpsc::{channel, Receiver};
    use std::time::{Duration, Instant};

    // One namespace run at a time: three at once on a small machine would measure the
    // machine, not tapir (kernel drops).
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut files = Vec::new();
    for (src, label, _) in TUNNELS {
        let dest = dir.join(format!("{label}.pcap"));
        unzstd(&repo(src), &dest);
        files.push(dest);
    }
    let ns = Netns::new(format!("tapir-{tag}-{}", std::process::id()));
    let mut child = ns
        .command(env!("CARGO_BIN_EXE_tapir"), args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tapir in the namespace");
    // `ip netns exec` execs the command: the child is tapir itself.
    let tapir_pid = child.id().to_string();
    let lines = |r: Box<dyn std::io::Read + Send>| -> Receiver<String> {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(r).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        rx
    };
    let err_rx = lines(Box::new(child.stderr.take().unwrap()));
    let out_rx = lines(Box::new(child.stdout.take().unwrap()));
    let mut said = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !said.iter().any(|l: &String| l.contains("capturing on lo")) {
        match err_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
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
    let mut stdout = Vec::new();
    if wait_lines == 0 {
        std::thread::sleep(Duration::from_millis(500));
    } else {
        let deadline = Instant::now() + Duration::from_secs(30);
        while stdout.len() < wait_lines {
            match out_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(l) => stdout.push(l),
                Err(_) => break,
            }
        }
    }
    stdout.extend(out_rx.try_iter());
    let before_signal = stdout.len();
    assert!(Command::new("kill")
        .args(["-INT", &tapir_pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    // Both pipes are closed now: the readers end after the last line.
    stdout.extend(out_rx.iter());
    said.extend(err_rx.iter());
    LiveRun {
        stdout,
        before_signal,
        said,
        status,
    }
}

/// Whether the namespace tests can run here; `false` (after saying why) when they cannot
/// outside CI.
#[cfg(feature = "live")]
fn can_run_live() -> bool {
    match missing_prerequisite() {
        None => true,
        Some(why) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "the live capture test must run in CI: {why}"
            );
            eprintln!("skipped: the live capture test needs root, ip netns and tcpreplay: {why}");
            false
        }
    }
}

#[cfg(feature = "live")]
#[test]
fn live_capture_in_a_namespace_labels_replayed_tunnels() {
    use serde_json::Value;

    if !can_run_live() {
        return;
    }
    let dir = temp_dir("classify");
    let run = live_run(
        "classify",
        &dir,
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
        0,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let said = &run.said;
    assert_eq!(run.status.code(), Some(130), "{said:?}");
    assert!(
        said.iter()
            .any(|l| l.contains("interrupted by SIGINT: 33000 packets")),
        "{said:?}"
    );
    let stdout = run.stdout.join("\n");
    let lines: Vec<Value> = run
        .stdout
        .iter()
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
    // The summary is flat: one `windows_<label>` per label, latencies in their own columns.
    let fo = fin.as_object().unwrap();
    assert!(
        fo.values().all(|v| !v.is_object() && !v.is_array()),
        "{fin}"
    );
    let per_label: u64 = fo
        .iter()
        .filter(|(k, _)| k.starts_with("windows_"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum();
    assert_eq!(per_label, 32, "{fin}");
    assert!(fin["latency_ms_p50"].as_f64().unwrap() <= fin["latency_ms_max"].as_f64().unwrap());
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

#[cfg(feature = "live")]
#[test]
fn live_flows_in_a_namespace_end_idle_tunnels_on_time() {
    use serde_json::Value;

    if !can_run_live() {
        return;
    }
    let dir = temp_dir("flows");
    // A 3 s idle timeout for the tunnels (UDP 4500): neither capture pauses that long, so
    // each is one record, which must come out on its own once its replay has ended, while
    // tapir still runs and no packet comes any more.
    let run = live_run(
        "flows",
        &dir,
        &[
            "flows",
            "--live",
            "lo",
            "--json",
            "--idle-timeout",
            "3",
            "--keepalive-timeout",
            "3",
            "--duration",
            "240",
        ],
        2,
    );
    // The same captures read as files: the records live capture must match.
    let from_file: Vec<Value> = TUNNELS
        .iter()
        .map(|(_, label, _)| {
            let f = dir.join(format!("{label}.pcap"));
            let out = tapir(&["flows", f.to_str().unwrap(), "--json"]);
            assert!(out.status.success(), "{out:?}");
            let text = String::from_utf8(out.stdout).unwrap();
            let recs: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(recs.len(), 1, "{text}");
            recs.into_iter().next().unwrap()
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    let said = &run.said;
    assert_eq!(run.status.code(), Some(130), "{said:?}");
    assert!(
        said.iter().any(|l| l.contains(
            "interrupted by SIGINT: 33000 packets in" // then the time
        ) && l.contains("(32998 IP), 2 flow records written")
            && l.contains(", 0 dropped by the kernel")),
        "{said:?}"
    );
    assert_eq!(
        run.before_signal, 2,
        "both records before Ctrl-C: {:?}",
        run.stdout
    );
    assert_eq!(
        run.stdout.len(),
        2,
        "no flow left open at the end: {:?}",
        run.stdout
    );
    let live: Vec<Value> = run
        .stdout
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for want in &from_file {
        let got = live
            .iter()
            .find(|r| r["src"] == want["src"] && r["dst"] == want["dst"])
            .unwrap_or_else(|| panic!("no live record like {want}: {live:?}"));
        assert_eq!(got["end_reason"], "idle_timeout", "{got}");
        assert_eq!(got["tunnel"], "esp_in_udp", "{got}");
        for k in [
            "src_port",
            "dst_port",
            "proto",
            "packets_fwd",
            "bytes_fwd",
            "packets_rev",
            "bytes_rev",
        ] {
            assert_eq!(got[k], want[k], "{k}: live {got} file {want}");
        }
        // Replayed at the recorded pace: the record lasts as long as the capture, within a
        // second of scheduling.
        let span = |r: &Value| r["end"].as_i64().unwrap() - r["start"].as_i64().unwrap();
        assert!(
            (span(got) - span(want)).abs() < 1_000_000_000,
            "{got} {want}"
        );
    }
}

#[cfg(feature = "live")]
#[test]
fn live_extract_in_a_namespace_writes_a_row_per_window() {
    if !can_run_live() {
        return;
    }
    let dir = temp_dir("extract");
    let run = live_run(
        "extract",
        &dir,
        &[
            "extract",
            "--live",
            "lo",
            "--by",
            "flow",
            "--duration",
            "240",
        ],
        0,
    );
    let file = dir.join("p2p.pcap");
    let offline = tapir(&["extract", file.to_str().unwrap(), "--by", "flow"]);
    let _ = std::fs::remove_dir_all(&dir);
    let said = &run.said;
    assert_eq!(run.status.code(), Some(130), "{said:?}");
    assert!(
        said.iter()
            .any(|l| l.contains("interrupted by SIGINT: 33000 packets in")
                && l.contains("(32998 IP), 32 windows of 2 unit(s) written")),
        "{said:?}"
    );
    // The header of the file case, then 16 windows of 1,024 packets in each tunnel.
    let offline = String::from_utf8(offline.stdout).unwrap();
    let header = offline.lines().next().unwrap();
    assert!(header.starts_with("file,label,group,unit,window,start,end,"));
    assert_eq!(run.stdout[0], header);
    let columns = header.split(',').count();
    let rows = &run.stdout[1..];
    assert_eq!(rows.len(), 32, "{rows:?}");
    for (_, _, unit) in TUNNELS {
        let mine: Vec<&String> = rows.iter().filter(|r| r.contains(unit)).collect();
        assert_eq!(mine.len(), 16, "{unit}: {rows:?}");
        for (i, r) in mine.iter().enumerate() {
            let cells: Vec<&str> = r.split(',').collect();
            assert_eq!(cells.len(), columns, "{r}");
            assert_eq!(
                &cells[..5],
                &["lo", "", "lo", unit, &i.to_string()][..],
                "{r}"
            );
            let (start, end): (f64, f64) = (cells[5].parse().unwrap(), cells[6].parse().unwrap());
            assert!(start < end, "{r}");
            // Features are ln(1 + count) of a window's 1,024 packets: some, none negative.
            let features: Vec<f64> = cells[7..].iter().map(|v| v.parse().unwrap()).collect();
            assert!(features.iter().all(|&v| v >= 0.0), "{r}");
            assert!(features.iter().any(|&v| v > 0.0), "{r}");
        }
    }
}
