// The gallery: every asset of the campaign, newest first, a page at a time
// from media_api (which signs the URLs in one call).
import { failedNotice } from "./card.js";

const PAGE = 24;
// Each status in words; a failed tile says why.
const WORDS = {
  queued: "queued", rendering_image: "rendering", animating: "animating",
  complete: "ready", partial: "still only", rejected: "not made",
};

function statusWords(asset) {
  if (asset.status === "failed") return failedNotice(asset);
  return WORDS[asset.status] || "unknown";
}

export class Gallery {
  constructor({ api, campaignId, openViewer, emit }) {
    this.api = api;
    this.campaignId = campaignId;
    this.openViewer = openViewer;
    this.emit = emit;
    this.root = document.createElement("div");
    this.root.className = "cs-gallery";
    this.grid = document.createElement("div");
    this.grid.className = "cs-gallery-grid";
    this.more = document.createElement("button");
    this.more.type = "button";
    this.more.className = "cs-gallery-more";
    this.more.textContent = "Load more";
    this.more.hidden = true;
    this.more.addEventListener("click", () => this.load(this.cursor));
    this.empty = document.createElement("p");
    this.empty.className = "cs-gallery-empty";
    this.empty.textContent = "No media yet.";
    this.root.append(this.grid, this.empty, this.more);
    this.cursor = null;
    this.loading = null;
  }

  // First page again (after a change), or the page after `cursor`.
  async load(cursor = null) {
    if (this.loading) return this.loading;
    this.loading = this.api.gallery(this.campaignId, PAGE, cursor).then((page) => {
      if (!cursor) this.grid.replaceChildren();
      for (const asset of page.assets) this.grid.append(this.tile(asset));
      this.cursor = page.next_cursor;
      this.more.hidden = !page.next_cursor;
      this.empty.textContent = "No media yet.";
      this.empty.hidden = this.grid.children.length > 0;
    }).catch((error) => {
      this.emit("cutscene:error", { where: "gallery", message: String(error.message || error) });
      this.empty.textContent = `The gallery could not be loaded (${error.message}); it will try again.`;
      this.empty.hidden = false;
      clearTimeout(this.retry);
      this.retry = setTimeout(() => {
        if (this.root.isConnected && !this.root.hidden) this.load(cursor);
      }, 5000);
    }).finally(() => { this.loading = null; });
    return this.loading;
  }

  tile(asset) {
    const tile = document.createElement("button");
    tile.type = "button";
    tile.className = "cs-tile";
    tile.dataset.assetId = asset.asset_id;
    tile.dataset.status = asset.status;
    tile.dataset.kind = asset.kind || "";
    if (asset.image_url) {
      const img = document.createElement("img");
      img.src = asset.image_url;
      img.alt = asset.image_prompt || "";
      img.loading = "lazy";
      tile.append(img);
    } else {
      const blank = document.createElement("span");
      blank.className = asset.status === "failed" || asset.status === "rejected"
        ? "cs-tile-blank" : "cs-tile-blank cs-shimmer";
      tile.append(blank);
    }
    const caption = document.createElement("span");
    caption.className = "cs-tile-caption";
    const what = asset.cutscene_type || asset.subject || asset.kind || "media";
    caption.textContent = `${what.replace(/_/g, " ")} · ${statusWords(asset)}`;
    if (asset.video_url) tile.classList.add("cs-tile-clip");
    tile.append(caption);
    tile.addEventListener("click", () => {
      if (!asset.image_url && !asset.video_url) return;
      this.openViewer({ asset, imageUrl: asset.image_url, videoUrl: asset.video_url,
        muted: false });
    });
    return tile;
  }
}
