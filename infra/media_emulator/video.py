"""Real H.264 MP4 clips: a still with a slow zoom-and-pan, encoded by ffmpeg.

ffmpeg comes from the imageio-ffmpeg wheel. Output: libx264, yuv420p,
+faststart, 24 fps, exactly `duration_s * 24` frames.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import subprocess
import tempfile
import threading
from collections import OrderedDict

import imageio_ffmpeg

FPS = 24
VIDEO_ASPECTS = ("16:9", "9:16")
RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160)}
# Veo 3.1 takes 4, 6 or 8 s, nothing else (models.py has the source).
DURATIONS = (4, 6, 8)

# At most this many ffmpeg processes at once (the machine may have 2 cores).
_ENCODE_SLOTS = threading.BoundedSemaphore(max(1, min(2, os.cpu_count() or 1)))
# Identical inputs give identical clips: keep a few recent ones.
_CACHE: OrderedDict[str, bytes] = OrderedDict()
_CACHE_MAX = 16
_CACHE_LOCK = threading.Lock()
# ffmpeg processes running now, so that shutdown can stop them (by their own PIDs).
_LIVE: set[subprocess.Popen] = set()
_LIVE_LOCK = threading.Lock()


class VideoError(ValueError):
    """An input the video endpoint refuses (mapped to 400 INVALID_ARGUMENT)."""


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def video_dimensions(aspect_ratio: str | None, resolution: str | None) -> tuple[int, int]:
    aspect_ratio = aspect_ratio or "16:9"
    resolution = resolution or "720p"
    if aspect_ratio not in VIDEO_ASPECTS:
        raise VideoError(f"unsupported aspectRatio {aspect_ratio!r}; expected 16:9 or 9:16")
    if resolution not in RESOLUTIONS:
        raise VideoError(
            f"unsupported resolution {resolution!r}; expected one of {', '.join(RESOLUTIONS)}"
        )
    w, h = RESOLUTIONS[resolution]
    return (w, h) if aspect_ratio == "16:9" else (h, w)


def check_duration(value: object) -> int:
    """durationSeconds: 4, 6 or 8 (Veo 3.1's only durations); absent means 8."""
    if value is None:
        return 8
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise VideoError(f"invalid durationSeconds {value!r}") from None
    if f != int(f) or int(f) not in DURATIONS:
        raise VideoError(f"durationSeconds must be one of 4, 6 or 8, got {value!r}")
    return int(f)


def _filter(width: int, height: int, frames: int, seed: int) -> str:
    # Work on a 1.5x canvas so zoompan's integer pixel offsets stay smooth.
    cw, ch = (width * 3 // 2) // 2 * 2, (height * 3 // 2) // 2 * 2
    zoom_in = seed & 1
    pan_right = (seed >> 1) & 1
    last = max(1, frames - 1)
    z = f"1+0.18*on/{last}" if zoom_in else f"1.18-0.18*on/{last}"
    x = f"(iw-iw/zoom)*on/{last}" if pan_right else f"(iw-iw/zoom)*(1-on/{last})"
    y = "(ih-ih/zoom)/2"
    return (
        f"scale={cw}:{ch}:force_original_aspect_ratio=increase,crop={cw}:{ch},"
        f"zoompan=z='{z}':x='{x}':y='{y}':d={frames}:s={width}x{height}:fps={FPS},"
        f"format=yuv420p,setsar=1"
    )


def encode_clip(
    image_bytes: bytes,
    width: int,
    height: int,
    duration_s: int,
    preset: str = "ultrafast",
    audio: bool = False,
) -> bytes:
    """Encode a `duration_s` clip at width x height from one still image; with
    `audio`, an AAC track too (Veo 3.1 adds sound when generateAudio is true)."""
    frames = duration_s * FPS
    key = hashlib.sha256(
        image_bytes + f"|{width}x{height}|{duration_s}|{preset}|{audio}".encode()
    ).hexdigest()
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    stored = _from_disk(key)
    if stored is not None:
        with _CACHE_LOCK:
            _CACHE[key] = stored
        return stored
    seed = int(key[:8], 16)
    with _ENCODE_SLOTS, tempfile.TemporaryDirectory(prefix="media-emu-") as tmp:
        with _CACHE_LOCK:  # another thread may have made it while we queued
            if key in _CACHE:
                return _CACHE[key]
        src = os.path.join(tmp, "in.img")
        dst = os.path.join(tmp, "out.mp4")
        with open(src, "wb") as f:
            f.write(image_bytes)
        cmd = [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-i",
            src,
            *(
                ["-f", "lavfi", "-t", str(duration_s), "-i", "sine=frequency=220:sample_rate=48000"]
                if audio
                else []
            ),
            "-vf",
            _filter(width, height, frames, seed),
            "-frames:v",
            str(frames),
            "-r",
            str(FPS),
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-pix_fmt",
            "yuv420p",
            "-threads",
            "2",
            "-movflags",
            "+faststart",
            *(["-c:a", "aac", "-b:a", "64k", "-shortest"] if audio else ["-an"]),
            dst,
        ]
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        with _LIVE_LOCK:
            _LIVE.add(proc)
        try:
            _, stderr = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(proc)
        if proc.returncode != 0:
            raise RuntimeError(
                f"ffmpeg failed ({proc.returncode}): {stderr.decode(errors='replace')[-500:]}"
            )
        with open(dst, "rb") as f:
            data = f.read()
    with _CACHE_LOCK:
        _CACHE[key] = data
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
    _to_disk(key, data)
    return data


# Clips kept on disk across emulator processes (the stack sets the folder):
# the test suite's stacks encode the same few stills again and again, and an
# encode is most of a clip's CPU. The same inputs give the same bytes.
CLIP_CACHE_ENV = "MEDIA_EMULATOR_CLIP_CACHE"
_DISK_MAX = 200


def _disk_dir() -> str | None:
    return os.environ.get(CLIP_CACHE_ENV) or None


def _from_disk(key: str) -> bytes | None:
    folder = _disk_dir()
    if not folder:
        return None
    try:
        with open(os.path.join(folder, f"{key}.mp4"), "rb") as f:
            return f.read()
    except OSError:
        return None


def _to_disk(key: str, data: bytes) -> None:
    folder = _disk_dir()
    if not folder:
        return
    try:
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{key}.mp4")
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)  # whole or absent for a reader in another process
        clips = sorted(
            (e for e in os.scandir(folder) if e.name.endswith(".mp4")),
            key=lambda e: e.stat().st_mtime,
        )
        for old in clips[:-_DISK_MAX]:
            with contextlib.suppress(OSError):
                os.remove(old.path)
    except OSError:
        pass  # a cache: the clip was made anyway


def stop_encoders() -> None:
    """Kill the ffmpeg processes this emulator started (on shutdown)."""
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for proc in procs:
        if proc.poll() is None:
            proc.kill()


_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO_RE = re.compile(r"Video:\s*(\w+).*?,\s*(\d{2,5})x(\d{2,5})")


def probe(path: str) -> dict:
    """What `ffmpeg -i path` says: {"codec", "width", "height", "duration_s"}.

    imageio-ffmpeg ships no ffprobe, so this parses ffmpeg's stderr.
    """
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", path],
        capture_output=True,
        timeout=60,
    )
    err = proc.stderr.decode(errors="replace")
    out: dict = {"codec": None, "width": None, "height": None, "duration_s": None}
    m = _DURATION_RE.search(err)
    if m:
        out["duration_s"] = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    m = _VIDEO_RE.search(err)
    if m:
        out["codec"] = m.group(1)
        out["width"], out["height"] = int(m.group(2)), int(m.group(3))
    return out
