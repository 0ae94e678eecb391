#!/bin/sh
# The table that chose the default model's cell (crates/tapir/models/default.md): every feature
# space × model that could ship, trained with the default augmentation, scored on traffic of a
# kind it never trained on, three ways: each program held out, each condition (tunnel) held out,
# each access-link family held out; pooled accuracy over the held-out windows, and the mean of
# the three. The default is the cell with the best mean: an operator meets programs and networks
# the lab never ran, and no single hold-out speaks for both.
#
#   scripts/choose-default-model.sh                  # the bundled sample, 2 augmented copies
#   DATA=other/manifest.csv COPIES=4 scripts/choose-default-model.sh
set -eu
cd "$(dirname "$0")/.."
data=${DATA:-data/sample/manifest.csv}
copies=${COPIES:-2}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p tapir >&2
tapir="$target/release/tapir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for col in program condition profile; do
    "$tapir" eval "$data" --hold-out "$col" --augment default --augment-copies "$copies" \
        --features size-iat,burst,combined --models nb,rf --json "$tmp/$col.json" >/dev/null
done
python3 - "$tmp" <<'PY'
import json, os, sys
tmp = sys.argv[1]
cols = ["program", "condition", "profile"]
pooled = {}
for col in cols:
    for c in json.load(open(os.path.join(tmp, col + ".json")))["hold_out"]["cells"]:
        pooled.setdefault((c["features"], c["model"]), {})[col] = c["pooled"]
print("| features | model | held-out program | held-out condition | held-out access link | mean |")
print("|---|---|---|---|---|---|")
rows = sorted(pooled.items(), key=lambda kv: -sum(kv[1].values()) / len(cols))
for (f, m), v in rows:
    cells = " | ".join(f"{100 * v[c]:.1f}%" for c in cols)
    print(f"| {f} | {m} | {cells} | {100 * sum(v.values()) / len(cols):.1f}% |")
PY
