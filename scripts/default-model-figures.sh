#!/bin/sh
# The figures of crates/tapir/models/default.md, measured again: the default model's recipe
# (scripts/default-model-recipe.sh) trained without one value and run with `tapir classify` on
# every capture of that value: traffic of a kind the model never saw.
#
#   scripts/default-model-figures.sh              # hold out each condition (tunnel or none)
#   scripts/default-model-figures.sh program      # hold out each program (chromium, SIPp, ...)
#   DATA=other/sample scripts/default-model-figures.sh
#   EXTRA="--min-leaf 10" scripts/default-model-figures.sh   # a variant of the recipe
#
# Prints one Markdown table row per held-out value: the accuracy with no unknown (the most
# probable application class against the true label), the share of windows labelled unknown,
# the accuracy of the windows that got a label, and how many background windows were given an
# application class; then a row pooling every held-out window.
set -eu
cd "$(dirname "$0")/.."
by=${1:-condition}
data=${DATA:-data/sample}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p tapir >&2
tapir="$target/release/tapir"
. scripts/default-model-recipe.sh
# EXTRA: flags added to the recipe, to measure a variant the same way (EXTRA="--min-leaf 10").
DEFAULT_MODEL_RECIPE="$DEFAULT_MODEL_RECIPE ${EXTRA:-}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One manifest of absolute paths per held-out value: train.csv without it, test.csv with it.
python3 - "$data" "$by" "$tmp" <<'PY'
import csv, os, sys
data, by, tmp = sys.argv[1:4]
rows = list(csv.DictReader(open(os.path.join(data, "manifest.csv"))))
if not rows or by not in rows[0]:
    sys.exit(f"default-model-figures: {data}/manifest.csv has no {by} column")
# Rows without a value (older manifests) train in every fold and are never tested.
values = sorted({r[by] for r in rows if r[by] and "+" not in r["label"] and r["label"] != "background"})
for v in values:
    d = os.path.join(tmp, v)
    os.makedirs(d)
    for name, keep in (("train", lambda r: r[by] != v), ("test", lambda r: r[by] == v)):
        with open(os.path.join(d, name + ".csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["path", "label", "group"])
            for r in rows:
                if keep(r):
                    w.writerow([os.path.abspath(os.path.join(data, r["path"])), r["label"], r["group"]])
PY
echo "| held-out $by | windows | accuracy, no unknown | unknown | accuracy of the labelled windows | background windows given an application class |"
echo "|---|---|---|---|---|---|"
for d in "$tmp"/*/; do
    held=$(basename "$d")
    # shellcheck disable=SC2086
    "$tapir" train "$d/train.csv" $DEFAULT_MODEL_RECIPE -o "$d/m.tapir" >/dev/null 2>&1
    "$tapir" classify -m "$d/m.tapir" "$d/test.csv" -o "$d/out.jsonl" 2>/dev/null || true
done
python3 - "$tmp" <<'PY'
import json, os, sys
tmp = sys.argv[1]
pct = lambda a, b: f"{100 * a / b:.1f}%" if b else "-"
total = [0] * 6
for held in sorted(os.listdir(tmp)):
    out = os.path.join(tmp, held, "out.jsonl")
    n = right = unknown = labelled_right = bg = bg_app = 0
    if os.path.exists(out):
        for line in open(out):
            w = json.loads(line)
            if "window" not in w:
                continue
            label = w.get("true_label")  # classify gives it for captures of a labelled dataset
            if label is None or "+" in label:
                continue  # concurrent captures carry several labels
            probs = {k[2:]: v for k, v in w.items() if k.startswith("p_") and k != "p_background"}
            best = max(probs, key=probs.get)
            if label == "background":
                bg += 1
                bg_app += w["label"] not in ("unknown", "background")
                continue
            n += 1
            right += best == label
            if w["label"] in ("unknown", "background"):
                unknown += 1
            else:
                labelled_right += w["label"] == label
    row = [n, right, unknown, labelled_right, bg, bg_app]
    total = [a + b for a, b in zip(total, row)]
    print(f"| {held} | {n} | {pct(right, n)} | {pct(unknown, n)} | {pct(labelled_right, n - unknown)} | {bg_app} of {bg} |")
n, right, unknown, labelled_right, bg, bg_app = total
print(f"| all, pooled | {n} | {pct(right, n)} | {pct(unknown, n)} | {pct(labelled_right, n - unknown)} | {bg_app} of {bg} |")
PY
