#!/usr/bin/env bash
# web: a user or a tool browses a generated multi-page HTTPS site served by nginx
# (HTTP/2 on 443, HTTP/1.1 only on 8444). The program is drawn from the seed
# (WEB_PROGRAM or lab/run --programs restricts it):
#   chromium  headless, one run per page view (--dump-dom waits for the load
#             event, so every object is fetched), profile and cache kept;
#   firefox   headless firefox-esr, --screenshot of each page (after the load
#             event), its own profile with the lab certificate trusted;
#   wget      a crawler: page plus requisites, or the page and everything it
#             links one level deep, one HTTP/1.1 connection, fetches in sequence;
#   curl      the page, then its objects in parallel (1-8 at once) over HTTP/2
#             (one multiplexed connection) or HTTP/1.1 (a connection each).
# The browsers use HTTP/2 or HTTP/1.1 as drawn; the next page is a link of the
# current one, after a think time.
source "$(dirname "$0")/common.sh"

site=$WORK/site
n_pages=$(python3 "$LAB_DIR/apps/gen_site.py" "$site" "$SEED")
prog=$(pick web chromium firefox wget curl)
prog=${WEB_PROGRAM:-$prog}
program "$prog"
# Firefox checks the certificate against its name (the address), the others skip checks.
lab_cert "$WORK/nginx-web" "$SERVER_ADDR"
lab_nginx web "$site" 443 8444
think_lo=$(rnd 500 2000)
think_hi=$((think_lo + $(rnd 2000 8000)))
if (($(rnd 0 1))); then http=h2 port=443; else http=http/1.1 port=8444; fi
[[ $prog == wget ]] && http=http/1.1
base=https://$SERVER_ADDR:$port # the browsers and curl speak SOCKS themselves
case $prog in
chromium | firefox) extra="" ;;
wget)
    if (($(rnd 0 1))); then mode=crawl; else mode=page; fi
    wait_ms=$(rnd 0 1500)
    extra="mode=$mode wait_ms=$wait_ms"
    base=https://$(lab_reach "$port")
    ;;
curl)
    par=$(rnd 1 8)
    extra="parallel=$par"
    ;;
esac
details "$prog https $http pages=$n_pages think_ms=$think_lo-$think_hi $extra"

profile=$WORK/profile
mkdir -p "$profile"
if [[ $prog == firefox ]]; then
    certutil -N -d "sql:$profile" --empty-password
    certutil -A -d "sql:$profile" -n tapir-lab -t "CT,," -i "$WORK/nginx-web/ca.pem"
    {
        # Quiet: no update, telemetry, safe-browsing or captive-portal traffic.
        for pref in app.update.enabled:false datareporting.policy.dataSubmissionEnabled:false \
            toolkit.telemetry.enabled:false browser.safebrowsing.malware.enabled:false \
            browser.safebrowsing.phishing.enabled:false network.captive-portal-service.enabled:false \
            network.connectivity-service.enabled:false browser.shell.checkDefaultBrowser:false \
            extensions.update.enabled:false browser.aboutwelcome.enabled:false \
            network.http.http3.enable:false network.dns.disablePrefetch:true network.prefetch-next:false \
            "browser.startup.homepage_override.mstone:\"ignore\"" "network.http.http2.enabled:$([[ $http == h2 ]] && echo true || echo false)"; do
            echo "user_pref(\"${pref%%:*}\", ${pref#*:});"
        done
        if [[ -n $PROXY ]]; then
            hp=${PROXY#*://}
            echo 'user_pref("network.proxy.type", 1);'
            echo "user_pref(\"network.proxy.socks\", \"${hp%:*}\");"
            echo "user_pref(\"network.proxy.socks_port\", ${hp##*:});"
            echo 'user_pref("network.proxy.socks_remote_dns", true);'
        fi
    } >"$profile/user.js"
fi
proxy_args=()
[[ -n $PROXY && $prog == chromium ]] && proxy_args=("--proxy-server=${PROXY/socks5h/socks5}")
[[ -n $PROXY && $prog == curl ]] && proxy_args=(--proxy "$PROXY")
h1_args=()
[[ $prog == chromium && $http == http/1.1 ]] && h1_args=(--disable-http2)

# visit N: load page N and everything it needs; the page's HTML ends up in $WORK/page.html.
visit() {
    local url=$base/page$1.html
    case $prog in
    chromium)
        inc timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --disable-dev-shm-usage --ignore-certificate-errors --user-data-dir="$profile" \
            "${proxy_args[@]}" "${h1_args[@]}" --dump-dom "$url" >"$WORK/page.html" 2>/dev/null
        ;;
    firefox)
        HOME=$WORK MOZ_HEADLESS=1 inc timeout 90 firefox-esr --headless --profile "$profile" \
            --screenshot "$WORK/shot.png" "$url" >/dev/null 2>&1
        cp "$site/page$1.html" "$WORK/page.html"
        ;;
    wget)
        local rec=(--page-requisites)
        [[ $mode == crawl ]] && rec=(--recursive --level=1 --page-requisites)
        inc timeout 300 wget -q --no-check-certificate -e robots=off --no-cache --delete-after \
            --wait="$(awk -v ms="$wait_ms" 'BEGIN{printf "%.3f", ms/1000}')" --random-wait \
            --directory-prefix="$WORK/wget" "${rec[@]}" "$url" >/dev/null 2>&1
        cp "$site/page$1.html" "$WORK/page.html"
        ;;
    curl)
        local ver=--http2 o urls=()
        [[ $http == http/1.1 ]] && ver=--http1.1
        inc curl -ksS "$ver" "${proxy_args[@]}" --max-time 60 -o "$WORK/page.html" "$url" 2>/dev/null
        for o in $(grep -o '\(src\|href\)="/static/[^"]*"' "$WORK/page.html" | cut -d'"' -f2); do
            urls+=("$base$o" -o /dev/null)
        done
        ((${#urls[@]})) && inc curl -ksS "$ver" "${proxy_args[@]}" --max-time 120 --parallel \
            --parallel-max "$par" "${urls[@]}" 2>/dev/null
        ;;
    esac
}

page=0
while :; do
    visit "$page"
    links=($(grep -o 'href="/page[0-9]*\.html"' "$WORK/page.html" | grep -o '[0-9]\+'))
    if ((${#links[@]})); then
        page=${links[$((RANDOM % ${#links[@]}))]}
    else
        page=$(rnd 0 $((n_pages - 1)))
    fi
    think "$think_lo" "$think_hi"
done
