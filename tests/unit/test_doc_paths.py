"""Firestore document paths (shared/domain/paths.py): the same documents the
SDK's chained references named before, and one id is one segment."""

from __future__ import annotations

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from shared.domain import paths


@pytest.fixture(scope="module")
def db() -> firestore.Client:
    return firestore.Client(project="p", credentials=AnonymousCredentials())  # no I/O


def test_the_same_documents_as_the_chained_references(db: firestore.Client) -> None:
    campaign = db.collection("campaigns").document("c1")
    assert db.document(paths.campaign_doc("c1")).path == campaign.path
    assert (
        db.document(paths.asset_doc("c1", "a1")).path
        == campaign.collection("media").document("a1").path
    )
    assert (
        db.document(paths.ledger_doc("c1", "s1")).path
        == campaign.collection("sessions").document("s1").path
    )
    assert db.collection(paths.media_collection("c1")).document("a1").path == paths.asset_doc(
        "c1", "a1"
    )
    assert db.collection(paths.sessions_collection("c1")).document("s1").path == paths.ledger_doc(
        "c1", "s1"
    )
    assert paths.spend_shard_doc("2026-11-26", 3) == "spend_days/2026-11-26/shards/3"
    assert paths.pacing_doc("veo-log") == "pacing/veo-log"
    assert paths.sse_ticket_doc("t") == "sse_tickets/t"
    assert paths.sse_streams_doc("k") == "sse_streams/k"
    assert paths.asset_doc("c", "a").split("/")[-2] == paths.MEDIA


@pytest.mark.parametrize("bad", ["x/media/y", "", "a/"])
def test_an_id_never_names_another_document(bad: str) -> None:
    with pytest.raises(ValueError):
        paths.asset_doc(bad, "a1")
    with pytest.raises(ValueError):
        paths.ledger_doc("c1", bad)
    with pytest.raises(ValueError):
        paths.sse_ticket_doc(bad)
