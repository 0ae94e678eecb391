//! Helpers shared by the integration tests of the `tapir` binary. Each test file is a crate of
//! its own and uses some of them.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `tapir` binary built for these tests.
pub fn tapir(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .output()
        .expect("run tapir")
}

/// A file of the repository, by its path from the repository's root.
pub fn repo(rel: &str) -> String {
    repo_path(rel).display().to_string()
}

/// [`repo`] as a path.
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// A test capture of tapir-capture (`crates/capture/tests/data`).
pub fn capture_data(name: &str) -> String {
    repo(&format!("crates/capture/tests/data/{name}"))
}

/// An empty folder for one test, named after the test file, `tag` and the process.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tapir-{}-{tag}-{}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A classic pcap (Ethernet, microseconds) built in memory; `udp` frames are built with
/// etherparse.
pub struct Pcap(pub Vec<u8>);
impl Pcap {
    pub fn new() -> Self {
        Pcap(tapir_capture::pcap_file_header(tapir_capture::LinkType::ETHERNET, 65_535).to_vec())
    }
    pub fn frame(&mut self, t_us: u64, f: &[u8]) {
        let len = f.len() as u32;
        self.0
            .extend(tapir_capture::pcap_record_header(t_us, len, len));
        self.0.extend(f);
    }
    pub fn udp(&mut self, t_us: u64, s: [u8; 4], d: [u8; 4], sp: u16, dp: u16, n: usize) {
        self.udp_with(t_us, s, d, sp, dp, &vec![0u8; n]);
    }
    pub fn udp_with(
        &mut self,
        t_us: u64,
        s: [u8; 4],
        d: [u8; 4],
        sp: u16,
        dp: u16,
        payload: &[u8],
    ) {
        let b = etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(s, d, 64)
            .udp(sp, dp);
        let mut f = Vec::new();
        b.write(&mut f, payload).unwrap();
        self.frame(t_us, &f);
    }
}
