import csv
import io
import json

from cutscenes.cli import main
from shared.domain.pricing import catalog


def test_prices_table_prints_every_entry_with_its_quotes(capsys, monkeypatch):
    monkeypatch.setenv("CUTSCENES_NO_LOCAL", "1")
    assert main(["prices", "--format", "table"]) == 0
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    # the note for people is on stderr, like every command's progress and notes
    assert "catalog as of" in printed.err and "catalog as of" not in printed.out
    data = catalog().data
    assert len([line for line in lines if line.startswith(("gemini", "veo"))]) == (
        len(data["images"]) + len(data["image_inputs"]) + len(data["videos"])
    )
    [fast_720] = [line for line in lines if line.startswith("veo-3.1-fast") and "720p" in line]
    assert "$0.15" in fast_720 and "$0.10 third-party" in fast_720 and "2026-10-01" in fast_720
    [lite_1080] = [line for line in lines if line.startswith("veo-3.1-lite") and "1080p" in line]
    assert "$0.08" in lite_1080
    [flash] = [
        line
        for line in lines
        if line.startswith("gemini-3.1-flash-image-preview ") and " 1K " in line
    ]
    assert "global" in flash


def test_prices_json_and_called_location_follow_the_override(capsys, monkeypatch):
    from shared.core.settings import get_settings

    monkeypatch.setenv("CUTSCENES_NO_LOCAL", "1")
    monkeypatch.setenv("MEDIA_MODEL_LOCATIONS", "gemini-3-pro-image=europe-west4")
    get_settings.cache_clear()
    try:
        assert main(["prices", "--json"]) == 0
    finally:
        monkeypatch.delenv("MEDIA_MODEL_LOCATIONS")
        get_settings.cache_clear()
    prices = json.loads(capsys.readouterr().out)["prices"]
    called = {p["model"]: p["called_at"] for p in prices}
    assert called["gemini-3-pro-image"] == "europe-west4"
    assert called["gemini-3.1-flash-image-preview"] == "global"
    assert called["veo-3.1-generate-001"] == "us-central1"
    assert all(q["source"] and q["as_of"] for p in prices for q in p["quotes"])


def test_stdout_is_json_by_default_and_csv_on_request(capsys, monkeypatch):
    """The README's promise: stdout holds only JSON or CSV unless a table is asked for."""
    monkeypatch.setenv("CUTSCENES_NO_LOCAL", "1")
    assert main(["prices"]) == 0
    printed = capsys.readouterr()
    default = json.loads(printed.out)
    assert printed.err == ""
    assert main(["prices", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == default
    assert main(["prices", "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(table) == sum(len(p["quotes"]) for p in default["prices"])
    fast_720 = [
        r for r in table if r["model"].startswith("veo-3.1-fast") and r["option"] == "720p +audio"
    ]
    assert {r["quote_usd"] for r in fast_720} == {"0.10", "0.15"}
    assert {r["charged_usd"] for r in fast_720} == {"0.15"}  # the highest quote is charged
    assert all(r["as_of"] and r["source"] for r in table)
