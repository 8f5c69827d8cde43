// publishRequest resolves whatever it is handed, without touching the network
// when the request cannot be sent.
import assert from "node:assert/strict";
import { test } from "node:test";

import { MediaClient } from "../src/index.js";

const client = new MediaClient({ projectId: "demo-never-rejects", timeoutMs: 500 });
const portrait = (over = {}) => ({
  request_id: "req-never-1",
  campaign_id: "c1",
  session_id: "s1",
  turn_number: 1,
  kind: "npc_portrait",
  subject: "Mira",
  image_prompt: "a harbour pilot",
  ...over,
});

test("a BigInt turn number is refused", async () => {
  const result = await client.publishRequest(portrait({ turn_number: 1n }));
  assert.equal(result.status, "refused");
  assert.match(result.reason, /turn_number/);
});

test("an unknown field that cannot be JSON fails, never rejects", async () => {
  const loop = {};
  loop.self = loop;
  const result = await client.publishRequest(portrait({ notes: loop }));
  assert.equal(result.status, "failed");
  assert.equal(result.request_id, "req-never-1");
  assert.match(result.reason, /circular/i);
});

test("a request whose fields throw when read fails, never rejects", async () => {
  const hostile = new Proxy(portrait(), {
    ownKeys() {
      throw new Error("no keys for you");
    },
  });
  const result = await client.publishRequest(hostile);
  assert.equal(result.status, "failed");
  assert.match(result.reason, /no keys for you/);
});

test("a refused request names the rule it broke", async () => {
  const result = await client.publishRequest(portrait({ subject: undefined }));
  assert.deepEqual(Object.keys(result).sort(), ["reason", "request_id", "status"]);
  assert.equal(result.status, "refused");
  assert.match(result.reason, /subject/);
});

test("a reserved id is named in the reason", async () => {
  const result = await client.publishRequest(portrait({ campaign_id: "__x__" }));
  assert.deepEqual(result, {
    status: "refused",
    request_id: "req-never-1",
    reason: 'campaign_id: "__x__" is not allowed here',
  });
  const square = await client.publishRequest(
    portrait({ kind: "cutscene", cutscene_type: "plot_twist", motion_prompt: "m", aspect_ratio: "1:1" }),
  );
  assert.equal(square.reason, 'aspect_ratio: "1:1" is not allowed here');
});
