#!/usr/bin/env python3
"""Generate a static multi-page web site for the lab's `web` application.

Page and object sizes are drawn from heavy-tailed distributions so that pages
differ the way real ones do: a few large images, many small icons, scripts and
style sheets. Images are random bytes (content does not matter to an observer
of encrypted traffic, only sizes do) with a real file signature.
Usage: gen_site.py OUTDIR SEED
"""
import os
import random
import sys


def lognormal_size(rng, median, sigma, lo, hi):
    return int(min(hi, max(lo, rng.lognormvariate(0, sigma) * median)))


def main():
    out, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    os.makedirs(os.path.join(out, "static"), exist_ok=True)
    n_pages = rng.randint(12, 40)
    # Shared assets, cached by the browser after the first page.
    shared = []
    for i in range(rng.randint(2, 5)):
        ext = rng.choice(["css", "js"])
        name = f"static/site{i}.{ext}"
        size = lognormal_size(rng, 30_000, 1.0, 2_000, 400_000)
        filler = "/* tapir lab */\n" if ext == "css" else "// tapir lab\n"
        with open(os.path.join(out, name), "w") as f:
            f.write((filler * (size // len(filler) + 1))[:size])
        shared.append(name)
    for p in range(n_pages):
        objs = []
        for j in range(rng.randint(2, 25)):
            kind = rng.choices(["jpg", "png", "js", "css"], [5, 3, 2, 1])[0]
            if kind in ("jpg", "png"):
                size = lognormal_size(rng, 25_000, 1.3, 300, 2_000_000)
            else:
                size = lognormal_size(rng, 12_000, 1.0, 500, 300_000)
            name = f"static/p{p}_{j}.{kind}"
            magic = {"jpg": b"\xff\xd8\xff\xe0", "png": b"\x89PNG\r\n\x1a\n"}.get(kind, b"")
            with open(os.path.join(out, name), "wb") as f:
                f.write(magic + os.urandom(max(0, size - len(magic))))
            objs.append((kind, name))
        links = rng.sample(range(n_pages), k=min(n_pages, rng.randint(3, 10)))
        text_len = lognormal_size(rng, 15_000, 0.8, 1_000, 200_000)
        words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do".split()
        body = " ".join(rng.choice(words) for _ in range(text_len // 6))
        head = "".join(
            f'<link rel="stylesheet" href="/{s}">' if s.endswith("css") else f'<script src="/{s}"></script>'
            for s in shared
        )
        tags = []
        for kind, name in objs:
            if kind in ("jpg", "png"):
                tags.append(f'<img src="/{name}" width="10" height="10">')
            elif kind == "js":
                tags.append(f'<script src="/{name}"></script>')
            else:
                tags.append(f'<link rel="stylesheet" href="/{name}">')
        nav = " ".join(f'<a href="/page{l}.html">page {l}</a>' for l in links)
        html = (
            f"<!doctype html><html><head><title>page {p}</title>{head}</head><body>"
            f"<nav>{nav}</nav><p>{body}</p>{''.join(tags)}</body></html>"
        )
        with open(os.path.join(out, f"page{p}.html"), "w") as f:
            f.write(html)
    os.symlink("page0.html", os.path.join(out, "index.html"))
    print(n_pages)


if __name__ == "__main__":
    main()
