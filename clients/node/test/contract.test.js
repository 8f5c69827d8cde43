// The package's schema is the contract's, and judges requests as the pipeline does.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { assetIdFor, checkRequest } from "../src/index.js";

const read = (path) => readFileSync(new URL(path, import.meta.url), "utf8");

test("the shipped schema is docs/schema/media.request.v1.json", () => {
  assert.equal(read("../schema/media.request.v1.json"), read("../../../docs/schema/media.request.v1.json"));
});

// requests.json: written by `python -m infra.contract`, each sample with the
// verdict of the pipeline's own parse_request.
const samples = JSON.parse(read("./requests.json"));

test("the samples cover both verdicts", () => {
  assert.ok(samples.filter((s) => s.valid).length >= 10);
  assert.ok(samples.filter((s) => !s.valid).length >= 40);
});

for (const sample of samples) {
  test(`same verdict as the pipeline: ${sample.name}`, () => {
    const check = checkRequest(sample.message);
    assert.equal(check.ok, sample.valid, check.reason);
  });
}

test("asset ids are Python's asset_id_for", () => {
  const expected = JSON.parse(read("./asset_ids.json"));
  assert.ok(Object.keys(expected).length >= 5);
  for (const [requestId, assetId] of Object.entries(expected)) {
    assert.equal(assetIdFor(requestId), assetId, requestId);
  }
});
