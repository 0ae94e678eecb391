//! Sends a capture's frames on a network interface, looped, at a set rate or as fast as the
//! kernel takes them: the traffic source of `scripts/live-bench.sh`.
//!
//! ```text
//! send_frames IFACE CAPTURE [--count N] [--pps RATE] [--batch B]
//! ```
//!
//! The frames (pcap, pcapng, gzip or zstd; at most 1,000,000 frames and 512 MiB, read once into
//! memory) go out through a raw packet socket in batches of `B` (default 256) with one
//! `sendmmsg(2)` call each, past the interface's queueing discipline (`PACKET_QDISC_BYPASS`),
//! until `N` frames are sent (default: the capture once). `--pps` paces the batches so that the
//! frames sent by any moment stay within one batch of `RATE` per second; without it they go at
//! top speed. One line at the end on standard output: `sent N frames in S s: R frames/s`.
//!
//! One system call per batch rather than one per frame is what lets one core offer more than a
//! million frames per second on loopback (tcpreplay, one `send` per frame, offers about a
//! third of that here). Linux only; needs root (or CAP_NET_RAW).

#[cfg(target_os = "linux")]
fn main() {
    if let Err(e) = linux::run() {
        eprintln!("send_frames: {e}");
        std::process::exit(1);
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("send_frames: raw packet sockets are Linux only");
    std::process::exit(1);
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::CString;
    use std::io;
    use std::path::Path;
    use std::time::{Duration, Instant};
    use tapir_capture::CaptureReader;

    const MAX_FRAMES: usize = 1_000_000;
    const MAX_BYTES: usize = 512 << 20;
    /// `PACKET_QDISC_BYPASS` from linux/if_packet.h (not in every libc release).
    const PACKET_QDISC_BYPASS: libc::c_int = 20;

    struct Args {
        iface: String,
        capture: String,
        count: Option<u64>,
        pps: Option<f64>,
        batch: usize,
    }

    fn usage() -> String {
        "usage: send_frames IFACE CAPTURE [--count N] [--pps RATE] [--batch B]".into()
    }

    fn parse() -> Result<Args, String> {
        let mut pos = Vec::new();
        let (mut count, mut pps, mut batch) = (None, None, 256usize);
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
            match a.as_str() {
                "--count" => {
                    count = Some(
                        value("--count")?
                            .parse()
                            .map_err(|_| "--count must be a whole number")?,
                    )
                }
                "--pps" => {
                    let r: f64 = value("--pps")?
                        .parse()
                        .map_err(|_| "--pps must be a number")?;
                    if !(r > 0.0 && r.is_finite()) {
                        return Err("--pps must be above 0".into());
                    }
                    pps = Some(r);
                }
                "--batch" => {
                    batch = value("--batch")?
                        .parse()
                        .ok()
                        .filter(|b| (1..=1024).contains(b))
                        .ok_or("--batch must be 1 to 1024")?
                }
                "-h" | "--help" => return Err(usage()),
                _ if a.starts_with('-') => return Err(format!("unknown flag {a}\n{}", usage())),
                _ => pos.push(a),
            }
        }
        let [iface, capture] = <[String; 2]>::try_from(pos).map_err(|_| usage())?;
        Ok(Args {
            iface,
            capture,
            count,
            pps,
            batch,
        })
    }

    /// The capture's frames, back to back, and where each one starts and how long it is.
    struct Frames {
        bytes: Vec<u8>,
        spans: Vec<(usize, usize)>,
    }

    fn load(path: &str) -> Result<Frames, String> {
        let mut r = CaptureReader::open(Path::new(path)).map_err(|e| format!("{path}: {e}"))?;
        let (mut bytes, mut frames) = (Vec::new(), Vec::new());
        while let Some(p) = r.next_packet() {
            let p = p.map_err(|e| format!("{path}: {e}"))?;
            if frames.len() == MAX_FRAMES || bytes.len() + p.data.len() > MAX_BYTES {
                eprintln!(
                    "send_frames: {path}: only the first {} frames are sent",
                    frames.len()
                );
                break;
            }
            frames.push((bytes.len(), p.data.len()));
            bytes.extend_from_slice(p.data);
        }
        if frames.is_empty() {
            return Err(format!("{path}: no frames"));
        }
        Ok(Frames {
            bytes,
            spans: frames,
        })
    }

    /// A raw packet socket bound to `iface` for sending only (protocol 0: it receives nothing).
    struct Socket(libc::c_int);

    impl Drop for Socket {
        fn drop(&mut self) {
            // SAFETY: the descriptor is owned by this value and closed once.
            unsafe { libc::close(self.0) };
        }
    }

    fn open(iface: &str) -> Result<Socket, String> {
        let name = CString::new(iface).map_err(|_| format!("bad interface name {iface:?}"))?;
        // SAFETY: plain system calls on a descriptor this function owns; every pointer passed
        // points to a live local of the size given.
        unsafe {
            let index = libc::if_nametoindex(name.as_ptr());
            if index == 0 {
                return Err(format!("{iface}: {}", io::Error::last_os_error()));
            }
            let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0);
            if fd < 0 {
                return Err(format!("raw socket: {}", io::Error::last_os_error()));
            }
            let sock = Socket(fd);
            let one: libc::c_int = 1;
            // Best effort: without it frames go through the queueing discipline, slower.
            libc::setsockopt(
                fd,
                libc::SOL_PACKET,
                PACKET_QDISC_BYPASS,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as libc::c_ushort;
            sll.sll_ifindex = index as libc::c_int;
            if libc::bind(
                fd,
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            ) != 0
            {
                return Err(format!("bind to {iface}: {}", io::Error::last_os_error()));
            }
            Ok(sock)
        }
    }

    pub fn run() -> Result<(), String> {
        let args = parse()?;
        let Frames {
            bytes,
            spans: frames,
        } = load(&args.capture)?;
        let sock = open(&args.iface)?;
        let total = args.count.unwrap_or(frames.len() as u64);
        let b = args.batch;
        // SAFETY: all-zero iovec and mmsghdr values are valid (null pointers, zero lengths).
        let mut iov: Vec<libc::iovec> = vec![unsafe { std::mem::zeroed() }; b];
        let mut msgs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; b];
        let start = Instant::now();
        let (mut sent, mut next) = (0u64, 0usize);
        while sent < total {
            if let Some(pps) = args.pps {
                let due = start + Duration::from_secs_f64(sent as f64 / pps);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
            }
            let k = b.min(usize::try_from(total - sent).unwrap_or(b));
            for j in 0..k {
                let (off, len) = frames[(next + j) % frames.len()];
                iov[j].iov_base = bytes[off..].as_ptr() as *mut libc::c_void;
                iov[j].iov_len = len;
                msgs[j].msg_hdr.msg_iov = &mut iov[j];
                msgs[j].msg_hdr.msg_iovlen = 1;
            }
            // SAFETY: the first k headers point to k live iovecs, each into `bytes`, which
            // outlives the call; the kernel only reads them.
            let n = unsafe { libc::sendmmsg(sock.0, msgs.as_mut_ptr(), k as libc::c_uint, 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    // The device queue is full or a signal came: try the same frames again.
                    Some(libc::ENOBUFS) | Some(libc::EAGAIN) | Some(libc::EINTR) => continue,
                    _ => return Err(format!("send on {}: {e}", args.iface)),
                }
            }
            sent += n as u64;
            next = (next + n as usize) % frames.len();
        }
        let secs = start.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { sent as f64 / secs } else { 0.0 };
        println!("sent {sent} frames in {secs:.3} s: {rate:.0} frames/s");
        Ok(())
    }
}
