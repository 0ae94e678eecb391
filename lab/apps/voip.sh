#!/usr/bin/env bash
# voip: calls from a caller in the client namespace to a callee in the server
# namespace, one after the other with short gaps; codec, packetisation and call
# lengths come from the seed. The program is drawn too (lab/run --programs):
#   sipp     SIPp caller and callee with RTP both ways at 20 ms packetisation
#            played from generated pcaps (make_rtp_pcap.py), every codec
#            including G.729 and an Opus-like VBR stream;
#   baresip  two baresip user agents, the callee answering automatically, each
#            sending a speech-like signal (make_speech_wav.py, talk spurts and
#            pauses) through its real encoder: G.711, G.722 or Opus (VBR, with
#            or without DTX, i.e. silence suppression), 20-60 ms packetisation;
#   webrtc   two headless Chromium pages in a WebRTC call (ICE, DTLS-SRTP, RTCP
#            multiplexed on one UDP port pair), signalled over HTTP by
#            webrtc_signal.py in the server namespace, the same speech-like
#            signal as the fake microphone; Opus (DTX on or off), G.711 or G.722.
#
# VOIP_MODE=tcp (tor): Tor carries only TCP, so SIP runs over TCP and each RTP
# direction is carried over its own TCP connection: socat relays turn the
# datagrams into a byte stream through SOCKS4A on the client side and back into
# datagrams on the server side (see docs/lab.md). Only SIPp is drawn then.
source "$(dirname "$0")/common.sh"

prog=$(pick voip sipp baresip webrtc)
[[ $VOIP_MODE == tcp ]] && prog=sipp
program "$prog"
call_lo=$(rnd 15 40)
call_hi=$((call_lo + $(rnd 10 60)))
client_addr=$(inc ip -o route get "$SERVER_ADDR" | grep -o 'src [0-9.]*' | cut -d' ' -f2)

if [[ $prog == webrtc ]]; then
    codecs=(opus pcmu pcma g722)
    codec=${codecs[$(rnd 0 3)]}
    ptimes=(20 40 60)
    ptime=${ptimes[$(rnd 0 2)]}
    dtx=$(rnd 0 1)
    details "webrtc chromium codec=$codec ptime=${ptime}ms$([[ $codec == opus ]] && echo " dtx=$dtx") call_s=$call_lo-$call_hi"
    for side in caller callee; do
        python3 "$LAB_DIR/apps/make_speech_wav.py" "$WORK/$side.wav" $((call_hi + 10)) $((SEED * 2 + ${#side} - 6)) 48000
    done
    origin=http://$SERVER_ADDR:8088
    chrome=(chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
        --disable-component-update --disable-sync --disable-dev-shm-usage --use-fake-ui-for-media-stream
        --use-fake-device-for-media-stream --disable-features=WebRtcHideLocalIpsWithMdns
        --unsafely-treat-insecure-origin-as-secure="$origin" --remote-debugging-port=0)
    ins python3 "$LAB_DIR/apps/webrtc_signal.py" "$SERVER_ADDR" 8088 >"$WORK/signal.log" 2>&1 &
    sleep 0.5
    # Each page offers only its condition address as ICE candidate: the
    # browsers would otherwise find a direct path outside a tunnel.
    q="codec=$codec&ptime=$ptime&dtx=$dtx"
    ins "${chrome[@]}" --user-data-dir="$WORK/callee-profile" --use-file-for-fake-audio-capture="$WORK/callee.wav" \
        "$origin/callee.html?$q&ip=$SERVER_ADDR" >"$WORK/callee.log" 2>&1 &
    sleep 2
    # One caller page per call: it hangs up after the call length, the page is
    # closed and a new one opens after a pause.
    while :; do
        call_s=$(rnd "$call_lo" "$call_hi")
        inc timeout $((call_s + 8)) "${chrome[@]}" --user-data-dir="$WORK/caller-profile" \
            --use-file-for-fake-audio-capture="$WORK/caller.wav" "$origin/caller.html?$q&call=$call_s&ip=$client_addr" \
            >"$WORK/caller.log" 2>&1
        think 1000 5000
    done
fi
if [[ $prog == baresip ]]; then
    codecs=(pcmu pcma g722 opus)
    codec=${codecs[$(rnd 0 3)]}
    ptimes=(20 30 40 60)
    ptime=${ptimes[$(rnd 0 3)]}
    dtx=no opus_kbps=32
    case $codec in
    pcmu) sdp=PCMU/8000/1 rate=8000 ch=1 ;;
    pcma) sdp=PCMA/8000/1 rate=8000 ch=1 ;;
    g722) sdp=G722/8000/1 rate=8000 ch=1 ;; # baresip 1.0 runs G.722 from an 8 kHz source
    opus)
        sdp=opus/48000/2 rate=48000 ch=2
        (($(rnd 0 1))) && dtx=yes
        opus_kbps=$(rnd 12 64)
        ;;
    esac
    details "baresip codec=$codec ptime=${ptime}ms$([[ $codec == opus ]] && echo " opus_kbps=$opus_kbps dtx=$dtx") call_s=$call_lo-$call_hi"
    # ua_config DIR ADDR USER WAV: one user agent; aufile needs the codec's rate and channels.
    ua_config() {
        local d=$1 addr=$2 user=$3 wav=$4
        mkdir -p "$d"
        python3 "$LAB_DIR/apps/make_speech_wav.py" "$d/talk8k.wav" $((call_hi + 10)) "$5"
        ffmpeg -nostdin -loglevel error -y -i "$d/talk8k.wav" -ar "$rate" -ac "$ch" "$wav" || exit 1
        # Media from the condition's address too (baresip would take the
        # default route's, outside a tunnel).
        local ifc
        ifc=$(ip netns exec "$6" ip -o -4 addr show | awk -v a="$addr" '$4 ~ "^" a "/" {print $2}')
        cat >"$d/config" <<CONF
poll_method epoll
sip_listen $addr:5060
net_interface $ifc
audio_player alsa,null
audio_alert alsa,null
audio_source aufile,$wav
audio_level no
module_path /usr/lib/baresip/modules
module g711.so
module g722.so
module opus.so
module aufile.so
module alsa.so
module_app account.so
module_app menu.so
opus_bitrate $((opus_kbps * 1000))
opus_vbr yes
opus_dtx $dtx
rtp_ports 16000-16998
CONF
        echo "<sip:$user@$addr>;regint=0;ptime=$ptime;audio_codecs=$sdp;answermode=auto" >"$d/accounts"
    }
    ua_config "$WORK/callee" "$SERVER_ADDR" callee "$WORK/callee/talk.wav" $((SEED * 2 + 1)) "$NS_S"
    ua_config "$WORK/caller" "$client_addr" caller "$WORK/caller/talk.wav" $((SEED * 2)) "$NS_C"
    ins baresip -f "$WORK/callee" </dev/null >"$WORK/callee.log" 2>&1 &
    sleep 1
    while :; do
        call_s=$(rnd "$call_lo" "$call_hi")
        inc timeout $((call_s + 30)) baresip -f "$WORK/caller" -e "/dial sip:callee@$SERVER_ADDR" \
            -t "$call_s" </dev/null >"$WORK/caller.log" 2>&1
        think 1000 5000
    done
fi

codecs=(pcmu pcma g722 g729 opus)
codec=${codecs[$(rnd 0 $((${#codecs[@]} - 1)))]}
case $codec in
pcmu) pt=0 rtpmap=PCMU/8000 ;;
pcma) pt=8 rtpmap=PCMA/8000 ;;
g722) pt=9 rtpmap=G722/8000 ;;
g729) pt=18 rtpmap=G729/8000 ;;
opus) pt=111 rtpmap=opus/48000/2 ;;
esac
details "sipp codec=$codec ptime=20ms call_s=$call_lo-$call_hi mode=$VOIP_MODE"

# Each side plays its own pcap, long enough for the longest call.
python3 "$LAB_DIR/apps/make_rtp_pcap.py" "$WORK/uac.pcap" "$codec" $((call_hi + 5)) $((SEED * 2))
python3 "$LAB_DIR/apps/make_rtp_pcap.py" "$WORK/uas.pcap" "$codec" $((call_hi + 5)) $((SEED * 2 + 1))
for side in uac uas; do
    sed -e "s|@PCAP@|$WORK/$side.pcap|" -e "s|@PT@|$pt|g" -e "s|@CODEC@|$rtpmap|g" \
        "$LAB_DIR/apps/sipp/$side.xml" >"$WORK/$side.xml"
done

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
