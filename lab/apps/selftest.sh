#!/usr/bin/env bash
# selftest.sh [--first-slot K] [--condition plain] [CLASS=PROGRAM ...]
#
# (SEED=S in the environment varies the drawn parameters; default 1.)
# Proves that every application program of the lab does its job: for each
# class and program (default: all of them, from lab/run's PROGRAMS) one short
# trace is made with `lab/run --programs CLASS=PROGRAM --keep-work`, and its
# capture and the program's own logs are checked:
#   web    pages and objects served (nginx access log: at least 2 pages and 5
#          objects with status 200, in the HTTP version the manifest names),
#          downstream TLS bytes well above upstream;
#   video  segments fetched at playback pace: after the start-up burst the
#          downstream arrives in bursts, and the gap between segment requests
#          in steady state is at least half the segment length;
#   voip   RTP both ways: in each direction a UDP flow with at least 150
#          packets whose median gap is within 40% of the packetisation interval;
#   p2p    pieces exchanged: at least 1 MB downstream from peers, and the
#          client's peer-wire connections carry payload in both directions.
# Runs on slots K.. (default 26) with --no-linkem, so rates and gaps are the
# programs' own. Exit 0 only if every check passed; the last line is
# `selftest apps: N passed, M failed`.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=$(dirname "$HERE")
SLOT=26
COND=plain
targets=()
while (($#)); do
    case $1 in
    --first-slot) SLOT=$2; shift 2 ;;
    --condition) COND=$2; shift 2 ;;
    -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
    esac
done
[[ $(id -u) -eq 0 ]] || { echo "selftest: must run as root" >&2; exit 1; }
if ((${#targets[@]} == 0)); then
    mapfile -t targets < <(python3 - "$LAB/run" <<'PY'
import ast, sys
tree = ast.parse(open(sys.argv[1]).read())
for node in tree.body:
    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PROGRAMS":
        for cls, progs in ast.literal_eval(node.value).items():
            if cls != "background":
                for p in progs:
                    print(f"{cls}={p}")
PY
    )
fi

PASS=0
FAIL=0
ok() { echo "PASS  $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL  $*"; FAIL=$((FAIL + 1)); }
OUT=$(mktemp -d /tmp/tapir-apps-selftest-XXXXXX)
trap 'rm -rf "$OUT"' EXIT

SEED=${SEED:-1}
n=0
for t in "${targets[@]}"; do
    cls=${t%%=*} prog=${t#*=}
    n=$((n + 1))
    out=$OUT/$cls-$prog
    packets=3000
    [[ $cls == video ]] && packets=15000
    [[ $cls == p2p ]] && packets=40000
    echo "== $cls=$prog ($(date -u +%H:%M:%S) UTC)"
    TMPDIR=$OUT "$LAB/run" --out "$out" --first-slot "$SLOT" --jobs 1 --conditions "$COND" --classes "$cls" \
        --traces 1 --packets "$packets" --seed $((SEED * 100 + n)) --no-linkem --retries 0 --keep-work --programs "$t" >"$out.log" 2>&1
    row=$(tail -n +2 "$out/manifest.csv" 2>/dev/null | head -1)
    pcap=$out/${row%%,*}
    work=$(ls -d "$OUT"/tapir-lab-*/slot"$SLOT"-*/"$cls" 2>/dev/null | tail -1)
    if [[ -z $row || ! -s $pcap ]]; then
        bad "$t: no trace ($(tail -2 "$out.log" | tr '\n' ' '))"
        continue
    fi
    echo "      manifest: $row"
    got=$(python3 - "$row" <<'PY'
import csv, sys
r = next(csv.reader([sys.argv[1]]))
print(r[4])
PY
    )
    [[ $got == "$prog" ]] && ok "$t: manifest program column is $got" || bad "$t: manifest program column is '$got'"
    if python3 "$HERE/selftest_check.py" "$cls" "$pcap" "$work" "$row"; then
        ok "$t: did its job on the wire ($COND)"
    else
        bad "$t: did not do its job ($COND), see above"
    fi
    left=$(ip netns list | awk '{print $1}' | grep -x "tapir-[cws]$SLOT" | tr '\n' ' ')
    [[ -z $left ]] && ok "$t: slot $SLOT cleaned up" || bad "$t: namespaces left: $left"
    rm -rf "$OUT"/tapir-lab-*
done
echo "selftest apps: $PASS passed, $FAIL failed"
((FAIL == 0))
