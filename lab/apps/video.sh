#!/usr/bin/env bash
# video: HLS or DASH over HTTPS, played in real time by ffmpeg, mpv or GStreamer.
#
# ffmpeg encodes 120 s of a test pattern with temporal noise (so the encoder
# cannot compress it to nothing) and a sine tone once per rung of a 5-rung
# ladder (300 kbit/s to 8 Mbit/s, keyframe every 2 s); the rungs are cached and
# packaged by stream copy, on demand, into HLS (MPEG-TS segments) or DASH
# (fragmented MP4, separate audio and video segments) with 2-10 s segments.
# nginx serves them. The client plays one rung (standing in for an adaptive
# player's choice) in real time, so the segments arrive at playback pace after
# a start-up burst that fills the player's buffer:
#   ffmpeg    -re, stream copy, no read-ahead beyond the segment in hand;
#   mpv       null outputs, frames not decoded, a read-ahead cache of 5-60 s;
#   gstreamer uridecodebin (souphttpsrc + hlsdemux/dashdemux) to parsed
#             streams, fakesink sync=true, the demuxer's own buffering.
# PLAY_PROGRAM=ffmpeg|mpv|gstreamer and VIDEO_FORMAT=hls|dash restrict the draw.
source "$(dirname "$0")/common.sh"

ladder=(300 1000 2500 5000 8000)
length=120
cache=${TAPIR_LAB_CACHE:-/tmp/tapir-lab-cache}/video
mkdir -p "$cache"

# encode_rungs: one MP4 per rung, keyframe every 2 s so that every segment
# length in 2..10 s can be cut by stream copy. About a minute of CPU per rung.
encode_rungs() {
    local kbps h
    for kbps in "${ladder[@]}"; do
        [[ -s $cache/rung-$kbps.mp4 ]] && continue
        h=$((kbps >= 5000 ? 720 : kbps >= 2500 ? 540 : kbps >= 1000 ? 360 : 240))
        nice ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc2=size=$((h * 16 / 9 / 2 * 2))x$h:rate=25" \
            -f lavfi -i "sine=frequency=440:sample_rate=44100" -t "$length" \
            -vf "noise=alls=$((kbps >= 5000 ? 30 : 12)):allf=t" \
            -c:v libx264 -preset ultrafast -b:v "${kbps}k" -maxrate "${kbps}k" \
            -bufsize "$((kbps * 2))k" -g 50 -keyint_min 50 -sc_threshold 0 \
            -c:a aac -b:a 96k -movflags +faststart "$cache/tmp-$kbps.mp4" || return 1
        mv "$cache/tmp-$kbps.mp4" "$cache/rung-$kbps.mp4"
    done
}

# package FORMAT SEG KBPS: prints the playlist's path below $cache.
package() {
    local fmt=$1 seg=$2 kbps=$3 d=$cache/$1-$2/$3
    if [[ ! -e $d/done ]]; then
        rm -rf "$d" && mkdir -p "$d"
        if [[ $fmt == hls ]]; then
            ffmpeg -nostdin -loglevel error -i "$cache/rung-$kbps.mp4" -c copy -bsf:v h264_mp4toannexb \
                -f hls -hls_time "$seg" -hls_playlist_type vod -hls_segment_filename "$d/seg%03d.ts" \
                "$d/index.m3u8" || return 1
        else
            ffmpeg -nostdin -loglevel error -i "$cache/rung-$kbps.mp4" -map 0:v -map 0:a -c copy \
                -f dash -seg_duration "$seg" -use_template 1 -use_timeline 0 \
                -init_seg_name 'init-$RepresentationID$.m4s' \
                -media_seg_name 'chunk-$RepresentationID$-$Number%05d$.m4s' "$d/manifest.mpd" || return 1
        fi
        touch "$d/done"
    fi
    [[ $fmt == hls ]] && echo "$fmt-$seg/$kbps/index.m3u8" || echo "$fmt-$seg/$kbps/manifest.mpd"
}

# Slots share the cache: one encoder at a time.
exec 9>"$cache/lock"
flock 9
encode_rungs || exit 1
[[ ${PREPARE_ONLY:-} ]] && exit 0

program=$(pick video ffmpeg mpv gstreamer)
program=${PLAY_PROGRAM:-$program}
formats=(hls dash)
fmt=${formats[$(rnd 0 1)]}
fmt=${VIDEO_FORMAT:-$fmt}
seg=$((2 * $(rnd 1 5)))
seg=${HLS_SEGMENT_S:-$seg}
kbps=${ladder[$(rnd 0 4)]}
buffer_s=$(rnd 5 60)
playlist=$(package "$fmt" "$seg" "$kbps") || exit 1
flock -u 9
exec 9>&-

program "$program"
case $program in
ffmpeg) buf="buffer=segment" ;;
mpv) buf="readahead_s=$buffer_s" ;;
gstreamer) buf="buffer=demuxer-default" ;;
esac
details "$program $fmt segment_s=$seg kbps=$kbps $buf length_s=$length"

# GStreamer verifies certificates: the server's certificate names its address
# (also 127.0.0.1 for the relay under Tor) and the player trusts it alone.
lab_cert "$WORK/nginx-video" "$SERVER_ADDR"
lab_nginx video "$cache" 8443
target=$(lab_reach 8443)
url=https://$target/$playlist

while :; do
    case $program in
    ffmpeg)
        inc ffmpeg -nostdin -loglevel error -re -i "$url" -map 0 -c copy -f null - >/dev/null 2>&1
        ;;
    mpv)
        inc mpv --no-config --no-terminal --really-quiet --vo=null --ao=null --tls-verify=no \
            --vd-lavc-skipframe=all --vd-lavc-skiploopfilter=all --cache=yes --cache-secs="$buffer_s" \
            --demuxer-max-bytes=200MiB --demuxer-readahead-secs="$buffer_s" "$url" >/dev/null 2>&1
        ;;
    gstreamer)
        inc unshare -m bash -c 'mount --bind "$1" /etc/ssl/certs/ca-certificates.crt && shift &&
            exec gst-launch-1.0 -q "$@"' _ "$WORK/nginx-video/ca.pem" \
            uridecodebin uri="$url" caps="video/x-h264;audio/mpeg" name=d \
            d. ! queue ! fakesink sync=true d. ! queue ! fakesink sync=true >"$WORK/gst.log" 2>&1
        ;;
    esac
    think 1000 4000
done
