#!/bin/sh
# The figures of crates/tapir/models/default.md, measured again: for every condition of the
# bundled sample, the default model's recipe (scripts/train-default-model.sh) trained on the
# other conditions and run with `tapir classify` on every capture of the held-out one (a tunnel
# or network the model never saw). Prints one Markdown table row per condition:
#   accuracy with no unknown (the most probable application class against the true label),
#   the share of windows labelled unknown, the accuracy of the windows that got a label, and
#   how many background windows were given an application class.
#
#   scripts/default-model-figures.sh            # every condition of data/sample
#   DATA=other/sample scripts/default-model-figures.sh
set -eu
cd "$(dirname "$0")/.."
data=${DATA:-data/sample}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p tapir >&2
tapir="$target/release/tapir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
conds=$(cd "$data" && for d in */; do [ -d "$d" ] && printf '%s ' "${d%/}"; done)
echo "| held-out condition | windows | accuracy, no unknown | unknown | accuracy of the labelled windows | background windows given an application class |"
echo "|---|---|---|---|---|---|"
for held in $conds; do
    train=""
    for c in $conds; do [ "$c" = "$held" ] || train="$train $data/$c"; done
    # shellcheck disable=SC2086
    "$tapir" train $train --model rf --trees 80 --features combined --seed 1 \
        --augment default --augment-copies 4 --background-class --unknown-share 0.95 \
        -o "$tmp/$held.tapir" >/dev/null 2>&1
    "$tapir" classify -m "$tmp/$held.tapir" "$data/$held" -o "$tmp/$held.jsonl" 2>/dev/null || true
    python3 - "$held" "$tmp/$held.jsonl" <<'PY'
import json, sys
held, out = sys.argv[1:3]
n = right = unknown = labelled_right = bg = bg_app = 0
with open(out) as f:
    for line in f:
        w = json.loads(line)
        if "window" not in w:
            continue
        label = w.get("true_label")  # classify gives it for captures of a labelled dataset
        if label is None or "+" in label:
            continue  # concurrent captures carry several labels
        probs = {k: v for k, v in w["probabilities"].items() if k != "background"}
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
pct = lambda a, b: f"{100 * a / b:.1f}%" if b else "-"
print(f"| {held} | {n} | {pct(right, n)} | {pct(unknown, n)} | {pct(labelled_right, n - unknown)} | {bg_app} of {bg} |")
PY
done
