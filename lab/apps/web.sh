#!/usr/bin/env bash
# web: headless Chromium browses a generated multi-page HTTPS site served by nginx.
# Each page view is one Chromium run (--dump-dom waits for the load event, so all
# images, scripts and style sheets are fetched over parallel HTTP/2 streams);
# the profile directory is kept, so shared assets come from the cache as in a
# real session. The next page is a link of the current one, after a think time.
source "$(dirname "$0")/common.sh"

site=$WORK/site
n_pages=$(python3 "$LAB_DIR/apps/gen_site.py" "$site" "$SEED")
lab_nginx web "$site" 443
think_lo=$(rnd 500 2000)
think_hi=$((think_lo + $(rnd 2000 8000)))
details "chromium https/h2 pages=$n_pages think_ms=$think_lo-$think_hi"

proxy_args=()
[[ -n $PROXY ]] && proxy_args=("--proxy-server=${PROXY/socks5h/socks5}")
profile=$WORK/chromium-profile
mkdir -p "$profile"
page=0
while :; do
    inc timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --ignore-certificate-errors --user-data-dir="$profile" \
        "${proxy_args[@]}" --dump-dom "https://$SERVER_ADDR/page$page.html" \
        >"$WORK/page.html" 2>/dev/null
    links=($(grep -o 'href="/page[0-9]*\.html"' "$WORK/page.html" | grep -o '[0-9]\+'))
    if ((${#links[@]})); then
        page=${links[$((RANDOM % ${#links[@]}))]}
    else
        page=$(rnd 0 $((n_pages - 1)))
    fi
    think "$think_lo" "$think_hi"
done
