import base64
import json

import pytest

from shared.core import log
from shared.core.errors import Busy, TransientError
from shared.pipeline.entry import pubsub_payload, run_pubsub, trace_of


class Event(dict):
    def __init__(self, data, **attrs):
        super().__init__(id="evt-1", **attrs)
        self.data = data


def envelope(raw: bytes, publish_time="2026-11-24T00:00:00Z"):
    return Event({"message": {"data": base64.b64encode(raw).decode(), "publishTime": publish_time}})


def test_payload_id_and_publish_time_are_decoded():
    payload, delivery, published = pubsub_payload(envelope(b'{"a": 1}'))
    assert (payload, delivery) == (b'{"a": 1}', "evt-1")
    assert published.isoformat() == "2026-11-24T00:00:00+00:00"


@pytest.mark.parametrize(
    "data",
    [
        None,
        "x",
        {"message": None},
        {"message": {"data": "%%%"}},
        {"message": {"data": 7, "publishTime": "yesterday"}},
    ],
)
def test_garbage_envelopes_become_empty_payloads(data):
    payload, _, published = pubsub_payload(Event(data))
    assert payload == b"" and published is None


def test_trace_comes_from_traceparent():
    event = Event({}, traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    assert trace_of(event).endswith("/traces/0af7651916cd43dd8448eb211c80319c")
    assert trace_of(Event({})) is None
    assert trace_of(Event({}, traceparent="garbage")) is None


def test_log_lines_are_json_with_severity_ids_and_trace(capsys):
    event = envelope(b"x")
    event["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    def handler(payload, delivery_id, published_at):
        log.bind(request_id="req-1", campaign_id="c1", asset_id="a1")
        log.info("asset_terminal", "done", cost_usd=0.467, stage_ms={"image": 12})

    run_pubsub(event, "render_still", handler)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["severity"] == "INFO" and line["message"] == "done"
    assert line["logging.googleapis.com/trace"].endswith("0af7651916cd43dd8448eb211c80319c")
    assert (line["request_id"], line["campaign_id"], line["asset_id"]) == ("req-1", "c1", "a1")
    assert line["cost_usd"] == 0.467 and line["stage_ms"] == {"image": 12}


@pytest.mark.parametrize("error", [TransientError("429"), Busy("held"), RuntimeError("bug")])
def test_errors_that_should_be_retried_propagate(error, capsys):
    def handler(*_):
        raise error

    with pytest.raises(type(error)):
        run_pubsub(envelope(b"x"), "render_still", handler)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["severity"] in ("INFO", "WARNING", "ERROR")
