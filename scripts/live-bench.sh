#!/usr/bin/env bash
# How many packets per second `tapir classify --live` (or `flows --live`, `extract --live`:
# CMD=flows|extract) keeps up with, without kernel drops.
#
# In a network namespace of its own (tapir-live-bench-PID, deleted at the end), a sender
# sends a sample capture (16,500 frames of one ESP-in-UDP P2P tunnel, looped to PACKETS
# frames, default 2,000,000) on the namespace's loopback at each offered rate, while tapir
# reads it live (classify and extract by flow with the bundled model, flows as JSON lines);
# Ctrl-C ends tapir, and its final line gives the frames it read and what the kernel dropped.
# One line per rate: offered (the sender's own measure of what it sent), read by tapir,
# dropped by the kernel, tapir's CPU time.
#
# The sender is tapir-capture's `send_frames` example (SENDER=send_frames, the default; built
# here when missing): batches of frames with one sendmmsg(2) call each, past the queueing
# discipline, so that one core offers well over a million frames per second on loopback.
# SENDER=tcpreplay uses tcpreplay instead (apt-get install tcpreplay): one send per frame,
# about 0.3 M frames per second at most here.
#
# Needs root, `ip netns` and a release build with the feature:
# cargo build --release -p tapir --features live
#
#   scripts/live-bench.sh                      # rates 100k 250k 500k 1M, top speed, drain
#   scripts/live-bench.sh 200000 400000 max    # chosen rates ("max": as fast as the sender can)
#   PACKETS=10000000 scripts/live-bench.sh 1000000 max
#
# "drain" takes the sender out of the measure: tapir is stopped (SIGSTOP) while the sender
# fills a 1 GiB kernel buffer at top speed, then resumed with --count set to what was sent;
# the time from SIGCONT to its exit gives the rate at which it empties the backlog, that is
# the highest rate it could keep up with on this machine.
#   PACKETS=4000000 BY=capture EXTRA=--immediate scripts/live-bench.sh
#   CMD=flows scripts/live-bench.sh max drain    # flow records, JSON lines
#
# On loopback every frame sent is seen once by tapir; the sender and tapir share the
# machine's cores (the kernel copies each frame to tapir's buffer in the sender's time), so
# the top rate is bounded by the sender as much as by tapir: the script prints both, and the
# drop count says whether tapir kept up.
set -euo pipefail
cd "$(dirname "$0")/.."
TAPIR=${TAPIR:-target/release/tapir}
[ -n "${CARGO_TARGET_DIR:-}" ] && [ ! -x "$TAPIR" ] && TAPIR=$CARGO_TARGET_DIR/release/tapir
PACKETS=${PACKETS:-2000000}
BY=${BY:-flow}
EXTRA=${EXTRA:-}
CMD=${CMD:-classify}
case $CMD in
    classify | extract) args=(--by "$BY") ;;
    flows) args=(--format jsonl) ;;
    *) echo "live-bench: CMD is classify, flows or extract" >&2; exit 1 ;;
esac
CAPTURE=${CAPTURE:-data/sample/ipsec/p2p/p2p-43c4a556.pcap.zst}
SENDER=${SENDER:-send_frames}
RATES=("$@")
[ ${#RATES[@]} -eq 0 ] && RATES=(100000 250000 500000 1000000 max drain)

[ "$(id -u)" = 0 ] || { echo "live-bench: needs root (network namespace, capture)" >&2; exit 1; }
case $SENDER in
    send_frames)
        SEND=${SEND:-${CARGO_TARGET_DIR:-target}/release/examples/send_frames}
        [ -x "$SEND" ] || cargo build --release -q -p tapir-capture --example send_frames
        ;;
    tcpreplay)
        command -v tcpreplay >/dev/null || { echo "live-bench: apt-get install tcpreplay" >&2; exit 1; }
        ;;
    *) echo "live-bench: SENDER is send_frames or tcpreplay" >&2; exit 1 ;;
esac
"$TAPIR" classify --help | grep -q -- '--live' || { echo "live-bench: no $TAPIR" >&2; exit 1; }

NS=tapir-live-bench-$$
WORK=$(mktemp -d)
cleanup() {
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
# tcpreplay reads plain pcaps.
case $CAPTURE in
    *.zst) zstdcat "$CAPTURE" > "$WORK/in.pcap" ;;
    *.gz) zcat "$CAPTURE" > "$WORK/in.pcap" ;;
    *) cp "$CAPTURE" "$WORK/in.pcap" ;;
esac
FRAMES=$("$TAPIR" inspect --json "$WORK/in.pcap" |
    python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["frames"])')
LOOPS=$(( (PACKETS + FRAMES - 1) / FRAMES ))

printf '%-9s %12s %12s %10s %10s %9s  %s\n' rate offered/s read dropped read/s cpu-s note
# tapir ends with 130 on Ctrl-C: no -e inside the loop.
set +e
for rate in "${RATES[@]}"; do
    limit=()
    [ "$rate" = drain ] && limit=(--buffer-size 1024 --count $((LOOPS * FRAMES)))
    ip netns exec "$NS" "$TAPIR" "$CMD" --live lo "${args[@]}" --stats-every 0 $EXTRA \
        "${limit[@]}" -o "$WORK/out.jsonl" 2> "$WORK/err.txt" &
    pid=$!
    for _ in $(seq 100); do grep -q "capturing on" "$WORK/err.txt" && break; sleep 0.1; done
    [ "$rate" = drain ] && kill -STOP "$pid"
    if [ "$SENDER" = send_frames ]; then
        pace=()
        [ "$rate" = max ] || [ "$rate" = drain ] || pace=(--pps "$rate")
        ip netns exec "$NS" "$SEND" lo "$WORK/in.pcap" --count $((LOOPS * FRAMES)) "${pace[@]}" \
            > "$WORK/replay.txt" 2>&1
    else
        pace=(--topspeed)
        [ "$rate" = max ] || [ "$rate" = drain ] || pace=(--pps="$rate" --pps-multi=100)
        ip netns exec "$NS" tcpreplay -q -K -i lo --loop="$LOOPS" "${pace[@]}" "$WORK/in.pcap" \
            > "$WORK/replay.txt" 2>&1
    fi
    note=""
    if [ "$rate" = drain ]; then
        t0=$(date +%s.%N)
        kill -CONT "$pid"
        wait "$pid"
        t1=$(date +%s.%N)
        note=$(python3 -c 'import sys; n, t = int(sys.argv[1]), float(sys.argv[3]) - float(sys.argv[2]); print(f"backlog of {n:,} read in {t:.3f} s: {n / t:,.0f} packets/s")' \
            $((LOOPS * FRAMES)) "$t0" "$t1")
        cpu="-"
    else
        sleep 0.5
        cpu=$(awk '{print ($14 + $15) / 100}' "/proc/$pid/stat" 2>/dev/null || echo "?")
        kill -INT "$pid"
        wait "$pid"
    fi
    if [ "$SENDER" = send_frames ]; then
        offered=$(sed -n 's/^sent .*: \([0-9.]*\) frames\/s$/\1/p' "$WORK/replay.txt")
    else
        offered=$(sed -n 's/.*Rated: .* Mbps, \([0-9.]*\) pps.*/\1/p' "$WORK/replay.txt" | head -1)
    fi
    python3 - "$WORK/out.jsonl" "$rate" "${offered:-0}" "$cpu" "$note" "$CMD" "$WORK/err.txt" <<'EOF'
import json, re, sys
path, rate, offered, cpu, note, cmd, err = sys.argv[1:]
if cmd == "classify":
    # Its own last JSON line: frames read, kernel drops, rate.
    fin = json.loads(open(path).read().splitlines()[-1])
else:
    # flows and extract end with a line on stderr: "N packets in S s on lo (…), … D dropped
    # by the kernel, …".
    last = [l for l in open(err).read().splitlines() if " packets in " in l][-1]
    m = re.search(r"(\d+) packets in ([\d.]+) s .* (\d+) dropped by the kernel", last)
    n, secs, dropped = int(m.group(1)), float(m.group(2)), int(m.group(3))
    fin = {"packets": n, "dropped": dropped, "packets_per_second": n / secs if secs else 0}
note = note or ("kept up" if fin["dropped"] == 0 else "KERNEL DROPS")
if fin["dropped"]:
    note += f' ({fin["dropped"]:,} dropped)'
print(f'{rate:<9} {float(offered):12,.0f} {fin["packets"]:12,} {fin["dropped"]:10,} '
      f'{fin["packets_per_second"]:10,.0f} {cpu:>9}  {note}')
EOF
done
echo "offered/s: what the sender reports it sent; read/s: frames tapir read over its whole run"
echo "(idle start and end included); dropped: the kernel's count (pcap statistics)."
