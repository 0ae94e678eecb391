//! Writes a synthetic pcap for speed comparisons: `synth_capture OUT.pcap [PACKETS]`.
//! Packets: a client and eight servers, TCP and UDP, MTU-sized downloads with ACKs up, snaplen 96.

#[path = "../benches/support/synth.rs"]
mod synth;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: synth_capture OUT.pcap [PACKETS]");
        std::process::exit(2);
    };
    let n: usize = match args.next().map(|s| s.parse()) {
        None => 2_000_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("PACKETS must be a whole number");
            std::process::exit(2);
        }
    };
    synth::write_capture(std::path::Path::new(&out), n);
    eprintln!("wrote {n} packets to {out}");
}
