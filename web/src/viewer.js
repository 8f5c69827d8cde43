// The cinematic viewer: the clip (or still) large, letterboxed, over the page,
// with the type and prompt as a caption and a download of what it shows.
// `item`: {asset, imageUrl, videoUrl, muted}

const GLOWING = new Set(["action_climax", "power_awakening"]);

function mediaFor(item) {
  if (item.videoUrl) {
    const video = document.createElement("video");
    video.src = item.videoUrl;
    video.controls = true;
    video.autoplay = true;
    video.playsInline = true;
    video.muted = Boolean(item.muted);
    if (item.imageUrl) video.poster = item.imageUrl;
    return video;
  }
  const img = document.createElement("img");
  img.src = item.imageUrl;
  img.alt = item.asset.image_prompt || "Cutscene still";
  if (item.asset.status === "partial") img.classList.add("cs-drift-media");
  return img;
}

const KINDS = { cutscene: "Cutscene", npc_portrait: "Portrait", location_visual: "Location",
  model_sheet: "Model sheet" };
const EXTENSIONS = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp",
  "video/mp4": "mp4" };

// The type in words: "Action climax", or what kind of picture it is.
export function typeWords(asset) {
  const type = asset.cutscene_type ? asset.cutscene_type.replace(/_/g, " ") : null;
  const words = type ? type[0].toUpperCase() + type.slice(1) : KINDS[asset.kind] || "Media";
  return asset.subject ? `${words} · ${asset.subject}` : words;
}

// `{cutscene_type}-{asset_id}.mp4`: what the file is, and which one.
export function fileName(asset, clip, contentType) {
  const what = (asset.cutscene_type || asset.kind || "media").replace(/[^a-z0-9_-]/gi, "_");
  const ext = EXTENSIONS[(contentType || "").split(";")[0].trim()] || (clip ? "mp4" : "png");
  return `${what}-${asset.asset_id || asset.id}.${ext}`;
}

function caption(item) {
  const box = document.createElement("div");
  box.className = "cs-viewer-caption";
  const type = document.createElement("div");
  type.className = "cs-viewer-type";
  type.textContent = typeWords(item.asset);
  box.append(type);
  for (const [field, clipOnly] of [["image_prompt", false], ["motion_prompt", true]]) {
    if (!item.asset[field] || (clipOnly && !item.videoUrl)) continue;
    const prompt = document.createElement("p");
    prompt.className = `cs-viewer-prompt cs-viewer-${field.replace("_", "-")}`;
    prompt.textContent = item.asset[field];
    box.append(prompt);
  }
  return box;
}

// Fetch the file and save it under a sensible name (a cross-origin link's
// `download` name is ignored by browsers); if the storage does not allow the
// read (no CORS), open the file itself so it can still be saved.
async function download(asset, url, clip, emit) {
  const name = fileName(asset, clip, null);
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const blob = await response.blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = fileName(asset, clip, blob.type);
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    emit?.("cutscene:download", { assetId: asset.asset_id || asset.id, file: link.download });
  } catch {
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.target = "_blank";
    link.rel = "noopener";
    link.click();
    emit?.("cutscene:download", { assetId: asset.asset_id || asset.id, file: name,
      direct: true });
  }
}

function downloads(item) {
  const bar = document.createElement("div");
  bar.className = "cs-viewer-downloads";
  const files = [];
  if (item.videoUrl) files.push(["clip", item.videoUrl, true]);
  if (item.imageUrl) files.push(["still", item.imageUrl, false]);
  for (const [what, url, clip] of files) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `cs-viewer-download cs-download-${what}`;
    button.textContent = `Download ${what}`;
    button.addEventListener("click", () => download(item.asset, url, clip, item.emit));
    bar.append(button);
  }
  return bar;
}

export function openViewer(item) {
  const overlay = document.createElement("div");
  overlay.className = "cs-viewer";
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-modal", "true");
  overlay.setAttribute("aria-label", "Cutscene");
  overlay.dataset.type = item.asset.cutscene_type || "";
  overlay.classList.toggle("cs-glow", GLOWING.has(item.asset.cutscene_type));
  const stage = document.createElement("div");
  stage.className = "cs-viewer-stage";
  const media = mediaFor(item);
  media.classList.add("cs-viewer-media");
  const close = document.createElement("button");
  close.type = "button";
  close.className = "cs-viewer-close";
  close.textContent = "Close";
  stage.append(media);
  overlay.append(stage, caption(item), downloads(item), close);

  const onKey = (event) => { if (event.key === "Escape") shut(); };
  function shut() {
    document.removeEventListener("keydown", onKey);
    if (media.tagName === "VIDEO") media.pause();
    if (document.fullscreenElement === overlay) document.exitFullscreen().catch(() => {});
    overlay.remove();
  }
  overlay.addEventListener("click", (event) => {
    if (event.target === overlay || event.target === close) shut();
  });
  document.addEventListener("keydown", onKey);
  document.body.append(overlay);
  if (media.tagName === "VIDEO") media.play().catch(() => {});
  // Real fullscreen where the browser allows it; the overlay alone otherwise.
  overlay.requestFullscreen?.().catch(() => {});
  return shut;
}
