#!/usr/bin/env bash
# A real NetFlow exporter as tapir's peer: softflowd (Debian package `softflowd`) reads a capture
# and exports its flows over UDP to `tapir flows --listen`, whose JSON lines go to stdout.
#
#   scripts/netflow-peer.sh [-v 5|9|10] [-b] [-p PORT] [-w EXPORTS.pcap] CAPTURE
#
#   -v   export version: 5, 9 or 10 (IPFIX); default 9
#   -b   bidirectional IPFIX records (RFC 5103; softflowd -b, with -v 10)
#   -p   UDP port on 127.0.0.1 (default 20555)
#   -w   also record the export packets with tcpdump on lo into this pcap (needs root)
#
# TAPIR names the tapir binary (default: target/debug/tapir of this checkout).
set -euo pipefail

version=9 port=20555 record="" bidir=""
while getopts "v:p:w:b" o; do
    case $o in
        v) version=$OPTARG ;;
        p) port=$OPTARG ;;
        w) record=$OPTARG ;;
        b) bidir=-b ;;
        *) echo "usage: $0 [-v 5|9|10] [-b] [-p PORT] [-w EXPORTS.pcap] CAPTURE" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: $0 [-v 5|9|10] [-b] [-p PORT] [-w EXPORTS.pcap] CAPTURE" >&2; exit 2; }
capture=$1
here=$(cd "$(dirname "$0")/.." && pwd)
tapir=${TAPIR:-$here/target/debug/tapir}
command -v softflowd >/dev/null || { echo "softflowd not installed (apt-get install softflowd)" >&2; exit 3; }
[ -x "$tapir" ] || { echo "no tapir binary at $tapir (cargo build -p tapir, or set TAPIR)" >&2; exit 3; }

work=$(mktemp -d)
dump_pid=""
cleanup() {
    [ -n "$dump_pid" ] && kill "$dump_pid" 2>/dev/null || true
    [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

if [ -n "$record" ]; then
    tcpdump -i lo -U -w "$record" "udp and dst port $port" 2>"$work/tcpdump.err" &
    dump_pid=$!
    sleep 1
fi
# The collector stops on its own a few seconds after softflowd, which exports everything at the
# end of the file and exits.
"$tapir" flows --listen "127.0.0.1:$port" --json --listen-seconds 4 --stats \
    >"$work/out.jsonl" 2>"$work/tapir.err" &
collector=$!
sleep 0.5
softflowd -r "$capture" -n "127.0.0.1:$port" -v "$version" $bidir -d \
    -p "$work/softflowd.pid" -c "$work/softflowd.ctl" >"$work/softflowd.out" 2>&1 &
peer=$!
# softflowd 1.1.0 reading a file sometimes blocks in accept() on its control socket before
# reading a packet (it skips poll() then); any control request wakes it, so ask for statistics
# until it has read the file, exported and exited.
for _ in $(seq 50); do
    kill -0 "$peer" 2>/dev/null || break
    softflowctl -c "$work/softflowd.ctl" statistics >/dev/null 2>&1 || true
    sleep 0.1
done
if kill -0 "$peer" 2>/dev/null; then
    softflowctl -c "$work/softflowd.ctl" shutdown >/dev/null 2>&1 || kill "$peer" 2>/dev/null || true
fi
wait "$peer" 2>/dev/null || true
wait "$collector"
if [ -n "$dump_pid" ]; then
    sleep 0.5
    kill "$dump_pid" 2>/dev/null || true
    wait "$dump_pid" 2>/dev/null || true
    dump_pid=""
fi
cat "$work/tapir.err" >&2
cat "$work/out.jsonl"
