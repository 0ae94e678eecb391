#!/usr/bin/env bash
# manifest_check.sh [DIR]: checks that DIR/manifest.csv (default data/sample)
# matches the files beside it: every row names an existing capture or trace
# whose packet count is the one recorded and whose label matches its folder,
# every capture or trace under DIR is in the manifest, and (for the bundled
# sample) each holds at least 4,096 packets, the paper's minimum of four
# 1024-packet windows per trace. Exit 0 if all holds, 1 with a list otherwise.
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")/../.." && pwd)/data/sample}
min=${MIN_PACKETS:-4096}
python3 - "$dir" "$min" <<'PY'
import csv, os, struct, sys

root, minimum = sys.argv[1], int(sys.argv[2])
problems = []


def count(path):
    if path.endswith(".trace"):
        with open(path) as f:
            return sum(1 for line in f if line.strip() and not line.startswith("#"))
    n = 0
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return 0
        endian = "<" if struct.unpack("<I", head[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return n
            f.seek(struct.unpack(endian + "IIII", rec)[2], 1)
            n += 1


manifest = os.path.join(root, "manifest.csv")
if not os.path.exists(manifest):
    sys.exit(f"manifest_check: no {manifest}")
with open(manifest, newline="") as f:
    rows = list(csv.DictReader(f))
expected = ["path", "label", "condition", "group", "program", "app_details", "wan_profile", "seed", "packets",
            "duration_s"]
# Manifests written before the program column existed are still valid.
older = [c for c in expected if c != "program"]
if rows and list(rows[0].keys()) not in (expected, older):
    problems.append(f"header is {list(rows[0].keys())}, expected {expected}")
listed = set()
for r in rows:
    p = r["path"]
    listed.add(p)
    full = os.path.join(root, p)
    if not os.path.exists(full):
        problems.append(f"{p}: in the manifest but missing")
        continue
    n = count(full)
    if str(n) != r["packets"]:
        problems.append(f"{p}: {n} packets, manifest says {r['packets']}")
    if n < minimum:
        problems.append(f"{p}: {n} packets, fewer than {minimum}")
    parts = p.split("/")
    folder = "multi" if "+" in r["label"] else r["label"]
    if len(parts) != 3 or parts[0] != r["condition"] or parts[1] != folder:
        problems.append(f"{p}: folder does not match label {r['label']!r} / condition {r['condition']!r}")
for cond in sorted(os.listdir(root)):
    if not os.path.isdir(os.path.join(root, cond)):
        continue
    for label in sorted(os.listdir(os.path.join(root, cond))):
        for name in sorted(os.listdir(os.path.join(root, cond, label))):
            rel = f"{cond}/{label}/{name}"
            if name.endswith((".pcap", ".trace")) and rel not in listed:
                problems.append(f"{rel}: on disk but not in the manifest")
for p in problems:
    print(p)
print(f"manifest_check: {len(rows)} rows, {len(problems)} problems")
sys.exit(1 if problems else 0)
PY
