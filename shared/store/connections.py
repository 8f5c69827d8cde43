"""Lazy, process-wide clients.

Built on first use, not at import, so cold starts stay short and tests can
point the environment at emulators before anything connects. Each client is
thread-safe and reused across warm invocations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from shared.core.settings import get_settings

if TYPE_CHECKING:
    # google-cloud-pubsub and -storage ship no py.typed; mypy reports
    # "from google.cloud import storage" as a missing attribute of the
    # namespace package, so these are imported by full name.
    import google.cloud.pubsub_v1 as pubsub_v1
    import google.cloud.storage as storage
    from google import genai
    from google.cloud import firestore

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
_build_lock = threading.Lock()

# Wraps each Firestore, Storage and Pub/Sub client as it is built, and
# firebase_admin.auth (kind is "firestore", "storage", "publisher" or
# "auth"). None in the cloud; the local stack installs its IAM check here
# (infra/iam/enforce.py), so the product never imports infra/ and the
# clients it uses are the ones Google ships.
ClientWrapper = Callable[[str, Any], Any]
_client_wrapper: ClientWrapper | None = None


def set_client_wrapper(wrapper: ClientWrapper | None) -> None:
    """Wrap every client built from now on (None: no wrapping); forgets the
    clients already built, so none escapes it."""
    global _client_wrapper
    _client_wrapper = wrapper
    for cached in (firestore_client, storage_client, publisher):
        cached.cache_clear()


def _wrapped(kind: str, client: T) -> T:
    return cast(T, _client_wrapper(kind, client)) if _client_wrapper else client


class Singleton(Protocol[T_co]):
    """What @singleton returns: call it for the instance; cache_clear forgets it."""

    cache_clear: Callable[[], None]

    def __call__(self) -> T_co: ...


def singleton(build: Callable[[], T]) -> Singleton[T]:
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

    wrapper = cast(Singleton[T], get)
    wrapper.cache_clear = instance.clear
    return wrapper


@singleton
def firestore_client() -> firestore.Client:
    from google.cloud import firestore

    return _wrapped("firestore", firestore.Client(project=get_settings().GOOGLE_CLOUD_PROJECT))


@singleton
def storage_client() -> storage.Client:
    import google.cloud.storage as storage

    settings = get_settings()
    if settings.STORAGE_EMULATOR_HOST:
        from google.auth.credentials import AnonymousCredentials

        client = storage.Client(
            project=settings.GOOGLE_CLOUD_PROJECT, credentials=AnonymousCredentials()
        )
    else:
        client = storage.Client(project=settings.GOOGLE_CLOUD_PROJECT)
    return _wrapped("storage", client)


@singleton
def publisher() -> pubsub_v1.PublisherClient:
    import google.cloud.pubsub_v1 as pubsub_v1

    # Publish promptly: a status event or an animate request waiting for a
    # batch to fill is latency the player sees.
    batch = pubsub_v1.types.BatchSettings(max_messages=100, max_latency=0.001)
    return _wrapped("publisher", pubsub_v1.PublisherClient(batch_settings=batch))


def firebase_auth() -> Any:
    """firebase_admin.auth, through the same wrapper as the clients: ID token
    checks and custom tokens are Google API calls too."""
    from firebase_admin import auth

    return _wrapped("auth", auth)


class _PerLocation:
    """genai clients, one per Vertex location, each built once per process.

    The location is part of the endpoint (`{location}-aiplatform.googleapis.com`,
    or `aiplatform.googleapis.com` for `global`) and of every resource path,
    so a client is bound to one location."""

    def __init__(self) -> None:
        self._clients: dict[str, genai.Client] = {}

    def __call__(self, location: str | None = None) -> genai.Client:
        location = location or get_settings().VERTEX_LOCATION
        client = self._clients.get(location)
        if client is None:
            with _build_lock:
                client = self._clients.get(location)
                if client is None:
                    client = self._clients[location] = _build_genai(location)
        return client

    def cache_clear(self) -> None:
        self._clients = {}


def _build_genai(location: str) -> genai.Client:
    from google import genai
    from google.genai import types

    settings = get_settings()
    kwargs: dict[str, Any] = {}
    # No client-wide retries: each call says what is safe to retry (media_models).
    http_options = types.HttpOptions(timeout=int(settings.MEDIA_IMAGE_TIMEOUT_S * 1000))
    if settings.GENAI_EMULATOR_URL:
        # The SDK refreshes AnonymousCredentials and fails; a static token works.
        from google.oauth2.credentials import Credentials

        kwargs["credentials"] = Credentials(token="emulator")
        http_options.base_url = settings.GENAI_EMULATOR_URL
    return genai.Client(
        vertexai=True,
        project=settings.GOOGLE_CLOUD_PROJECT,
        location=location,
        http_options=http_options,
        **kwargs,
    )


genai_client = _PerLocation()


def topic_path(topic: str) -> str:
    return f"projects/{get_settings().GOOGLE_CLOUD_PROJECT}/topics/{topic}"


def reset_all() -> None:
    """Forget every client and the settings (tests switch environments)."""
    for cached in (firestore_client, storage_client, publisher, genai_client, get_settings):
        cached.cache_clear()
