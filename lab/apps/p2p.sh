#!/usr/bin/env bash
# p2p: a BitTorrent swarm. opentracker (whitelisting the one info-hash) and
# 3-5 aria2c seeders with upload caps run in the server namespace on distinct
# ports; the client's aria2c leeches through the condition, then deletes the
# file and joins again. DHT, peer exchange and local peer discovery are off:
# the lab is closed and the tracker is the only way peers find each other.
source "$(dirname "$0")/common.sh"

size_mb=$(rnd 16 64)
piece_kb=$((256 << $(rnd 0 2)))
n_seeds=$(rnd 3 5)
dl_cap=$(rnd 4 40)
mkdir -p "$WORK/seed" "$WORK/leech"
if [[ -n $PROXY ]]; then
    # Tor carries only outgoing TCP and aria2c speaks no SOCKS: the leecher
    # reaches the tracker and each seeder through a local SOCKS relay, and a
    # static tracker hands out those relay addresses (static_tracker.py).
    announce_host=$(lab_reach 6969)
    peers=()
    for ((i = 0; i < n_seeds; i++)); do peers+=("$(lab_reach $((6881 + i)))"); done
else
    announce_host=$SERVER_ADDR:6969
fi
hash=$(python3 "$LAB_DIR/apps/make_torrent.py" "$WORK/seed/content.bin" "$WORK/content.torrent" \
    "http://$announce_host/announce" $((size_mb << 20)) $((piece_kb << 10)) "$SEED") || exit 1
echo "$hash" >"$WORK/whitelist"
if [[ -n $PROXY ]]; then
    ins python3 "$LAB_DIR/apps/static_tracker.py" 0.0.0.0 6969 "${peers[@]}" >"$WORK/tracker.log" 2>&1 &
else
    # opentracker chroots into -d (default: the current directory) and drops root
    # before it reads the whitelist, so the path is given inside the chroot.
    ins opentracker -p 6969 -P 6969 -d "$WORK" -w /whitelist >"$WORK/tracker.log" 2>&1 &
fi
sleep 0.3

aria_common=(--enable-dht=false --enable-dht6=false --enable-peer-exchange=false --bt-enable-lpd=false
    --disable-ipv6=true --check-certificate=false --console-log-level=warn --summary-interval=0
    --file-allocation=none)
caps=()
for ((i = 0; i < n_seeds; i++)); do
    cap=$(rnd 2 20)
    caps+=("${cap}M")
    ins aria2c "${aria_common[@]}" --dir="$WORK/seed" --listen-port=$((6881 + i)) --seed-ratio=0.0 \
        --bt-seed-unverified=true --max-upload-limit="${cap}M" \
        --bt-external-ip="$SERVER_ADDR" "$WORK/content.torrent" >"$WORK/seed$i.log" 2>&1 &
done
details "aria2c+$([[ -n $PROXY ]] && echo static-tracker || echo opentracker) size_mb=$size_mb piece_kb=$piece_kb seeds=$n_seeds seed_caps=${caps[*]} dl_cap=${dl_cap}M"
sleep 1

round=0
while :; do
    rm -rf "$WORK/leech" && mkdir -p "$WORK/leech"
    inc aria2c "${aria_common[@]}" --dir="$WORK/leech" --listen-port=$((6890 + round % 5)) \
        --seed-time=0 --max-download-limit="${dl_cap}M" --bt-stop-timeout=120 \
        "$WORK/content.torrent" >"$WORK/leech.log" 2>&1
    round=$((round + 1))
    think 2000 8000
done
