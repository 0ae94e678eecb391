#!/usr/bin/env bash
# pcap2trace.sh IN.pcap OUT.trace: a lab capture as a tapir .trace file.
# One IP packet a line, "<seconds since the first packet> <signed IP length>",
# positive when the client sent it: the client is the slot's 10.77.k.1 (outer)
# or 10.79.k.1 (tunnel inner) address. Non-IP frames (ARP) are left out.
set -euo pipefail
in=${1:?usage: pcap2trace.sh IN.pcap OUT.trace}
out=${2:?usage: pcap2trace.sh IN.pcap OUT.trace}
{
    echo "# tapir trace from $(basename "$in"): <seconds> <signed IP length>, + = from the client"
    tshark -r "$in" -Y ip -T fields -e frame.time_epoch -e ip.src -e ip.len 2>/dev/null |
        awk 'NR == 1 { t0 = $1 }
             { sign = ($2 ~ /^10\.(77|79)\./) ? 1 : -1; printf "%.6f %d\n", $1 - t0, sign * $3 }'
} >"$out"
