#!/usr/bin/env python3
"""capture_spacing.py DIR [--limit N]: checks the lab's captures with tshark.

For every capture in DIR/manifest.csv that records its access link
(down_mbit, up_mbit), reads the frame times and lengths with tshark and
reports, per direction, the share of consecutive large frames (>= 1,000 bytes
on the wire) that arrived closer together than 0.8 of the second frame's
transmission time at the link rate: frames no real link of that rate can
deliver. A physical capture has none (a few at most, from timestamp noise).
Prints one line per capture and a summary; exits 1 if any capture has more
than 5 % of such gaps (a loaded machine delays a few timestamps: the
frame after a late one then looks early).

A capture made with offloads on (manifest column `offloads`) holds frames of
up to 64 kB: each counts as the wire bytes of the packets it stands for
(1,448-byte segments with 66 bytes of headers each), and only downstream is
checked, since the client's own frames are captured as it hands them to its
NIC, before the link.
"""
import csv
import math
import os
import subprocess
import sys


def wire(n):
    """Bytes on the wire of a captured frame of n bytes (more than one packet when offloaded)."""
    return n if n <= 1514 else n + (math.ceil((n - 66) / 1448) - 1) * 66


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    root = args[0]
    limit = int(args[args.index("--limit") + 1]) if "--limit" in args else None
    with open(os.path.join(root, "manifest.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("down_mbit")]
    rows = rows[:limit] if limit else rows
    worst, bad = 0.0, 0
    for r in rows:
        path = os.path.join(root, r["path"])
        out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len",
                              "-e", "eth.src", "-e", "ip.src"], capture_output=True, text=True).stdout
        # Upstream frames come from the client, 10.77.k.1 (outer address in every condition).
        last = {}
        offloads = r.get("offloads") == "on"
        fast = {"down": 0, "up": 0}
        total = {"down": 0, "up": 0}
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) < 4 or not parts[3]:
                continue
            t, n, src = float(parts[0]), int(parts[1]), parts[3]
            d = "up" if src.startswith("10.77.") else "down"
            if offloads and d == "up":
                continue
            rate = float(r["up_mbit" if d == "up" else "down_mbit"]) * 1e6
            if n >= 1000:
                if d in last:
                    total[d] += 1
                    if t - last[d] < 0.8 * wire(n) * 8 / rate:
                        fast[d] += 1
                last[d] = t
            else:
                last.pop(d, None)
        shares = {d: fast[d] / total[d] if total[d] else 0.0 for d in total}
        share = max(shares.values())
        worst = max(worst, share)
        bad += share > 0.05
        print(f"{r['path']}: {r['wan_profile']} {r['down_mbit']}/{r['up_mbit']} Mbit/s"
              f"{', offloads on' if offloads else ''}; too-close gaps "
              f"down {fast['down']}/{total['down']}, up {fast['up']}/{total['up']}"
              + ("  <-- not physical" if share > 0.05 else ""))
    print(f"capture_spacing: {len(rows)} captures, {bad} with more than 5 % too-close gaps, worst {worst:.2%}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
