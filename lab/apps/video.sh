#!/usr/bin/env bash
# video: HLS over HTTPS. ffmpeg encodes a test pattern with noise (so the
# encoder cannot compress it to nothing) and a sine tone into a 3-rung bitrate
# ladder with 2, 4 or 6 s segments; nginx serves it; the client plays one rung in
# real time (ffmpeg -re, stream copy), fetching each segment as playback needs
# it, the way a player with a short buffer does. The rung stands in for the
# player's adaptive choice and is drawn from the seed.
source "$(dirname "$0")/common.sh"

seg=$((2 * $(rnd 1 3)))
seg=${HLS_SEGMENT_S:-$seg}
ladder=(500 1200 2500)
length=150
# Encoding is the slow part (about a minute of CPU per rung): the ladder is
# cached per segment length and shared by every run; lab/run prepares it first.
cache=${TAPIR_LAB_CACHE:-/tmp/tapir-lab-cache}/hls-$seg
if [[ ! -e $cache/done ]]; then
    rm -rf "$cache" && mkdir -p "$cache"
    for kbps in "${ladder[@]}"; do
        h=$((kbps >= 2500 ? 720 : kbps >= 1200 ? 540 : 360))
        mkdir -p "$cache/$kbps"
        nice ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc2=size=$((h * 16 / 9 / 2 * 2))x$h:rate=25" \
            -f lavfi -i "sine=frequency=440:sample_rate=44100" -t "$length" \
            -vf "noise=alls=12:allf=t" \
            -c:v libx264 -preset ultrafast -b:v "${kbps}k" -maxrate "${kbps}k" \
            -bufsize "$((kbps * 2))k" -g $((25 * seg)) -keyint_min $((25 * seg)) -sc_threshold 0 \
            -c:a aac -b:a 96k -f hls -hls_time "$seg" -hls_playlist_type vod \
            -hls_segment_filename "$cache/$kbps/seg%03d.ts" "$cache/$kbps/index.m3u8" || exit 1
        printf '#EXT-X-STREAM-INF:BANDWIDTH=%d\n%d/index.m3u8\n' $((kbps * 1100)) "$kbps" >>"$cache/master.body"
    done
    { echo '#EXTM3U'; cat "$cache/master.body"; } >"$cache/master.m3u8"
    touch "$cache/done"
fi
[[ ${PREPARE_ONLY:-} ]] && exit 0
choice=${ladder[$(rnd 0 2)]}
lab_nginx video "$cache" 8443
details "hls ffmpeg segment_s=$seg ladder_kbps=500/1200/2500 played_kbps=$choice length_s=$length"
target=$(lab_reach 8443)
while :; do
    inc ffmpeg -nostdin -loglevel error -re -i "https://$target/$choice/index.m3u8" \
        -map 0 -c copy -f null - >/dev/null 2>&1
    think 1000 4000
done
