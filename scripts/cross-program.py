#!/usr/bin/env python3
"""cross-program.py RESULTS.json [FEATURES:MODEL ...]: the cross-program figure per class.

From the `program` hold-out of `tapir experiment` (results.json): for each class, the share of
its windows labelled right when their program was held out of training (every other program
of every class trained on), pooled over the programs of the class, per condition and over all
conditions. Folds in which training had no other program of the class are left out and
counted apart (no model can learn a class it never saw). Default cells: combined:rf,
size-iat:nb.
"""
import json
import sys
from collections import defaultdict


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    res = json.load(open(sys.argv[1]))
    cells = sys.argv[2:] or ["combined:rf", "size-iat:nb"]
    classes = ["web", "voip", "video", "p2p"]
    for want in cells:
        feats, model = want.split(":")
        right = defaultdict(float)
        total = defaultdict(int)
        unseen = defaultdict(int)
        conds = []
        for c in res["conditions"]:
            for h in c.get("hold_out") or []:
                if h["column"] != "program":
                    continue
                cell = next((x for x in h["cells"] if x["features"] == feats and x["model"] == model), None)
                if cell is None:
                    continue
                conds.append(c["condition"])
                ran = [v for v in h["values"] if v["ran"]]
                for v, acc in zip(ran, cell["per_value"]):
                    cls = v["classes"][0] if len(v["classes"]) == 1 else None
                    if cls is None:
                        continue
                    if v["missing_in_training"]:
                        unseen[(c["condition"], cls)] += v["windows"]
                        continue
                    for key in ((c["condition"], cls), ("all", cls)):
                        right[key] += acc * v["windows"]
                        total[key] += v["windows"]
        print(f"{feats} x {model}: accuracy on windows of a held-out program, by class (windows)")
        print("| condition | " + " | ".join(classes) + " |")
        print("|---|" + "---|" * len(classes))
        for cond in conds + ["all"]:
            row = []
            for cls in classes:
                k = (cond, cls)
                if total[k]:
                    row.append(f"{100 * right[k] / total[k]:.1f}% ({total[k]})")
                elif unseen[k]:
                    row.append(f"- (only program: {unseen[k]} windows)")
                else:
                    row.append("-")
            print(f"| {cond} | " + " | ".join(row) + " |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
