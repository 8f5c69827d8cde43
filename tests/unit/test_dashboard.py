"""The dashboard's log-based metrics read log events the code emits: each
metric's filter names an event some `log.info/warning/error("event", ...)` call
in shared/ writes, and each field it extracts is one those calls pass. A renamed
event or field would otherwise leave a chart silently empty."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "terraform" / "modules" / "media-pipeline"

EMIT = re.compile(r"\blog\.(?:info|warning|error|debug)\(\s*\"([a-z_]+)\"")
METRIC = re.compile(r'resource "google_logging_metric" "(\w+)" \{(.*?)\n\}', re.S)
LOCAL_REF = re.compile(r"\blocal\.(\w+)")
EVENT = re.compile(r'jsonPayload\.event=\\"([a-z_]+)\\"')
FIELD = re.compile(r"jsonPayload\.(\w+)")
STAGE_KEY = re.compile(r'stage_latency\["(\w+)"\]')


def code_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "shared").rglob("*.py"))


def terraform_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(MODULE.glob("*.tf")))


def local_values(tf: str) -> dict[str, str]:
    """Each `name = ...` local's text up to the next blank-free assignment (enough
    to resolve the filter locals, which are single expressions)."""
    out: dict[str, str] = {}
    for match in re.finditer(r"^\s+(\w+)\s+=\s+(.*?)(?=^\s+\w+\s+=|^\})", tf, re.M | re.S):
        out.setdefault(match.group(1), match.group(2))
    return out


def violations(tf: str, code: str) -> list[str]:
    emitted = set(EMIT.findall(code))
    locals_ = local_values(tf)
    found: list[str] = []
    metrics = METRIC.findall(tf)
    if not metrics:
        return ["no google_logging_metric found"]
    for name, body in metrics:
        # The filter with the locals it names spelled out.
        text = LOCAL_REF.sub(lambda m: locals_.get(m.group(1), ""), body)
        events = EVENT.findall(text)
        if not events:
            found.append(f"{name}: its filter names no jsonPayload.event")
        for event in events:
            if event not in emitted:
                found.append(f"{name}: no log call in shared/ emits {event!r}")
        for field in set(FIELD.findall(text)) - {"event", "message"}:
            if not re.search(rf"\b{field}=", code):
                found.append(f"{name}: no log call passes the field {field!r}")
    for key in set(STAGE_KEY.findall(tf)) | set(re.findall(r"stage_ms\.(\w+)", tf)):
        if f'"{key}"' not in code:
            found.append(f"stage_ms.{key}: the pipeline records no such stage")
    return found


def test_every_metric_reads_an_event_the_code_emits() -> None:
    assert violations(terraform_text(), code_text()) == []


def test_the_dashboard_charts_each_metric() -> None:
    tf = terraform_text()
    dashboard = (MODULE / "dashboard.tf").read_text(encoding="utf-8")
    assert 'resource "google_monitoring_dashboard"' in dashboard
    for name, _ in METRIC.findall(tf):
        assert f"google_logging_metric.{name}" in tf.replace(
            f'"google_logging_metric" "{name}"', ""
        )
    for wanted in (
        "by terminal status",
        "Veo starts",
        "429s",
        "Spend per day",
        "Request to still",
        "Clip landed to complete",
        "Dead letters",
    ):
        assert wanted in dashboard, wanted
    # The quota line comes from the variable, not a literal.
    assert "var.monitoring.veo_quota_per_min" in dashboard


def test_a_renamed_event_is_caught() -> None:
    tf, code = terraform_text(), code_text()
    broken = code.replace('"dead_letter_closed"', '"dead_letter_shut"')
    assert any("dead_letter_closed" in v for v in violations(tf, broken))
    renamed = tf.replace('event=\\"video_started\\"', 'event=\\"veo_started\\"')
    assert any("veo_started" in v for v in violations(renamed, code))
    no_stage = code.replace('"landed_to_complete"', '"landed"')
    assert any("landed_to_complete" in v for v in violations(tf, no_stage))
