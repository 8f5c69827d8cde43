// publishRequest against the real Pub/Sub emulator. Run by
// tests/integration/test_node_client.py inside the local stack (or by hand
// with PUBSUB_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT set to a running stack's).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";

import { PubSub } from "@google-cloud/pubsub";

import { MediaClient, assetIdFor } from "../src/index.js";

const emulator = process.env.PUBSUB_EMULATOR_HOST;
const projectId = process.env.GOOGLE_CLOUD_PROJECT;
// Never against a real project by accident.
assert.ok(emulator && projectId, "set PUBSUB_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT (a local stack)");

const pubsub = new PubSub({ projectId });
const topicName = `node-client-${randomUUID()}`;
const received = [];
let subscription;

before(async () => {
  const [topic] = await pubsub.createTopic(topicName);
  [subscription] = await topic.createSubscription(`${topicName}-sub`);
  subscription.on("message", (message) => {
    received.push({ data: JSON.parse(message.data.toString("utf8")), attributes: message.attributes });
    message.ack();
  });
});

after(async () => {
  await subscription?.close();
  await pubsub.close();
});

async function until(predicate, what, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const portrait = (over = {}) => ({
  campaign_id: "c1",
  session_id: "s1",
  turn_number: 2,
  kind: "npc_portrait",
  subject: "Mira",
  image_prompt: "a harbour pilot at dusk",
  ...over,
});

test("a valid request is published with its schema and attributes", async () => {
  const client = new MediaClient({ projectId, topic: topicName });
  const requestId = `req-node-${randomUUID()}`;
  const result = await client.publishRequest(portrait({ request_id: requestId, extra: { x: 1 } }));
  assert.deepEqual(result, { status: "queued", asset_id: assetIdFor(requestId), request_id: requestId });
  await until(() => received.some((m) => m.data.request_id === requestId), "the message");
  const message = received.find((m) => m.data.request_id === requestId);
  assert.deepEqual(message.data, {
    ...portrait({ request_id: requestId, extra: { x: 1 } }),
    schema: "media.request.v1",
  });
  assert.deepEqual(message.attributes, { campaign_id: "c1", kind: "npc_portrait" });
  await client.close();
});

test("a request without an id gets one, and its asset id", async () => {
  const client = new MediaClient({ projectId, topic: topicName });
  const result = await client.publishRequest(portrait());
  assert.equal(result.status, "queued");
  assert.match(result.request_id, /^req-[0-9a-f]{32}$/);
  assert.equal(result.asset_id, assetIdFor(result.request_id));
  await until(() => received.some((m) => m.data.request_id === result.request_id), "the message");
  await client.close();
});

test("a request breaking the schema is refused and never published", async () => {
  const client = new MediaClient({ projectId, topic: topicName });
  const refusedIds = ["req-node-refused-1", "req-node-refused-2", "req-node-refused-3"];
  const bad = [
    portrait({ request_id: refusedIds[0], campaign_id: "__x__" }),
    portrait({ request_id: refusedIds[1], kind: "cutscene" }), // no cutscene_type, motion_prompt
    portrait({ request_id: refusedIds[2], image_prompt: "   " }),
  ];
  for (const [i, request] of bad.entries()) {
    const result = await client.publishRequest(request);
    assert.equal(result.status, "refused");
    assert.equal(result.request_id, refusedIds[i]);
    assert.equal(result.asset_id, undefined);
    assert.ok(result.reason.length > 0);
  }
  for (const notAnObject of [null, "x", [portrait()], 3]) {
    assert.deepEqual(await client.publishRequest(notAnObject), {
      status: "refused",
      request_id: null,
      reason: "the request must be an object",
    });
  }
  // Pub/Sub keeps order per publisher closely enough here: a marker published
  // after them arrives, and none of them does.
  const marker = await client.publishRequest(portrait({ request_id: "req-node-marker" }));
  assert.equal(marker.status, "queued");
  await until(() => received.some((m) => m.data.request_id === "req-node-marker"), "the marker");
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(received.filter((m) => refusedIds.includes(m.data.request_id)).length, 0);
  await client.close();
});

test("a publish that fails resolves as failed", async () => {
  const missing = new MediaClient({ projectId, topic: `no-such-topic-${randomUUID()}` });
  const result = await missing.publishRequest(portrait({ request_id: "req-node-missing" }));
  assert.equal(result.status, "failed");
  assert.equal(result.request_id, "req-node-missing");
  assert.equal(result.asset_id, assetIdFor("req-node-missing"));
  assert.match(result.reason, /NOT_FOUND|not found/i);
  await missing.close();
});

test("an unreachable Pub/Sub resolves as failed within the timeout", async () => {
  const saved = process.env.PUBSUB_EMULATOR_HOST;
  process.env.PUBSUB_EMULATOR_HOST = "127.0.0.1:9"; // discard: nothing listens
  let client;
  try {
    client = new MediaClient({ projectId, topic: topicName, timeoutMs: 1500 });
  } finally {
    process.env.PUBSUB_EMULATOR_HOST = saved;
  }
  const started = Date.now();
  const result = await client.publishRequest(portrait({ request_id: "req-node-unreachable" }));
  assert.equal(result.status, "failed");
  assert.ok(Date.now() - started < 5000);
  await client.close();
});

// The pipeline's own topic: tests/integration/test_node_client.py then waits
// for this request's asset, made by the pipeline from what Node published.
test("a request for the pipeline is queued on the stack's topic", async () => {
  const requestId = process.env.NODE_CLIENT_REQUEST_ID ?? `req-node-${randomUUID()}`;
  const client = new MediaClient({
    projectId,
    topic: process.env.MEDIA_REQUESTS_TOPIC ?? "media-requests",
  });
  const result = await client.publishRequest(
    portrait({
      request_id: requestId,
      campaign_id: process.env.NODE_CLIENT_CAMPAIGN ?? "c1",
      // A player with a budget (set by the Python side): the still is paid from it too.
      ...(process.env.NODE_CLIENT_PLAYER ? { player_id: process.env.NODE_CLIENT_PLAYER } : {}),
    }),
  );
  assert.deepEqual(result, { status: "queued", asset_id: assetIdFor(requestId), request_id: requestId });
  await client.close();
});
