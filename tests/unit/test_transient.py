"""Transport errors of every SDK are transient; bugs and refusals are not.

The genai cases drive the real google-genai client against a closed port and
against a server that drops connections (what it raises there was found by
experiment: its own vendored httpx2, not httpx). The others build the chains
that Firestore, Storage and Pub/Sub were seen to raise against a dead emulator.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator

import grpc
import pytest
import requests
from google.api_core import exceptions as gexc
from google.genai import errors as genai_errors

from shared.core import log
from shared.core.errors import PermanentError, TransientError
from shared.core.transient import transport_error
from shared.pipeline.entry import run_pubsub
from shared.store.media_models import classify
from tests.unit.test_entry_log import envelope


def _client(port: int):
    from google import genai
    from google.genai import types
    from google.oauth2.credentials import Credentials

    return genai.Client(
        vertexai=True,
        project="p",
        location="us-central1",
        credentials=Credentials(token="x"),
        http_options=types.HttpOptions(base_url=f"http://127.0.0.1:{port}", timeout=500),
    )


def _raised_by_genai(port: int) -> Exception:
    client = _client(port)  # held: a collected client closes its HTTP pool
    try:
        client.models.generate_content(model="gemini-3.1-flash-image-preview", contents="x")
    except Exception as exc:  # noqa: BLE001 - the point is to look at it
        return exc
    raise AssertionError("the call did not fail")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dropping_server() -> Iterator[tuple[int, str]]:
    """A server that accepts and then closes (or resets, or never answers)."""
    mode = {"now": "close"}
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.recv(65536)
            if mode["now"] == "hang":
                held.append(conn)
                continue
            if mode["now"] == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield port, mode  # type: ignore[misc]
    srv.close()
    for conn in held:
        conn.close()


def test_genai_refused_connection_is_transient():
    exc = _raised_by_genai(_closed_port())
    assert not isinstance(exc, genai_errors.APIError)
    assert isinstance(classify(exc, "image_failed"), TransientError), type(exc)


@pytest.mark.parametrize("how", ["close", "reset", "hang"])
def test_genai_dropped_or_stalled_connection_is_transient(dropping_server, how):
    port, mode = dropping_server
    mode["now"] = how
    exc = _raised_by_genai(port)
    assert isinstance(classify(exc, "video_failed"), TransientError), type(exc)


def _chain(*errors: BaseException) -> BaseException:
    for outer, inner in zip(errors, errors[1:], strict=False):
        outer.__cause__ = inner
    return errors[0]


class _Rpc(grpc.RpcError):
    def code(self):
        return grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    "exc",
    [
        # Firestore, emulator down: its retry gives up around a 503.
        _chain(
            gexc.RetryError("Timeout of 60.0s exceeded", None),
            gexc.ServiceUnavailable("failed to connect to all addresses"),
        ),
        _chain(gexc.ServiceUnavailable("x"), _Rpc()),
        gexc.DeadlineExceeded("slow"),
        # Firestore emulator under load: a create answered after its deadline.
        gexc.Cancelled("call already cancelled. Use ServerCallStreamObserver..."),
        # Storage: requests under api_core's retry.
        _chain(
            gexc.RetryError("Timeout of 120.0s exceeded", None),
            requests.exceptions.ConnectionError("Max retries exceeded"),
        ),
        requests.exceptions.ReadTimeout("read timed out"),
        # Pub/Sub: a publish future that does not resolve.
        TimeoutError(),
        ConnectionResetError(104, "reset"),
    ],
)
def test_sdk_transport_errors_are_recognised(exc):
    assert transport_error(exc) is not None


@pytest.mark.parametrize(
    "exc",
    [
        gexc.InvalidArgument("__x__ is a reserved id"),
        gexc.NotFound("gone"),
        gexc.PermissionDenied("no"),
        KeyError("plan"),
        ValueError("bad"),
        genai_errors.ClientError(400, {"error": {"code": 400, "message": "bad"}}),
    ],
)
def test_bugs_and_refusals_are_not_transport_errors(exc):
    assert transport_error(exc) is None


def test_a_bad_request_from_the_model_stays_permanent():
    exc = genai_errors.ClientError(400, {"error": {"code": 400, "message": "bad"}})
    assert isinstance(classify(exc, "image_failed"), PermanentError)


def test_a_firestore_outage_is_logged_as_transient_without_a_stack(capsys):
    def handler(*_):
        raise _chain(
            gexc.RetryError("Timeout of 60.0s exceeded", None),
            gexc.ServiceUnavailable("failed to connect"),
        )

    log.clear()
    with pytest.raises(TransientError):
        run_pubsub(envelope(b"x"), "render_still", handler)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["severity"], line["event"]) == ("WARNING", "transient")
    assert "stack_trace" not in line and "ServiceUnavailable" in line["message"]


def test_media_api_answers_503_to_an_outage_and_logs_no_stack(monkeypatch, capsys):
    from flask import Flask, request

    from shared.api import app

    def away(_request):
        raise _chain(
            gexc.RetryError("Timeout of 60.0s exceeded", None),
            gexc.ServiceUnavailable("failed to connect"),
        )

    monkeypatch.setattr(app, "_answer", away)
    with Flask(__name__).test_request_context("/campaigns/c1/gallery"):
        response = app.handle(request)
    assert response.status_code == 503
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert any(x["event"] == "transient" for x in lines)
    assert not any("stack_trace" in x for x in lines)
