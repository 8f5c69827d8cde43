"""What media_api answers with: AIDM's turn rows, SSE frames, signed URLs, CORS."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, Response, request

from shared.api import cors, sse
from shared.store import signing
from shared.store.connections import reset_all


@pytest.fixture
def settings(monkeypatch):
    def use(**env: str) -> None:
        for key in (
            "STORAGE_EMULATOR_HOST",
            "FIRESTORE_EMULATOR_HOST",
            "MEDIA_SIGNING_SA",
            "MEDIA_SIGNED_URL_TTL_S",
            "MEDIA_API_CORS_ORIGINS",
        ):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("MEDIA_BUCKET", "bkt")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        reset_all()

    yield use
    reset_all()


def doc(
    aid: str,
    kind: str = "cutscene",
    image: bool = True,
    video: bool = True,
    status: str = "complete",
) -> dict:
    return {
        "asset_id": aid,
        "campaign_id": "c1",
        "kind": kind,
        "status": status,
        "cutscene_type": "plot_twist" if kind == "cutscene" else None,
        "image": {"uri": f"gs://bkt/media/c1/{aid}.png"} if image else None,
        "video": {"uri": f"gs://bkt/media/c1/{aid}.mp4"} if video else None,
    }


def test_sse_frame_is_one_media_event():
    text = sse.frame(
        {
            **doc("a1"),
            "request_id": "req-1",
            "session_id": "s1",
            "turn_number": 3,
            "status_reason": None,
            "lease": {"x": 1},
        }
    )
    lines = text.split("\n")
    assert text.endswith("\n\n") and lines[0] == "id: a1:complete" and lines[1] == "event: media"
    event = json.loads(lines[2][len("data: ") :])
    assert event["schema"] == "media.event.v1" and event["status"] == "complete"
    assert "lease" not in event and "image" not in event


def test_local_signing_points_at_the_emulator_and_expires_within_900_s(settings):
    settings(STORAGE_EMULATOR_HOST="http://127.0.0.1:4443", MEDIA_SIGNED_URL_TTL_S="600")
    url = signing.signed_url("gs://bkt/media/c1/a1.png", "c1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "http://127.0.0.1:4443"
    assert parts.path == "/bkt/media/c1/a1.png"
    query = parse_qs(parts.query)
    assert query["X-Goog-Expires"] == ["600"] and query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]


def test_nothing_outside_the_campaigns_media_is_signed(settings):
    settings(STORAGE_EMULATOR_HOST="http://127.0.0.1:4443")
    assert signing.signed_url("gs://bkt/media/c2/a1.png", "c1") is None
    assert signing.signed_url("gs://other/media/c1/a1.png", "c1") is None
    assert signing.signed_url("gs://bkt/refs/c1/sheet.png", "c1") is None
    assert signing.signed_url("not-a-uri", "c1") is None
    assert signing.signed_url(None, "c1") is None


def test_cloud_signing_goes_through_iam_with_the_functions_account(settings, monkeypatch):
    settings(MEDIA_SIGNING_SA="media-api@p.iam.gserviceaccount.com")

    class Creds:
        token = "ya29.token"
        service_account_email = "default"

    seen = {}
    monkeypatch.setattr(signing, "cloud_credentials", lambda: Creds())
    monkeypatch.setattr(
        "google.cloud.storage.blob.Blob.generate_signed_url",
        lambda self, **kw: seen.update(kw, name=self.name) or "https://signed",
    )
    monkeypatch.setattr(signing, "storage_client", _FakeStorage)
    assert signing.signed_urls(["gs://bkt/media/c1/a.png", "gs://bkt/media/c1/a.mp4"], "c1") == [
        "https://signed",
        "https://signed",
    ]
    assert seen["version"] == "v4" and seen["method"] == "GET"
    assert seen["expiration"] == timedelta(seconds=900)
    assert seen["service_account_email"] == "media-api@p.iam.gserviceaccount.com"
    assert seen["access_token"] == "ya29.token"
    assert "credentials" not in seen


class _FakeStorage:
    def bucket(self, name):
        from google.cloud.storage import Bucket

        return Bucket(client=None, name=name)


def test_cors_allows_listed_origins_only(settings):
    settings(MEDIA_API_CORS_ORIGINS="https://play.example, https://aidm.example/")
    app = Flask(__name__)
    with app.test_request_context(headers={"Origin": "https://aidm.example"}):
        response = Response()
        cors.apply(request, response)
        assert response.headers["Access-Control-Allow-Origin"] == "https://aidm.example"
        assert response.headers["Vary"] == "Origin"
    with app.test_request_context(headers={"Origin": "https://evil.example"}):
        response = Response()
        cors.apply(request, response)
        assert "Access-Control-Allow-Origin" not in response.headers
