"""Lazy, process-wide clients.

Built on first use, not at import, so cold starts stay short and tests can
point the environment at emulators before anything connects. Each client is
thread-safe and reused across warm invocations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from shared.settings import get_settings

if TYPE_CHECKING:
    from google import genai
    from google.cloud import firestore, pubsub_v1, storage

T = TypeVar("T")
_build_lock = threading.Lock()


def singleton(build: Callable[[], T]) -> Callable[[], T]:
    """Build once per process, even when 50 threads ask at the same moment.

    functools.lru_cache may run the builder twice under a race; a discarded
    genai.Client closes its HTTP client when collected, failing the request
    that was still using it ("client has been closed")."""
    instance: list[T] = []

    @wraps(build)
    def get() -> T:
        if not instance:
            with _build_lock:
                if not instance:
                    instance.append(build())
        return instance[0]

    get.cache_clear = instance.clear  # type: ignore[attr-defined]
    return get


@singleton
def firestore_client() -> firestore.Client:
    from google.cloud import firestore

    return firestore.Client(project=get_settings().GOOGLE_CLOUD_PROJECT)


@singleton
def storage_client() -> storage.Client:
    from google.cloud import storage

    settings = get_settings()
    if settings.STORAGE_EMULATOR_HOST:
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project=settings.GOOGLE_CLOUD_PROJECT,
                              credentials=AnonymousCredentials())
    return storage.Client(project=settings.GOOGLE_CLOUD_PROJECT)


@singleton
def publisher() -> pubsub_v1.PublisherClient:
    from google.cloud import pubsub_v1

    # Publish promptly: a status event or an animate request waiting for a
    # batch to fill is latency the player sees.
    batch = pubsub_v1.types.BatchSettings(max_messages=100, max_latency=0.001)
    return pubsub_v1.PublisherClient(batch_settings=batch)


@singleton
def genai_client() -> genai.Client:
    from google import genai
    from google.genai import types

    settings = get_settings()
    kwargs: dict[str, Any] = {}
    if settings.GENAI_EMULATOR_URL:
        # The SDK refreshes AnonymousCredentials and fails; a static token works.
        from google.oauth2.credentials import Credentials

        kwargs["credentials"] = Credentials(token="emulator")
        kwargs["http_options"] = types.HttpOptions(base_url=settings.GENAI_EMULATOR_URL)
    return genai.Client(vertexai=True, project=settings.GOOGLE_CLOUD_PROJECT,
                        location=settings.VERTEX_LOCATION, **kwargs)


def topic_path(topic: str) -> str:
    return f"projects/{get_settings().GOOGLE_CLOUD_PROJECT}/topics/{topic}"


def reset_all() -> None:
    """Forget every client and the settings (tests switch environments)."""
    for cached in (firestore_client, storage_client, publisher, genai_client, get_settings):
        cached.cache_clear()  # type: ignore[attr-defined]
