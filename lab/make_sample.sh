#!/usr/bin/env bash
# make_sample.sh SRC DST: package a lab run (SRC, from lab/run) as the bundled
# sample (DST, normally data/sample) within the repository's size budget
# (about 100 MB). ipsec and tor captures, and the background and concurrent
# captures of every condition (they hold several flows), stay real pcaps, cut
# to the outer headers (editcap -s: ESP-in-UDP needs 50 bytes of
# Ethernet+IP+UDP+ESP header, Tor's TLS-in-TCP 66 with TCP timestamps; the
# original lengths stay in the records, so sizes are exact) and compressed
# with zstd -19 (.pcap.zst, about 0.8 of the gzip -9 size; the bundled sample
# keeps a few .pcap.gz so that both are exercised; tapir and tshark read both). The
# other plain and wireguard traces
# become zstd-compressed .trace files (lab/pcap2trace.sh, .trace.zst: a fifth
# of a cut pcap.gz). The manifest is rewritten with the new paths and packet
# counts, every other column kept.
set -euo pipefail
src=$(cd "${1:?usage: make_sample.sh SRC DST}" && pwd)
dst=${2:?usage: make_sample.sh SRC DST}
here=$(cd "$(dirname "$0")" && pwd)
for tool in editcap:tshark zstd:zstd gzip:gzip; do
    command -v "${tool%%:*}" >/dev/null || {
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool#*:}" >/dev/null
    }
done
mkdir -p "$dst"
dst=$(cd "$dst" && pwd)
python3 - "$src" "$dst" "$here" <<'PY'
import csv, os, subprocess, sys

src, dst, here = sys.argv[1:4]
KEEP_PCAP = {"ipsec": 54, "tor": 66, "openvpn": 66}  # condition -> snaplen kept
FLOWS = {"background", "multi"}  # folders whose captures keep their flows
rows_out = []
with open(os.path.join(src, "manifest.csv"), newline="") as f:
    reader = csv.DictReader(f)
    rows = list(reader)
    # The source's own columns, so that newer ones (tunnel, tunnel_mtu) carry over.
    fields = reader.fieldnames or []
for r in rows:
    inp = os.path.join(src, r["path"])
    if not os.path.exists(inp):
        print(f"skip {r['path']}: missing", file=sys.stderr)
        continue
    cond = r["condition"]
    folder = r["path"].split("/")[1]
    if cond in KEEP_PCAP or folder in FLOWS:
        rel = r["path"] + ".zst"
        out = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        cut = out[: -len(".zst")]
        subprocess.run(["editcap", "-F", "pcap", "-s", str(KEEP_PCAP.get(cond, 66)), inp, cut], check=True)
        # zstd stores no name or time, so the same input gives the same bytes.
        subprocess.run(["zstd", "-q", "-19", "-f", "--rm", cut, "-o", out], check=True)
        n = int(r["packets"])
    else:
        rel = r["path"][: -len(".pcap")] + ".trace.zst"
        out = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        plain = out[: -len(".zst")]
        subprocess.run([os.path.join(here, "pcap2trace.sh"), inp, plain], check=True)
        with open(plain) as t:
            n = sum(1 for line in t if line.strip() and not line.startswith("#"))
        subprocess.run(["zstd", "-q", "-19", "-f", "--rm", plain, "-o", out], check=True)
    r = dict(r, path=rel, packets=str(n))
    rows_out.append(r)
# Rows DST already holds (an earlier packaging) stay, unless SRC has the same job again.
done_jobs = {r.get("job") for r in rows_out if r.get("job")}
old_manifest = os.path.join(dst, "manifest.csv")
if os.path.exists(old_manifest):
    with open(old_manifest, newline="") as f:
        for r in csv.DictReader(f):
            if r.get("job") and r["job"] in done_jobs:
                continue
            if any(o["path"] == r["path"] for o in rows_out):
                continue
            if os.path.exists(os.path.join(dst, r["path"])):
                rows_out.append(r)
fields = list(rows[0].keys()) if rows else ["path", "label"]
for r in rows_out:
    fields += [k for k in r if k not in fields]
with open(os.path.join(dst, "manifest.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
    w.writeheader()
    for r in sorted(rows_out, key=lambda r: r["path"]):
        w.writerow(r)
print(f"make_sample: {len(rows_out)} traces written to {dst}", file=sys.stderr)
PY
