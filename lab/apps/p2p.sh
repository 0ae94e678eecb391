#!/usr/bin/env bash
# p2p: a BitTorrent swarm. In the server namespace: opentracker (whitelisting
# the one info-hash), 3-5 aria2c seeders with upload caps on distinct ports, and
# one aria2c leecher that joins 1-4 s after the client with a download cap and
# gets its pieces from the client alone, so that the client uploads as well. The
# client's BitTorrent program, drawn from the seed (lab/run --programs), leeches
# through the condition, seeds for a while, then deletes the file and joins
# again:
#   aria2c        TCP only, plain BitTorrent handshake;
#   transmission  transmission-daemon driven by transmission-remote, uTP on or
#                 off, message stream encryption preferred or not; it keeps one
#                 connection per IP address, and every lab peer has the
#                 server's, so it downloads from one seeder and gets no leecher;
#   qbittorrent   qbittorrent-nox (libtorrent-rasterbar) driven by its Web API,
#                 TCP, uTP or both, encryption preferred or off;
#   ctorrent      Enhanced CTorrent (its own BitTorrent code, plain TCP, no
#                 encryption), one start per round, 20-160 peers, 4-16 MB
#                 cache; like transmission one connection per IP address, so
#                 the late leecher joins while the client seeds.
# Download and upload caps are drawn from 50 kB/s to unlimited. DHT, peer
# exchange and local peer discovery are off: the lab is closed and the tracker
# is the only way peers find each other.
source "$(dirname "$0")/common.sh"

prog=$(pick p2p aria2c transmission qbittorrent ctorrent)
# Under Tor the client only connects out, through per-peer socat relays on
# 127.0.0.1 that a static tracker hands out. aria2c and qBittorrent take those as
# any tracker's peers; ctorrent connects to none of them (and Transmission stalls,
# docs/lab.md), so aria2c stands in for both.
[[ -n $PROXY && $prog != qbittorrent ]] && prog=aria2c
program "$prog"
size_mb=$(rnd 16 64)
piece_kb=$((256 << $(rnd 0 2)))
n_seeds=$(rnd 3 5)
caps_kb=(50 200 1000 5000 20000 0) # 0: unlimited
dl_kb=${caps_kb[$(rnd 0 5)]}
ul_kb=${caps_kb[$(rnd 0 5)]}
seed_s=$(rnd 0 60)
peer_dl_kb=$(rnd 100 3000)
join_s=$(rnd 1 4)
crypto=$(rnd 0 1)
utp=$(rnd 0 2) # transmission: 0 off, else on; qbittorrent: 0 TCP, else TCP and uTP
mkdir -p "$WORK/seed" "$WORK/leech" "$WORK/peer"
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
kb() { (($1)) && echo "${1}kB/s" || echo unlimited; }
case $prog in
aria2c) opts="" ;;
transmission) opts="utp=$((utp > 0 ? 1 : 0)) encryption=$([[ $crypto == 1 ]] && echo preferred || echo tolerated)" ;;
qbittorrent)
    # uTP alone is not drawn: the swarm's aria2c seeders speak no uTP, so a uTP-only client
    # finds no peer (docs/lab.md, realism limits).
    protos=(TCP Both Both)
    # Under Tor the peers are TCP relays: a user there sets qBittorrent to TCP.
    [[ -n $PROXY ]] && protos=(TCP TCP TCP)
    opts="protocol=${protos[$utp]} encryption=$([[ $crypto == 1 ]] && echo preferred || echo off)"
    ;;
ctorrent)
    # Drawn here, after every shared draw, so that the other programs' parameters do not move.
    ct_peers=$((20 << $(rnd 0 3))) # -M takes 20..1000
    ct_cache=$((4 << $(rnd 0 2)))
    opts="max_peers=$ct_peers cache_mb=$ct_cache"
    ;;
esac
details "$prog+$([[ -n $PROXY ]] && echo static-tracker || echo opentracker) size_mb=$size_mb piece_kb=$piece_kb seeds=$n_seeds seed_caps=${caps[*]} dl_cap=$(kb "$dl_kb") ul_cap=$(kb "$ul_kb") seed_s=$seed_s $opts$([[ -z $PROXY && $prog != transmission ]] && echo " peer_leecher_dl=${peer_dl_kb}kB/s peer_join$([[ $prog == ctorrent ]] && echo =seeding || echo _s=$join_s)")"
sleep 1

# A leecher in the server namespace that joins after the client and gets its
# pieces from the client alone, which thereby uploads: its copy of the torrent
# (same info-hash) announces to a static tracker on 6970 that lists only the
# client's listening ports. ctorrent accepts no second connection from an address it is
# connected to (a seeder's, here), so with it the leecher joins only while the client seeds,
# after the seeders have closed their connections to it (aria2c drops seed-to-seed ones).
if [[ -z $PROXY && $prog != transmission ]]; then
    client_addr=$(inc ip -o route get "$SERVER_ADDR" | grep -o 'src [0-9.]*' | cut -d' ' -f2)
    python3 - "$WORK/content.torrent" "$WORK/peer.torrent" "http://$announce_host/announce" \
        "http://$SERVER_ADDR:6970/announce" <<'PY'
import sys
src, dst, old, new = sys.argv[1:5]
data = open(src, "rb").read()
key = lambda url: b"8:announce%d:%s" % (len(url), url.encode())
assert data.startswith(b"d" + key(old)), "announce is not the torrent's first key"
open(dst, "wb").write(b"d" + key(new) + data[1 + len(key(old)):])
PY
    ins python3 "$LAB_DIR/apps/static_tracker.py" 0.0.0.0 6970 \
        $(for p in 6890 6891 6892 6893 6894 6895; do echo "$client_addr:$p"; done) >/dev/null 2>&1 &
    (
        sleep "$join_s"
        while :; do
            [[ $prog == ctorrent ]] && until [[ -e $WORK/seeding ]]; do sleep 0.5; done
            rm -rf "$WORK/peer" && mkdir -p "$WORK/peer"
            ins aria2c "${aria_common[@]}" --dir="$WORK/peer" --listen-port=6880 --seed-time=0 \
                --max-download-limit="${peer_dl_kb}K" --bt-external-ip="$SERVER_ADDR" \
                "$WORK/peer.torrent" >"$WORK/peer.log" 2>&1 &
            peer_pid=$!
            if [[ $prog == ctorrent ]]; then
                while [[ -e $WORK/seeding ]] && kill -0 "$peer_pid" 2>/dev/null; do sleep 0.5; done
                kill "$peer_pid" 2>/dev/null
            fi
            wait "$peer_pid"
            sleep 5
        done
    ) &
fi

# wait_done CMD...: poll until CMD succeeds (the download is complete), at most 20 min.
wait_done() {
    local i
    for ((i = 0; i < 1200; i++)); do
        "$@" && return 0
        sleep 1
    done
    return 1
}

round=0
case $prog in
aria2c)
    lim=()
    ((dl_kb)) && lim+=(--max-download-limit="${dl_kb}K")
    ((ul_kb)) && lim+=(--max-upload-limit="${ul_kb}K")
    while :; do
        rm -rf "$WORK/leech" && mkdir -p "$WORK/leech"
        inc aria2c "${aria_common[@]}" --dir="$WORK/leech" --listen-port=$((6890 + round % 5)) \
            --seed-time=$((seed_s / 60)) --seed-ratio=0.0 "${lim[@]}" --bt-stop-timeout=120 \
            "$WORK/content.torrent" >"$WORK/leech.log" 2>&1
        round=$((round + 1))
        think 2000 8000
    done
    ;;
transmission)
    cfg=$WORK/transmission
    mkdir -p "$cfg"
    cat >"$cfg/settings.json" <<JSON
{
    "dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
    "utp-enabled": $( ((utp > 0)) && echo true || echo false),
    "encryption": $crypto, "port-forwarding-enabled": false, "peer-port": 6895,
    "peer-port-random-on-start": false, "download-dir": "$WORK/leech", "incomplete-dir-enabled": false,
    "rpc-enabled": true, "rpc-bind-address": "127.0.0.1", "rpc-port": 9091,
    "rpc-authentication-required": false, "rpc-whitelist-enabled": false, "rpc-host-whitelist-enabled": false,
    "speed-limit-down-enabled": $( ((dl_kb)) && echo true || echo false), "speed-limit-down": $((dl_kb ? dl_kb : 1)),
    "speed-limit-up-enabled": $( ((ul_kb)) && echo true || echo false), "speed-limit-up": $((ul_kb ? ul_kb : 1)),
    "ratio-limit-enabled": false, "idle-seeding-limit-enabled": false, "blocklist-enabled": false,
    "start-added-torrents": true, "scrape-paused-torrents-enabled": false, "message-level": 1
}
JSON
    inc transmission-daemon -f -g "$cfg" >"$WORK/transmission.log" 2>&1 &
    trm() { inc transmission-remote 127.0.0.1:9091 "$@"; }
    while :; do
        rm -rf "$WORK/leech" && mkdir -p "$WORK/leech"
        # The daemon may take a while to start on a loaded machine.
        until trm -a "$WORK/content.torrent" -w "$WORK/leech" >/dev/null 2>&1; do sleep 0.5; done
        wait_done bash -c "ip netns exec $NS_C transmission-remote 127.0.0.1:9091 -t all -i | grep -q 'Percent Done: 100%'"
        sleep "$seed_s"
        trm -t all --remove-and-delete >/dev/null 2>&1
        think 2000 8000
    done
    ;;
qbittorrent)
    prof=$WORK/qbt
    mkdir -p "$prof/qBittorrent/config"
    cat >"$prof/qBittorrent/config/qBittorrent.conf" <<CONF
[LegalNotice]
Accepted=true

[BitTorrent]
Session\\DHTEnabled=false
Session\\PeXEnabled=false
Session\\LSDEnabled=false
Session\\BTProtocol=${protos[$utp]}
Session\\Encryption=$((crypto ? 0 : 2))
Session\\GlobalDLSpeedLimit=$dl_kb
Session\\GlobalUPSpeedLimit=$ul_kb
Session\\Port=6895
Session\\DefaultSavePath=$WORK/leech
Session\\QueueingSystemEnabled=false
Session\\MultiConnectionsPerIp=true
Session\\AnonymousModeEnabled=false
Session\\IgnoreLimitsOnLAN=false
Session\\IncludeOverheadInLimits=false

[Preferences]
WebUI\\Address=127.0.0.1
WebUI\\Port=8080
WebUI\\LocalHostAuth=false
WebUI\\CSRFProtection=false
WebUI\\HostHeaderValidation=false
Connection\\UPnP=false
General\\Locale=en
CONF
    inc env HOME="$WORK" qbittorrent-nox --profile="$prof" >"$WORK/qbt.log" 2>&1 &
    api=http://127.0.0.1:8080/api/v2
    q() { inc curl -s --max-time 10 "$@"; }
    while :; do
        rm -rf "$WORK/leech" && mkdir -p "$WORK/leech"
        until q -f -F "torrents=@$WORK/content.torrent" -F "savepath=$WORK/leech" "$api/torrents/add" >/dev/null; do
            sleep 0.5
        done
        wait_done bash -c "ip netns exec $NS_C curl -s '$api/torrents/info' | grep -q '\"progress\":1[,}]'"
        sleep "$seed_s"
        q -d "hashes=$hash&deleteFiles=true" "$api/torrents/delete" >/dev/null
        think 2000 8000
    done
    ;;
ctorrent)
    # One start per round (-e 1: it would seed for an hour); -X marks the completion.
    lim=()
    ((dl_kb)) && lim+=(-D "$dl_kb")
    ((ul_kb)) && lim+=(-U "$ul_kb")
    while :; do
        ct=$WORK/ct$round
        rm -rf "$WORK/leech" "$ct" && mkdir -p "$WORK/leech" "$ct"
        echo "== round $round" >>"$WORK/ctorrent.log"
        inc ctorrent -e 1 -p 6895 -s "$WORK/leech/content.bin" -b "$ct/bitfield" -M "$ct_peers" \
            -C "$ct_cache" "${lim[@]}" -X "touch $WORK/seeding" "$WORK/content.torrent" \
            </dev/null >>"$WORK/ctorrent.log" 2>&1 &
        ct_pid=$!
        wait_done bash -c "[[ -e $WORK/seeding ]] || ! kill -0 $ct_pid 2>/dev/null"
        if [[ ! -e $WORK/seeding ]]; then
            # It gave up before completing (its log says why): start the round again.
            wait "$ct_pid" 2>/dev/null
            sleep 2
            continue
        fi
        sleep "$seed_s"
        rm -f "$WORK/seeding"
        kill "$ct_pid" 2>/dev/null
        wait "$ct_pid" 2>/dev/null
        round=$((round + 1))
        think 2000 8000
    done
    ;;
esac
