//! Writes a seeded mix of a folder's captures for speed comparisons:
//! `mix_capture SAMPLE_DIR OUT.pcap [PACKETS] [SEED]` (2,000,000 packets and seed 1 by default).
//! Every Ethernet pcap under SAMPLE_DIR starts at a seeded offset in the first 300 s, with
//! addresses of its own, and all are merged by time; more rounds follow until PACKETS are
//! written (benches/support/mix.rs).

#[path = "../benches/support/mix.rs"]
mod mix;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !(2..=4).contains(&args.len()) {
        eprintln!("usage: mix_capture SAMPLE_DIR OUT.pcap [PACKETS] [SEED]");
        std::process::exit(2);
    }
    let number = |i: usize, default: u64, what: &str| match args.get(i).map(|s| s.parse()) {
        None => default,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("{what} must be a whole number");
            std::process::exit(2);
        }
    };
    let packets = number(2, 2_000_000, "PACKETS");
    let seed = number(3, 1, "SEED");
    let (dir, out) = (
        std::path::Path::new(&args[0]),
        std::path::Path::new(&args[1]),
    );
    match mix::mix(dir, out, packets, seed) {
        Ok(summary) => eprintln!("wrote {summary} to {}", out.display()),
        Err(e) => {
            eprintln!("mix_capture: {e}");
            std::process::exit(1);
        }
    }
}
