"""Lazy, process-wide clients.

Built on first use, not at import, so cold starts stay short and tests can
point the environment at emulators before anything connects. Each client is
thread-safe and reused across warm invocations.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shared.settings import get_settings

if TYPE_CHECKING:
    from google import genai
    from google.cloud import firestore, pubsub_v1, storage


@lru_cache(maxsize=1)
def firestore_client() -> firestore.Client:
    from google.cloud import firestore

    return firestore.Client(project=get_settings().GOOGLE_CLOUD_PROJECT)


@lru_cache(maxsize=1)
def storage_client() -> storage.Client:
    from google.cloud import storage

    settings = get_settings()
    if settings.STORAGE_EMULATOR_HOST:
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project=settings.GOOGLE_CLOUD_PROJECT,
                              credentials=AnonymousCredentials())
    return storage.Client(project=settings.GOOGLE_CLOUD_PROJECT)


@lru_cache(maxsize=1)
def publisher() -> pubsub_v1.PublisherClient:
    from google.cloud import pubsub_v1

    # Publish promptly: a status event or an animate request waiting for a
    # batch to fill is latency the player sees.
    batch = pubsub_v1.types.BatchSettings(max_messages=100, max_latency=0.001)
    return pubsub_v1.PublisherClient(batch_settings=batch)


@lru_cache(maxsize=1)
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
        cached.cache_clear()
