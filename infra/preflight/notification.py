"""The media bucket tells finish_clip when Veo's output lands.

On a real project the bucket's notification configurations are read
(storage's list_notifications) and one must match terraform's
google_storage_notification.veo_output: the clips topic, OBJECT_FINALIZE,
JSON_API_V1, prefix `veo-out/`. fake-gcs-server has no notification API
(its notifications are command-line flags, infra/local/launch.py), so on the
local stack the row watches one happen instead: a probe object written under
`veo-out/preflight/` must arrive on the clips topic (on a subscription made
for the probe and deleted after). finish_clip receives it too and acks it
as "not a Veo output object" (shared/pipeline/finish.py parse_finalize).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from infra.preflight.rows import Row, failed, passed
from infra.preflight.topology import VEO_OUTPUT_PREFIX

CHECK = "the bucket tells finish_clip of Veo's output"
FIX = (
    "create it: `terraform apply` (terraform/modules/media-pipeline/bucket.tf, "
    "google_storage_notification.veo_output); locally, `cutscenes local down` and up again"
)


@dataclass(frozen=True)
class Notification:
    topic: str  # the topic's short name
    event_types: tuple[str, ...]  # empty: every event
    payload_format: str
    prefix: str


def matches(n: Notification, clips_topic: str) -> bool:
    return (
        n.topic == clips_topic
        and (not n.event_types or "OBJECT_FINALIZE" in n.event_types)
        and n.payload_format == "JSON_API_V1"
        and VEO_OUTPUT_PREFIX.startswith(n.prefix)
    )


def config_row(bucket: str, found: list[Notification], clips_topic: str) -> Row:
    good = [n for n in found if matches(n, clips_topic)]
    if good:
        return passed("notification", CHECK, f"gs://{bucket} notifies {clips_topic}")
    seen = "; ".join(f"{n.topic} {','.join(n.event_types)} {n.prefix!r}" for n in found)
    return failed(
        "notification",
        CHECK,
        f"gs://{bucket} has no OBJECT_FINALIZE JSON_API_V1 notification of "
        f"{VEO_OUTPUT_PREFIX} to {clips_topic} ({seen or 'none at all'})",
        FIX,
    )


def live_configs(bucket: str) -> list[Notification]:
    from google.cloud import storage

    return [
        Notification(
            n.topic_name,
            tuple(n.event_types or ()),
            str(n.payload_format),
            n.blob_name_prefix or "",
        )
        for n in storage.Client().bucket(bucket).list_notifications()
    ]


def probe_row(project: str, bucket: str, clips_topic: str, emulator_host: str) -> Row:
    """Write a probe object under veo-out/ and wait for its finalize event."""
    from infra.local.pubsub_setup import clients
    from shared.store.connections import storage_client

    publisher, subscriber = clients(emulator_host)
    sub = subscriber.subscription_path(project, f"preflight-{uuid.uuid4().hex[:8]}")
    name = f"{VEO_OUTPUT_PREFIX}preflight/{uuid.uuid4().hex}.txt"
    blob = storage_client().bucket(bucket).blob(name)
    try:
        subscriber.create_subscription(
            request={"name": sub, "topic": publisher.topic_path(project, clips_topic)}
        )
    except Exception as exc:  # noqa: BLE001 - the row says what went wrong
        return failed("notification", CHECK, f"cannot watch {clips_topic}: {exc}", FIX)
    try:
        blob.upload_from_string(b"preflight probe", content_type="text/plain")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = subscriber.pull(
                request={"subscription": sub, "max_messages": 10, "return_immediately": True},
                timeout=5,
            )
            for message in got.received_messages:
                attributes = dict(message.message.attributes)
                if attributes.get("objectId") == name:
                    return passed(
                        "notification",
                        CHECK,
                        f"a probe under {VEO_OUTPUT_PREFIX} reached {clips_topic} "
                        f"({attributes.get('eventType')})",
                    )
            time.sleep(0.2)
        return failed(
            "notification",
            CHECK,
            f"a probe written to gs://{bucket}/{name} never reached {clips_topic} (10 s)",
            FIX,
        )
    finally:
        try:
            blob.delete()
        except Exception:  # noqa: BLE001, S110 - a leftover probe is harmless
            pass
        subscriber.delete_subscription(request={"subscription": sub})
        subscriber.close()
