//! `linkem`: bridge two interfaces through an emulated link.
//!
//! ```text
//! linkem --client-side w1-c --router-side w1-l --profile broadband --seed 7 [--reorder]
//! linkem --client-side w1-c --router-side w1-l --up delay=20,jitter=2 --down delay=20,jitter=2,loss=0.001
//! ```
//! Frames arriving on the client side go "up", frames from the router side go
//! "down"; each direction runs in its own thread with its own seeded generator.
//! `--up`/`--down` take a spec (`delay=MS,jitter=MS,loss=P,rate=MBIT,queue=MS`)
//! and override the preset's direction; without `rate` linkem does not
//! serialise (lab/run lets the kernel's tbf qdisc do it). `--offloads` forwards
//! the frames of segmentation offloads (TSO/GSO/GRO, up to 64 kB) whole, with
//! their offload metadata, and charges the serialiser their wire bytes
//! ([`tapir_linkem::vnet`]); without it the interfaces must have offloads off.
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tapir_linkem::sock::{PacketSocket, Recv};
use tapir_linkem::vnet;
use tapir_linkem::{Direction, DirectionParams, LinkemError, Profile};

const USAGE: &str =
    "usage: linkem --client-side IFACE --router-side IFACE (--profile NAME | --up SPEC --down SPEC)\n\
              [--seed N] [--reorder] [--offloads]\n\
profiles: lan, broadband, mobile, intercontinental\n\
SPEC: delay=MS,jitter=MS,loss=P,rate=MBIT,queue=MS (any subset; see docs/lab.md)";

struct Args {
    client: String,
    router: String,
    profile: Profile,
    name: String,
    seed: u64,
    offloads: bool,
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut client, mut router, mut name, mut seed, mut reorder) = (None, None, None, 0u64, false);
    let mut offloads = false;
    let (mut up, mut down) = (None, None);
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--client-side" => client = Some(val()?),
            "--router-side" => router = Some(val()?),
            "--profile" => name = Some(val()?),
            "--seed" => {
                seed = val()?
                    .parse()
                    .map_err(|_| "--seed takes an unsigned integer".to_string())?
            }
            "--reorder" => reorder = true,
            "--offloads" => offloads = true,
            "--up" => up = Some(DirectionParams::parse(&val()?).map_err(|e| e.to_string())?),
            "--down" => down = Some(DirectionParams::parse(&val()?).map_err(|e| e.to_string())?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let (name, mut profile) = match (name, up, down) {
        (Some(n), _, _) => {
            let p = Profile::named(&n).map_err(|e| e.to_string())?;
            (n, p)
        }
        (None, Some(u), Some(d)) => (
            "spec".to_string(),
            Profile {
                up: u,
                down: d,
                reorder,
            },
        ),
        _ => return Err("--profile, or both --up and --down, are required".to_string()),
    };
    if let Some(u) = up {
        profile.up = u;
    }
    if let Some(d) = down {
        profile.down = d;
    }
    profile.reorder = reorder;
    Ok(Args {
        client: client.ok_or("--client-side is required")?,
        router: router.ok_or("--router-side is required")?,
        profile,
        name,
        seed,
        offloads,
    })
}

/// Moves frames from `rx` to `tx` through one emulated direction, forever.
fn pump(
    rx: Arc<PacketSocket>,
    tx: Arc<PacketSocket>,
    p: DirectionParams,
    reorder: bool,
    seed: u64,
    offloads: bool,
    tag: &str,
) {
    let start = Instant::now();
    let now = || start.elapsed().as_nanos() as u64;
    let mut dir: Direction<Vec<u8>> = Direction::new(&p, reorder, seed);
    // An offloaded frame holds up to 64 kB of payload plus its headers.
    let mut buf = vec![0u8; 131_072];
    let mut last_report = Instant::now();
    // Sends the kernel refused (a full tbf queue behind linkem answers ENOBUFS:
    // the frame is dropped there, as a router queue drops it).
    let mut refused = 0u64;
    loop {
        let t = now();
        while let Some(frame) = dir.pop_due(t) {
            if let Err(e) = tx.send(&frame) {
                if refused == 0 || e.raw_os_error() != Some(libc::ENOBUFS) {
                    eprintln!("linkem {tag}: send on {}: {e}", tx.iface());
                }
                refused += 1;
            }
        }
        // Sleep until the next frame is due, but look at the socket at least every 50 ms.
        let wait = dir
            .next_due()
            .map_or(50_000_000, |d| d.saturating_sub(now()).min(50_000_000));
        match rx.wait_readable(Duration::from_nanos(wait)) {
            Ok(true) => loop {
                match rx.recv(&mut buf) {
                    Ok(Recv::Frame(n)) => {
                        let frame = &buf[..n];
                        let wire = if offloads {
                            vnet::wire_len(frame)
                        } else {
                            n as u32
                        };
                        dir.offer(now(), wire, frame.to_vec());
                    }
                    Ok(Recv::Outgoing) => {}
                    Ok(Recv::Empty) => break,
                    Err(e) => {
                        eprintln!("linkem {tag}: receive on {}: {e}", rx.iface());
                        break;
                    }
                }
            },
            Ok(false) => {}
            Err(e) => eprintln!("linkem {tag}: poll on {}: {e}", rx.iface()),
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            let c = dir.counters();
            eprintln!(
                "linkem {tag}: offered {} delivered {} lost {} overflow {} refused {refused}",
                c.offered, c.delivered, c.lost, c.overflow
            );
            last_report = Instant::now();
        }
    }
}

fn run(a: Args) -> Result<(), LinkemError> {
    // Release times are meant to hold to a few microseconds: the default timer
    // slack of 50 µs would batch wake-ups.
    tapir_linkem::sock::set_timer_slack_ns(1_000);
    let client = Arc::new(PacketSocket::open_with(&a.client, a.offloads)?);
    let router = Arc::new(PacketSocket::open_with(&a.router, a.offloads)?);
    eprintln!(
        "linkem: {} <-> {} profile {} (up {:?}, down {:?}, reorder {}, offloads {}), seed {}",
        a.client,
        a.router,
        a.name,
        a.profile.up,
        a.profile.down,
        a.profile.reorder,
        a.offloads,
        a.seed
    );
    let (up, down, reorder, offloads) =
        (a.profile.up, a.profile.down, a.profile.reorder, a.offloads);
    let (c2, r2) = (Arc::clone(&client), Arc::clone(&router));
    // Distinct seeds per direction so that up and down losses are independent.
    let seed_up = a.seed.wrapping_mul(2);
    let seed_down = a.seed.wrapping_mul(2).wrapping_add(1);
    let t = std::thread::spawn(move || pump(c2, r2, up, reorder, seed_up, offloads, "up"));
    pump(router, client, down, reorder, seed_down, offloads, "down");
    let _ = t.join();
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("linkem: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("linkem: {e}");
            ExitCode::FAILURE
        }
    }
}
