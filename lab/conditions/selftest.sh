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
#    checks the observer's view: the expected encapsulation (ESP-in-UDP 4500
#    with one SPI per direction and the suite's size quantisation, UDP 51820,
#    OpenVPN opcodes on UDP or TCP 1194, TLS to a Tor guard's ORPort), that the
#    largest outer packet matches the tunnel MTU that `up` reported, and no
#    plaintext HTTP;
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
	echo "usage: $0 ipsec|wireguard|openvpn|tor|plain [slot 1..99]" >&2
	echo "  variants come from the condition's environment, e.g." >&2
	echo "  TAPIR_IPSEC_ESP=aes256gcm16 TAPIR_TUNNEL_MTU=1320 $0 ipsec" >&2
	echo "  TAPIR_OPENVPN_PROTO=tcp TAPIR_TUNNEL_MTU=1400 $0 openvpn" >&2
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
for tool in tcpdump:tcpdump curl:curl ethtool:ethtool socat:socat bc:bc tshark:tshark; do
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
[[ -n ${SELFTEST_KEEP_PCAP:-} ]] && trap 'cp "$WORK/c.pcap" "$SELFTEST_KEEP_PCAP" 2>/dev/null; cleanup' EXIT
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
TUNNEL=$(sed -n 's/^TUNNEL=//p' "$WORK/up.out")
TUNNEL_MTU=$(sed -n 's/^TUNNEL_MTU=//p' "$WORK/up.out")
case $COND in
ipsec | wireguard | openvpn)
	check "up printed TUNNEL ($TUNNEL) starting with $COND" test "${TUNNEL%%/*}" = "$COND"
	check "up printed TUNNEL_MTU ($TUNNEL_MTU) in 1280..1500" test "${TUNNEL_MTU:-0}" -ge 1280 -a "${TUNNEL_MTU:-0}" -le 1500
	# The client's route to the server goes through the tunnel device, whose MTU is that.
	tdev=$(ip -n tapir-c$K route get "$SERVER_ADDR" | grep -o 'dev [^ ]*' | cut -d' ' -f2)
	tmtu=$(ip -n tapir-c$K -o link show "$tdev" | grep -o 'mtu [0-9]*' | cut -d' ' -f2)
	check "client route to $SERVER_ADDR is via $tdev with MTU $tmtu = TUNNEL_MTU" test "$tmtu" = "$TUNNEL_MTU"
	;;
esac
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

# OpenVPN over TCP: tshark needs whole segments to find packet boundaries in the stream.
SNAP=96
[[ $COND == openvpn ]] && SNAP=0
ip netns exec tapir-c$K tcpdump -n -i c$K -s $SNAP -w "$WORK/c.pcap" >"$WORK/tcpdump.log" 2>&1 &
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
	if [[ ${TUNNEL##*/} == raw ]]; then
		raw=$(grep "^flow proto50/0 10.78.$K.2 " "$WORK/observer.txt" | awk '{print $5}')
		check "ipsec: raw ESP (IP protocol 50) to 10.78.$K.2 (${raw:-0} packets)" test "${raw:-0}" -gt 100
		check "ipsec: no ESP in UDP 4500 ($(val esp_in_udp) packets)" test "$(val esp_in_udp)" = 0
		other=$(grep '^flow ' "$WORK/observer.txt" | grep -v ' proto50/0 \| udp/4500 \| udp/500 ' | grep -c . || true)
		check "ipsec: every captured packet is ESP or IKE on UDP 500/4500 ($other other)" test "$other" = 0
	else
		n=$(grep -c '^flow udp/4500 10.78.'"$K"'.2 ' "$WORK/observer.txt")
		esp=$(val esp_in_udp)
		check "ipsec: ESP-in-UDP 4500 to 10.78.$K.2 ($esp ESP packets)" test "${esp:-0}" -gt 100
		other=$(grep '^flow ' "$WORK/observer.txt" | grep -v ' udp/4500 \| udp/500 ' | grep -c . || true)
		check "ipsec: every captured packet is IKE/ESP on UDP 500/4500 ($n flow(s), $other other)" test "$other" = 0
	fi
	# tshark decodes UDP 4500 and protocol 50 as ESP: one SPI per direction, sequence
	# numbers rising, and the outer sizes the suite gives (README.md): CBC
	# 20+8 (UDP, natt only)+8+16 IV+pad16(n+2)+16 ICV, GCM 20+8+8+8 IV+pad4(n+2)+16; a full
	# inner packet (the MTU) gives the largest.
	tshark -r "$WORK/c.pcap" -Y esp -T fields -e ip.src -e esp.spi -e esp.sequence -e ip.len \
		>"$WORK/esp.tsv" 2>/dev/null
	python3 - "$WORK/esp.tsv" "$K" "$TUNNEL" "$TUNNEL_MTU" >"$WORK/esp.txt" <<'PY'
import sys
path, k, tunnel, mtu = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
gcm = "gcm" in tunnel
udp = 0 if tunnel.endswith("/raw") else 8
spis, seq_ok, quant_bad, lens = {}, True, 0, []
last = {}
for line in open(path):
    f = line.split("\t")
    if len(f) < 4 or not f[1]:
        continue
    src, spi, seq, iplen = f[0], f[1], int(f[2]), int(f[3])
    spis.setdefault(src, set()).add(spi)
    if spi in last and seq <= last[spi]:
        seq_ok = False
    last[spi] = seq
    body = iplen - (20 + udp + 8 + (8 if gcm else 16) + 16)
    quant_bad += body % (4 if gcm else 16) != 0
    lens.append(iplen)
pad = (lambda n: -(-n // 4) * 4) if gcm else (lambda n: -(-n // 16) * 16)
full = 20 + udp + 8 + (8 if gcm else 16) + pad(mtu + 2) + 16
per_dir = {s: len(v) for s, v in spis.items()}
all_spis = set().union(*spis.values()) if spis else set()
print(f"spis_per_direction {' '.join(f'{s}:{n}' for s, n in sorted(per_dir.items()))}")
print(f"one_spi_each {int(len(per_dir) == 2 and all(n == 1 for n in per_dir.values()) and len(all_spis) == 2)}")
print(f"seq_rising {int(seq_ok)}")
print(f"quant_bad {quant_bad} of {len(lens)}")
print(f"max_len {max(lens) if lens else 0} expected {full}")
PY
	sed 's/^/      esp: /' "$WORK/esp.txt"
	check "ipsec: one ESP SPI per direction, two in all" grep -q '^one_spi_each 1' "$WORK/esp.txt"
	check "ipsec: ESP sequence numbers rise per SPI" grep -q '^seq_rising 1' "$WORK/esp.txt"
	check "ipsec: every ESP size fits the ${TUNNEL#ipsec/} quantisation" grep -q '^quant_bad 0 ' "$WORK/esp.txt"
	read -r _ maxl _ expl < <(grep '^max_len' "$WORK/esp.txt")
	check "ipsec: largest ESP packet $maxl bytes = a full $TUNNEL_MTU-byte inner packet ($expl)" test "$maxl" = "$expl"
	;;
wireguard)
	data4=$(awk '$1 == "wg_types" {for (i = 2; i <= NF; i++) if ($i ~ /^4:/) {sub("4:", "", $i); print $i}}' "$WORK/observer.txt")
	check "wireguard: transport data (type 4) on UDP 51820 (${data4:-0} packets)" test "${data4:-0}" -gt 100
	other=$(grep '^flow ' "$WORK/observer.txt" | grep -vc ' udp/51820 ' || true)
	check "wireguard: every captured packet is UDP 51820 ($other other)" test "$other" = 0
	# wireguard-go pads to 16 bytes but never beyond the MTU: a full packet is MTU + 60.
	maxl=$(grep '^flow udp/51820 ' "$WORK/observer.txt" | grep -o 'max [0-9]*' | cut -d' ' -f2 | sort -n | tail -1)
	check "wireguard: largest packet $maxl bytes = MTU $TUNNEL_MTU + 60" test "$maxl" = $((TUNNEL_MTU + 60))
	;;
openvpn)
	proto=$(cut -d/ -f2 <<<"$TUNNEL")
	n=$(grep -c "^flow $proto/1194 10.78.$K.2 " "$WORK/observer.txt" || true)
	other=$(grep '^flow ' "$WORK/observer.txt" | grep -vc " $proto/1194 10.78.$K.2 " || true)
	check "openvpn: every captured packet is $proto to 10.78.$K.2:1194 ($n flow(s), $other other)" test "$n" -ge 1 -a "$other" = 0
	# Opcodes (high 5 bits of the first byte, after TCP's 2-byte length): 7/8 hard reset
	# client/server v2, 4 control, 5 ack, 9 P_DATA_V2.
	tshark -r "$WORK/c.pcap" -d "$proto.port==1194,openvpn" -Y openvpn -T fields -e openvpn.opcode \
		2>/dev/null | tr ',' '\n' | sort | uniq -c | sort -k2n >"$WORK/ovpn.txt"
	sed 's/^/      openvpn opcodes (count opcode): /' "$WORK/ovpn.txt"
	op() { awk -v o="$1" '$2 == o {print $1}' "$WORK/ovpn.txt"; }
	# The TLS handshake happens during `up`, before the capture (as in lab/run's traces):
	# every captured packet must parse as OpenVPN with a known opcode (3..10).
	known=$(awk '$2 ~ /^0x0([3-9]|a)$/ {n += $1} END {print n + 0}' "$WORK/ovpn.txt")
	pk=$(grep "^flow $proto/1194 " "$WORK/observer.txt" | awk '{print $5}')
	d9=$(op 0x09)
	check "openvpn: data packets P_DATA_V2 (${d9:-0}) carry the transfer" test "${d9:-0}" -gt 100
	if [[ $proto == udp ]]; then
		check "openvpn: each of the $pk UDP packets is an OpenVPN packet with a known opcode ($known)" test "$known" = "$pk"
	else
		# Over TCP one segment can hold several packets or part of one: count messages.
		check "openvpn: the TCP stream parses as OpenVPN packets with known opcodes ($known messages in $pk segments)" test "$known" -gt 100
	fi
	if [[ $proto == udp ]]; then
		# P_DATA_V2 with AES-256-GCM: 4 (opcode, peer id) + 4 (packet id) + 16 (tag) + inner.
		maxl=$(grep '^flow udp/1194 ' "$WORK/observer.txt" | grep -o 'max [0-9]*' | cut -d' ' -f2 | sort -n | tail -1)
		want=$((TUNNEL_MTU + 52))
		((want > 1500)) && want=1500
		check "openvpn: largest packet $maxl bytes = min(MTU $TUNNEL_MTU + 52, 1500)" test "$maxl" -le "$want" -a "$maxl" -ge $((want - 40))
	fi
	;;
tor)
	guard=$(grep '^flow tcp/' "$WORK/observer.txt" | grep ' 10.81.0.' | head -1)
	check "tor: TCP to a relay's ORPort in 10.81.0.0/24 ($guard)" test -n "$guard"
	# Counted only where a TCP segment starts with a record header: 48-60 in a 256 KiB fetch
	# (cells of one record span segments), so 20 says TLS without depending on segmentation.
	check "tor: TLS application-data records seen ($(val tls_records))" test "$(val tls_records)" -ge 20
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

# --- tor: the circuit's round-trip time matches the delays of its links ---------
# A circuit's one-way path is slot + guard, guard + middle, middle + exit, exit + slot
# (each node sits d_i from the hub, the slot TAPIR_TOR_SLOT_DELAY_MS): its RTT is
# 4 (slot + d_guard + d_middle + d_exit). The three relays are distinct, so the RTT lies
# between the sums over the three nearest and the three farthest nodes.
if [[ $COND == tor ]]; then
	ip netns exec tapir-s$K python3 -c '
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8081))
s.listen(4)
def echo(c):
    while True:
        d = c.recv(4096)
        if not d:
            return
        c.sendall(d)
while True:
    threading.Thread(target=echo, args=(s.accept()[0],), daemon=True).start()
' "$SERVER_ADDR" >/dev/null 2>&1 &
	ECHO_PID=$!
	sleep 0.5
	socks=${PROXY#socks5h://}
	ip netns exec tapir-c$K timeout 90 python3 -c '
import socket, struct, sys, time, statistics
host, port, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port), timeout=60)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
t0 = time.monotonic()
s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(dst) + struct.pack(">H", 8081))
rep = s.recv(10)
t_conn = time.monotonic() - t0
assert rep[1] == 0, "SOCKS CONNECT refused"
rtts = []
for i in range(20):
    t0 = time.monotonic()
    s.sendall(b"x")
    assert s.recv(1) == b"x"
    rtts.append((time.monotonic() - t0) * 1000)
    time.sleep(0.05)
print(f"connect_ms {t_conn * 1000:.1f}")
print(f"rtt_ms min {min(rtts):.1f} median {statistics.median(rtts):.1f} max {max(rtts):.1f}")
' "${socks%:*}" "${socks##*:}" "$SERVER_ADDR" >"$WORK/rtt.txt" 2>&1
	kill "$ECHO_PID" 2>/dev/null
	wait "$ECHO_PID" 2>/dev/null
	sed 's/^/      circuit: /' "$WORK/rtt.txt"
	slot_d=$(sed -n 's|^tor/access-\([0-9.]*\)ms/.*$|\1|p' <<<"$TUNNEL")
	read -r lo hi < <(sort -k2n /run/tapir-lab/tor/net/delays | awk -v s="${slot_d:-0}" '{d[NR] = $2}
		END {n = NR; printf "%.1f %.1f\n", 4 * (s + d[1] + d[2] + d[3]), 4 * (s + d[n] + d[n - 1] + d[n - 2])}')
	med=$(awk '$1 == "rtt_ms" {print $5}' "$WORK/rtt.txt")
	info "expected circuit RTT from the link delays: $lo .. $hi ms (+ relay processing)"
	# Lower bound with 3 % slack for jitter; 60 ms of relay and client processing allowed above.
	check "tor: circuit RTT ${med:-none} ms lies in $lo .. $hi ms (+60)" \
		awk -v m="${med:-0}" -v lo="$lo" -v hi="$hi" 'BEGIN {exit !(m >= lo * 0.97 && m <= hi + 60)}'
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
	check "tor: no delay line left" bash -c '! pgrep -f "tor/[d]elayline.py" >/dev/null'
	check "tor: no node namespace tapir-tor-* left" bash -c '! ip netns list | grep -q "^tapir-tor-"'
	check "tor: no runtime state left in /run/tapir-lab/tor" bash -c '! ls -A /run/tapir-lab/tor 2>/dev/null | grep -q .'
fi
slot_delete "$K"
left_ns=$(ip netns list | awk '{print $1}' | grep -x "tapir-[cws]$K" | tr '\n' ' ')
check "slot namespaces removed ${left_ns:+($left_ns)}" test -z "$left_ns"
left_if=$(ip -o link show | awk '{print $2}' | sed 's/[:@].*//' | grep -xE "c$K|w$K-[cst]|s$K|wg[cs]$K|ovpn[cs]$K|esp[cs]$K|ipsec[0-9]+" | tr '\n' ' ')
check "no lab interface left in the host namespace ${left_if:+($left_if)}" test -z "$left_if"

echo "selftest $COND: $PASS passed, $FAIL failed"
((FAIL == 0))
