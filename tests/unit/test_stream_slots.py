"""media_api's cap on open event streams per instance (shared/api/stream_slots.py)."""

from __future__ import annotations

import pytest

from shared.api import stream_slots
from shared.api.responses import ApiError
from shared.api.sse import _Held
from shared.core.settings import Settings, get_settings


@pytest.fixture
def cap(monkeypatch):
    def set_cap(**env: str) -> None:
        for key in ("THREADS", "MEDIA_API_CONCURRENCY", "MEDIA_API_SSE_PER_INSTANCE"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()

    yield set_cap
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("threads", "concurrency", "streams"),
    [
        (40, 40, 32),  # Terraform's media_api: eight threads always free
        (4, None, 3),  # the cloud's default at one CPU: one free
        (80, 40, 32),  # threads past the concurrency serve nothing
        (40, 10, 8),
        (1, None, 0),  # one thread: a stream would always take it
    ],
)
def test_streams_keep_one_in_five_threads_free(threads, concurrency, streams):
    settings = Settings(THREADS=threads, MEDIA_API_CONCURRENCY=concurrency)
    assert settings.sse_per_instance == streams
    assert streams < min(threads, concurrency or threads)


def test_an_explicit_cap_wins():
    assert Settings(THREADS=4, MEDIA_API_SSE_PER_INSTANCE=4).sse_per_instance == 4


def test_past_the_cap_a_stream_is_503_with_retry_after(cap):
    cap(THREADS="4")
    before = stream_slots.open_count()
    held = [stream_slots.take() for _ in range(3)]
    with pytest.raises(ApiError) as refused:
        stream_slots.take()
    assert refused.value.code == 503
    assert refused.value.headers["Retry-After"].isdigit()
    held[0].release()
    held[0].release()  # once only
    assert stream_slots.open_count() == before + 2
    held.append(stream_slots.take())
    for slot in held[1:]:
        slot.release()
    assert stream_slots.open_count() == before


def test_a_stream_closed_before_it_started_gives_its_place_back(cap):
    """A client that leaves before the first byte: the server closes the body
    without iterating it, and a generator's `finally` never runs then."""
    cap(THREADS="4")
    before = stream_slots.open_count()
    ran = []

    def body():
        try:
            yield "x"
        finally:
            ran.append("finally")

    _Held(body(), stream_slots.take()).close()
    assert stream_slots.open_count() == before and ran == []

    started = _Held(body(), stream_slots.take())
    assert next(iter(started)) == "x"
    started.close()
    assert stream_slots.open_count() == before and ran == ["finally"]
