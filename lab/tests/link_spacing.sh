#!/usr/bin/env bash
# Checks that the lab's access link behaves like a link: a bulk TCP download
# (and upload) through each profile, captured on the client's interface as
# lab/run captures, must show
#   - back-to-back full-size frames spaced by their transmission time at the
#     profile's rate (median gap within 20 % when the link is the bottleneck,
#     and no frame train faster than the rate: 5th percentile >= 0.8x);
#   - a handshake RTT (SYN -> SYN/ACK at the client, least of five probes)
#     within 20 % (or 0.3 ms) of the profile's RTT.
# With OFFLOADS=on the link is set up as for a trace captured with offloads on
# (access_link_up's last argument): frames of up to 64 kB, each gap checked
# against the wire time of the packets its frame stands for (1,448-byte
# segments with 66 bytes of headers each), and frames above 1,514 bytes must
# appear.
# Needs root; uses slot ${SLOT:-9}. Usage: sudo lab/tests/link_spacing.sh [NAME...]
# Prints one line per profile and direction and exits 1 if any check fails.
set -uo pipefail
LAB=$(cd "$(dirname "$0")/.." && pwd)
REPO=$(dirname "$LAB")
source "$LAB/lib/netns.sh"
K=${SLOT:-9}
# name down_mbit up_mbit rtt_ms jitter_ms loss queue_ms
PROFILES=(
    "lan-1g 1000 1000 0 0 0 20"
    "lan-100m 100 100 0.5 0 0 20"
    "wifi 120 40 8 0.5 0 50"
    "broadband 50 10 20 0.5 0 50"
    "fibre 400 100 10 0.2 0 30"
    "mobile 12 4 60 2 0 100"
    "longhaul 30 8 250 2 0 100"
    "slow-dsl 2 1 40 0.5 0 200"
)
want=("$@")
target=${CARGO_TARGET_DIR:-$REPO/target}
(cd "$REPO" && cargo build --release -q -p tapir-linkem) || exit 1
bin=$target/release/linkem
work=$(mktemp -d /tmp/link-spacing.XXXXXX)
trap 'slot_down $K; [[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT
fail=0
for line in "${PROFILES[@]}"; do
    set -- $line
    name=$1 down=$2 up=$3 rtt=$4 jit=$5 loss=$6 queue=$7
    if ((${#want[@]})) && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
    for dir in down up; do
        slot_up "$K" || exit 1
        delay=$(awk -v r="$rtt" 'BEGIN{printf "%g", r / 2}')
        access_link_up "$K" 7 "$bin" "$work/linkem.log" "$down" "$up" "$delay" "$jit" "$loss" "$queue" \
            "${OFFLOADS:-off}" || exit 1
        rate=$([[ $dir == down ]] && echo "$down" || echo "$up")
        # About 6 s of data at the line rate, at most 60 MB.
        bytes=$(awk -v r="$rate" 'BEGIN{b = r * 1e6 / 8 * 6; if (b > 6e7) b = 6e7; printf "%d", b}')
        pcap=$work/$name-$dir.pcap
        ip netns exec "tapir-c$K" tcpdump -i "c$K" -s 96 -n -Z root -w "$pcap" >/dev/null 2>&1 &
        cap=$!
        sleep 0.5
        # RTT probes first: five TCP handshakes (the least of them is the
        # path's RTT; the first also waits for ARP across the link).
        ip netns exec "tapir-s$K" socat TCP-LISTEN:5002,reuseaddr,fork SYSTEM:true >/dev/null 2>&1 &
        probe=$!
        sleep 0.3
        for _ in 1 2 3 4 5; do
            ip netns exec "tapir-c$K" socat -u TCP:10.78.$K.2:5002 - >/dev/null 2>&1
            sleep 0.1
        done
        kill $probe 2>/dev/null
        if [[ $dir == down ]]; then
            ip netns exec "tapir-s$K" sh -c "head -c $bytes /dev/zero | socat -u - TCP-LISTEN:5001,reuseaddr" &
            sleep 0.3
            ip netns exec "tapir-c$K" timeout 40 socat -u TCP:10.78.$K.2:5001 - >/dev/null
        else
            ip netns exec "tapir-s$K" timeout 40 socat -u TCP-LISTEN:5001,reuseaddr - >/dev/null &
            sleep 0.3
            ip netns exec "tapir-c$K" sh -c "head -c $bytes /dev/zero | timeout 40 socat -u - TCP:10.78.$K.2:5001"
        fi
        sleep 0.5
        kill -INT $cap
        wait $cap 2>/dev/null
        src=$([[ $dir == down ]] && echo "10.78.$K.2" || echo "10.77.$K.1")
        tshark -r "$pcap" -T fields -e frame.time_epoch -e frame.len -e ip.src -e tcp.flags.syn -e tcp.flags.ack -e tcp.stream \
            2>/dev/null >"$work/fields"
        python3 - "$work/fields" "$src" "$rate" "$rtt" "$name" "$dir" "${OFFLOADS:-off}" <<'PY' || fail=1
import math
import sys
path, src, rate, rtt, name, d = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
offloads = sys.argv[7] == "on"
rows = [l.split("\t") for l in open(path).read().splitlines()]
full = [(float(t), int(n)) for t, n, s, *_ in rows if s == src and int(n) >= 1400]
syn, synack = {}, {}
for r in rows:
    if len(r) > 5 and r[3] == "1":
        (synack if r[4] == "1" else syn).setdefault(r[5], float(r[0]))
hs = [synack[s] - syn[s] for s in syn if s in synack]
def wire(n):
    # Bytes on the wire of a frame of n bytes: one 66-byte header per 1,448-byte segment.
    return n + (max(1, math.ceil((n - 66) / 1448)) - 1) * 66
# Each gap over the wire time of the frame that ends it (a store-and-forward
# link delivers a frame when its last bit is in).
ratios = sorted((b[0] - a[0]) * 1e6 / (wire(b[1]) * 8 / rate) for a, b in zip(full, full[1:]))
gaps = sorted((b[0] - a[0]) * 1e6 for a, b in zip(full, full[1:]))
big = sum(1 for _, n in full if n > 1514)
if len(gaps) < 100 or not hs:
    print(f"{name:10} {d:4}: FAIL too few packets ({len(gaps)} gaps)")
    sys.exit(1)
q = lambda p: gaps[min(len(gaps) - 1, int(p * len(gaps)))]
frame = full[0][1]
tx = frame * 8 / rate  # µs
span = full[-1][0] - full[0][0]
thr = sum(wire(n) for _, n in full) * 8 / span / 1e6
bottleneck = thr >= 0.7 * rate
r = lambda p: ratios[min(len(ratios) - 1, int(p * len(ratios)))]
med_ok = abs(r(0.5) - 1) <= 0.2 if bottleneck else True
# With offloads on, the client's own frames are captured as it hands them to
# its NIC, before the link (a tbf would cut them up first): their gaps are
# the sender's, and only the median and the throughput say the link's rate.
low_ok = r(0.05) >= 0.8 or (offloads and d == "up")
big_ok = big > 0 if offloads else big == 0
m_rtt = min(hs) * 1e3
# The SYN/ACK (74 bytes) adds its own serialisation; the limit is 20 % or 0.3 ms.
rtt_ok = abs(m_rtt - rtt) <= max(0.2 * rtt, 0.3)
ok = med_ok and low_ok and rtt_ok and big_ok
print(f"{name:10} {d:4}: rate {rate:g} Mbit/s, frame {frame} B -> {tx:.1f} us; gaps p5 {q(0.05):.1f} "
      f"p50 {q(0.5):.1f} p95 {q(0.95):.1f} us over {len(gaps)} (over wire time p5 {r(0.05):.2f} p50 {r(0.5):.2f}); "
      f"{big} frames > 1514 B (largest {max(n for _, n in full)}); throughput {thr:.1f} Mbit/s"
      f"{'' if bottleneck else ' (sender-limited)'}; rtt {m_rtt:.2f} ms vs {rtt:g}: {'OK' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
        slot_down "$K"
    done
done
exit $fail
