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
LAB_PROGRAMS=${LAB_PROGRAMS:-}
NS_C=tapir-c$K
NS_S=tapir-s$K
mkdir -p "$WORK"
# bash's RANDOM is a seeded LCG, but bash reseeds it in every subshell, so $(rnd ..)
# would not repeat: the generator's state lives in a file instead (a 64-bit LCG),
# and the same seed gives the same parameters. RANDOM itself is seeded for the
# few draws made in the main shell.
RANDOM=$SEED
RND_STATE=$WORK/.rnd-state
echo "$SEED" >"$RND_STATE"

inc() { ip netns exec "$NS_C" "$@"; }
ins() { ip netns exec "$NS_S" "$@"; }

# rnd LO HI: uniform integer in [LO, HI].
rnd() {
    local s
    s=$(<"$RND_STATE")
    s=$((s * 6364136223846793005 + 1442695040888963407))
    echo "$s" >"$RND_STATE"
    echo $(($1 + ((s >> 33) & 0x7fffffff) % ($2 - $1 + 1)))
}

# Children are killed on exit; slot_down also kills whatever is left in the namespaces.
app_cleanup() {
    local p
    for p in $(jobs -p); do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
}
trap app_cleanup EXIT
trap 'exit 0' INT TERM

# A self-signed certificate: real web and streaming traffic is TLS, and the
# record layer changes packet sizes, so the lab serves HTTPS. lab_cert DIR [ADDR]:
# without ADDR a self-signed certificate, for clients that skip the check; with
# ADDR a certificate for that address and 127.0.0.1 (the Tor relay) issued by a
# lab CA (DIR/ca.pem), for clients that verify it against a trust store holding
# only that CA (browsers refuse a CA certificate as a server's own).
lab_cert() {
    local dir=$1 addr=${2:-}
    mkdir -p "$dir"
    [[ -s $dir/cert.pem ]] && return 0
    if [[ -z $addr ]]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=tapir-lab" \
            -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
        return
    fi
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=tapir-lab CA" \
        -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$addr" -keyout "$dir/key.pem" \
        -out "$dir/req.pem" >/dev/null 2>&1
    printf 'subjectAltName=IP:%s,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        "$addr" >"$dir/ext.cnf"
    openssl x509 -req -in "$dir/req.pem" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
        -days 30 -extfile "$dir/ext.cnf" -out "$dir/cert.pem" >/dev/null 2>&1
}

# lab_nginx NAME ROOT PORT [H1PORT]: HTTPS static server in the server namespace,
# HTTP/2 on PORT and, with H1PORT, HTTP/1.1 only on H1PORT (as many servers still are).
lab_nginx() {
    local name=$1 root=$2 port=$3 h1port=${4:-} d=$WORK/nginx-$1 h1=""
    mkdir -p "$d/tmp"
    lab_cert "$d"
    [[ -n $h1port ]] && h1="listen 0.0.0.0:$h1port ssl;"
    cat >"$d/nginx.conf" <<CONF
user root;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    log_format lab '\$msec \$remote_addr \$server_port \$server_protocol \$status \$body_bytes_sent \$request_uri';
    access_log $d/access.log lab;
    sendfile on;
    keepalive_timeout 30;
    client_body_temp_path $d/tmp; proxy_temp_path $d/tmp; fastcgi_temp_path $d/tmp;
    uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
    server {
        listen 0.0.0.0:$port ssl http2;
        $h1
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

# Details for the manifest's app_details column go to $WORK/details, the
# program's name for its program column to $WORK/program.
details() { echo "$*" >"$WORK/details"; }
program() { echo "$1" >"$WORK/program"; }

# pick CLASS PROGRAM...: one of the programs, uniformly from the seed, unless
# LAB_PROGRAMS (lab/run --programs, e.g. "web=curl|wget,p2p=transmission")
# restricts CLASS to some of them.
pick() {
    local class=$1 want="" item p
    shift
    local all=("$@") allowed=()
    for item in ${LAB_PROGRAMS//,/ }; do
        [[ ${item%%=*} == "$class" ]] && want=${item#*=}
    done
    if [[ -n $want ]]; then
        for p in "${all[@]}"; do
            [[ "|$want|" == *"|$p|"* ]] && allowed+=("$p")
        done
        ((${#allowed[@]})) || { echo "$class: none of '$want' among ${all[*]}" >&2; exit 1; }
    else
        allowed=("${all[@]}")
    fi
    # Draw from the full list first, so that the other draws do not depend on the restriction.
    local r=$(rnd 0 $((${#all[@]} - 1)))
    echo "${allowed[$((r % ${#allowed[@]}))]}"
}
