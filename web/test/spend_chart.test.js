// The spend chart's markup, without a browser: `node --test web/test/`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { barChart } from "../src/spend.js";

const bars = (svg) => [...svg.matchAll(/<rect class="cs-spend-bar"[^>]*>/g)].map((m) => m[0]);
const attr = (tag, name) => tag.match(new RegExp(`${name}="([^"]*)"`))[1];

test("one bar per day, heights in proportion to the amounts", () => {
  const rows = [
    { key: "2026-12-05", spent_usd: 0.5, assets: 1 },
    { key: "2026-12-06", spent_usd: 2.0, assets: 3 },
  ];
  const found = bars(barChart(rows, { title: "Spend per day" }));
  assert.deepEqual(found.map((b) => attr(b, "data-key")), ["2026-12-05", "2026-12-06"]);
  const [small, big] = found.map((b) => Number(attr(b, "height")));
  assert.ok(Math.abs(big / small - 4) < 0.01, `${big} / ${small}`);
});

test("one bar per session, keys escaped, the amount in the bar's title", () => {
  const rows = [
    { key: "s1", spent_usd: 0.97, assets: 1 },
    { key: "s2", spent_usd: 0, assets: 0 },
    { key: "<s3>", spent_usd: 1.25, assets: 2 },
  ];
  const svg = barChart(rows, { title: "Spend per session" });
  assert.equal(bars(svg).length, 3);
  assert.match(svg, /<title>s1: \$0\.97, 1 asset<\/title>/);
  assert.ok(!svg.includes("<s3>") && svg.includes("&#60;s3&#62;"));
  // A zero is still a (flat) bar: the session was played.
  assert.ok(Number(attr(bars(svg)[1], "height")) >= 1);
});

test("nothing spent is said in words, not drawn", () => {
  const out = barChart([], { title: "Spend per day" });
  assert.equal(bars(out).length, 0);
  assert.match(out, /nothing spent yet/);
});

test("many bars still fit the chart's width", () => {
  const rows = Array.from({ length: 90 }, (_, i) => ({ key: `day-${i}`, spent_usd: i, assets: 1 }));
  const found = bars(barChart(rows, { title: "Spend per day" }));
  assert.equal(found.length, 90);
  const last = found.at(-1);
  assert.ok(Number(attr(last, "x")) + Number(attr(last, "width")) <= 480);
});
