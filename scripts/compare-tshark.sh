#!/usr/bin/env bash
# Side by side on one synthetic capture: tapir (capture → combined features, one file = one
# core) against tshark dumping four fields. Usage: scripts/compare-tshark.sh [PACKETS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v tshark >/dev/null || { echo "installing tshark (Debian)"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null; }
cargo build --release -q -p tapir --bin tapir
cargo build --release -q -p tapir-dataset --example synth_capture
target=${CARGO_TARGET_DIR:-target}
"$target/release/examples/synth_capture" "$work/x.pcap" "$n"
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
t_tapir=$(secs "$target/release/tapir" extract "$work/x.pcap" -o "$work/features.csv")
t_tshark=$(secs tshark -r "$work/x.pcap" -T fields -e frame.time_epoch -e ip.len -e ip.src -e ip.dst)
printf "%-44s %8.2f s  %6.2f M packets/s\n" "tapir extract (capture → combined features)" "$t_tapir" "$(echo "$n / $t_tapir / 1000000" | bc -l)"
printf "%-44s %8.2f s  %6.2f M packets/s\n" "tshark -T fields (4 fields)" "$t_tshark" "$(echo "$n / $t_tshark / 1000000" | bc -l)"
