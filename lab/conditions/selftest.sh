#!/usr/bin/env bash
# selftest.sh <cond> [k] — prove that a lab condition carries traffic and hides it.
#
# 1. builds slot k's three namespaces (tapir-c$k, tapir-w$k, tapir-s$k) per the
#    lab topology convention, with a minimal local function;
# 2. runs `<cond>.sh up k` and reads SERVER_ADDR / PROXY / VOIP_MODE;
# 3. serves a random 256 KiB file with `python3 -m http.server` bound to
#    SERVER_ADDR in tapir-s$k, fetches it with curl from tapir-c$k (through
#    PROXY when set) and compares SHA-256 digests;
# 4. captures on c$k meanwhile (tcpdump, snaplen 96, no immediate mode) and
#    checks the observer's view: the expected encapsulation (ESP-in-UDP 4500,
#    UDP 51820, TLS to a Tor guard's ORPort), and no plaintext HTTP;
#    With VOIP_MODE=tcp (tor), also relays UDP datagrams over TCP with socat
#    as README.md describes and checks they come back from a UDP echo server;
# 5. runs `<cond>.sh down k` and checks nothing is left: no process in the
#    slot's namespaces, the same interfaces/addresses/routes as before `up`,
#    no runtime state; then removes the namespaces and checks they are gone.
#    For tor, a shared network started by this test is stopped and checked too.
#
# Default slot 97, away from the low slots that capture runs use. Exit 0 only
# if every check passed; the last line is `selftest <cond>: N passed, M failed`.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
COND=${1:-}
K=${2:-97}
PORT=8080

usage() {
	echo "usage: $0 ipsec|wireguard|tor|plain [slot 1..99]" >&2
	exit 2
}
[[ -n $COND && -x $HERE/$COND.sh ]] || usage
[[ $K =~ ^[0-9]+$ ]] && ((10#$K >= 1 && 10#$K <= 99)) || usage
K=$((10#$K))
[[ $(id -u) -eq 0 ]] || {
	echo "selftest: must run as root" >&2
	exit 1
}
# The test's own tools (the conditions install theirs).
missing=()
for tool in tcpdump:tcpdump curl:curl ethtool:ethtool socat:socat bc:bc; do
	command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 \
		--no-install-recommends "${missing[@]}" >&2 || {
		echo "selftest: could not install ${missing[*]}" >&2
		exit 1
	}
fi

PASS=0
FAIL=0
ok() {
	echo "PASS  $*"
	PASS=$((PASS + 1))
}
bad() {
	echo "FAIL  $*"
	FAIL=$((FAIL + 1))
}
check() { # description command...
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
info() { echo "      $*"; }

WORK=$(mktemp -d /tmp/tapir-selftest-"$COND"-XXXXXX)
HTTP_PID=
DUMP_PID=
COND_UP=0
TOR_STARTED_NET=0

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

# --- slot namespaces (minimal copy of the lab convention) -------------------
slot_create() {
	local k=$1 n
	for n in c w s; do
		ns_exists tapir-$n$k && {
			echo "selftest: namespace tapir-$n$k already exists; pick another slot" >&2
			exit 1
		}
	done
	for n in c w s; do ip netns add tapir-$n$k; done
	ip link add c$k netns tapir-c$k type veth peer name w$k-c netns tapir-w$k
	ip link add w$k-s netns tapir-w$k type veth peer name s$k netns tapir-s$k
	ip -n tapir-c$k addr add 10.77.$k.1/30 dev c$k
	ip -n tapir-w$k addr add 10.77.$k.2/30 dev w$k-c
	ip -n tapir-w$k addr add 10.78.$k.1/30 dev w$k-s
	ip -n tapir-s$k addr add 10.78.$k.2/30 dev s$k
	local pair
	for pair in c:c$k w:w$k-c w:w$k-s s:s$k; do
		ip -n tapir-${pair%%:*}$k link set ${pair#*:} up
		# Offloads off on both ends, or the capture shows 60 kB "packets".
		ip netns exec tapir-${pair%%:*}$k ethtool -K ${pair#*:} tso off gso off gro off lro off tx off rx off >/dev/null 2>&1 || true
	done
	for n in c w s; do ip -n tapir-$n$k link set lo up; done
	ip -n tapir-c$k route add default via 10.77.$k.2
	ip -n tapir-s$k route add default via 10.78.$k.1
	ip netns exec tapir-w$k sysctl -qw net.ipv4.ip_forward=1
}

slot_delete() {
	local n
	for n in c w s; do ns_exists tapir-$n$1 && ip netns del tapir-$n$1; done
}

# What `down` must restore: links, addresses and routes of every slot namespace.
snapshot() {
	local n
	for n in c w s; do
		echo "== tapir-$n$K"
		ip -n tapir-$n$K -o link show | awk '{print $2}' | sed 's/@.*//' | sort
		ip -n tapir-$n$K -o addr show | awk '$4 !~ /^fe80/ {print $2, $4}' | sort
		ip -n tapir-$n$K route show table all | grep -v '^local\|^broadcast\|^multicast\|^fe80\|fe80::/64\|^ff00' | sort
		ip -n tapir-$n$K rule show | sort
	done
}

cleanup() {
	[[ -n $HTTP_PID ]] && kill "$HTTP_PID" 2>/dev/null
	[[ -n $DUMP_PID ]] && kill "$DUMP_PID" 2>/dev/null
	if ((COND_UP)); then "$HERE/$COND.sh" down "$K" >/dev/null 2>&1; fi
	if ((TOR_STARTED_NET)); then "$HERE/tor.sh" network-down >/dev/null 2>&1; fi
	slot_delete "$K" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "selftest $COND: slot $K ($(date -u +%H:%M:%S) UTC)"
TOR_NET_BEFORE=0
[[ $COND == tor ]] && ns_exists tapir-tor && TOR_NET_BEFORE=1
slot_create "$K"
snapshot >"$WORK/before.txt"

# --- up ---------------------------------------------------------------------
t0=$(date +%s.%N)
if ! "$HERE/$COND.sh" up "$K" >"$WORK/up.out" 2>"$WORK/up.err"; then
	bad "$COND.sh up $K"
	tail -30 "$WORK/up.err"
	COND_UP=1
	[[ $COND == tor && $TOR_NET_BEFORE == 0 ]] && TOR_STARTED_NET=1
	exit 1
fi
COND_UP=1
[[ $COND == tor && $TOR_NET_BEFORE == 0 ]] && TOR_STARTED_NET=1
ok "$COND.sh up $K ($(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s)"
sed 's/^/      up> /' "$WORK/up.out"
SERVER_ADDR=$(sed -n 's/^SERVER_ADDR=//p' "$WORK/up.out")
PROXY=$(sed -n 's/^PROXY=//p' "$WORK/up.out")
VOIP_MODE=$(sed -n 's/^VOIP_MODE=//p' "$WORK/up.out")
check "up printed SERVER_ADDR ($SERVER_ADDR)" test -n "$SERVER_ADDR"
grep -q '^PROXY=' "$WORK/up.out" && ok "up printed PROXY (${PROXY:-empty})" || bad "up printed no PROXY line"
if [[ $COND == tor ]]; then
	check "tor: VOIP_MODE=tcp" test "$VOIP_MODE" = tcp
	check "tor: PROXY is socks5h://127.0.0.1:9050" test "$PROXY" = socks5h://127.0.0.1:9050
fi

# --- traffic ----------------------------------------------------------------
mkdir -p "$WORK/www"
head -c 262144 /dev/urandom >"$WORK/www/probe.bin"
want=$(sha256sum <"$WORK/www/probe.bin" | cut -d' ' -f1)
ip netns exec tapir-s$K python3 -m http.server "$PORT" --bind "$SERVER_ADDR" \
	--directory "$WORK/www" >"$WORK/http.log" 2>&1 &
HTTP_PID=$!
for _ in $(seq 50); do
	ip netns exec tapir-s$K bash -c "exec 3<>/dev/tcp/$SERVER_ADDR/$PORT" 2>/dev/null && break
	sleep 0.1
done

ip netns exec tapir-c$K tcpdump -n -i c$K -s 96 -w "$WORK/c.pcap" >"$WORK/tcpdump.log" 2>&1 &
DUMP_PID=$!
for _ in $(seq 50); do
	grep -q 'listening on' "$WORK/tcpdump.log" && break
	sleep 0.1
done

curl_args=(-sS --max-time 120 -o "$WORK/got.bin" -w '%{http_code} %{size_download} %{time_total}')
[[ -n $PROXY ]] && curl_args+=(--proxy "$PROXY")
res=$(ip netns exec tapir-c$K curl "${curl_args[@]}" "http://$SERVER_ADDR:$PORT/probe.bin" 2>"$WORK/curl.err")
info "curl: http_code size_bytes seconds = $res $(head -c 200 "$WORK/curl.err")"
got=$(sha256sum <"$WORK/got.bin" 2>/dev/null | cut -d' ' -f1)
check "fetched 256 KiB from http://$SERVER_ADDR:$PORT via ${PROXY:-the tunnel route}, SHA-256 matches" test "$got" = "$want"

# tcpdump without immediate mode flushes its buffer late: give it time.
sleep 1.5
kill -INT "$DUMP_PID" 2>/dev/null
wait "$DUMP_PID" 2>/dev/null
DUMP_PID=
grep -E 'captured|dropped' "$WORK/tcpdump.log" | sed 's/^/      tcpdump: /'

# --- what the observer on c$K saw --------------------------------------------
# A dependency-free pcap reader: per outer protocol/port counts and sizes,
# TLS record headers, and any plaintext HTTP in the captured headers.
python3 - "$WORK/c.pcap" "$COND" "$K" "$PORT" >"$WORK/observer.txt" <<'PY'
import struct, sys, collections
path, cond, k, port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = open(path, 'rb').read()
magic = struct.unpack('<I', data[:4])[0]
end = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
linktype = struct.unpack(end + 'I', data[20:24])[0]
off = 24
flows = collections.Counter()
sizes = collections.defaultdict(list)
plain_http = 0
http_text = 0
tls_records = 0
esp_in_udp = 0
wg_types = collections.Counter()
total = 0
client = f'10.77.{k}.1'
while off + 16 <= len(data):
    _, _, caplen, origlen = struct.unpack(end + 'IIII', data[off:off + 16])
    pkt = data[off + 16:off + 16 + caplen]
    off += 16 + caplen
    if linktype == 1:
        if len(pkt) < 14 or pkt[12:14] != b'\x08\x00':
            continue
        ip = pkt[14:]
    else:
        continue
    if len(ip) < 20:
        continue
    total += 1
    ihl = (ip[0] & 15) * 4
    iplen = struct.unpack('>H', ip[2:4])[0]
    proto = ip[9]
    src = '.'.join(map(str, ip[12:16]))
    dst = '.'.join(map(str, ip[16:20]))
    up = src == client
    l4 = ip[ihl:]
    sport = dport = 0
    payload = b''
    if proto in (6, 17) and len(l4) >= 4:
        sport, dport = struct.unpack('>HH', l4[:4])
    if proto == 6 and len(l4) >= 13:
        payload = l4[(l4[12] >> 4) * 4:]
        if payload[:1] == b'\x17' and payload[1:3] in (b'\x03\x01', b'\x03\x02', b'\x03\x03'):
            tls_records += 1
    elif proto == 17:
        payload = l4[8:]
        if 4500 in (sport, dport) and payload[:4] != b'\x00\x00\x00\x00' and len(payload) >= 8:
            esp_in_udp += 1
        if 51820 in (sport, dport) and payload[:1]:
            wg_types[payload[0]] += 1
    text = b'GET /' in payload or b'HTTP/1.' in payload
    http_text += text
    if text or port in (sport, dport):
        plain_http += 1
    server_port = dport if up else sport
    key = f"{'tcp' if proto == 6 else 'udp' if proto == 17 else 'proto' + str(proto)}/{server_port} {dst if up else src}"
    flows[key] += 1
    sizes[key].append(iplen)
print(f'total {total}')
print(f'plain_http {plain_http}')
print(f'http_text {http_text}')
print(f'tls_records {tls_records}')
print(f'esp_in_udp {esp_in_udp}')
print('wg_types ' + ' '.join(f'{t}:{n}' for t, n in sorted(wg_types.items())))
for key, n in flows.most_common():
    s = sorted(sizes[key])
    print(f'flow {key} packets {n} ip_len min {s[0]} median {s[len(s) // 2]} max {s[-1]}')
    common = collections.Counter(s).most_common(4)
    print(f'sizes {key} most common ip_len ' + ' '.join(f'{size}x{count}' for size, count in common))
PY
sed 's/^/      observer: /' "$WORK/observer.txt"
val() { awk -v k="$1" '$1 == k {print $2}' "$WORK/observer.txt"; }
total=$(val total)
check "observer on c$K captured traffic ($total packets)" test "${total:-0}" -gt 100
if [[ $COND == plain ]]; then
	# The negative control: without a tunnel the same check must see HTTP.
	check "plain: observer saw plaintext HTTP ($(val plain_http) packets, $(val http_text) with request/response text), so the check can fail" \
		test "$(val plain_http)" -gt 0 -a "$(val http_text)" -gt 0
else
	check "observer saw no plaintext HTTP (port $PORT or request/response text)" test "$(val plain_http)" = 0
fi
case $COND in
ipsec)
	n=$(grep -c '^flow udp/4500 10.78.'"$K"'.2 ' "$WORK/observer.txt")
	esp=$(val esp_in_udp)
	check "ipsec: ESP-in-UDP 4500 to 10.78.$K.2 ($esp ESP packets)" test "${esp:-0}" -gt 100
	other=$(grep '^flow ' "$WORK/observer.txt" | grep -v ' udp/4500 \| udp/500 ' | grep -c . || true)
	check "ipsec: every captured packet is IKE/ESP on UDP 500/4500 ($n flow(s), $other other)" test "$other" = 0
	;;
wireguard)
	data4=$(awk '$1 == "wg_types" {for (i = 2; i <= NF; i++) if ($i ~ /^4:/) {sub("4:", "", $i); print $i}}' "$WORK/observer.txt")
	check "wireguard: transport data (type 4) on UDP 51820 (${data4:-0} packets)" test "${data4:-0}" -gt 100
	other=$(grep '^flow ' "$WORK/observer.txt" | grep -vc ' udp/51820 ' || true)
	check "wireguard: every captured packet is UDP 51820 ($other other)" test "$other" = 0
	;;
tor)
	guard=$(grep '^flow tcp/' "$WORK/observer.txt" | grep ' 10.81.0.' | head -1)
	check "tor: TCP to a relay's ORPort in 10.81.0.0/24 ($guard)" test -n "$guard"
	check "tor: TLS application-data records seen ($(val tls_records))" test "$(val tls_records)" -gt 50
	direct=$(grep -c '^flow .* 10.78.'"$K"'.2 ' "$WORK/observer.txt" || true)
	check "tor: no packet between the client and the server's own address ($direct flows)" test "$direct" = 0
	;;
esac

# --- VoIP mode tcp: RTP-like datagrams through socat relays -------------------
# The recipe of README.md: UDP -> TCP over SOCKS4A on the client, TCP -> UDP
# on the server, here in front of a UDP echo server; 50 datagrams of 167
# bytes every 20 ms must come back intact. Not captured: this checks the relay.
if [[ $VOIP_MODE == tcp ]]; then
	ip netns exec tapir-s$K python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5004))
while True:
    d, a = s.recvfrom(65535)
    s.sendto(d, a)
' "$SERVER_ADDR" >/dev/null 2>&1 &
	ECHO_PID=$!
	ip netns exec tapir-s$K socat TCP4-LISTEN:5004,bind="$SERVER_ADDR",reuseaddr,fork \
		UDP4:"$SERVER_ADDR":5004 >/dev/null 2>&1 &
	SRELAY_PID=$!
	socks=${PROXY#socks5h://}
	ip netns exec tapir-c$K socat UDP4-LISTEN:5004,bind=127.0.0.1,reuseaddr \
		SOCKS4A:"${socks%:*}":"$SERVER_ADDR":5004,socksport="${socks##*:}" >/dev/null 2>&1 &
	CRELAY_PID=$!
	sleep 1
	echoed=$(ip netns exec tapir-c$K timeout 60 python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
got = 0
for i in range(50):
    msg = b"RTP%04d" % i + b"x" * 160
    s.sendto(msg, ("127.0.0.1", 5004))
    try:
        got += s.recvfrom(65535)[0] == msg
    except socket.timeout:
        pass
    time.sleep(0.02)
print(got)
')
	kill "$CRELAY_PID" "$SRELAY_PID" "$ECHO_PID" 2>/dev/null
	wait "$CRELAY_PID" "$SRELAY_PID" "$ECHO_PID" 2>/dev/null
	check "VOIP_MODE=tcp: ${echoed:-0} of 50 UDP datagrams echoed through socat UDP->SOCKS4A->TCP->UDP" test "${echoed:-0}" = 50
fi

# --- down and leftovers -------------------------------------------------------
kill "$HTTP_PID" 2>/dev/null
wait "$HTTP_PID" 2>/dev/null
HTTP_PID=
if "$HERE/$COND.sh" down "$K" >"$WORK/down.out" 2>"$WORK/down.err"; then
	ok "$COND.sh down $K"
else
	bad "$COND.sh down $K"
	tail -10 "$WORK/down.err"
fi
COND_UP=0
leftover=""
for n in c w s; do
	p=$(ip netns pids tapir-$n$K 2>/dev/null | tr '\n' ' ')
	[[ -n $p ]] && leftover+="tapir-$n$K: $(ps -o comm= -p ${p// /,} | tr '\n' ' ')"
done
check "no process left in the slot's namespaces ${leftover:+($leftover)}" test -z "$leftover"
snapshot >"$WORK/after.txt"
if diff -u "$WORK/before.txt" "$WORK/after.txt" >"$WORK/diff.txt"; then
	ok "interfaces, addresses, routes and rules restored as before up"
else
	bad "interfaces, addresses, routes or rules differ after down:"
	sed 's/^/      /' "$WORK/diff.txt"
fi
check "no runtime state left in /run/tapir-lab/$COND/$K" test ! -e "/run/tapir-lab/$COND/$K"
if ((TOR_STARTED_NET)); then
	"$HERE/tor.sh" network-down >/dev/null 2>"$WORK/netdown.err" && ok "tor.sh network-down" || bad "tor.sh network-down: $(tail -3 "$WORK/netdown.err")"
	TOR_STARTED_NET=0
	check "tor: namespace tapir-tor removed" bash -c '! ip netns list | grep -qw tapir-tor'
	check "tor: no tor process of the lab left" bash -c '! pgrep -f "^tor .*/run/tapir-lab/tor/" >/dev/null'
	check "tor: no runtime state left in /run/tapir-lab/tor" bash -c '! ls -A /run/tapir-lab/tor 2>/dev/null | grep -q .'
fi
slot_delete "$K"
left_ns=$(ip netns list | awk '{print $1}' | grep -x "tapir-[cws]$K" | tr '\n' ' ')
check "slot namespaces removed ${left_ns:+($left_ns)}" test -z "$left_ns"
left_if=$(ip -o link show | awk '{print $2}' | sed 's/[:@].*//' | grep -xE "c$K|w$K-[cst]|s$K|wg[cs]$K|ipsec[0-9]+" | tr '\n' ' ')
check "no lab interface left in the host namespace ${left_if:+($left_if)}" test -z "$left_if"

echo "selftest $COND: $PASS passed, $FAIL failed"
((FAIL == 0))
