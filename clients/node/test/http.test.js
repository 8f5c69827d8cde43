// turnMedia and rewind against a tiny local server: the paths, headers and
// bodies they send, and answers of every kind resolved, never thrown.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

import { MediaClient } from "../src/index.js";

let server;
let apiUrl;
const seen = [];

before(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      if (req.headers.authorization !== "Bearer good") {
        res.writeHead(401, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: { code: 401, message: "invalid token" } }));
      } else if (req.url.endsWith("/rewind")) {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ hidden: 2 }));
      } else if (req.url.includes("/turn-ids/slow/")) {
        setTimeout(() => res.end("{}"), 2000);
      } else {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ assets: [{ id: "a1", asset_type: "image" }] }));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  apiUrl = `http://127.0.0.1:${server.address().port}/`;
});

after(() => new Promise((resolve) => server.close(resolve)));

const client = () => new MediaClient({ projectId: "demo", apiUrl, timeoutMs: 500 });

test("turnMedia GETs the turn-id route with the token", async () => {
  seen.length = 0;
  const answer = await client().turnMedia({
    campaignId: "c1",
    sessionId: "s 1",
    turnId: "t-9",
    token: "good",
  });
  assert.deepEqual(answer, { status: 200, body: { assets: [{ id: "a1", asset_type: "image" }] } });
  assert.deepEqual(seen, [
    { method: "GET", url: "/campaigns/c1/sessions/s%201/turn-ids/t-9/media", auth: "Bearer good", body: "" },
  ]);
  const progressive = await client().turnMedia({
    campaignId: "c1", sessionId: "s1", turnId: "t-9", token: "good", progressive: true,
  });
  assert.equal(progressive.status, 200);
  assert.equal(seen.at(-1).url, "/campaigns/c1/sessions/s1/turn-ids/t-9/media?progressive=1");
});

test("a path segment stays one segment", async () => {
  seen.length = 0;
  await client().turnMedia({ campaignId: "../x", sessionId: "s1", turnId: "a/b", token: "good" });
  assert.equal(seen[0].url, "/campaigns/..%2Fx/sessions/s1/turn-ids/a%2Fb/media");
});

test("rewind POSTs after_turn as JSON", async () => {
  seen.length = 0;
  const answer = await client().rewind({ campaignId: "c1", sessionId: "s1", afterTurn: 4, token: "good" });
  assert.deepEqual(answer, { status: 200, body: { hidden: 2 } });
  assert.equal(seen[0].method, "POST");
  assert.equal(seen[0].url, "/campaigns/c1/sessions/s1/rewind");
  assert.deepEqual(JSON.parse(seen[0].body), { after_turn: 4 });
});

test("an error answer resolves with its status and body", async () => {
  const answer = await client().rewind({ campaignId: "c1", sessionId: "s1", afterTurn: 4, token: "bad" });
  assert.deepEqual(answer, { status: 401, body: { error: { code: 401, message: "invalid token" } } });
});

test("no server, a slow server and no apiUrl resolve with status 0", async () => {
  const closed = createServer();
  await new Promise((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const deadUrl = `http://127.0.0.1:${closed.address().port}`;
  await new Promise((resolve) => closed.close(resolve));
  const dead = await new MediaClient({ projectId: "demo", apiUrl: deadUrl }).turnMedia({
    campaignId: "c1", sessionId: "s1", turnId: "t1", token: "good",
  });
  assert.equal(dead.status, 0);
  assert.equal(dead.body, null);
  assert.match(dead.error, /fetch failed|ECONNREFUSED/);

  const started = Date.now();
  const slow = await client().turnMedia({ campaignId: "c1", sessionId: "s1", turnId: "slow", token: "good" });
  assert.equal(slow.status, 0);
  assert.match(slow.error, /timeout|aborted/i);
  assert.ok(Date.now() - started < 1900, "the timeout cut it short");

  const none = await new MediaClient({ projectId: "demo" }).rewind({
    campaignId: "c1", sessionId: "s1", afterTurn: 1, token: "good",
  });
  assert.deepEqual(none, { status: 0, body: null, error: "apiUrl was not given" });
});
