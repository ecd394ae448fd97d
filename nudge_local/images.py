"""Product pictures for the demo, and local previews that show them.

The demo store's catalog keeps what a real catalog has: an absolute https `image_url` per product
(`https://cdn.example.com/img/p00001.jpg`), which the generate function renders into the email
unchanged, as it would in production. Nothing answers at that address, so for people looking at
the demo:

- `product_picture(category, colour)` draws one small PNG per (category, colour): a tinted
  background, a shape for the category, filled with the colour, and a caption. Offline only
  (Pillow, a development dependency): never in the Lambda layer.
- `localize_previews(out_dir, entries, products)` writes the pictures the exported emails show to
  `out_dir/images/` and rewrites, in each local preview (`email.html`, a convenience copy of the
  .eml's HTML part), every `<img src>` that is a catalog `image_url` to the relative path of its
  picture. The .eml and the audit record keep the catalog's https URLs.

    >>> report = localize_previews(Path("out"), manifest_entries, store.products.values())  # doctest: +SKIP
    >>> report["images"], report["rewritten"]  # doctest: +SKIP
    (212, 2436)
"""

from __future__ import annotations

import html
import io
import os
import re
import zlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from nudge.types import Product

IMAGES_DIR = "images"  # under the demo's out/ folder
SIZE = 240  # px, square; the email shows 120 px (96 on a phone), so 2x for dense screens
SUPERSAMPLE = 3  # drawn at 3x and scaled down: Pillow's shapes have no anti-aliasing of their own
PALETTE_COLOURS = 48  # PNG palette size: flat drawings need few, and the files stay ~3-5 KB

# The demo generator's colour words (nudge/store/vocabulary.py) as sRGB; others fall back to NEUTRAL.
COLOUR_RGB: dict[str, tuple[int, int, int]] = {
    "amber": (214, 140, 40), "berry": (142, 36, 82), "black": (34, 34, 38), "blue": (52, 102, 184),
    "blush": (232, 170, 170), "charcoal": (64, 66, 72), "coral": (240, 122, 100), "cream": (244, 234, 208),
    "duck egg": (186, 218, 212), "forest green": (34, 92, 56), "gold": (206, 166, 62), "grey": (150, 150, 154),
    "heather": (160, 132, 168), "ink blue": (38, 56, 104), "ivory": (246, 240, 222), "moss": (112, 128, 62),
    "mustard": (214, 168, 46), "natural": (222, 204, 168), "navy": (30, 44, 88), "oat": (218, 200, 164),
    "ochre": (200, 132, 40), "olive": (120, 120, 50), "pink": (236, 146, 180), "plum": (106, 46, 86),
    "red": (196, 44, 44), "rose gold": (212, 152, 136), "rust": (172, 72, 36), "sage green": (150, 170, 130),
    "sage": (150, 170, 130), "sand": (214, 190, 150), "silver": (186, 190, 196), "slate": (92, 106, 120),
    "smoked grey": (112, 112, 116), "stone": (184, 176, 160), "teal": (30, 120, 124),
    "terracotta": (190, 96, 64), "white": (250, 250, 250), "yellow": (240, 206, 64),
}
NEUTRAL = (176, 168, 156)  # no colour in the catalog, or a word this table does not know

# Category → shape; an unknown category gets a shape picked by a stable hash of its name.
SHAPE_OF: dict[str, str] = {
    "candles": "jar", "home fragrance": "jar", "bath & body": "bottle", "mugs": "mug", "teapots": "mug",
    "tableware": "plate", "clocks": "plate", "cushions": "cushion", "throws": "folded", "rugs": "rug",
    "towels": "folded", "bedding": "folded", "kitchen textiles": "folded", "scarves": "folded",
    "socks": "folded", "gloves": "folded", "slippers": "folded", "vases": "vase", "glassware": "vase",
    "planters": "pot", "garden": "pot", "photo frames": "frame", "wall art": "frame", "notebooks": "frame",
    "lamps": "lamp", "bags": "bag", "hats": "hat", "jewellery": "ring", "games & puzzles": "box", "toys": "box",
}
SHAPES = ("jar", "bottle", "mug", "plate", "cushion", "folded", "rug", "vase", "pot", "frame", "lamp", "bag", "hat",
          "ring", "box")

_IMG_SRC = re.compile(r'(<img\b[^>]*?\ssrc=")([^"]*)(")', re.IGNORECASE)


def _mix(rgb: tuple[int, int, int], other: tuple[int, int, int], share: float) -> tuple[int, int, int]:
    """`share` of `other` mixed into `rgb` (0 → rgb, 1 → other)."""
    return tuple(round(a + (b - a) * share) for a, b in zip(rgb, other, strict=True))  # type: ignore[return-value]


def _shape(category: str) -> str:
    return SHAPE_OF.get(category.strip().lower()) or SHAPES[zlib.crc32(category.encode("utf-8")) % len(SHAPES)]


def _draw(draw: Any, shape: str, fill: tuple[int, int, int], line: tuple[int, int, int], s: float) -> None:
    """One shape in a 240 x 240 box scaled by `s`, centred above the caption."""

    def box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [x0 * s, y0 * s, x1 * s, y1 * s]

    w = round(4 * s)  # outline width: keeps white and cream shapes visible on their tint
    kw = {"fill": fill, "outline": line, "width": w}
    if shape == "jar":
        draw.rounded_rectangle(box(78, 62, 162, 176), radius=14 * s, **kw)
        draw.rectangle(box(114, 40, 126, 62), fill=line)  # wick
        draw.ellipse(box(110, 22, 130, 44), fill=(250, 190, 70))  # flame
    elif shape == "bottle":
        draw.rounded_rectangle(box(84, 78, 156, 178), radius=16 * s, **kw)
        draw.rectangle(box(108, 50, 132, 80), **kw)
        draw.rectangle(box(100, 34, 140, 52), fill=line)
    elif shape == "mug":
        draw.ellipse(box(138, 82, 186, 146), outline=line, width=round(12 * s))  # handle
        draw.rounded_rectangle(box(62, 60, 152, 176), radius=12 * s, **kw)
    elif shape == "plate":
        draw.ellipse(box(46, 32, 194, 180), **kw)
        draw.ellipse(box(82, 68, 158, 144), outline=line, width=w)
    elif shape == "cushion":
        draw.rounded_rectangle(box(44, 44, 196, 172), radius=34 * s, **kw)
        draw.rounded_rectangle(box(62, 62, 178, 154), radius=24 * s, outline=line, width=max(1, w // 2))
    elif shape == "folded":
        for i, y in enumerate((132, 100, 68)):  # a stack, the top one lightest
            draw.rounded_rectangle(box(48 + i * 6, y, 192 - i * 6, y + 42), radius=10 * s,
                                   fill=_mix(fill, (255, 255, 255), 0.12 * i), outline=line, width=w)
    elif shape == "rug":
        draw.rectangle(box(40, 52, 200, 164), **kw)
        draw.rectangle(box(62, 74, 178, 142), outline=line, width=w)
        for x in range(40, 201, 16):  # fringe
            draw.line([x * s, 164 * s, x * s, 178 * s], fill=line, width=max(1, w // 2))
    elif shape == "vase":
        draw.polygon([(x * s, y * s) for x, y in ((104, 30), (136, 30), (132, 62), (172, 112), (150, 178),
                                                   (90, 178), (68, 112), (108, 62))], fill=fill, outline=line, width=w)
    elif shape == "pot":
        draw.ellipse(box(86, 22, 124, 80), fill=(84, 130, 70))  # leaves
        draw.ellipse(box(116, 16, 154, 80), fill=(64, 112, 58))
        draw.polygon([(x * s, y * s) for x, y in ((64, 84), (176, 84), (158, 178), (82, 178))], fill=fill, outline=line, width=w)
        draw.rectangle(box(56, 78, 184, 98), **kw)
    elif shape == "frame":
        draw.rectangle(box(52, 30, 188, 178), **kw)
        draw.rectangle(box(74, 52, 166, 156), fill=_mix(fill, (255, 255, 255), 0.7), outline=line, width=max(1, w // 2))
    elif shape == "lamp":
        draw.polygon([(x * s, y * s) for x, y in ((88, 30), (152, 30), (184, 100), (56, 100))], fill=fill, outline=line, width=w)
        draw.rectangle(box(114, 100, 126, 160), fill=line)
        draw.rounded_rectangle(box(78, 158, 162, 178), radius=8 * s, fill=line)
    elif shape == "bag":
        draw.arc(box(82, 26, 158, 110), start=180, end=360, fill=line, width=round(10 * s))
        draw.rounded_rectangle(box(50, 68, 190, 178), radius=14 * s, **kw)
    elif shape == "hat":
        draw.pieslice(box(70, 40, 170, 160), start=180, end=360, **kw)
        draw.rounded_rectangle(box(36, 98, 204, 124), radius=12 * s, **kw)
    elif shape == "ring":
        draw.ellipse(box(58, 58, 182, 178), outline=line, width=round(22 * s))
        draw.ellipse(box(62, 62, 178, 174), outline=fill, width=round(14 * s))
        gem = ((100, 36), (140, 36), (150, 50), (120, 76), (90, 50))
        draw.polygon([(x * s, y * s) for x, y in gem], fill=(214, 236, 246), outline=line, width=w)
    else:  # "box"
        draw.rectangle(box(52, 34, 188, 170), **kw)
        for x in (97, 143):
            draw.line([x * s, 34 * s, x * s, 170 * s], fill=line, width=w)
        for y in (79, 125):
            draw.line([52 * s, y * s, 188 * s, y * s], fill=line, width=w)


@lru_cache(maxsize=1024)
def product_picture(category: str, colour: str) -> bytes:
    """A SIZE x SIZE PNG for a product of `category` in `colour` (same arguments, same bytes).

    >>> product_picture("mugs", "sage green")[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    from PIL import Image, ImageDraw, ImageFont  # development dependency: only the demo draws pictures

    colour = colour.strip().lower()
    fill = COLOUR_RGB.get(colour, NEUTRAL)
    line = _mix(fill, (20, 20, 24), 0.55)
    background = _mix(fill, (255, 255, 255), 0.82 if sum(fill) < 600 else 0.0)
    if sum(background) > 720:  # a white or ivory product on white: give it a soft grey ground
        background = (226, 224, 220)
    big = SIZE * SUPERSAMPLE
    image = Image.new("RGB", (big, big), background)
    draw = ImageDraw.Draw(image)
    shadow = [50 * SUPERSAMPLE, 172 * SUPERSAMPLE, 190 * SUPERSAMPLE, 190 * SUPERSAMPLE]
    draw.ellipse(shadow, fill=_mix(background, (0, 0, 0), 0.12))
    _draw(draw, _shape(category), fill, line, SUPERSAMPLE)
    image = image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    caption = " ".join(part for part in (colour, category.strip().lower()) if part)[:28]
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=15)
    width = draw.textlength(caption, font=font)
    draw.text(((SIZE - width) / 2, SIZE - 38), caption, fill=_mix(background, (0, 0, 0), 0.75), font=font)
    buffer = io.BytesIO()
    image.quantize(colors=PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        buffer, format="PNG", optimize=True
    )
    return buffer.getvalue()


def picture_name(category: str, colour: str) -> str:
    """The file name of a (category, colour) picture: `mugs--sage-green.png`, ASCII and URL-safe."""

    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")

    readable = f"{slug(category) or 'product'}--{slug(colour) or 'plain'}"
    digest = zlib.crc32(f"{category.strip().lower()}\x00{colour.strip().lower()}".encode()) & 0xFFFF
    return f"{readable}-{digest:04x}.png"  # the digest keeps "bath & body" and "bath body" apart


def localize_previews(out_dir: Path, entries: Iterable[dict[str, Any]], products: Iterable[Product]) -> dict[str, Any]:
    """Point the image URLs of each entry's local preview (`html_path`) at pictures in out_dir/images/.

    Only `<img src>` values equal to a product's catalog `image_url` are rewritten; anything else
    (an open pixel, a URL the catalog does not hold) is left as it is and counted in `unmapped`.
    Writes each picture once. Returns counts: previews, rewritten, unmapped, images, image_bytes.
    """
    out_dir = Path(out_dir)
    images_dir = out_dir / IMAGES_DIR
    by_url: dict[str, tuple[str, str]] = {p.image_url: (p.category, p.colour) for p in products if p.image_url}
    written: dict[str, int] = {}  # file name → bytes
    previews = rewritten = 0
    unmapped: set[str] = set()
    for entry in entries:
        if not entry.get("html_path"):
            continue
        path = out_dir / entry["html_path"]
        relative_dir = Path(os.path.relpath(images_dir, path.parent)).as_posix()

        def local(match: re.Match[str]) -> str:
            nonlocal rewritten
            url = html.unescape(match.group(2))
            key = by_url.get(url)
            if key is None:
                if url.lower().startswith(("http://", "https://")):  # a relative src is already local
                    unmapped.add(url)
                return match.group(0)
            name = picture_name(*key)
            if name not in written:
                images_dir.mkdir(parents=True, exist_ok=True)
                data = product_picture(*key)
                (images_dir / name).write_bytes(data)
                written[name] = len(data)
            rewritten += 1
            return f"{match.group(1)}{relative_dir}/{name}{match.group(3)}"

        page = path.read_text(encoding="utf-8")
        local_page = _IMG_SRC.sub(local, page)
        if local_page != page:
            path.write_text(local_page, encoding="utf-8")
        previews += 1
    return {
        "previews": previews,
        "rewritten": rewritten,
        "unmapped": sorted(unmapped),
        "images": len(written),
        "image_bytes": sum(written.values()),
        "dir": str(images_dir),
    }
