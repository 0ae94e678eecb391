#!/usr/bin/env python3
"""Checks for lab/apps/selftest.sh: did one program do its job in one trace?

Usage: selftest_check.py CLASS PCAP WORKDIR MANIFEST_ROW
Reads the capture with tshark (fields only) and the servers' logs in the
trace's work directory (lab/run --keep-work); prints what it measured and
exits 0 if the program did its job (see selftest.sh for the criteria).
"""
import csv
import os
import re
import statistics
import subprocess
import sys


def tshark(pcap, fields, display_filter=""):
    args = ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=\t"]
    if display_filter:
        args += ["-Y", display_filter]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def client_of(pcap):
    for src, _ in tshark(pcap, ["ip.src", "ip.dst"], "ip")[:50]:
        if src.startswith(("10.77.", "10.79.")):
            return src
    return None


def access_log(path):
    rows = []
    if os.path.exists(path):
        for line in open(path):
            p = line.split()
            if len(p) >= 7:
                rows.append({"t": float(p[0]), "proto": p[3], "status": p[4], "bytes": int(p[5]), "uri": p[6]})
    return rows


def say(ok, msg):
    print(f"      {'ok ' if ok else 'BAD'} {msg}")
    return ok


def check_web(pcap, work, details, client):
    log = access_log(os.path.join(work, "nginx-web", "access.log"))
    good = [r for r in log if r["status"] in ("200", "206")]
    pages = [r for r in good if re.match(r"/page\d+\.html", r["uri"])]
    objects = [r for r in good if r["uri"].startswith("/static/")]
    want = "HTTP/2.0" if " h2 " in f" {details} " else "HTTP/1.1"
    protos = sorted({r["proto"] for r in good})
    ok = say(len(pages) >= 2 and len(objects) >= 5,
             f"nginx served {len(pages)} pages and {len(objects)} objects "
             f"({sum(r['bytes'] for r in good)} bytes)")
    ok &= say(protos == [want], f"HTTP version {','.join(protos)}, manifest says {want}")
    down = up = 0
    for src, length in tshark(pcap, ["ip.src", "ip.len"], "tcp"):
        if src == client:
            up += int(length)
        else:
            down += int(length)
    ok &= say(down > 3 * up, f"TCP bytes down {down}, up {up}")
    return ok


def check_video(pcap, work, details, client):
    seg = int(re.search(r"segment_s=(\d+)", details).group(1))
    log = access_log(os.path.join(work, "nginx-video", "access.log"))
    # Media segments of the video stream (DASH has audio segments of its own).
    segs = [r for r in log if r["status"] in ("200", "206") and re.search(r"(seg\d+\.ts|chunk-0-\d+\.m4s)$", r["uri"])]
    ok = say(len(segs) >= 3, f"{len(segs)} video segments of {seg} s fetched")
    if len(segs) < 3:
        return False
    elapsed = segs[-1]["t"] - segs[0]["t"]
    media = len(segs) * seg
    # A real-time player holds at most its buffer (<= 60 s) ahead of playback.
    ok &= say(media <= elapsed + 60 + 2 * seg + 5,
              f"{media} s of media fetched in {elapsed:.1f} s (real time plus at most a 60 s buffer)")
    # Bursts: in the second half of the capture, downstream 250-ms bins are often idle.
    times = [float(t) for t, src in tshark(pcap, ["frame.time_relative", "ip.src"], "tcp") if src != client]
    if times and times[-1] > 2 * seg:
        half = times[-1] / 2
        bins = {}
        for t in times:
            if t >= half:
                bins[int(t * 4)] = 1
        n_bins = int((times[-1] - half) * 4) + 1
        idle = 1 - len(bins) / n_bins
        # ffmpeg -re reads each segment at playback pace (TCP flow control
        # paces the server), so only the buffering players leave idle bins.
        paced = details.startswith("ffmpeg")
        ok &= say(idle >= 0.3 or elapsed < 60 or paced,
                  f"second half: {idle:.0%} of 250-ms bins without downstream"
                  + (" (ffmpeg: flow-controlled trickle)" if paced else ""))
    return ok


def check_voip(pcap, work, details, client):
    m = re.search(r"ptime=(\d+)ms", details)
    ptime = int(m.group(1)) if m else 20
    flows = {}
    for t, src, sport, dport, length in tshark(
            pcap, ["frame.time_relative", "ip.src", "udp.srcport", "udp.dstport", "ip.len"], "udp and not icmp"):
        if "5060" in (sport, dport):
            continue
        flows.setdefault((src == client, sport, dport), []).append((float(t), int(length.split(",")[0])))
    ok = True
    for up in (True, False):
        cands = [v for (u, _, _), v in flows.items() if u == up]
        if not cands:
            ok &= say(False, f"{'up' if up else 'down'}: no media flow")
            continue
        pkts = max(cands, key=len)
        gaps = [b[0] - a[0] for a, b in zip(pkts, pkts[1:])]
        med = 1000 * statistics.median(gaps) if gaps else 0
        sizes = statistics.median(p[1] for p in pkts)
        ok &= say(len(pkts) >= 150 and abs(med - ptime) <= 0.4 * ptime,
                  f"{'up' if up else 'down'}: {len(pkts)} packets, median gap {med:.1f} ms "
                  f"(ptime {ptime} ms), median IP length {sizes:.0f}")
    return ok


def log_total(path, pattern):
    """The last amount PATTERN (a number and a unit like 30MiB) matches in an aria2c log, in bytes."""
    if not os.path.exists(path):
        return 0
    found = re.findall(pattern, open(path, errors="replace").read().replace("\r", "\n"))
    if not found:
        return 0
    n, unit = found[-1]
    return int(float(n) * {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}.get(unit, 1))


def check_p2p(pcap, work, details, client):
    down = up = up_to_leecher = 0
    seeders = {str(p) for p in range(6881, 6890)}
    for src, sport, dport, length in tshark(pcap, ["ip.src", "tcp.srcport", "tcp.dstport", "tcp.len"],
                                            "tcp.len > 0 and not icmp"):
        if "6969" in (sport, dport):
            continue
        n = int(length.split(",")[0])
        if src == client:
            up += n
            # Not to a seeder: to the late leecher (it connects in, or the client connects to 6880).
            if dport not in seeders:
                up_to_leecher += n
        else:
            down += n
    utp = len(tshark(pcap, ["frame.number"], "udp and not dns and not icmp"))
    if down == 0 and up == 0 and work:
        # A tunnel hides the peer-wire connections: the peers' own logs count instead, the
        # seeders' upload totals (all of it to the client) and the late leecher's download
        # (all of it from the client; its last start only).
        down = sum(log_total(os.path.join(work, f), r"UL:[^(]*\(([0-9.]+)([KMG]?i?B)\)")
                   for f in os.listdir(work) if re.fullmatch(r"seed[0-9]+\.log", f))
        up_to_leecher = log_total(os.path.join(work, "peer.log"), r"\[#\w+ ([0-9.]+)([KMG]?i?B)/")
        print(f"      ..  no peer-wire payload on the wire (a tunnel): from the peers' logs")
    ok = say(down >= 1 << 20, f"peer-wire payload down {down} bytes")
    if "peer_leecher_dl=" in details:
        ok &= say(up_to_leecher >= 16384, f"payload up to the late leecher {up_to_leecher} bytes (all up {up})")
    else:
        print(f"      ..  no late leecher in this swarm; payload up {up} bytes (requests)")
    print(f"      ..  {utp} UDP packets (uTP attempts or transfers)")
    return ok


def main():
    cls, pcap, work, row = sys.argv[1:5]
    fields = next(csv.reader([row]))
    details = fields[5]
    client = client_of(pcap)
    if client is None:
        return say(False, "no client address in the capture")
    check = {"web": check_web, "video": check_video, "voip": check_voip, "p2p": check_p2p}[cls]
    return check(pcap, work or "", details, client)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
