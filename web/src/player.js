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
// A regeneration joins its moment as a new take (see moment.js); the
// campaign's owners get Regenerate, Retry clip and Hide (media_api's `/me`
// says who is one), and a Spend tab: the campaign's spend per day and per
// game session as bar charts (spend.js).
// Events are dispatched on `element`: cutscene:status, cutscene:still,
// cutscene:playing (with timings), cutscene:denied, cutscene:signed-out,
// cutscene:error, cutscene:role, cutscene:take, cutscene:regenerated,
// cutscene:retrying-clip, cutscene:hidden, cutscene:spend.
import { getAuth, onAuthStateChanged } from "firebase/auth";
import { getFirestore } from "firebase/firestore";
import { MediaApi, UrlCache } from "./api.js";
import { CostMeter } from "./cost.js";
import { listenToMedia, millis } from "./firestore.js";
import { Gallery } from "./gallery.js";
import { Moment, groupTakes } from "./moment.js";
import { SpendReport } from "./spend.js";
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
  const moments = new Map(); // moment key -> Moment
  const parents = new Map(); // asset id -> regenerated_from, as seen so far
  let owner = false;
  const unsubscribe = [];

  const root = el("div", "cs-player");
  root.dataset.state = "connecting";
  const tabs = el("div", "cs-tabs");
  const nowTab = el("button", "cs-tab cs-tab-on", "Now");
  const galleryTab = el("button", "cs-tab", "Gallery");
  const spendTab = el("button", "cs-tab cs-tab-spend", "Spend");
  spendTab.hidden = true; // owners only: the report is theirs (media_api says so too)
  for (const tab of [nowTab, galleryTab, spendTab]) tab.type = "button";
  tabs.append(nowTab, galleryTab, spendTab);
  const stage = el("div", "cs-stage");
  const recent = el("div", "cs-recent");
  const quiet = el("p", "cs-quiet-line");
  quiet.hidden = true;
  const meter = new CostMeter();
  const view = (item) => openViewer({ ...item, emit });
  const gallery = new Gallery({ api, campaignId, openViewer: view, emit });
  gallery.root.hidden = true;
  const spend = new SpendReport({ api, campaignId, emit });
  spend.root.hidden = true;
  root.append(tabs, stage, recent, gallery.root, spend.root, quiet, meter.root);
  element.append(root);

  function showTab(which) {
    const onGallery = which === "gallery";
    const onSpend = which === "spend" && owner;
    const onNow = !onGallery && !onSpend;
    nowTab.classList.toggle("cs-tab-on", onNow);
    galleryTab.classList.toggle("cs-tab-on", onGallery);
    spendTab.classList.toggle("cs-tab-on", onSpend);
    stage.hidden = !onNow;
    recent.hidden = !onNow;
    gallery.root.hidden = !onGallery;
    spend.root.hidden = !onSpend;
    if (onGallery) gallery.load();
    if (onSpend) spend.load();
  }
  nowTab.addEventListener("click", () => showTab("now"));
  galleryTab.addEventListener("click", () => showTab("gallery"));
  spendTab.addEventListener("click", () => showTab("spend"));

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
    clearMoments();
    showTab("now");
    spend.root.replaceChildren();
    tabs.hidden = true;
    meter.hide();
    quiet.textContent = "Cutscenes for this table aren't shared with you.";
    quiet.hidden = false;
    emit("cutscene:denied", { where });
  }

  function clearMoments() {
    for (const moment of moments.values()) moment.destroy();
    moments.clear();
  }

  // Whether this member owns the campaign, asked once per sign-in (the rules
  // let no client read the campaign document); only owners see the buttons.
  let roleAsked = false;
  function askRole() {
    if (roleAsked || !options.apiUrl) return;
    roleAsked = true;
    const uid = auth.currentUser?.uid;
    api.me(campaignId).then((me) => {
      if (auth.currentUser?.uid !== uid || root.dataset.state === "denied") return;
      owner = Boolean(me.owner);
      root.dataset.owner = String(owner);
      spendTab.hidden = !owner;
      for (const moment of moments.values()) moment.setOwner(owner);
      emit("cutscene:role", { owner });
    }).catch((error) => {
      roleAsked = false; // asked again with the next snapshot
      emit("cutscene:error", { where: "role", message: String(error.message || error) });
    });
  }
  const actions = {
    regenerate: (assetId, prompts) => api.regenerate(campaignId, assetId, prompts),
    animate: (assetId) => api.animate(campaignId, assetId),
    hide: (assetId) => api.hide(campaignId, assetId),
  };

  let galleryRefresh = null;
  // The meter's totals come from media_api's cost route: the rules let no
  // client read the ledger itself, whose keys name every asset's holds and
  // charges, hidden ones too. They are asked once the rules have let this
  // user read the media (a non-member's page makes no request that can only
  // be refused), and again after each change of the listing, since money
  // moves when an asset does (a hold as it starts, a charge or a release as
  // it ends). One request at a time; changes meanwhile ask once more after.
  let costTimer = null;
  let costInFlight = false;
  let costAgain = false;
  let costRound = 0; // a sign-out or a switch of user drops answers in flight
  function askCost() {
    if (!sessionId || !options.apiUrl) return;
    clearTimeout(costTimer);
    costTimer = setTimeout(fetchCost, 250);
  }
  function fetchCost() {
    if (costInFlight) {
      costAgain = true;
      return;
    }
    costInFlight = true;
    const round = costRound;
    api.cost(campaignId, sessionId).then((cost) => {
      if (round === costRound && root.dataset.state !== "denied" && auth.currentUser) {
        meter.show(cost);
      }
    }).catch(() => {}).finally(() => {
      costInFlight = false;
      if (costAgain) {
        costAgain = false;
        fetchCost();
      }
    });
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
    askRole();
    const groups = groupTakes(docs, parents);
    const seen = new Set(groups.map(([key]) => key));
    for (const [key, moment] of moments) {
      if (!seen.has(key)) {
        moment.destroy();
        moments.delete(key);
      }
    }
    groups.forEach(([key, takes], index) => {
      let moment = moments.get(key);
      if (!moment) {
        moment = new Moment(key, { cardOptions: { urls, emit, openViewer: view, estimate },
          actions, emit });
        moment.owner = owner;
        moments.set(key, moment);
      }
      moment.setTakes(takes);
      // The newest moment takes the stage; the rest line up beside it.
      const home = index === 0 ? stage : recent;
      if (moment.root.parentElement !== home || home === recent) home.append(moment.root);
      moment.root.classList.toggle("cs-featured", index === 0);
    });
    if (!gallery.root.hidden) {
      clearTimeout(galleryRefresh);
      galleryRefresh = setTimeout(() => gallery.load(), 400);
    }
  }

  // Listen only while someone is signed in; a sign-out (or a switch of user)
  // stops every listener and clears the screen before anything else is read.
  function start() {
    retryMs = 3000;
    roleAsked = false;
    owner = false;
    delete root.dataset.owner;
    spendTab.hidden = true;
    listen();
  }
  function stop() {
    clearTimeout(retryTimer);
    stopMedia();
    stopMedia = () => {};
    clearTimeout(costTimer);
    costRound += 1;
    costAgain = false;
    clearMoments();
    parents.clear();
    meter.hide();
    showTab("now"); // a report shown to the last user is not left on screen
    spendTab.hidden = true;
    spend.root.replaceChildren();
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
    showSpend: () => showTab("spend"),
    async destroy() {
      for (const stop of unsubscribe) stop();
      clearMoments();
      root.remove();
    },
  };
}
