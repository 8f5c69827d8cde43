"""The media emulator's clips kept on disk across its processes
(infra/media_emulator/video.py): the same inputs give the same bytes, made
by ffmpeg once."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.media_emulator import draw, video


def test_a_clip_made_by_one_emulator_process_is_read_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(video.CLIP_CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(video, "_CACHE", video.OrderedDict())
    still = draw.draw_png("a lighthouse", 160, 90)
    made = video.encode_clip(still, 160, 90, 4)
    assert made[4:8] == b"ftyp"  # an MP4
    assert [p.suffix for p in tmp_path.iterdir()] == [".mp4"]

    video._CACHE.clear()  # a new process: nothing in memory

    def no_ffmpeg(*args: object, **kwargs: object) -> None:
        raise AssertionError("ffmpeg ran for a clip on disk")

    monkeypatch.setattr(video.subprocess, "Popen", no_ffmpeg)
    assert video.encode_clip(still, 160, 90, 4) == made
    with pytest.raises(AssertionError, match="ffmpeg ran"):  # other inputs: encoded
        video.encode_clip(still, 160, 90, 6)


def test_without_the_folder_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(video.CLIP_CACHE_ENV, raising=False)
    monkeypatch.setattr(video, "_CACHE", video.OrderedDict())
    monkeypatch.chdir(tmp_path)
    video.encode_clip(draw.draw_png("a gate", 160, 90), 160, 90, 4)
    assert list(tmp_path.iterdir()) == []
