// One moment of the story: the original asset and every regeneration of it
// (the chain of `regenerated_from`), shown as one card with its takes. The
// newest take shows by default (and again whenever a new one arrives); every
// member can flip between takes. An owner also gets Regenerate (with the
// prompts editable), Retry clip (a `partial` cutscene) and Hide.
import { AssetCard } from "./card.js";

const CONFIRM_MS = 5000; // a second click on Hide within this long hides

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(className, text, onClick) {
  const node = el("button", className, text);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

export class Moment {
  // `actions`: {regenerate(assetId, prompts), animate(assetId), hide(assetId)}
  // (media_api calls); `cardOptions`: what an AssetCard needs.
  constructor(id, { cardOptions, actions, emit }) {
    this.id = id;
    this.cardOptions = cardOptions;
    this.actions = actions;
    this.emit = emit;
    this.takes = []; // asset docs, oldest first
    this.cards = new Map(); // asset id -> AssetCard, made when first shown
    this.index = 0;
    this.owner = false;
    this.root = el("div", "cs-moment");
    this.root.dataset.momentId = id;
    this.slot = el("div", "cs-moment-slot");
    this.bar = el("div", "cs-moment-bar");
    this.prev = button("cs-take-prev", "‹", () => this.flip(-1));
    this.prev.setAttribute("aria-label", "Previous take");
    this.next = button("cs-take-next", "›", () => this.flip(1));
    this.next.setAttribute("aria-label", "Next take");
    this.takeLabel = el("span", "cs-take-label");
    this.nav = el("span", "cs-takes");
    this.nav.append(this.prev, this.takeLabel, this.next);
    this.ownerBar = el("span", "cs-owner-actions");
    this.regenerateButton = button("cs-regenerate", "Regenerate", () => this.toggleForm());
    this.retryButton = button("cs-retry-clip", "Retry clip", () => this.retryClip());
    this.hideButton = button("cs-hide", "Hide", () => this.hide());
    this.ownerBar.append(this.regenerateButton, this.retryButton, this.hideButton);
    this.message = el("div", "cs-action-message");
    this.message.hidden = true;
    this.bar.append(this.nav, this.ownerBar);
    this.root.append(this.slot, this.bar, this.message);
  }

  get current() {
    return this.takes[this.index];
  }

  // The takes as listed now (hidden ones are gone from the listing).
  setTakes(takes) {
    const grew = takes.length > this.takes.length;
    const shownId = this.current?.id;
    const shownStatus = this.current?.status;
    this.takes = takes;
    const ids = new Set(takes.map((t) => t.id));
    for (const [id, card] of this.cards) {
      if (!ids.has(id)) {
        card.destroy();
        this.cards.delete(id);
      }
    }
    for (const take of takes) this.cards.get(take.id)?.update(take);
    const kept = takes.findIndex((t) => t.id === shownId);
    this.index = grew || kept < 0 ? takes.length - 1 : kept;
    // "A new take is on its way" / "Trying the clip again" are answered now.
    if (grew || this.current.status !== shownStatus) this.say(null);
    this.render();
  }

  setOwner(owner) {
    this.owner = owner;
    this.render();
  }

  flip(step) {
    const to = this.index + step;
    if (to < 0 || to >= this.takes.length) return;
    this.index = to;
    this.render();
    this.emit("cutscene:take", { momentId: this.id, assetId: this.current.id,
      take: this.index + 1, takes: this.takes.length });
  }

  render() {
    const take = this.current;
    if (!take) return;
    let card = this.cards.get(take.id);
    if (!card) {
      card = new AssetCard(take, this.cardOptions);
      this.cards.set(take.id, card);
    }
    if (this.slot.firstChild !== card.root) {
      for (const other of this.cards.values()) {
        if (other !== card) other.video?.pause();
      }
      this.slot.replaceChildren(card.root);
      if (card.video?.paused) card.video.play().catch(() => {});
    }
    const many = this.takes.length > 1;
    this.root.dataset.take = String(this.index + 1);
    this.root.dataset.takes = String(this.takes.length);
    this.nav.hidden = !many;
    this.takeLabel.textContent = `Take ${this.index + 1} of ${this.takes.length}`;
    this.prev.disabled = this.index === 0;
    this.next.disabled = this.index === this.takes.length - 1;
    // The buttons exist only for an owner (media_api refuses anyone else anyway).
    this.ownerBar.hidden = !this.owner;
    this.retryButton.hidden = !(take.status === "partial" && take.kind === "cutscene"
      && take.image);
    if (!this.owner && this.form) {
      this.form.remove();
      this.form = null;
    }
    this.bar.hidden = !many && !this.owner;
  }

  say(text, problem = false) {
    this.message.textContent = text || "";
    this.message.hidden = !text;
    this.message.classList.toggle("cs-action-problem", problem);
  }

  async act(what, verb, call) {
    const assetId = this.current.id;
    this.say(null);
    try {
      const answer = await call(assetId);
      this.emit(`cutscene:${what}`, { momentId: this.id, assetId, ...answer });
      return answer;
    } catch (error) {
      this.say(`Could not ${verb}: ${error.message}`, true);
      this.emit("cutscene:error", { where: what, assetId, message: String(error.message) });
      return null;
    }
  }

  toggleForm() {
    if (this.form) {
      this.form.remove();
      this.form = null;
      return;
    }
    const take = this.current;
    const form = el("form", "cs-regen-form");
    const fields = [["image_prompt", "What the still shows"]];
    if (take.motion_prompt) fields.push(["motion_prompt", "How the clip moves"]);
    for (const [name, words] of fields) {
      const field = el("label", "cs-regen-field", words);
      const area = el("textarea");
      area.name = name;
      area.rows = 3;
      area.value = take[name] || "";
      field.append(area);
      form.append(field);
    }
    const go = el("button", "cs-regen-go", "Make a new take");
    go.type = "submit";
    const cancel = button("cs-regen-cancel", "Cancel", () => this.toggleForm());
    form.append(go, cancel);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      // Only edited prompts are sent: an empty body keeps the take's own.
      const prompts = {};
      for (const [name] of fields) {
        const value = form.elements[name].value.trim();
        if (value && value !== (take[name] || "")) prompts[name] = value;
      }
      go.disabled = true;
      const made = await this.act("regenerated", "regenerate",
        (id) => this.actions.regenerate(id, prompts));
      go.disabled = false;
      if (made) {
        form.remove();
        this.form = null;
        this.say("A new take is on its way.");
      }
    });
    this.form = form;
    this.bar.after(form);
  }

  async retryClip() {
    this.retryButton.disabled = true;
    if (await this.act("retrying-clip", "retry the clip", (id) => this.actions.animate(id))) {
      this.say("Trying the clip again.");
    }
    this.retryButton.disabled = false;
  }

  async hide() {
    // Hiding deletes the files for everyone: the first click only asks.
    if (!this.hideButton.classList.contains("cs-confirm")) {
      this.hideButton.classList.add("cs-confirm");
      this.hideButton.textContent = "Hide for everyone?";
      clearTimeout(this.confirmTimer);
      this.confirmTimer = setTimeout(() => this.resetHide(), CONFIRM_MS);
      return;
    }
    this.resetHide();
    await this.act("hidden", "hide", (id) => this.actions.hide(id));
  }

  resetHide() {
    clearTimeout(this.confirmTimer);
    this.hideButton.classList.remove("cs-confirm");
    this.hideButton.textContent = "Hide";
  }

  destroy() {
    clearTimeout(this.confirmTimer);
    for (const card of this.cards.values()) card.destroy();
    this.cards.clear();
    this.root.remove();
  }
}

// Group a listing (newest first) into moments: each asset's key is the end of
// its `regenerated_from` chain, as far as `parents` (remembered across
// snapshots) knows it. Returns [[key, takes oldest first], ...], the moment
// with the newest take first.
export function groupTakes(docs, parents) {
  for (const doc of docs) {
    if (doc.regenerated_from) parents.set(doc.id, doc.regenerated_from);
  }
  const keyOf = (id) => {
    const seen = new Set();
    let at = id;
    while (parents.has(at) && !seen.has(at)) {
      seen.add(at);
      at = parents.get(at);
    }
    return at;
  };
  const groups = new Map();
  for (const doc of docs) {
    const key = keyOf(doc.id);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).unshift(doc);
  }
  return [...groups];
}
