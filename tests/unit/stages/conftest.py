"""The world every stage test runs in (tests/unit/fakes.py), and the money
check every test ends with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.core.settings import get_settings
from shared.store.optimistic import forget_versions
from tests.unit.fakes import FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import ENV


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    # Image calls stay paced, as by default, but a call apart in 10 ms, not
    # the default's second: a test's stills would otherwise wait in real time.
    monkeypatch.setenv("MEDIA_IMAGE_CALLS_PER_MIN", "6000")
    get_settings.cache_clear()
    forget_versions()
    found = World().install(monkeypatch)
    found.campaign("c1")
    yield found
    get_settings.cache_clear()
    found.check_money()  # spent + reserved <= cap, each paid call reserved first


@pytest.fixture
def image(world: World) -> FakeImageModel:
    return FakeImageModel(world)


@pytest.fixture
def video(world: World) -> FakeVideoModel:
    return FakeVideoModel(world)
