#!/usr/bin/env bash
# Checks a `tapir experiment` report folder.
#
#   scripts/check-report.sh [--structure-only] [REPORT_DIR]     (default: experiment-report)
#
# 1. Structure (no browser): index.html and results.json exist and parse, every figure holds an
#    inline <svg>, every PNG it links to exists and is a PNG, nothing points outside the folder.
# 2. Browser (skipped with --structure-only): opens index.html in headless Chromium (installed
#    from Debian packages when missing) with every host name unresolvable, so any network
#    request would fail loudly; fails on console errors and on figures that did not render.
set -euo pipefail

structure_only=0
if [[ "${1:-}" == "--structure-only" ]]; then
    structure_only=1
    shift
fi
dir="${1:-experiment-report}"
index="$dir/index.html"

fail() {
    echo "check-report: FAIL: $*" >&2
    exit 1
}

[[ -f "$index" ]] || fail "$index not found (run: tapir experiment --out $dir)"
[[ -f "$dir/results.json" ]] || fail "$dir/results.json not found"

# --- 1. structure -----------------------------------------------------------------------------
python3 - "$dir" <<'PY' || exit 1
import json, os, re, sys
d = sys.argv[1]
html = open(os.path.join(d, "index.html"), encoding="utf-8").read()
def fail(msg):
    print(f"check-report: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)
try:
    results = json.load(open(os.path.join(d, "results.json")))
except ValueError as e:
    fail(f"results.json does not parse: {e}")
if not results.get("conditions"):
    fail("results.json has no conditions")
if not html.startswith("<!DOCTYPE html>") or "</html>" not in html:
    fail("index.html is not a complete HTML document")
figures = re.findall(r'<figure class="fig" id="([^"]+)">(.*?)</figure>', html, re.S)
if not figures:
    fail("no figures")
for fid, body in figures:
    if "<svg" not in body or "</svg>" not in body:
        fail(f"figure {fid} has no inline SVG")
    for png in re.findall(r'href="([^"]+\.png)"', body):
        p = os.path.join(d, png)
        if not os.path.isfile(p):
            fail(f"figure {fid}: {png} missing")
        with open(p, "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                fail(f"figure {fid}: {png} is not a PNG")
# Nothing that a browser would fetch from elsewhere: no scripts, stylesheets, images or URLs
# other than the SVG namespace.
for pat, what in [(r"<script", "a script"), (r"<link\b", "a linked resource"),
                  (r"<img\b", "an external image"), (r"<iframe", "a frame"),
                  (r"url\(", "a CSS url()")]:
    if re.search(pat, html, re.I):
        fail(f"index.html contains {what}")
urls = set(re.findall(r'https?://[^\s"\'<>)]+', html)) - {"http://www.w3.org/2000/svg"}
if urls:
    fail(f"index.html refers to {sorted(urls)[:3]}")
sections = re.findall(r'<section id="([^"]+)">', html)
for needed in ["dataset", "examples", "splits"]:
    if needed not in sections:
        fail(f"section {needed} missing")
if not any(s.startswith("table-") for s in sections):
    fail("no accuracy table section")
print(f"check-report: structure ok: {len(figures)} figures, {len(sections)} sections, "
      f"{len(results['conditions'])} condition(s)")
PY

[[ $structure_only == 1 ]] && exit 0

# --- 2. headless Chromium ---------------------------------------------------------------------
browser=""
for b in chromium chromium-browser; do
    command -v "$b" >/dev/null 2>&1 && browser="$b" && break
done
if [[ -z "$browser" ]]; then
    echo "check-report: installing chromium from the Debian packages" >&2
    if [[ $(id -u) -eq 0 ]]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
    browser=chromium
fi

profile=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$profile" "$work"' EXIT
url="file://$(cd "$dir" && pwd)/index.html"
flags=(
    --headless --no-sandbox --disable-gpu
    --disable-background-networking --disable-component-update --disable-sync --no-first-run
    --user-data-dir="$profile"
    # Any host name fails to resolve: a request leaving the file would log an error.
    --host-resolver-rules="MAP * ~NOTFOUND"
    --enable-logging=stderr --v=0
    --window-size=1366,768 --virtual-time-budget=5000
)
timeout 120 "$browser" "${flags[@]}" --dump-dom "$url" >"$work/dom.html" 2>"$work/log.txt" ||
    fail "chromium failed: $(tail -5 "$work/log.txt")"

# Console messages are logged as CONSOLE lines; load failures as net::ERR_.
if grep -E 'CONSOLE|Uncaught|net::ERR_|Failed to load' "$work/log.txt" >"$work/errors.txt"; then
    cat "$work/errors.txt" >&2
    fail "console errors or failed requests while loading $url"
fi

python3 - "$work/dom.html" "$dir/index.html" <<'PY'
import re, sys
dom = open(sys.argv[1], encoding="utf-8", errors="replace").read()
src = open(sys.argv[2], encoding="utf-8").read()
def fail(msg):
    print(f"check-report: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)
want = len(re.findall(r'<figure class="fig"', src))
figs = re.findall(r'<figure class="fig" id="([^"]+)">(.*?)</figure>', dom, re.S)
if len(figs) != want:
    fail(f"browser shows {len(figs)} figures, the file has {want}")
for fid, body in figs:
    # The parser drops an SVG it cannot read; a rendered one keeps its shapes.
    if "<svg" not in body or not re.search(r"<(rect|polyline|text)\b", body):
        fail(f"figure {fid} did not render")
print(f"check-report: browser ok: {len(figs)} figures rendered, no console errors")
PY
