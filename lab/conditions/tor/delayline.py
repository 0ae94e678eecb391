#!/usr/bin/env python3
"""delayline.py: a delay-only layer-2 bridge between two interfaces, for the Tor network's links.

    delayline.py --a IF --b IF --delay-ms D [--jitter-ms J] [--seed S]

Every frame received on one interface is sent out of the other D ms later, plus normal
jitter of standard deviation J cut at +-3J. No rate limit and no loss: the links between
Tor relays are backbone paths whose capacity exceeds the relays' own, and whose delay is
what shapes a circuit's timing. Order is kept per direction (a frame never leaves before
the one received before it), so jitter stretches gaps without reordering, as on one path.

The kernel here has no netem, and tbf/htb shape rate but cannot delay, hence user space.
The lab's own link emulator (lab/linkem) models access links with rate limits and loss;
this one adds delay only. Frames the kernel sends out of an interface itself (its
PACKET_OUTGOING copies, our own transmissions included) are not forwarded back.
"""
import argparse
import collections
import random
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SNAP = 65536


def open_if(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind((name, 0))
    s.setblocking(False)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="first interface")
    ap.add_argument("--b", required=True, help="second interface")
    ap.add_argument("--delay-ms", type=float, required=True, help="one-way delay, both directions")
    ap.add_argument("--jitter-ms", type=float, default=0.0, help="standard deviation of the jitter")
    ap.add_argument("--seed", type=int, default=1)
    o = ap.parse_args()
    if not 0 <= o.delay_ms <= 1000 or not 0 <= o.jitter_ms <= o.delay_ms / 3 + 0.001:
        ap.error("need 0 <= delay-ms <= 1000 and 0 <= jitter-ms <= delay-ms / 3 (no negative delays)")
    try:
        sa, sb = open_if(o.a), open_if(o.b)
    except OSError as e:
        sys.exit(f"delayline: cannot open {o.a} or {o.b}: {e}")
    rng = random.Random(o.seed)
    delay_ns = int(o.delay_ms * 1e6)
    jit = o.jitter_ms * 1e6
    # Per direction: frames waiting, and the due time of the last one admitted.
    queues = {sa: collections.deque(), sb: collections.deque()}
    last_due = {sa: 0, sb: 0}
    out = {sa: sb, sb: sa}
    counts = {sa: 0, sb: 0}
    t_report = time.monotonic()
    while True:
        now = time.monotonic_ns()
        due = [q[0][0] for q in queues.values() if q]
        timeout = max(0.0, (min(due) - now) / 1e9) if due else 1.0
        readable, _, _ = select.select([sa, sb], [], [], timeout)
        now = time.monotonic_ns()
        for s in readable:
            for _ in range(256):
                try:
                    frame, addr = s.recvfrom(SNAP)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                j = 0
                if jit > 0:
                    j = max(-3 * jit, min(3 * jit, rng.gauss(0.0, jit)))
                t = max(now + delay_ns + int(j), last_due[s])
                last_due[s] = t
                queues[s].append((t, frame))
        now = time.monotonic_ns()
        for s, q in queues.items():
            while q and q[0][0] <= now:
                _, frame = q.popleft()
                try:
                    out[s].send(frame)
                    counts[s] += 1
                except OSError:
                    pass  # a frame the peer cannot take (interface going down): dropped
        if time.monotonic() - t_report > 60:
            t_report = time.monotonic()
            print(f"delayline {o.a}->{o.b} {counts[sa]} {o.b}->{o.a} {counts[sb]} frames", file=sys.stderr,
                  flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
