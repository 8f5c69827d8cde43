// The cutscene player AIDM's frontend embeds.
//
//   import { mountCutscenePlayer } from "./player.js";
//   const player = mountCutscenePlayer(element, {
//     firebaseApp,               // the host page's initialised Firebase app
//     campaignId, sessionId,     // sessionId drives the cost meter
//     apiUrl,                    // media_api base URL
//   });
//   player.destroy();
//
// It uses the host's Auth (the signed-in user's ID token for media_api, and
// for the security rules) and the host's Firestore: `firebase` is a peer
// dependency, so page and player share one SDK. It listens to the campaign's
// media while someone is signed in (rules let only members read), so every
// status change shows as it happens: a shimmer while the still renders, the
// still the moment it exists, then the clip. Signing out stops the listeners.
// Events are dispatched on `element`: cutscene:status, cutscene:still,
// cutscene:playing (with timings), cutscene:denied, cutscene:signed-out,
// cutscene:error.
import { getAuth, onAuthStateChanged } from "firebase/auth";
import { getFirestore } from "firebase/firestore";
import { MediaApi, UrlCache } from "./api.js";
import { AssetCard } from "./card.js";
import { CostMeter } from "./cost.js";
import { listenToLedger, listenToMedia, millis } from "./firestore.js";
import { Gallery } from "./gallery.js";
import { openViewer } from "./viewer.js";

const DEFAULT_LIVE = 12;

function el(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function mountCutscenePlayer(element, options) {
  const { campaignId, sessionId, firebaseApp } = options;
  if (!campaignId) throw new Error("campaignId is required");
  if (!firebaseApp) throw new Error("firebaseApp (the page's initialised Firebase app) is required");
  const auth = getAuth(firebaseApp);
  const db = getFirestore(firebaseApp);
  const api = new MediaApi(options.apiUrl, async () => {
    if (!auth.currentUser) throw new Error("nobody is signed in");
    return auth.currentUser.getIdToken();
  });
  const urls = new UrlCache(api, campaignId);
  const emit = (name, detail) => element.dispatchEvent(new CustomEvent(name, { detail }));
  const cards = new Map();
  const unsubscribe = [];

  const root = el("div", "cs-player");
  root.dataset.state = "connecting";
  const tabs = el("div", "cs-tabs");
  const nowTab = el("button", "cs-tab cs-tab-on", "Now");
  const galleryTab = el("button", "cs-tab", "Gallery");
  for (const tab of [nowTab, galleryTab]) tab.type = "button";
  tabs.append(nowTab, galleryTab);
  const stage = el("div", "cs-stage");
  const recent = el("div", "cs-recent");
  const quiet = el("p", "cs-quiet-line");
  quiet.hidden = true;
  const meter = new CostMeter();
  const gallery = new Gallery({ api, campaignId, openViewer, emit });
  gallery.root.hidden = true;
  root.append(tabs, stage, recent, gallery.root, quiet, meter.root);
  element.append(root);

  function showTab(which) {
    const onGallery = which === "gallery";
    nowTab.classList.toggle("cs-tab-on", !onGallery);
    galleryTab.classList.toggle("cs-tab-on", onGallery);
    stage.hidden = onGallery;
    recent.hidden = onGallery;
    gallery.root.hidden = !onGallery;
    if (onGallery) gallery.load();
  }
  nowTab.addEventListener("click", () => showTab("now"));
  galleryTab.addEventListener("click", () => showTab("gallery"));

  // A listener that fails is over; listen again later, since membership can
  // be granted while the page is open (slowly: each try is a denied read).
  let retryMs = 3000;
  let retryTimer = null;
  let stopMedia = () => {};
  function listen() {
    stopMedia = listenToMedia(db, campaignId, options.live || DEFAULT_LIVE, onMedia,
      (error) => {
        denied("media", error);
        retryTimer = setTimeout(listen, retryMs);
        retryMs = Math.min(retryMs * 2, 60000);
      });
  }

  function denied(where, error) {
    // Not a member (or signed out): show nothing of the campaign, say little.
    if (error?.code !== "permission-denied") {
      emit("cutscene:error", { where, message: String(error?.message || error) });
      return;
    }
    root.dataset.state = "denied";
    for (const card of cards.values()) card.destroy();
    cards.clear();
    tabs.hidden = true;
    meter.hide();
    quiet.textContent = "Cutscenes for this table aren't shared with you.";
    quiet.hidden = false;
    emit("cutscene:denied", { where });
  }

  let galleryRefresh = null;
  // The cost is asked of media_api once the rules have let this user read
  // (a non-member's page makes no request that can only be refused).
  let costAsked = false;
  function askCost() {
    if (costAsked || !sessionId || !options.apiUrl) return;
    costAsked = true;
    api.cost(campaignId, sessionId).then((cost) => {
      if (root.dataset.state !== "denied" && auth.currentUser) meter.show(cost);
    }).catch(() => {});
  }

  // How long a request of each kind took lately (created -> complete), for the
  // "about N s left" on unfinished ones: the median of the last few.
  const recentMs = new Map();
  function learn(docs) {
    for (const kind of new Set(docs.map((d) => d.kind))) {
      const spans = docs.filter((d) => d.kind === kind && d.status === "complete")
        .map((d) => millis(d.completed_at) - millis(d.created_at))
        .filter((ms) => ms > 0).slice(0, 9).sort((a, b) => a - b);
      if (spans.length) recentMs.set(kind, spans[Math.floor(spans.length / 2)]);
    }
  }
  const estimate = (asset) => recentMs.get(asset.kind) || null;

  function onMedia(docs) {
    root.dataset.state = "live";
    askCost();
    learn(docs);
    retryMs = 3000;
    tabs.hidden = false;
    quiet.hidden = true;
    const seen = new Set(docs.map((d) => d.id));
    for (const [id, card] of cards) {
      if (!seen.has(id)) {
        card.destroy();
        cards.delete(id);
      }
    }
    docs.forEach((asset, index) => {
      let card = cards.get(asset.id);
      if (card) card.update(asset);
      else {
        card = new AssetCard(asset, { urls, emit, openViewer, estimate });
        cards.set(asset.id, card);
      }
      // The newest asset takes the stage; the rest line up beside it.
      const home = index === 0 ? stage : recent;
      if (card.root.parentElement !== home || home === recent) home.append(card.root);
      card.root.classList.toggle("cs-featured", index === 0);
    });
    if (!gallery.root.hidden) {
      clearTimeout(galleryRefresh);
      galleryRefresh = setTimeout(() => gallery.load(), 400);
    }
  }

  // Listen only while someone is signed in; a sign-out (or a switch of user)
  // stops every listener and clears the screen before anything else is read.
  let stopLedger = () => {};
  function start() {
    retryMs = 3000;
    costAsked = false;
    listen();
    if (!sessionId) return;
    stopLedger = listenToLedger(db, campaignId, sessionId,
      (ledger) => { if (ledger && root.dataset.state !== "denied") meter.show(ledger); },
      (error) => { meter.hide(); if (error?.code !== "permission-denied") denied("ledger", error); });
  }
  function stop() {
    clearTimeout(retryTimer);
    stopMedia();
    stopMedia = () => {};
    stopLedger();
    stopLedger = () => {};
    for (const card of cards.values()) card.destroy();
    cards.clear();
    meter.hide();
  }
  let currentUid = null;
  const stopAuth = onAuthStateChanged(auth, (user) => {
    const uid = user?.uid || null;
    if (uid === currentUid) return;
    if (currentUid !== null) stop();
    currentUid = uid;
    if (uid) {
      root.dataset.state = "connecting";
      start();
    } else {
      root.dataset.state = "signed-out";
      tabs.hidden = true;
      quiet.textContent = "Sign in to see this table's cutscenes.";
      quiet.hidden = false;
      emit("cutscene:signed-out", {});
    }
  });
  unsubscribe.push(stopAuth, stop);

  return {
    element: root,
    showGallery: (on = true) => showTab(on ? "gallery" : "now"),
    async destroy() {
      for (const stop of unsubscribe) stop();
      for (const card of cards.values()) card.destroy();
      cards.clear();
      root.remove();
    },
  };
}
