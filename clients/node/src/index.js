// The Node client of aidm-cutscenes (docs/interface.md, "The Node client").
//
// Every call resolves, never rejects: a host calls these from its turn, and a
// turn must not fail because media did. publishRequest checks the request
// against the same JSON Schema the pipeline's model is written to
// (schema/media.request.v1.json, a copy of docs/schema/) before publishing, so
// a bad request is refused here instead of becoming a `rejected` asset.

import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

import { PubSub } from "@google-cloud/pubsub";
import Ajv2020 from "ajv/dist/2020.js";

export const REQUEST_SCHEMA = "media.request.v1";
export const DEFAULT_TOPIC = "media-requests";
const DEFAULT_TIMEOUT_MS = 10_000;

const requestSchema = JSON.parse(
  readFileSync(new URL("../schema/media.request.v1.json", import.meta.url), "utf8"),
);
// strict: false: the schema is generated (pydantic writes `default` and
// `title`, and puts `pattern` beside `anyOf` for nullable strings), and
// allErrors: false: the first broken rule is enough for a reason.
const validate = new Ajv2020({ strict: false }).compile(requestSchema);

/** The asset id the pipeline gives a request id (shared/domain/ids.py asset_id_for). */
export function assetIdFor(requestId) {
  return "a" + createHash("sha256").update(requestId, "utf8").digest("hex").slice(0, 31);
}

/** A fresh request id, as the Python SDK makes them. */
export function newRequestId() {
  return "req-" + randomUUID().replaceAll("-", "");
}

/** Whether `message` (with `schema`) is a request the pipeline takes; the reason if not. */
export function checkRequest(message) {
  if (validate(message)) return { ok: true };
  const first = validate.errors?.[0];
  const where = first?.instancePath ? first.instancePath.slice(1).replaceAll("/", ".") : "request";
  // Ajv says "must NOT be valid" for a `not`: the reserved __...__ ids and a
  // cutscene's 1:1; naming the value says more.
  const what =
    first?.keyword === "not"
      ? `${JSON.stringify(valueAt(message, first.instancePath)).slice(0, 60)} is not allowed here`
      : (first?.message ?? "invalid");
  return { ok: false, reason: `${where}: ${what}`.slice(0, 300) };
}

function valueAt(message, pointer) {
  return pointer
    .split("/")
    .slice(1)
    .reduce((value, key) => value?.[key.replaceAll("~1", "/").replaceAll("~0", "~")], message);
}

function isPlainObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(error) {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0].slice(0, 300);
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class MediaClient {
  #pubsub;
  #topic;
  #apiUrl;
  #timeoutMs;

  /**
   * @param {{projectId: string, topic?: string, apiUrl?: string, timeoutMs?: number}} options
   */
  constructor({ projectId, topic = DEFAULT_TOPIC, apiUrl, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    // The library reads PUBSUB_EMULATOR_HOST itself (the local stack sets it).
    this.#pubsub = new PubSub({ projectId });
    this.#topic = this.#pubsub.topic(topic);
    this.#apiUrl = apiUrl ? apiUrl.replace(/\/+$/, "") : undefined;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Check and publish one request (docs/interface.md section 1, without
   * `schema`: it is added). A missing request_id is generated.
   */
  async publishRequest(request) {
    try {
      return await this.#publish(request);
    } catch (error) {
      // Whatever the host handed in (a getter that throws, say), the turn goes on.
      const requestId = typeof request?.request_id === "string" ? request.request_id : null;
      return { status: "failed", request_id: requestId, reason: describe(error) };
    }
  }

  async #publish(request) {
    if (!isPlainObject(request)) {
      return { status: "refused", request_id: null, reason: "the request must be an object" };
    }
    const message = { ...request, schema: REQUEST_SCHEMA };
    if (message.request_id === undefined || message.request_id === null) {
      message.request_id = newRequestId();
    }
    const requestId = typeof message.request_id === "string" ? message.request_id : null;
    const check = checkRequest(message);
    if (!check.ok) return { status: "refused", request_id: requestId, reason: check.reason };
    const assetId = assetIdFor(requestId);
    try {
      await withTimeout(
        this.#topic.publishMessage({
          data: Buffer.from(JSON.stringify(message), "utf8"),
          attributes: { campaign_id: message.campaign_id, kind: message.kind },
        }),
        this.#timeoutMs,
        "publishing",
      );
    } catch (error) {
      // Publishing again with the same request_id is safe: it is charged once.
      return { status: "failed", asset_id: assetId, request_id: requestId, reason: describe(error) };
    }
    return { status: "queued", asset_id: assetId, request_id: requestId };
  }

  /** GET /campaigns/{cid}/sessions/{sid}/turn-ids/{turn_id}/media */
  async turnMedia({ campaignId, sessionId, turnId, token, progressive = false }) {
    const path = `/campaigns/${enc(campaignId)}/sessions/${enc(sessionId)}/turn-ids/${enc(turnId)}/media`;
    return this.#call("GET", path + (progressive ? "?progressive=1" : ""), token);
  }

  /** POST /campaigns/{cid}/sessions/{sid}/rewind {"after_turn": N} (owners only). */
  async rewind({ campaignId, sessionId, afterTurn, token }) {
    const path = `/campaigns/${enc(campaignId)}/sessions/${enc(sessionId)}/rewind`;
    return this.#call("POST", path, token, { after_turn: afterTurn });
  }

  /** Let the process exit: closes the Pub/Sub connection. */
  async close() {
    try {
      await this.#pubsub.close();
    } catch {
      // Closing is best effort, like everything here.
    }
  }

  async #call(method, path, token, body) {
    if (!this.#apiUrl) return { status: 0, body: null, error: "apiUrl was not given" };
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      const response = await fetch(this.#apiUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const text = await response.text();
      return { status: response.status, body: parse(text) };
    } catch (error) {
      return { status: 0, body: null, error: describe(error) };
    }
  }
}

function enc(value) {
  return encodeURIComponent(String(value));
}

function parse(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
