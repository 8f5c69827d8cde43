// The demo table: type a scene, trigger it, watch it arrive.
// Query parameters: ?user=alice (a member; "mallory" is not), &campaign=demo, &session=s1.
//
// It embeds the player exactly as a hosted AIDM would: the page initialises its
// own Firebase app, signs in with a custom token its backend minted (here the
// demo server, through `MediaClient.create_custom_token`; `#token=...` in the
// address takes one from `cutscenes player-token` instead) and mounts the player
// with that app. A visitor the backend will not mint for signs in anonymously:
// a real Firebase user who is no member, and so sees nothing.
import { initializeApp } from "firebase/app";
import {
  connectAuthEmulator, getAuth, signInAnonymously, signInWithCustomToken, signOut,
} from "firebase/auth";
import { connectFirestoreEmulator, getFirestore } from "firebase/firestore";
import { mountCutscenePlayer } from "/dist/player.js";

const params = new URLSearchParams(location.search);
const user = params.get("user") || "alice";
const campaignId = params.get("campaign") || "demo";
const sessionId = params.get("session") || "s1";
const $ = (id) => document.getElementById(id);

// For tests and the curious: what happened when, in this browser.
window.cutsceneTimeline = [];

// The next turn this table asks for: the session's last one plus one, asked of
// the server once the page loads (a reload goes on, it does not start again).
let turn = 1;
const showTurn = () => { $("turn").textContent = `turn ${turn}`; };

// The status line follows the asset last triggered from this page through the
// player's cutscene:status events (the player listens to the session anyway).
// A status may arrive before the trigger's answer does: remember all of them.
const seenStatus = new Map();
let followed = null;
const STATUS_WORDS = { rendering_image: "rendering the still", animating: "animating the clip" };
function showStatus() {
  if (!followed) return;
  const status = seenStatus.get(followed) || "requested";
  $("status").textContent = `${STATUS_WORDS[status] || status} (${followed.slice(0, 8)}…)`;
  $("status").dataset.assetStatus = status;
}

async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { ok: response.ok, status: response.status, body: await response.json() };
}

// What AIDM's backend does for its page: a custom token for a member, or a refusal.
async function customToken() {
  const fromAddress = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromAddress) return fromAddress;
  const answer = await postJson("/api/player-token", { campaign_id: campaignId, user });
  return answer.ok ? answer.body.token || null : null;
}

async function main() {
  setUpForm();
  const config = await (await fetch("/config.json", { cache: "no-store" })).json();
  const [host, port] = config.FIRESTORE_EMULATOR_HOST.split(":");
  $("who").textContent = user;
  $("campaign").textContent = campaignId;
  $("session").textContent = sessionId;

  // The campaign must exist before anyone listens (rules deny reads of one
  // that does not); in a real game AIDM's backend creates it.
  await postJson("/api/setup", { campaign_id: campaignId });
  const session = await postJson("/api/session", { campaign_id: campaignId, session_id: sessionId });
  if (session.ok) {
    turn = session.body.last_turn + 1;
    showTurn();
  }

  const app = initializeApp({ projectId: config.GOOGLE_CLOUD_PROJECT, apiKey: "demo-key",
    authDomain: "localhost", appId: "demo" }, `demo-${user}`);
  const auth = getAuth(app);
  connectAuthEmulator(auth, `http://${config.FIREBASE_AUTH_EMULATOR_HOST}`,
    { disableWarnings: true });
  connectFirestoreEmulator(getFirestore(app), host, Number(port));
  const token = await customToken();
  const member = Boolean(token);
  if (token) await signInWithCustomToken(auth, token);
  else await signInAnonymously(auth);
  window.cutsceneAuth = { signOut: () => signOut(auth), uid: () => auth.currentUser?.uid };

  const element = $("player");
  for (const name of ["cutscene:status", "cutscene:still", "cutscene:playing",
    "cutscene:denied", "cutscene:signed-out", "cutscene:error", "cutscene:role",
    "cutscene:take", "cutscene:regenerated", "cutscene:retrying-clip", "cutscene:hidden",
    "cutscene:download"]) {
    element.addEventListener(name, (event) => {
      window.cutsceneTimeline.push({ event: name, t: Date.now(), ...event.detail });
    });
  }
  element.addEventListener("cutscene:status", (event) => {
    seenStatus.set(event.detail.assetId, event.detail.status);
    if (event.detail.assetId === followed) showStatus();
  });
  window.cutscenePlayer = mountCutscenePlayer(element, {
    firebaseApp: app, campaignId, sessionId, apiUrl: config.MEDIA_API_URL,
  });
  $("sign-out").hidden = false;
  $("sign-out").addEventListener("click", async () => {
    await signOut(auth);
    $("go").disabled = true;
    $("status").textContent = "signed out";
  });
  // Only a member may call a scene; anyone else only watches (and sees nothing).
  $("go").disabled = !member;
  $("go").title = member ? "" : "Only members of this campaign can trigger scenes";
  if (!member) $("status").textContent = `${user} is not a member of ${campaignId}`;
  window.cutsceneReady = true;
}

function setUpForm() {
  const kind = $("kind");
  const syncKind = () => {
    const cutscene = kind.value === "cutscene";
    $("type-field").hidden = !cutscene;
    $("motion-field").hidden = !cutscene;
    $("subject-field").hidden = cutscene;
  };
  kind.addEventListener("change", syncKind);
  syncKind();

  $("trigger").addEventListener("submit", async (event) => {
    event.preventDefault();
    const cutscene = kind.value === "cutscene";
    const scene = $("scene").value.trim();
    const body = {
      campaign_id: campaignId, session_id: sessionId, turn_number: turn, kind: kind.value,
      image_prompt: scene,
      cutscene_type: cutscene ? $("type").value : null,
      motion_prompt: cutscene ? ($("motion").value.trim() || "slow cinematic push-in") : null,
      subject: cutscene ? null : ($("subject").value.trim() || scene.slice(0, 60)),
      aspect_ratio: kind.value === "npc_portrait" ? "1:1" : null,  // portraits are square
    };
    $("go").disabled = true;
    $("status").textContent = "sending…";
    try {
      const response = await fetch("/api/trigger", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer?.error?.message || `HTTP ${response.status}`);
      window.cutsceneTimeline.push({ event: "triggered", t: Date.now(), ...answer });
      followed = answer.asset_id;
      showStatus();
      turn = answer.turn_number + 1;
      showTurn();
    } catch (error) {
      $("status").textContent = `not sent: ${error.message}`;
    } finally {
      $("go").disabled = false;
    }
  });
}

main().catch((error) => {
  $("status").textContent = `could not start: ${error.message}`;
  console.error(error);
});
