// One asset on screen: shimmer while rendering, the still the moment it
// exists, then the clip, swapped in only once it is actually playing.
import { millis } from "./firestore.js";

const GLOWING = new Set(["action_climax", "power_awakening"]);
const WHAT = { cutscene: "Cutscene", npc_portrait: "Portrait", location_visual: "Location" };
const NOTICES = {
  "rejected:budget": "Cutscene skipped: this session's media budget is spent.",
  "rejected:disabled": "Cutscenes are switched off for this campaign.",
  "rejected:invalid": "This cutscene request was not valid.",
};
// Why nothing came, in words (status_reason of a failed asset).
const FAILED_REASONS = {
  image_blocked: "the picture was held back by safety filters",
  image_failed: "the image model failed",
  timeout: "it took too long",
  hidden: "it was removed",
  budget: "the session budget ran out",
  invalid: "the request was not valid",
};
const PARTIAL_NOTES = {
  budget: "Still only: the session budget did not cover the clip.",
  video_blocked: "Still only: the clip was held back by safety filters.",
  video_failed: "Still only: the clip could not be made.",
  timeout: "Still only: the clip took too long.",
  disabled_video: "Still only.",
};
// What each unfinished status is called on screen.
const STAGES = {
  queued: "Queued",
  rendering_image: "Rendering the still",
  animating: "Animating the clip",
};
// Asking media_api for URLs again after a failure: quick at first, never
// slower than every 3 s, so a restarted media_api is noticed within seconds.
const RETRY_MS = [500, 1000, 2000, 3000];

export function failedNotice(asset) {
  const why = FAILED_REASONS[asset.status_reason];
  return why ? `This scene couldn't be rendered: ${why}.` : "This scene couldn't be rendered.";
}

function seconds(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 90 ? `${s} s` : `${Math.round(s / 60)} min`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function label(asset) {
  const type = asset.cutscene_type ? asset.cutscene_type.replace(/_/g, " ") : null;
  const subject = asset.subject ? ` · ${asset.subject}` : "";
  const turn = Number.isInteger(asset.turn_number) ? ` · turn ${asset.turn_number}` : "";
  return `${type || WHAT[asset.kind] || "Media"}${subject}${turn}`;
}

// Portraits are square wherever they show (card, gallery tile), whatever was asked.
export function aspect(asset) {
  if (asset.kind === "npc_portrait") return "1 / 1";
  return { "9:16": "9 / 16", "1:1": "1 / 1" }[asset.aspect_ratio] || "16 / 9";
}

function problemText(error, waitMs) {
  const again = `trying again in ${seconds(waitMs)}`;
  if (error?.status === 401 || error?.status === 403) {
    return `Not allowed to load this cutscene (${error.message}); ${again}.`;
  }
  if (error?.status >= 500) return `The media server is having trouble; ${again}.`;
  return `Can't reach the media server; ${again}.`;
}

export class AssetCard {
  constructor(asset, { urls, emit, openViewer, estimate }) {
    this.urls = urls;
    this.estimate = estimate || (() => null);
    this.retry = 0;
    this.emit = emit;
    this.openViewer = openViewer;
    this.asset = null;
    this.timing = {};
    this.root = el("figure", "cs-card");
    this.frame = el("div", "cs-frame");
    this.caption = el("figcaption", "cs-caption");
    this.root.append(this.frame, this.caption);
    this.frame.addEventListener("click", (event) => {
      if (event.target.closest("button") || !(this.still || this.video)) return;
      this.video?.pause();
      this.openViewer({ asset: this.asset, imageUrl: this.still?.src,
        videoUrl: this.video?.currentSrc || this.video?.src, muted: this.video?.muted });
    });
    this.update(asset);
  }

  update(asset) {
    const previous = this.asset?.status;
    this.asset = asset;
    const { status } = asset;
    this.root.dataset.assetId = asset.id;
    this.root.dataset.status = status;
    this.root.dataset.kind = asset.kind || "";
    this.root.dataset.type = asset.cutscene_type || "";
    this.root.classList.toggle("cs-glow", GLOWING.has(asset.cutscene_type));
    this.caption.textContent = label(asset);
    if (status !== previous) {
      this.timing[status] = Date.now();
      this.emit("cutscene:status", { assetId: asset.id, status, at: Date.now() });
    }
    this.setNotice(this.noticeFor(asset));
    this.frame.style.aspectRatio = this.notice ? "auto" : aspect(asset);
    // Until a picture is on screen the frame shimmers, unless nothing is coming.
    this.setShimmer(!this.stillLoaded && !this.notice);
    this.tick();
    this.root.classList.toggle("cs-drift", status === "partial");
    this.setNote(status === "partial" ? PARTIAL_NOTES[asset.status_reason] || "Still only." : null);
    if (asset.image || asset.video) this.loadMedia();
  }

  // The stage in words, how long it has taken, and (from recent completions)
  // about how long is left: on the shimmer before the still, on a badge after.
  tick() {
    const stage = STAGES[this.asset.status];
    clearTimeout(this.ticker);
    if (!stage) {
      this.setBadge(null);
      return;
    }
    const created = millis(this.asset.created_at);
    const elapsed = created ? Date.now() - created : null;
    const total = this.estimate(this.asset);
    let text = stage;
    if (elapsed !== null) text += ` · ${seconds(elapsed)}`;
    if (total && elapsed !== null) {
      text += total > elapsed + 1000 ? ` · about ${seconds(total - elapsed)} left` : " · almost there";
    }
    if (this.shimmer) this.shimmerText.textContent = `${text}…`;
    this.setBadge(this.stillLoaded ? text : null);
    this.ticker = setTimeout(() => this.tick(), 1000);
  }

  noticeFor(asset) {
    if (asset.status === "failed") return failedNotice(asset);
    if (asset.status === "rejected") {
      return NOTICES[`rejected:${asset.status_reason}`] || "This cutscene was not made.";
    }
    return null;
  }

  async loadMedia() {
    const asset = this.asset;
    clearTimeout(this.retryTimer);
    let urls;
    try {
      urls = await this.urls.urls(asset);
    } catch (error) {
      if (this.destroyed || this.asset.id !== asset.id) return;
      this.emit("cutscene:error", { assetId: asset.id, message: String(error.message || error) });
      // Never a dead end: say what is wrong, and try again until it works.
      const wait = RETRY_MS[Math.min(this.retry, RETRY_MS.length - 1)];
      this.retry += 1;
      this.setProblem(problemText(error, wait));
      this.retryTimer = setTimeout(() => this.loadMedia(), wait);
      return;
    }
    this.retry = 0;
    this.setProblem(null);
    if (urls.image_url && !this.still) this.showStill(urls.image_url);
    const wantsClip = asset.video && asset.status === "complete";
    if (wantsClip && urls.video_url && !this.video) this.showClip(urls.video_url);
  }

  setProblem(text) {
    this.problem = this.toggleText(this.problem, "cs-problem", text);
    this.root.classList.toggle("cs-has-problem", Boolean(text));
  }

  showStill(url) {
    const img = el("img", "cs-still");
    img.alt = label(this.asset);
    img.decoding = "async";
    img.addEventListener("load", () => {
      this.stillLoaded = true;
      this.root.classList.add("cs-has-still");
      this.setShimmer(false);
      this.emit("cutscene:still", { assetId: this.asset.id, at: Date.now() });
    }, { once: true });
    img.src = url;
    this.still = img;
    this.frame.prepend(img);
  }

  showClip(url) {
    const video = el("video", "cs-video");
    video.muted = true;
    video.defaultMuted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.preload = "auto";
    video.setAttribute("muted", "");
    video.setAttribute("playsinline", "");
    if (this.still) video.poster = this.still.src;
    video.addEventListener("playing", () => this.onPlaying(video), { once: true });
    video.addEventListener("ended", () => this.root.classList.add("cs-ended"));
    video.addEventListener("play", () => this.root.classList.remove("cs-ended"));
    video.src = url;
    this.video = video;
    this.frame.append(video);
    this.addControls(video);
    video.play().catch(() => {}); // autoplay of a muted clip is allowed; if not, click plays
  }

  onPlaying(video) {
    this.root.classList.add("cs-playing");
    this.setShimmer(false);
    const at = Date.now();
    const completedAt = millis(this.asset.completed_at);
    const sawComplete = this.timing.complete || null;
    this.emit("cutscene:playing", {
      assetId: this.asset.id, at, perf: performance.now(), readyState: video.readyState,
      completedAt, sawCompleteAt: sawComplete,
      msFromCompletedAt: completedAt ? at - completedAt : null,
      msFromSnapshot: sawComplete ? at - sawComplete : null,
    });
  }

  addControls(video) {
    const unmute = el("button", "cs-unmute", "Unmute");
    unmute.type = "button";
    unmute.setAttribute("aria-label", "Unmute");
    unmute.addEventListener("click", () => {
      video.muted = !video.muted;
      unmute.textContent = video.muted ? "Unmute" : "Mute";
      unmute.setAttribute("aria-label", unmute.textContent);
      if (video.paused) video.play().catch(() => {});
    });
    const replay = el("button", "cs-replay", "Replay");
    replay.type = "button";
    replay.addEventListener("click", () => {
      video.currentTime = 0;
      video.play().catch(() => {});
    });
    this.frame.append(unmute, replay);
  }

  setShimmer(on) {
    if (on && !this.shimmer) {
      this.shimmer = el("div", "cs-shimmer");
      const what = WHAT[this.asset.kind] || "Cutscene";
      this.shimmerText = el("span", "cs-shimmer-text", `${what} rendering…`);
      this.shimmer.append(this.shimmerText);
      this.frame.append(this.shimmer);
    } else if (!on && this.shimmer) {
      this.shimmer.remove();
      this.shimmer = null;
    }
  }

  setBadge(text) {
    this.badge = this.toggleText(this.badge, "cs-badge", text);
  }

  setNotice(text) {
    this.notice = this.toggleText(this.notice, "cs-notice", text);
    this.root.classList.toggle("cs-quiet", Boolean(text));
  }

  setNote(text) {
    this.note = this.toggleText(this.note, "cs-note", text, this.root);
  }

  toggleText(node, className, text, parent = this.frame) {
    if (!text) {
      node?.remove();
      return null;
    }
    const target = node || el("div", className);
    target.textContent = text;
    if (!node) parent.append(target);
    return target;
  }

  destroy() {
    this.destroyed = true;
    clearTimeout(this.ticker);
    clearTimeout(this.retryTimer);
    if (this.video) {
      this.video.pause();
      this.video.removeAttribute("src");
      this.video.load();
    }
    this.root.remove();
  }
}
