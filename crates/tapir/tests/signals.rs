//! Ctrl-C and SIGTERM: a streaming command completes its output with what it has and exits
//! 130/143; any other command stops at once and leaves its target as it was; no temporary file
//! or folder is left behind either way.

mod common;

use common::{repo_path as repo, temp_dir};
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tapir")
}

/// Fails the test without leaving the child running.
fn give_up(child: &mut Child, why: &str) -> ! {
    let _ = child.kill();
    let _ = child.wait();
    panic!("{why}");
}

fn signal(child: &Child, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(st.success());
}

/// Waits until a thread of `child` is blocked reading its standard input: `read` on descriptor
/// 0 in `/proc/PID/task/TID/syscall`. Where that file cannot be read (not Linux, or no
/// permission), or the architecture's number for `read` is not known here, it waits two
/// seconds instead.
fn wait_blocked_on_stdin(child: &mut Child) {
    const READ: Option<&str> = if cfg!(target_arch = "x86_64") {
        Some("0")
    } else if cfg!(target_arch = "aarch64") {
        Some("63")
    } else {
        None
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut seen = false;
        for task in fs::read_dir(format!("/proc/{}/task", child.id()))
            .into_iter()
            .flatten()
            .flatten()
        {
            let Ok(call) = fs::read_to_string(task.path().join("syscall")) else {
                continue;
            };
            seen = true;
            let mut words = call.split_whitespace();
            if READ.is_some() && words.next() == READ && words.next() == Some("0x0") {
                return;
            }
        }
        if !seen || READ.is_none() {
            std::thread::sleep(Duration::from_secs(2));
            return;
        }
        if Instant::now() > deadline {
            give_up(child, "never blocked reading its standard input");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Hidden temporary entries (`.NAME.tmp-PID`, `.NAME.old-PID`) left in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
        .collect()
}

/// One NetFlow v5 export packet of `n` records.
fn v5_packet(n: u16) -> Vec<u8> {
    let mut p = Vec::new();
    for v in [5u16, n] {
        p.extend_from_slice(&v.to_be_bytes());
    }
    for v in [60_000u32, 1_795_314_586, 0, 1] {
        p.extend_from_slice(&v.to_be_bytes());
    }
    p.extend_from_slice(&[0, 0, 0, 0]);
    for i in 0..n {
        p.extend_from_slice(&[10, 0, 0, (i % 250) as u8 + 1]);
        p.extend_from_slice(&[10, 0, 1, 1]);
        p.extend_from_slice(&[0; 8]);
        p.extend_from_slice(&3u32.to_be_bytes());
        p.extend_from_slice(&180u32.to_be_bytes());
        p.extend_from_slice(&50_000u32.to_be_bytes());
        p.extend_from_slice(&59_000u32.to_be_bytes());
        p.extend_from_slice(&(40_000 + i).to_be_bytes());
        p.extend_from_slice(&443u16.to_be_bytes());
        p.extend_from_slice(&[0, 0x12, 6, 0]);
        p.extend_from_slice(&[0; 8]);
    }
    p
}

/// Starts the collector writing to `out` and feeds it until `records` records are on the
/// temporary file (the collector flushes after each export packet).
// The child is returned running: every caller signals it and waits for it.
#[allow(clippy::zombie_processes)]
fn collector_with_records(dir: &Path, out: &Path, port: u32, records: usize) -> Child {
    let addr = format!("127.0.0.1:{port}");
    let mut child = spawn(&[
        "flows",
        "--listen",
        &addr,
        "--format",
        "jsonl",
        "-o",
        out.to_str().unwrap(),
    ]);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if Instant::now() > deadline {
            give_up(&mut child, "the collector never wrote records");
        }
        let lines: usize = fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let e = e.unwrap();
                e.file_name().to_string_lossy().contains(".tmp-").then(|| {
                    fs::read_to_string(e.path())
                        .unwrap_or_default()
                        .lines()
                        .count()
                })
            })
            .sum();
        if lines >= records {
            return child;
        }
        sock.send_to(&v5_packet(10), &addr).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn check_records(out: &Path, at_least: usize) -> usize {
    let text = fs::read_to_string(out).expect("the output is in place");
    assert!(text.ends_with('\n'), "the last record is complete");
    let mut n = 0;
    for l in text.lines() {
        serde_json::from_str::<serde_json::Value>(l).expect("whole JSON records");
        n += 1;
    }
    assert!(n >= at_least, "{n} records");
    n
}

/// SIGINT to `flows --listen -o f.jsonl`: the records decoded so far are in f.jsonl, whole;
/// no temporary file is left; exit code 130 with a summary line.
#[test]
fn sigint_completes_the_collector_output() {
    let dir = temp_dir("listen-int");
    let out = dir.join("f.jsonl");
    let port = 21_000 + std::process::id() % 9_000;
    let child = collector_with_records(&dir, &out, port, 30);
    signal(&child, "-INT");
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    let n = check_records(&out, 30);
    assert!(
        stderr.contains(&format!(
            "interrupted by SIGINT: {n} records written to {}",
            out.display()
        )),
        "{stderr}"
    );
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}

/// SIGTERM does the same with exit code 143.
#[test]
fn sigterm_completes_the_collector_output() {
    let dir = temp_dir("listen-term");
    let out = dir.join("f.jsonl");
    let port = 30_000 + std::process::id() % 9_000;
    let child = collector_with_records(&dir, &out, port, 10);
    signal(&child, "-TERM");
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    check_records(&out, 10);
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}

/// SIGINT to the collector writing a table (`--format table -o`), which is written only at the
/// end: the table of every record received is in place, whole; exit code 130 with the count.
#[test]
fn sigint_writes_the_collector_table() {
    let dir = temp_dir("listen-table");
    let out = dir.join("f.txt");
    let port = 12_000 + std::process::id() % 9_000;
    let addr = format!("127.0.0.1:{port}");
    let child = spawn(&[
        "flows",
        "--listen",
        &addr,
        "--format",
        "table",
        "-o",
        out.to_str().unwrap(),
    ]);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..20 {
        sock.send_to(&v5_packet(10), &addr).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    signal(&child, "-INT");
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    let n: usize = stderr
        .split("interrupted by SIGINT: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a summary line: {stderr}"));
    assert!(n >= 10, "records received: {stderr}");
    let text = fs::read_to_string(&out).expect("the table is in place");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("start (UTC)"), "{text}");
    assert_eq!(
        lines.len(),
        3 + n,
        "a header, a rule, a row per record and the totals: {text}"
    );
    assert!(
        lines[2 + n].starts_with(&format!("{n} records, ")),
        "{text}"
    );
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}

/// SIGINT to a running `experiment`: the report is absent (or, had the run just ended,
/// complete), no temporary folder is left, and an existing report stays as it was.
#[test]
fn sigint_leaves_no_half_report() {
    let dir = temp_dir("experiment");
    let out = dir.join("report");
    // An existing report, to be replaced whole or not at all.
    fs::create_dir_all(out.join("figures")).unwrap();
    fs::write(out.join("results.json"), "{\"old\": true}\n").unwrap();
    fs::write(out.join("index.html"), "old").unwrap();
    let child = spawn(&[
        "experiment",
        repo("data/sample").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_secs(3));
    let mut child = child;
    let running = child.try_wait().unwrap().is_none();
    signal(&child, "-INT");
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    if running {
        assert_eq!(o.status.code(), Some(130), "{stderr}");
        assert!(stderr.contains("interrupted by SIGINT"), "{stderr}");
        assert_eq!(
            fs::read_to_string(out.join("results.json")).unwrap(),
            "{\"old\": true}\n"
        );
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "old");
        assert_eq!(fs::read_dir(out.join("figures")).unwrap().count(), 0);
    } else {
        assert!(o.status.success(), "{stderr}");
        let html = fs::read_to_string(out.join("index.html")).unwrap();
        assert!(html.contains("</html>"));
    }
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}

/// A folder that holds something other than a report is not replaced by one.
#[test]
fn experiment_keeps_a_folder_that_is_not_a_report() {
    let dir = temp_dir("not-report");
    let out = dir.join("mine");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("notes.txt"), "keep").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args([
            "experiment",
            repo("data/sample").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("holds notes.txt") && stderr.contains("give a new or empty folder"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "keep");
    fs::remove_dir_all(&dir).unwrap();
}

/// A second Ctrl-C stops at once, even when the first could not be acted on (here `flows`
/// waits on a pipe that sends nothing): the temporary output is removed, the target is not
/// created.
#[test]
fn second_sigint_stops_at_once_and_removes_the_temporary_file() {
    let dir = temp_dir("second");
    let out = dir.join("f.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args([
            "flows",
            "-",
            "--format",
            "jsonl",
            "-o",
            out.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A first Ctrl-C that came before the read of standard input starts would be acted on (no
    // input yet: the output is finished, as it should be), so wait until the read blocks; on a
    // loaded machine that can take longer than any fixed pause.
    wait_blocked_on_stdin(&mut child);
    assert!(!leftovers(&dir).is_empty(), "the temporary output exists");
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still waiting on its input"
    );
    signal(&child, "-INT");
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("stopped at once") && stderr.contains("1 temporary file removed"),
        "{stderr}"
    );
    assert!(!out.exists());
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}

/// Ctrl-C to `mail -o` (here waiting on a FIFO with no writer yet): it stops after the message
/// it is reading and writes its output with the messages read so far.
#[test]
fn sigint_to_mail_writes_the_messages_read() {
    use std::io::Write;
    let dir = temp_dir("mail");
    let fifo = dir.join("in.mbox");
    let st = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(st.success());
    let out = dir.join("out.jsonl");
    let mut child = spawn(&[
        "mail",
        fifo.to_str().unwrap(),
        "--json",
        "-o",
        out.to_str().unwrap(),
    ]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while leftovers(&dir).is_empty() {
        if Instant::now() > deadline {
            give_up(&mut child, "no temporary output appeared");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(200));
    // The mail it was waiting for arrives after the signal (if it still reads: the signal may
    // also have come before it opened its input). The writer blocks while nobody reads, so it
    // runs on its own thread, left behind if the command never opens the FIFO.
    let writer = fifo.clone();
    std::thread::spawn(move || {
        if let Ok(mut w) = fs::OpenOptions::new().write(true).open(&writer) {
            let _ = w.write_all(
                b"From a@example.org Mon Nov 30 10:00:00 2026\nFrom: a@example.org\n\
                  To: b@example.org\nSubject: hello\n\nbody\n",
            );
        }
    });
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    let n: usize = stderr
        .split("interrupted by SIGINT: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a summary line: {stderr}"));
    assert!(n <= 1, "{stderr}");
    let text = fs::read_to_string(&out).expect("the output is in place");
    assert_eq!(text.lines().count(), n, "{text}");
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}

/// A dataset written by `extract --traces` into a new folder appears whole or not at all: a run
/// stopped by a bad file (--strict) leaves no folder and no temporary one.
#[test]
fn a_new_trace_dataset_is_written_whole_or_not_at_all() {
    let dir = temp_dir("traces");
    let data = dir.join("data/web");
    fs::create_dir_all(&data).unwrap();
    fs::copy(
        repo("crates/capture/tests/data/lo-http.pcap"),
        data.join("a.pcap"),
    )
    .unwrap();
    fs::write(data.join("z-bad.pcap"), b"\x00\x01 not a capture").unwrap();
    let out = dir.join("traces");
    let root = dir.join("data");
    let args = [
        "extract",
        root.to_str().unwrap(),
        "--traces",
        out.to_str().unwrap(),
    ];
    let o = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .arg("--strict")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists(), "no half dataset");
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    let o = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "the bad file is reported");
    assert!(out.join("web/a.trace").is_file());
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}

/// Into a folder that exists, `extract --traces` is whole or nothing as well: the new folder
/// is staged beside it with the old files carried over, then swapped in. A run stopped by a
/// bad file (--strict, after the good file's trace was written) leaves the folder exactly as
/// it was; a finished run replaces the trace of the same name and keeps the others.
#[test]
fn an_existing_trace_folder_is_replaced_whole_or_not_at_all() {
    let dir = temp_dir("traces-existing");
    let data = dir.join("data/web");
    fs::create_dir_all(&data).unwrap();
    fs::copy(
        repo("crates/capture/tests/data/lo-http.pcap"),
        data.join("a.pcap"),
    )
    .unwrap();
    fs::write(data.join("z-bad.pcap"), b"\x00\x01 not a capture").unwrap();
    let out = dir.join("traces");
    fs::create_dir_all(out.join("web")).unwrap();
    fs::create_dir_all(out.join("voip")).unwrap();
    fs::write(out.join("web/a.trace"), "old a\n").unwrap();
    fs::write(out.join("voip/keep.trace"), "kept\n").unwrap();
    let root = dir.join("data");
    let args = [
        "extract",
        root.to_str().unwrap(),
        "--traces",
        out.to_str().unwrap(),
    ];
    let o = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .arg("--strict")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        fs::read_to_string(out.join("web/a.trace")).unwrap(),
        "old a\n"
    );
    assert_eq!(
        fs::read_to_string(out.join("voip/keep.trace")).unwrap(),
        "kept\n"
    );
    assert_eq!(fs::read_dir(out.join("web")).unwrap().count(), 1);
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    let o = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "the bad file is reported");
    let new = fs::read_to_string(out.join("web/a.trace")).unwrap();
    assert!(
        new.starts_with("# "),
        "the new trace replaced the old: {new}"
    );
    assert_eq!(
        fs::read_to_string(out.join("voip/keep.trace")).unwrap(),
        "kept\n"
    );
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}

/// The current folder (or one holding it) cannot be swapped for a new one: `--traces .` is
/// refused before anything is read, naming the folder and what to give instead.
#[test]
fn the_current_folder_is_not_replaced() {
    let dir = temp_dir("traces-cwd");
    fs::write(dir.join("keep.txt"), "keep").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args([
            "extract",
            repo("crates/capture/tests/data/lo-http.pcap")
                .to_str()
                .unwrap(),
        ])
        .args(["--traces", "."])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is the current folder") && stderr.contains("./traces"),
        "{stderr}"
    );
    let names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["keep.txt"]);
    fs::remove_dir_all(&dir).unwrap();
}

/// SIGTERM to `extract --traces` (here reading standard input, which sends nothing yet): it
/// stops at once, exits 143 and removes the staged folder; a new folder is not created and an
/// existing one is left as it was.
#[test]
fn sigterm_to_extract_traces_leaves_the_folder_as_it_was() {
    let dir = temp_dir("traces-term");
    let existing = dir.join("old");
    fs::create_dir_all(existing.join("web")).unwrap();
    fs::write(existing.join("web/a.trace"), "old a\n").unwrap();
    for out in [dir.join("new"), existing.clone()] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tapir"))
            .args(["extract", "-", "--traces", out.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The staged folder exists once the command runs.
        let deadline = Instant::now() + Duration::from_secs(30);
        while leftovers(&dir).is_empty() {
            if Instant::now() > deadline {
                give_up(&mut child, "no staged folder appeared");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        signal(&child, "-TERM");
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(143), "{stderr}");
        assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
        assert_eq!(leftovers(&dir), Vec::<String>::new());
    }
    assert!(!dir.join("new").exists());
    assert_eq!(
        fs::read_to_string(existing.join("web/a.trace")).unwrap(),
        "old a\n"
    );
    assert_eq!(fs::read_dir(&existing).unwrap().count(), 1);
    fs::remove_dir_all(&dir).unwrap();
}

/// Ctrl-C to `flows` reading a capture: it stops at the next packet and still writes the
/// records of what it read (flows still open included), then exits 130 with a summary.
#[test]
fn sigint_to_flows_on_a_capture_writes_what_was_read() {
    use std::io::Write;
    let dir = temp_dir("capture");
    let out = dir.join("f.jsonl");
    let pcap = fs::read(repo("crates/capture/tests/data/lo-http.pcap")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args([
            "flows",
            "-",
            "--format",
            "jsonl",
            "-o",
            out.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let half = pcap.len() / 2;
    stdin.write_all(&pcap[..half]).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(200));
    // The rest arrives after the signal: the next packet ends the reading.
    let _ = stdin.write_all(&pcap[half..]);
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    let n = check_records(&out, 1);
    assert!(
        stderr.contains(&format!(
            "interrupted by SIGINT: {n} records written to {} from 1 of 1 capture(s)",
            out.display()
        )),
        "{stderr}"
    );
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}
