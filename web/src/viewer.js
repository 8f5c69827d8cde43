// The cinematic viewer: the clip (or still) large, letterboxed, over the page.
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
  overlay.append(stage, close);

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
