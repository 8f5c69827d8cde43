"""The Pub/Sub topology of the pipeline, created on the emulator (idempotent).

Mirrors what terraform/ declares for the cloud: two work topics each pushed to
its function with a dead-letter topic, a pull subscription on every dead-letter
topic so dead messages are kept for inspection, a pull "tap" on the status
event topic, and the charges topic with the host's pull subscription.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from google.api_core import exceptions as gexc

ACK_DEADLINE_S = 600
# The work subscriptions carry no retry policy here, on purpose: the emulator's
# backoff path stops redelivering for good after a burst of failed pushes (a
# function killed mid-burst), see docs/decisions/0009-local-redelivery.md.
# Without one the emulator retries a failed push after a fixed 1 s, so the
# attempt limit is the Pub/Sub maximum: about 100 s of retries, longer than a
# stage lease (45 s) plus a restart, as the cloud's 10 attempts with 10-600 s
# backoff are.
LOCAL_DELIVERY_ATTEMPTS = 100


@dataclass(frozen=True)
class Topics:
    requests: str
    animate: str
    events: str
    charges: str = "media-charges"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Topics:
        source: Mapping[str, str] = os.environ if env is None else env
        return cls(
            requests=source.get("MEDIA_REQUESTS_TOPIC", "media-requests"),
            animate=source.get("MEDIA_ANIMATE_TOPIC", "media-animate"),
            events=source.get("MEDIA_EVENTS_TOPIC", "media-events"),
            charges=source.get("MEDIA_CHARGES_TOPIC", "media-charges"),
        )


def push_endpoint(base_url: str, project: str, topic: str) -> str:
    """The function's URL with the topic path functions-framework reads.

    functions-framework turns a raw push envelope into a `messagePublished`
    CloudEvent and takes the CloudEvent's topic from a request path of the form
    projects/P/topics/T (otherwise it leaves it empty).
    """
    return f"{base_url.rstrip('/')}/projects/{project}/topics/{topic}"


def ensure_topology(
    project: str,
    render_url: str,
    animate_url: str,
    janitor_url: str | None = None,
    dead_letter_attempts: int = LOCAL_DELIVERY_ATTEMPTS,
    env: dict[str, str] | None = None,
    emulator_host: str | None = None,
) -> dict[str, dict]:
    """Create topics and subscriptions if missing; fix push endpoints that moved.

    render_url / animate_url are the functions' base URLs (see `push_endpoint`).
    Talks to `emulator_host` if given, else to whatever PUBSUB_EMULATOR_HOST in
    the process environment says (the client library reads it). Topic names come
    from `env` (default: the process environment). Returns {subscription: summary}.
    """
    topics = Topics.from_env(env)
    publisher, subscriber = clients(emulator_host)
    try:
        tpath = {
            name: publisher.topic_path(project, name)
            for name in (
                topics.requests,
                topics.animate,
                topics.events,
                topics.charges,
                f"{topics.requests}-dead",
                f"{topics.animate}-dead",
            )
        }
        for path in tpath.values():
            try:
                publisher.create_topic(request={"name": path})
            except gexc.AlreadyExists:
                pass

        summary: dict[str, dict] = {}
        push_subs = (
            ("render-still", topics.requests, render_url),
            ("animate-still", topics.animate, animate_url),
        )
        for sub_name, topic, url in push_subs:
            endpoint = push_endpoint(url, project, topic)
            dead = tpath[f"{topic}-dead"]
            request = {
                "name": subscriber.subscription_path(project, sub_name),
                "topic": tpath[topic],
                "push_config": {"push_endpoint": endpoint},
                "ack_deadline_seconds": ACK_DEADLINE_S,
                "dead_letter_policy": {
                    "dead_letter_topic": dead,
                    "max_delivery_attempts": dead_letter_attempts,
                },
            }
            _ensure_subscription(subscriber, request)
            summary[sub_name] = {"topic": topic, "push_endpoint": endpoint, "dead_letter": dead}

        pulls = (
            (f"{topics.requests}-dead-hold", f"{topics.requests}-dead"),
            (f"{topics.animate}-dead-hold", f"{topics.animate}-dead"),
            (f"{topics.events}-tap", topics.events),
            # The host's subscription, as terraform/ provisions it (pubsub.tf).
            (f"{topics.charges}-host", topics.charges),
        )
        for sub_name, topic in pulls:
            _ensure_subscription(
                subscriber,
                {
                    "name": subscriber.subscription_path(project, sub_name),
                    "topic": tpath[topic],
                    "ack_deadline_seconds": 60,
                },
            )
            summary[sub_name] = {"topic": topic, "pull": True}
        if janitor_url:
            # Dead letters go to the janitor at once, which closes their assets,
            # so a player never watches a request that nobody works on.
            for topic in (topics.requests, topics.animate):
                sub_name = f"{topic}-dead-janitor"
                _ensure_subscription(
                    subscriber,
                    {
                        "name": subscriber.subscription_path(project, sub_name),
                        "topic": tpath[f"{topic}-dead"],
                        "push_config": {"push_endpoint": janitor_url},
                        "ack_deadline_seconds": 60,  # no retry policy either (0004)
                    },
                )
                summary[sub_name] = {"topic": f"{topic}-dead", "push_endpoint": janitor_url}
        return summary
    finally:
        subscriber.close()
        transport = getattr(publisher, "transport", None) or getattr(publisher, "_transport", None)
        if transport is not None and hasattr(transport, "close"):
            transport.close()


def clients(emulator_host: str | None = None):
    """(PublisherClient, SubscriberClient), on an explicit emulator if given.

    Passing the host explicitly, rather than setting PUBSUB_EMULATOR_HOST, keeps
    the caller's process environment untouched (pytest fixtures, the CLI).
    """
    import google.cloud.pubsub_v1 as pubsub_v1  # see shared/store/connections.py

    if not emulator_host:
        return pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    import grpc
    from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
    from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

    publisher = pubsub_v1.PublisherClient(
        transport=PublisherGrpcTransport(channel=grpc.insecure_channel(emulator_host))
    )
    subscriber = pubsub_v1.SubscriberClient(
        transport=SubscriberGrpcTransport(channel=grpc.insecure_channel(emulator_host))
    )
    return publisher, subscriber


def _ensure_subscription(subscriber, request: dict) -> None:
    try:
        subscriber.create_subscription(request=request)
        return
    except gexc.AlreadyExists:
        pass
    existing = subscriber.get_subscription(request={"subscription": request["name"]})
    wanted = request.get("push_config", {}).get("push_endpoint")
    if wanted and existing.push_config.push_endpoint != wanted:
        subscriber.modify_push_config(
            request={"subscription": request["name"], "push_config": {"push_endpoint": wanted}}
        )


def ensure_finish_topology(
    project: str,
    finish_url: str,
    topic: str = "media-clips",
    dead_letter_attempts: int = LOCAL_DELIVERY_ATTEMPTS,
    emulator_host: str | None = None,
) -> dict[str, dict]:
    """The bucket-notification path: fake-gcs-server publishes finalize events
    of `veo-out/` objects to `topic`, pushed to finish_clip with a dead-letter
    topic (kept in a pull hold: the janitor's sweep asks Veo about any
    operation whose event died, so no push to the janitor is needed). No
    retry policy, as for the work subscriptions (LOCAL_DELIVERY_ATTEMPTS)."""
    publisher, subscriber = clients(emulator_host)
    try:
        main = publisher.topic_path(project, topic)
        dead = publisher.topic_path(project, f"{topic}-dead")
        for path in (main, dead):
            try:
                publisher.create_topic(request={"name": path})
            except gexc.AlreadyExists:
                pass
        endpoint = push_endpoint(finish_url, project, topic)
        _ensure_subscription(
            subscriber,
            {
                "name": subscriber.subscription_path(project, "finish-clip"),
                "topic": main,
                "push_config": {"push_endpoint": endpoint},
                "ack_deadline_seconds": 60,
                "dead_letter_policy": {
                    "dead_letter_topic": dead,
                    "max_delivery_attempts": dead_letter_attempts,
                },
            },
        )
        _ensure_subscription(
            subscriber,
            {
                "name": subscriber.subscription_path(project, f"{topic}-dead-hold"),
                "topic": dead,
                "ack_deadline_seconds": 60,
            },
        )
        return {"finish-clip": {"topic": topic, "push_endpoint": endpoint, "dead_letter": dead}}
    finally:
        subscriber.close()
        transport = getattr(publisher, "transport", None) or getattr(publisher, "_transport", None)
        if transport is not None and hasattr(transport, "close"):
            transport.close()
