#!/usr/bin/env bash
# voip: SIP calls between SIPp caller (client ns) and callee (server ns), with
# RTP both ways at 20 ms packetisation played from generated pcaps. Codec and
# call lengths come from the seed; calls follow one another with short gaps.
#
# VOIP_MODE=tcp (tor): Tor carries only TCP, so SIP runs over TCP and each RTP
# direction is carried over its own TCP connection: socat relays turn the
# datagrams into a byte stream through SOCKS4A on the client side and back into
# datagrams on the server side (see docs/lab.md).
source "$(dirname "$0")/common.sh"

codecs=(pcmu pcma g722 g729 opus)
codec=${codecs[$((RANDOM % ${#codecs[@]}))]}
case $codec in
pcmu) pt=0 rtpmap=PCMU/8000 ;;
pcma) pt=8 rtpmap=PCMA/8000 ;;
g722) pt=9 rtpmap=G722/8000 ;;
g729) pt=18 rtpmap=G729/8000 ;;
opus) pt=111 rtpmap=opus/48000/2 ;;
esac
call_lo=$(rnd 15 40)
call_hi=$((call_lo + $(rnd 10 60)))
details "sipp codec=$codec ptime=20ms call_s=$call_lo-$call_hi mode=$VOIP_MODE"

# Each side plays its own pcap, long enough for the longest call.
python3 "$LAB_DIR/apps/make_rtp_pcap.py" "$WORK/uac.pcap" "$codec" $((call_hi + 5)) $((SEED * 2))
python3 "$LAB_DIR/apps/make_rtp_pcap.py" "$WORK/uas.pcap" "$codec" $((call_hi + 5)) $((SEED * 2 + 1))
for side in uac uas; do
    sed -e "s|@PCAP@|$WORK/$side.pcap|" -e "s|@PT@|$pt|g" -e "s|@CODEC@|$rtpmap|g" \
        "$LAB_DIR/apps/sipp/$side.xml" >"$WORK/$side.xml"
done

client_addr=$(inc ip -o route get "$SERVER_ADDR" | grep -o 'src [0-9.]*' | cut -d' ' -f2)
sipp_common=(-nostdin -trace_err)

if [[ $VOIP_MODE == tcp ]]; then
    # SIP over TCP through a local SOCKS relay (lab_reach). Both RTP directions
    # share one TCP connection that the client opens through Tor (the client
    # cannot accept connections): in each namespace a socat joins that stream
    # to a UDP socket on loopback. Caller media: 127.0.0.1:16000 in the client
    # ns; callee media: 127.0.0.1:17000 in the server ns; each socat binds the
    # other side's port locally so that the SDP addresses work unchanged. TCP
    # does not keep datagram boundaries, so the relayed RTP may be merged or
    # split at the far end; the capture, which sees only Tor cells, does not
    # depend on it.
    hp=${PROXY#*://}
    ins sipp "${sipp_common[@]}" -sf "$WORK/uas.xml" -t t1 -i "$SERVER_ADDR" -p 5060 \
        -mi 127.0.0.1 -mp 17000 -error_file "$WORK/uas.err" >/dev/null 2>&1 &
    ins socat TCP4-LISTEN:5072,reuseaddr,fork \
        UDP4-DATAGRAM:127.0.0.1:17000,bind=127.0.0.1:16000 >/dev/null 2>&1 &
    sleep 0.5
    sip_target=$(lab_reach 5060)
    inc socat UDP4-DATAGRAM:127.0.0.1:16000,bind=127.0.0.1:17000 \
        "SOCKS4A:${hp%:*}:$SERVER_ADDR:5072,socksport=${hp##*:}" >/dev/null 2>&1 &
    uac_args=(-t t1 -i 127.0.0.1 -mi 127.0.0.1 -mp 16000)
else
    ins sipp "${sipp_common[@]}" -sf "$WORK/uas.xml" -i "$SERVER_ADDR" -p 5060 \
        -mi "$SERVER_ADDR" -mp 17000 -error_file "$WORK/uas.err" >/dev/null 2>&1 &
    sip_target=$SERVER_ADDR:5060
    uac_args=(-i "$client_addr" -mi "$client_addr" -mp 16000)
fi
sleep 0.5

while :; do
    call_s=$(rnd "$call_lo" "$call_hi")
    inc sipp "${sipp_common[@]}" -sf "$WORK/uac.xml" "${uac_args[@]}" -p 5060 -m 1 \
        -d $((call_s * 1000)) -timeout $((call_s + 30))s -error_file "$WORK/uac.err" \
        "$sip_target" >/dev/null 2>&1
    think 1000 5000
done
