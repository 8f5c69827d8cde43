"""What an uncertain start's output must be before it is adopted (attached
and charged): an MP4 container, a plausible size, and about the duration
that was asked for. Anything under the asset's output folder could
otherwise be adopted: a stray upload, a truncated write, an earlier
attempt's clip of another length."""

from __future__ import annotations

from shared.domain.mp4 import NotMp4, duration_s
from shared.domain.paths import split_gs_uri
from shared.store import storage

# A Veo clip is some hundreds of KB to a few MB a second (4k at the most);
# below this it is no clip, above it no Veo output.
MIN_BYTES = 1024
MAX_BYTES_PER_S = 8 * 1024 * 1024
# Veo's clips last what was asked (4, 6 or 8 s); allow container rounding.
DURATION_SLACK_S = 0.5


def refusal_of_output(uri: str, asked_s: int) -> str | None:
    """Why the object at `uri` may not be adopted as an `asked_s`-second
    clip (None: it may)."""
    name = split_gs_uri(uri)[1]
    blob = storage.stat(name)
    if blob is None:
        return "the object is gone"
    limit = MAX_BYTES_PER_S * max(asked_s, 1)
    size = getattr(blob, "size", None)
    if size is not None and not MIN_BYTES <= int(size) <= limit:
        return f"{size} bytes is no {asked_s} s clip (allowed {MIN_BYTES}-{limit})"
    data = storage.download(name)
    if not MIN_BYTES <= len(data) <= limit:
        return f"{len(data)} bytes is no {asked_s} s clip (allowed {MIN_BYTES}-{limit})"
    try:
        seconds = duration_s(data)
    except NotMp4 as exc:
        return f"not an MP4: {exc}"
    if abs(seconds - asked_s) > DURATION_SLACK_S:
        return f"a {seconds:.2f} s clip where {asked_s} s was asked"
    return None
