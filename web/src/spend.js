// The owner's spend report (media_api `GET /campaigns/{cid}/spend?by=day|session`)
// as two bar charts: what the campaign spent each day and in each game session.
//
// Plain SVG built as markup by a pure function (`barChart`), so the chart is
// testable without a browser (web/test/spend_chart.test.js) and the player
// takes on no chart library.

const usd = (value) => `$${(Number(value) || 0).toFixed(2)}`;
const count = (n) => `${Number(n) || 0} asset${Number(n) === 1 ? "" : "s"}`;
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The chart's own units (the SVG scales to its box through viewBox).
const WIDTH = 480;
const HEIGHT = 180;
const TOP = 18; // room for the value over the tallest bar
const BOTTOM = 30; // room for the keys under the bars
const GAP = 6;
const MAX_BAR = 60;

// `rows` is the report's rows ({key, spent_usd, assets}), in its order. One
// <rect class="cs-spend-bar"> per row, its height proportional to the amount,
// with data-key and data-usd for anyone reading it back; a text fallback when
// nothing was spent.
export function barChart(rows, { title }) {
  const label = `${escape(title)}`;
  if (!rows.length) {
    return `<p class="cs-spend-empty">${label}: nothing spent yet.</p>`;
  }
  const most = Math.max(...rows.map((r) => Number(r.spent_usd) || 0), 0.01);
  const slot = Math.min(MAX_BAR + GAP, WIDTH / rows.length);
  const barWidth = Math.max(2, slot - GAP);
  const plot = HEIGHT - TOP - BOTTOM;
  const bars = rows.map((row, i) => {
    const value = Number(row.spent_usd) || 0;
    const h = Math.max(1, (plot * value) / most);
    const x = i * slot + GAP / 2;
    const y = TOP + plot - h;
    const mid = x + barWidth / 2;
    // Keys are short (a day, a session id); long ones are cut to fit a slot.
    const room = Math.max(3, Math.floor(slot / 6.5));
    const key = String(row.key);
    const shown = key.length > room ? `${key.slice(0, room - 1)}…` : key;
    return `<g class="cs-spend-item">
      <rect class="cs-spend-bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}"
        width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" rx="3"
        data-key="${escape(key)}" data-usd="${value}">
        <title>${escape(key)}: ${usd(value)}, ${count(row.assets)}</title></rect>
      <text class="cs-spend-value" x="${mid.toFixed(1)}" y="${(y - 4).toFixed(1)}"
        text-anchor="middle">${usd(value)}</text>
      <text class="cs-spend-key" x="${mid.toFixed(1)}" y="${HEIGHT - BOTTOM + 14}"
        text-anchor="middle">${escape(shown)}</text>
    </g>`;
  });
  return `<svg class="cs-spend-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img"
    aria-label="${label}" preserveAspectRatio="xMinYMin meet">
    <line class="cs-spend-axis" x1="0" x2="${WIDTH}" y1="${TOP + plot}" y2="${TOP + plot}"/>
    ${bars.join("")}</svg>`;
}

export class SpendReport {
  constructor({ api, campaignId, emit }) {
    this.api = api;
    this.campaignId = campaignId;
    this.emit = emit;
    this.root = document.createElement("div");
    this.root.className = "cs-spend";
    this.round = 0;
  }

  // Asked again each time the tab opens: spending moves while the game goes on.
  async load() {
    const round = ++this.round;
    this.root.dataset.state = "loading";
    try {
      const [byDay, bySession] = await Promise.all([
        this.api.spend(this.campaignId, "day"), this.api.spend(this.campaignId, "session"),
      ]);
      if (round !== this.round) return;
      this.root.innerHTML = `
        <div class="cs-spend-head"><span>Campaign spend</span>
          <span class="cs-spend-total">${usd(byDay.total_usd)}</span></div>
        <section class="cs-spend-by" data-by="day"><h3>Per day (UTC)</h3>
          ${barChart(byDay.rows, { title: "Spend per day" })}</section>
        <section class="cs-spend-by" data-by="session"><h3>Per game session</h3>
          ${barChart(bySession.rows, { title: "Spend per session" })}</section>`;
      this.root.dataset.state = "shown";
      this.emit?.("cutscene:spend", { days: byDay.rows.length, sessions: bySession.rows.length,
        total_usd: byDay.total_usd });
    } catch (error) {
      if (round !== this.round) return;
      this.root.dataset.state = "error";
      this.root.textContent = `The spend report could not be loaded: ${error.message}`;
      this.emit?.("cutscene:error", { where: "spend", message: String(error.message || error) });
    }
  }
}
