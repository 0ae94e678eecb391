#!/usr/bin/env bash
# build_sample.sh RAW DST [--seed S] [--traces N] [--multi M] [--background B]
#
# Builds the bundled sample (normally DST=data/sample) from nothing, or goes on
# with one that is not finished: three lab/run's at once, on slots apart,
#   RAW/traces      the four classes under every condition, N traces per class
#                   and condition (default 20), 16,500 packets (16 windows);
#   RAW/multi       concurrent applications, M per condition (default 4),
#                   50,000 packets, so that one held-out capture gives the
#                   multi-label test side about 48 windows of its own;
#   RAW/background  the background class, B per condition (default 2);
# then lab/make_sample.sh packages each into DST. Every lab/run resumes what
# RAW holds and skips what DST's manifest already lists, so the script can be
# stopped (Ctrl-C) and started again as often as needed; each start adds what
# is missing. Seeds: S for the traces, S+1 for multi, S+2 for background.
# BitTorrent programs: aria2c, qBittorrent and ctorrent (transmission-daemon stalls after
# its first packets on some links; see docs/lab.md).
# Needs root (network namespaces). Wall time on a 2-core machine: docs/lab.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
raw=${1:?usage: build_sample.sh RAW DST [--seed S] [--traces N] [--multi M] [--background B]}
dst=${2:?usage: build_sample.sh RAW DST [--seed S] [--traces N] [--multi M] [--background B]}
shift 2
seed=3 traces=20 multi=4 background=2
while (($#)); do
    case $1 in
    --seed) seed=$2; shift 2 ;;
    --traces) traces=$2; shift 2 ;;
    --multi) multi=$2; shift 2 ;;
    --background) background=$2; shift 2 ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "build_sample.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ $(id -u) -eq 0 ]] || { echo "build_sample.sh: must run as root" >&2; exit 1; }
conds=plain,ipsec,wireguard,openvpn,tor
p2p="p2p=aria2c|qbittorrent|ctorrent"
mkdir -p "$raw/traces" "$raw/multi" "$raw/background" "$dst"
skip=()
[[ -f $dst/manifest.csv ]] && skip=(--skip-done "$dst/manifest.csv")
pids=()
trap 'kill -INT "${pids[@]}" 2>/dev/null; wait' INT TERM
"$here/run" --out "$raw/traces" --seed "$seed" --conditions "$conds" --classes web,voip,video,p2p \
    --traces "$traces" --packets 16500 --jobs 3 --first-slot 1 --programs "$p2p" "${skip[@]}" &
pids+=($!)
"$here/run" --out "$raw/multi" --seed $((seed + 1)) --conditions "$conds" --classes multi \
    --traces "$multi" --packets 50000 --jobs 1 --first-slot 9 --programs "$p2p" "${skip[@]}" &
pids+=($!)
"$here/run" --out "$raw/background" --seed $((seed + 2)) --conditions "$conds" --classes background \
    --traces "$background" --packets 16500 --jobs 1 --first-slot 11 "${skip[@]}" &
pids+=($!)
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
for part in traces multi background; do
    [[ -f $raw/$part/manifest.csv ]] && "$here/make_sample.sh" "$raw/$part" "$dst"
done
"$here/tests/manifest_check.sh" "$dst"
exit $status
