"""Which failures of our SDKs are transport or availability errors (retry).

Every client this pipeline uses has its own exception family for "the other
side could not be reached or did not answer in time", and they wrap each
other (found by experiment: docs/transport-errors.md):

- google-genai 3.6 talks through its own vendored copy of httpx, `httpx2`,
  so a refused connection is `httpx2.ConnectError`, not `httpx.TransportError`;
- Firestore raises `google.api_core.exceptions.RetryError` around
  `ServiceUnavailable` around a gRPC error once its own retries run out;
- Cloud Storage raises `RetryError` around `requests.ConnectionError`;
- a Pub/Sub publish future raises the builtin `TimeoutError`.

So the whole cause chain is searched, and modules are matched by name
(httpx2 is an implementation detail of google-genai and may be renamed).
"""

from __future__ import annotations

# Exception classes, by (module prefix, class name), that mean "the service
# was unreachable, overloaded or too slow": retrying later can succeed.
_TRANSPORT_CLASSES = {
    ("httpx", "TransportError"),  # and its httpx2 copy: ConnectError, ReadTimeout...
    ("httpcore", "NetworkError"),
    ("httpcore", "TimeoutException"),
    ("httpcore", "ProtocolError"),
    ("requests", "ConnectionError"),
    ("requests", "Timeout"),
    ("requests", "ChunkedEncodingError"),
    ("urllib3", "ProtocolError"),
    ("urllib3", "TimeoutError"),
    ("urllib3", "NewConnectionError"),
    ("google.auth", "TransportError"),
    ("google.api_core", "ServiceUnavailable"),
    ("google.api_core", "DeadlineExceeded"),
    ("google.api_core", "InternalServerError"),
    ("google.api_core", "BadGateway"),
    ("google.api_core", "GatewayTimeout"),
    ("google.api_core", "TooManyRequests"),
    ("google.api_core", "ResourceExhausted"),
    ("google.api_core", "Aborted"),
    # A call the server gave up on as cancelled: the Firestore emulator
    # answered a create so, beside a CPU-bound process, once its client's
    # deadline had passed ("call already cancelled"). Every write of ours is
    # conditional, so trying the delivery again is safe.
    ("google.api_core", "Cancelled"),
    ("google.api_core", "RetryError"),
}
_MAX_DEPTH = 8


def _matches(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionError, TimeoutError)):  # builtins, socket errors
        return True
    for cls in type(exc).__mro__:
        module = cls.__module__.split(".")
        root = module[0].rstrip("0123456789")  # httpx2 -> httpx, httpcore2 -> httpcore
        prefixes = {root, ".".join([root, *module[1:2]])}
        if any((p, cls.__name__) in _TRANSPORT_CLASSES for p in prefixes):
            return True
    return _grpc_unavailable(exc)


def _grpc_unavailable(exc: BaseException) -> bool:
    code = getattr(exc, "code", None)
    if not callable(code) or type(exc).__module__.split(".")[0] != "grpc":
        return False
    try:
        name = getattr(code(), "name", "")
    except Exception:  # noqa: BLE001 - a half-built RpcError has no code
        return False
    return name in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED")


def transport_error(exc: BaseException) -> BaseException | None:
    """The transport or availability error in `exc`'s cause chain, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < _MAX_DEPTH:
        seen.add(id(current))
        if _matches(current):
            return current
        current = current.__cause__ or current.__context__
    return None


def describe(exc: BaseException) -> str:
    """A one-line account: the outer error, and the deepest transport error
    under it (the one that says what actually failed)."""
    outer = f"{type(exc).__name__}: {str(exc)[:200]}"
    deepest = None
    current: BaseException | None = exc
    for _ in range(_MAX_DEPTH):
        if current is None:
            break
        if _matches(current):
            deepest = current
        current = current.__cause__ or current.__context__
    if deepest is None or deepest is exc:
        return outer
    return (
        f"{outer} (caused by {type(deepest).__module__}.{type(deepest).__name__}: "
        f"{str(deepest)[:200]})"
    )
