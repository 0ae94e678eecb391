#!/usr/bin/env bash
# Shared helpers for lab/apps/*.sh. Every app is called as
#   lab/apps/<class>.sh <slot> <seed> <workdir>
# with SERVER_ADDR, PROXY and VOIP_MODE in the environment (from the condition),
# starts its servers in tapir-s$k, then drives its client in tapir-c$k until it
# is terminated by lab/run (which stops once the capture is long enough).
set -uo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
K=${1:?usage: $0 <slot> <seed> <workdir>}
SEED=${2:?seed}
WORK=${3:?workdir}
SERVER_ADDR=${SERVER_ADDR:-10.78.$K.2}
PROXY=${PROXY:-}
VOIP_MODE=${VOIP_MODE:-udp}
NS_C=tapir-c$K
NS_S=tapir-s$K
mkdir -p "$WORK"
# bash's RANDOM is a seeded LCG: the same seed gives the same parameters.
RANDOM=$SEED

inc() { ip netns exec "$NS_C" "$@"; }
ins() { ip netns exec "$NS_S" "$@"; }

# rnd LO HI: uniform integer in [LO, HI].
rnd() { echo $(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1))); }

# Children are killed on exit; slot_down also kills whatever is left in the namespaces.
app_cleanup() {
    local p
    for p in $(jobs -p); do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
}
trap app_cleanup EXIT
trap 'exit 0' INT TERM

# A self-signed certificate: real web and streaming traffic is TLS, and the
# record layer changes packet sizes, so the lab serves HTTPS.
lab_cert() {
    local dir=$1
    if [[ ! -s $dir/cert.pem ]]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=tapir-lab" \
            -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
    fi
}

# lab_nginx NAME ROOT PORT: HTTPS (HTTP/2) static server in the server namespace.
lab_nginx() {
    local name=$1 root=$2 port=$3 d=$WORK/nginx-$1
    mkdir -p "$d/tmp"
    lab_cert "$d"
    cat >"$d/nginx.conf" <<CONF
user root;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    keepalive_timeout 30;
    client_body_temp_path $d/tmp; proxy_temp_path $d/tmp; fastcgi_temp_path $d/tmp;
    uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
    server {
        listen 0.0.0.0:$port ssl http2;
        ssl_certificate $d/cert.pem;
        ssl_certificate_key $d/key.pem;
        root $root;
        location / { add_header Cache-Control "max-age=600"; }
    }
}
CONF
    ins nginx -c "$d/nginx.conf" -g 'daemon off;' &
    sleep 0.5
}

# lab_reach PORT: prints HOST:PORT under which the client reaches the server's
# PORT. With a SOCKS proxy (tor) a local socat relay carries the TCP connection
# through it (SOCKS4A, so the name is resolved at the exit), for clients that
# cannot speak SOCKS themselves.
lab_reach() {
    local port=$1
    if [[ -z $PROXY ]]; then
        echo "$SERVER_ADDR:$port"
        return
    fi
    local hp=${PROXY#*://} lport=$((20000 + port % 10000))
    inc socat "TCP4-LISTEN:$lport,bind=127.0.0.1,fork,reuseaddr" \
        "SOCKS4A:${hp%:*}:$SERVER_ADDR:$port,socksport=${hp##*:}" >/dev/null 2>&1 &
    sleep 0.3
    echo "127.0.0.1:$lport"
}

# think LO_MS HI_MS: a pause between user actions.
think() { sleep "$(awk -v ms="$(rnd "$1" "$2")" 'BEGIN{printf "%.3f", ms/1000}')"; }

# Details for the manifest's app_details column go to $WORK/details.
details() { echo "$*" >"$WORK/details"; }
