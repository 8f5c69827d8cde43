"""Real PNG stills drawn from a prompt.

The picture is deterministic for a given (prompt, size, references): colours,
gradient direction and shapes are seeded from a SHA-256 of the prompt, and the
prompt text itself is wrapped onto the image with Pillow's default font, so two
different prompts give visibly different images.
"""

from __future__ import annotations

import hashlib
import io
import random
import textwrap
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

# Aspect ratios the Gemini image models accept (imageConfig.aspectRatio).
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
# imageConfig.imageSize -> pixels on the long side.
IMAGE_SIZES = {"1K": 1024, "2K": 2048, "4K": 4096}


class DrawError(ValueError):
    """An input the image endpoint refuses (mapped to 400 INVALID_ARGUMENT)."""


def parse_aspect(aspect_ratio: str) -> tuple[int, int]:
    try:
        a, b = (int(x) for x in aspect_ratio.split(":"))
    except (AttributeError, ValueError):
        raise DrawError(f"invalid aspect ratio {aspect_ratio!r}") from None
    if a <= 0 or b <= 0:
        raise DrawError(f"invalid aspect ratio {aspect_ratio!r}")
    return a, b


def image_dimensions(aspect_ratio: str | None, image_size: str | None) -> tuple[int, int]:
    """(width, height): the long side is 1024 for 1K, 2048 for 2K, 4096 for 4K."""
    aspect_ratio = aspect_ratio or "1:1"
    image_size = image_size or "1K"
    if aspect_ratio not in ASPECT_RATIOS:
        raise DrawError(
            f"unsupported aspectRatio {aspect_ratio!r}; expected one of {', '.join(ASPECT_RATIOS)}"
        )
    if image_size not in IMAGE_SIZES:
        raise DrawError(
            f"unsupported imageSize {image_size!r}; expected one of {', '.join(IMAGE_SIZES)}"
        )
    a, b = parse_aspect(aspect_ratio)
    long_side = IMAGE_SIZES[image_size]
    if a >= b:
        return long_side, max(1, round(long_side * b / a))
    return max(1, round(long_side * a / b)), long_side


def decode_image(data: bytes) -> Image.Image:
    """Decode image bytes (any format Pillow reads) to RGB, or raise DrawError."""
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds
        raise DrawError(f"unable to decode input image: {exc}") from None
    return img.convert("RGB")


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except Exception:  # noqa: BLE001 - Pillow without FreeType
        return ImageFont.load_default()


def _colour(rng: random.Random, lo: int = 0, hi: int = 255) -> tuple[int, int, int]:
    return (rng.randint(lo, hi), rng.randint(lo, hi), rng.randint(lo, hi))


def draw_image(
    prompt: str,
    width: int,
    height: int,
    references: list[Image.Image] | None = None,
    label: str | None = None,
) -> Image.Image:
    """Draw an RGB image for `prompt` at width x height."""
    seed = int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)

    # Background: a two-colour gradient at a prompt-chosen angle.
    c1, c2 = _colour(rng, 10, 200), _colour(rng, 40, 255)
    side = max(width, height) * 2
    mask = Image.linear_gradient("L").resize((side, side)).rotate(rng.uniform(0, 360))
    left, top = (side - width) // 2, (side - height) // 2
    mask = mask.crop((left, top, left + width, top + height))
    img = Image.composite(
        Image.new("RGB", (width, height), c2), Image.new("RGB", (width, height), c1), mask
    )

    # Shapes: translucent ellipses, rectangles and polygons.
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    d = ImageDraw.Draw(overlay)
    unit = min(width, height)
    for _ in range(rng.randint(6, 14)):
        cx, cy = rng.randint(0, width), rng.randint(0, height)
        r = rng.randint(unit // 16, unit // 3)
        fill = (*_colour(rng), rng.randint(70, 170))
        kind = rng.choice(("ellipse", "rect", "poly"))
        if kind == "ellipse":
            d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
        elif kind == "rect":
            d.rectangle((cx - r, cy - r // 2, cx + r, cy + r // 2), fill=fill)
        else:
            pts = [
                (cx + rng.randint(-r, r), cy + rng.randint(-r, r)) for _ in range(rng.randint(3, 6))
            ]
            d.polygon(pts, fill=fill)
    img.paste(overlay, (0, 0), overlay)

    # Reference images: small thumbnails along the bottom-right edge.
    if references:
        thumb = max(16, width // 8)
        x = width - thumb - thumb // 8
        for ref in references[:14]:
            t = ImageOps.fit(ref.convert("RGB"), (thumb, thumb))
            if x < 0:
                break
            img.paste(t, (x, height - thumb - thumb // 8))
            x -= thumb + thumb // 8

    # The prompt, wrapped, in a translucent box.
    font_px = max(12, unit // 22)
    font = _font(font_px)
    cols = max(10, int(width * 0.85 / (font_px * 0.55)))
    lines = textwrap.wrap(prompt, width=cols)[: max(1, int(height * 0.6 / (font_px * 1.3)))]
    if label:
        lines.append(label)
    if lines:
        text = "\n".join(lines)
        box_overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        bd = ImageDraw.Draw(box_overlay)
        margin = font_px
        bbox = bd.multiline_textbbox((margin, margin), text, font=font, spacing=font_px // 3)
        bd.rectangle(
            (
                bbox[0] - margin // 2,
                bbox[1] - margin // 2,
                bbox[2] + margin // 2,
                bbox[3] + margin // 2,
            ),
            fill=(0, 0, 0, 140),
        )
        bd.multiline_text(
            (margin, margin), text, font=font, fill=(255, 255, 255, 255), spacing=font_px // 3
        )
        img.paste(box_overlay, (0, 0), box_overlay)
    return img


# imageConfig.imageOutputOptions (Vertex only; google-genai sends
# ImageConfig.output_mime_type / output_compression_quality there, and refuses
# them on the Gemini Developer API). Vertex's REST reference describes
# mimeType as "the image format that the output should be saved as" and
# compressionQuality as applying to JPEG; the formats served here are the two
# Vertex's image outputs use, PNG and JPEG. Without the option the emulator
# answers PNG; the pipeline always asks explicitly, so it never relies on a default.
OUTPUT_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
DEFAULT_JPEG_QUALITY = 75


def output_format(options: object) -> tuple[str, int]:
    """(mime type, JPEG quality) asked for by imageConfig.imageOutputOptions."""
    if options is None:
        return "image/png", DEFAULT_JPEG_QUALITY
    if not isinstance(options, dict):
        raise DrawError("imageOutputOptions must be an object")
    mime = options.get("mimeType", options.get("mime_type")) or "image/png"
    if mime not in OUTPUT_FORMATS:
        raise DrawError(
            f"unsupported imageOutputOptions.mimeType {mime!r}; expected one of "
            f"{', '.join(OUTPUT_FORMATS)}"
        )
    quality = options.get("compressionQuality", options.get("compression_quality"))
    if quality is None:
        return mime, DEFAULT_JPEG_QUALITY
    if not isinstance(quality, int) or not 0 <= quality <= 100:
        raise DrawError(f"imageOutputOptions.compressionQuality must be 0-100, got {quality!r}")
    return mime, quality


def encode(img: Image.Image, mime: str, quality: int = DEFAULT_JPEG_QUALITY) -> bytes:
    if mime == "image/png":
        return png_bytes(img)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format=OUTPUT_FORMATS[mime], quality=quality)
    return buf.getvalue()


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def draw_png(
    prompt: str,
    width: int,
    height: int,
    references: list[Image.Image] | None = None,
    label: str | None = None,
) -> bytes:
    return png_bytes(draw_image(prompt, width, height, references, label))
