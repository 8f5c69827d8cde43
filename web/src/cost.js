// The session's cost meter: spent, held for work in flight, and what is left.

const usd = (value) => `$${(Number(value) || 0).toFixed(2)}`;

export class CostMeter {
  constructor() {
    this.root = document.createElement("div");
    this.root.className = "cs-cost";
    this.root.hidden = true;
    this.root.innerHTML = `
      <div class="cs-cost-head"><span class="cs-cost-title">Session media budget</span>
        <span class="cs-cost-left"></span></div>
      <div class="cs-cost-bar" role="meter" aria-label="Session media budget used">
        <span class="cs-cost-spent"></span><span class="cs-cost-reserved"></span></div>
      <div class="cs-cost-text"></div>`;
    this.cap = null;
  }

  // `ledger` is media_api's cost answer (cap_usd, spent_usd, reserved_usd).
  show(ledger) {
    if (!ledger) ledger = { spent_usd: 0, reserved_usd: 0 };
    const cap = Number(ledger.cap_usd ?? this.cap ?? 0);
    this.cap = cap;
    const spent = Number(ledger.spent_usd) || 0;
    const reserved = Number(ledger.reserved_usd) || 0;
    const left = Math.max(0, cap - spent - reserved);
    const pct = (v) => (cap > 0 ? Math.min(100, (100 * v) / cap) : 0);
    this.root.querySelector(".cs-cost-spent").style.width = `${pct(spent)}%`;
    this.root.querySelector(".cs-cost-reserved").style.width = `${pct(reserved)}%`;
    const bar = this.root.querySelector(".cs-cost-bar");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", String(cap));
    bar.setAttribute("aria-valuenow", String(spent + reserved));
    this.root.querySelector(".cs-cost-left").textContent = `${usd(left)} left`;
    this.root.querySelector(".cs-cost-text").textContent =
      `${usd(spent)} spent · ${usd(reserved)} in flight · cap ${usd(cap)}`;
    this.root.dataset.spent = String(spent);
    this.root.dataset.reserved = String(reserved);
    this.root.dataset.cap = String(cap);
    this.root.classList.toggle("cs-cost-low", cap > 0 && left < cap * 0.15);
    this.root.hidden = false;
  }

  hide() {
    this.root.hidden = true;
  }
}
