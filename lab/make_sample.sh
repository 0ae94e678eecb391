#!/usr/bin/env bash
# make_sample.sh SRC DST: package a lab run (SRC, from lab/run) as the bundled
# sample (DST, normally data/sample) within the repository's size budget.
# ipsec and tor captures stay real pcaps, cut to the outer headers (editcap -s:
# ESP-in-UDP needs 50 bytes of Ethernet+IP+UDP+ESP header, Tor's TLS-in-TCP 66
# with TCP timestamps); the original lengths stay in the records, so sizes are
# exact. plain and wireguard become .trace files (lab/pcap2trace.sh). The
# manifest is rewritten with the new paths and packet counts.
set -euo pipefail
src=$(cd "${1:?usage: make_sample.sh SRC DST}" && pwd)
dst=${2:?usage: make_sample.sh SRC DST}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dst"
dst=$(cd "$dst" && pwd)
python3 - "$src" "$dst" "$here" <<'PY'
import csv, os, subprocess, sys

src, dst, here = sys.argv[1:4]
KEEP_PCAP = {"ipsec": 54, "tor": 66}  # condition -> snaplen kept
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
    if cond in KEEP_PCAP:
        rel = r["path"]
        out = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run(["editcap", "-F", "pcap", "-s", str(KEEP_PCAP[cond]), inp, out], check=True)
        n = int(r["packets"])
    else:
        rel = r["path"][: -len(".pcap")] + ".trace"
        out = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run([os.path.join(here, "pcap2trace.sh"), inp, out], check=True)
        with open(out) as t:
            n = sum(1 for line in t if line.strip() and not line.startswith("#"))
    r = dict(r, path=rel, packets=str(n))
    rows_out.append(r)
with open(os.path.join(dst, "manifest.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=fields)
    w.writeheader()
    for r in sorted(rows_out, key=lambda r: r["path"]):
        w.writerow(r)
print(f"make_sample: {len(rows_out)} traces written to {dst}", file=sys.stderr)
PY
