"""The topics, the subscriptions that deliver them, and the bucket's notification.

Subscriptions are checked by what they do, not by name: the local stack
names its push subscriptions after the functions (render-still), terraform
after the services (render-still-push). What must hold either way: each work
topic is pushed to its function (the endpoint ends in the topic path
functions-framework reads) with a dead-letter policy to `<topic>-dead`; each
dead-letter topic has a pull hold; the charges topic has the host's pull
subscription `<topic>-host`. The cloud adds a push of every dead-letter topic
to the janitor, with its own dead-letter topic `media-janitor-dead` and hold;
the local stack pushes only requests' and animate's dead letters to the
janitor (clips' wait in the hold for the sweep, infra/local/pubsub_setup.py),
without a dead-letter topic of its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from infra.preflight.rows import Row, failed, passed

JANITOR_DEAD = "media-janitor-dead"  # terraform pubsub.tf, a literal name
VEO_OUTPUT_PREFIX = "veo-out/"


def topic_names(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """terraform's local.topics key -> topic name (the settings that name them,
    else terraform's names)."""
    from infra.iam.policy import TOPIC_SETTINGS

    return {key: env.get(var) or default for key, (var, default) in TOPIC_SETTINGS.items()}


@dataclass(frozen=True)
class Subscription:
    name: str
    topic: str
    push_endpoint: str = ""
    dead_letter_topic: str = ""


@dataclass(frozen=True)
class Role:
    """What one subscription must do."""

    what: str
    topic: str
    push: bool
    dead_letter: str = ""
    name: str = ""  # required only where a consumer finds it by name
    endpoint_suffix: str = ""

    def met_by(self, sub: Subscription) -> bool:
        return (
            sub.topic == self.topic
            and bool(sub.push_endpoint) == self.push
            and sub.dead_letter_topic == self.dead_letter
            and (not self.name or sub.name == self.name)
            and sub.push_endpoint.rstrip("/").endswith(self.endpoint_suffix)
        )


def expected(project: str, topics: dict[str, str], cloud: bool) -> tuple[list[str], list[Role]]:
    work = {"requests": "render_still", "animate": "animate_still", "clips": "finish_clip"}
    dead = {key: f"{topics[key]}-dead" for key in work}
    names = [*topics.values(), *dead.values()] + ([JANITOR_DEAD] if cloud else [])
    roles = [
        Role(
            f"{topics[key]} pushed to {fn}",
            topics[key],
            push=True,
            dead_letter=dead[key],
            endpoint_suffix=f"/projects/{project}/topics/{topics[key]}",
        )
        for key, fn in work.items()
    ]
    holds = [*dead.values()] + ([JANITOR_DEAD] if cloud else [])
    roles += [Role(f"{topic} kept in a pull hold", topic, push=False) for topic in holds]
    to_janitor = list(dead.values()) if cloud else [dead["requests"], dead["animate"]]
    roles += [
        Role(
            f"{topic} pushed to the janitor",
            topic,
            push=True,
            dead_letter=JANITOR_DEAD if cloud else "",
        )
        for topic in to_janitor
    ]
    charges = topics["charges"]
    roles.append(Role(f"{charges} pulled by the host", charges, push=False, name=f"{charges}-host"))
    return names, roles


def topic_rows(wanted: list[str], existing: set[str], where: str) -> list[Row]:
    fix = "create it: `terraform apply` (locally, `cutscenes local down` and up again)"
    return [
        passed("topics", name, f"exists in {where}")
        if name in existing
        else failed("topics", name, f"missing in {where}", fix)
        for name in wanted
    ]


def subscription_rows(roles: list[Role], subs: list[Subscription], where: str) -> list[Row]:
    out = []
    for role in roles:
        found = [s.name for s in subs if role.met_by(s)]
        if found:
            out.append(passed("subscriptions", role.what, f"{', '.join(found)} in {where}"))
            continue
        on_topic = [s.name for s in subs if s.topic == role.topic]
        seen = f"on {role.topic}: {', '.join(on_topic)}" if on_topic else f"none on {role.topic}"
        wanted = "a push" if role.push else "a pull"
        if role.dead_letter:
            wanted += f" with dead letters to {role.dead_letter}"
        if role.name:
            wanted += f" named {role.name}"
        out.append(
            failed(
                "subscriptions",
                role.what,
                f"no subscription does it ({seen}) in {where}",
                f"create {wanted} subscription: `terraform apply` (terraform/modules/"
                "media-pipeline/pubsub.tf; locally, `cutscenes local down` and up again)",
            )
        )
    return out


# ---- observing Pub/Sub (the emulator's or a project's) ------------------------------


def observe(project: str, emulator_host: str = "") -> tuple[set[str], list[Subscription]]:
    from infra.local.pubsub_setup import clients

    publisher, subscriber = clients(emulator_host or None)
    try:
        project_path = f"projects/{project}"
        topics = {t.name.rsplit("/", 1)[-1] for t in publisher.list_topics(project=project_path)}
        subs = [
            Subscription(
                s.name.rsplit("/", 1)[-1],
                s.topic.rsplit("/", 1)[-1],
                s.push_config.push_endpoint,
                s.dead_letter_policy.dead_letter_topic.rsplit("/", 1)[-1],
            )
            for s in subscriber.list_subscriptions(project=project_path)
        ]
        return topics, subs
    finally:
        subscriber.close()
