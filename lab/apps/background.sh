#!/usr/bin/env bash
# background: the chatter of an idle machine, for robustness experiments. DNS
# lookups (dnsmasq in the server ns answers a lab zone), SNTP polls (a python
# responder), periodic small HTTPS polls (curl to nginx, like a mail or chat
# client checking for news) and one larger "update" download at a capped rate.
# Under Tor (PROXY set) only the TCP parts run, through SOCKS; lookups happen at
# the exit (socks5h), as with any Tor client.
source "$(dirname "$0")/common.sh"

www=$WORK/www
mkdir -p "$www"
update_mb=$(rnd 10 40)
head -c $((update_mb << 20)) /dev/urandom >"$www/update.bin"
for i in 1 2 3; do head -c "$(rnd 300 6000)" /dev/urandom >"$www/poll$i.json"; done
lab_nginx background "$www" 9443
if [[ -z $PROXY ]]; then
    ins dnsmasq --no-daemon --no-resolv --no-hosts --listen-address="$SERVER_ADDR" --bind-interfaces \
        --address=/lab.example/"$SERVER_ADDR" --pid-file="$WORK/dnsmasq.pid" >/dev/null 2>&1 &
    ins python3 "$LAB_DIR/apps/ntp_responder.py" 0.0.0.0 123 >/dev/null 2>&1 &
fi
poll_s=$(rnd 3 20)
update_at=$(rnd 10 60)
rate_k=$(rnd 200 2000)
program background
details "background dns+ntp+https-polls poll_s=$poll_s update_mb=$update_mb update_at_s=$update_at rate_kB=$rate_k"
sleep 0.5

curl_args=(-k -s -o /dev/null --max-time 120)
[[ -n $PROXY ]] && curl_args+=(--proxy "$PROXY")
names=(mail chat news calendar weather updates)
t0=$SECONDS
updated=0
while :; do
    if [[ -z $PROXY ]]; then
        inc dig +tries=1 +time=2 @"$SERVER_ADDR" "${names[$((RANDOM % ${#names[@]}))]}.lab.example" >/dev/null 2>&1
        ((RANDOM % 4 == 0)) && inc python3 - "$SERVER_ADDR" <<'PY' >/dev/null 2>&1
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"\x23" + 47 * b"\0", (sys.argv[1], 123))  # SNTP v4 client request
s.recvfrom(512)
PY
    fi
    inc curl "${curl_args[@]}" "https://$SERVER_ADDR:9443/poll$(rnd 1 3).json"
    if ((!updated && SECONDS - t0 >= update_at)); then
        inc curl "${curl_args[@]}" --limit-rate "${rate_k}k" "https://$SERVER_ADDR:9443/update.bin" &
        updated=1
    fi
    think $((poll_s * 500)) $((poll_s * 1500))
done
