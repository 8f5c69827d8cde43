// The demo table: type a scene, trigger it, watch it arrive.
// Query parameters: ?user=alice (a member; "mallory" is not), &campaign=demo, &session=s1.
import { mountCutscenePlayer } from "/dist/player.js";

const params = new URLSearchParams(location.search);
const user = params.get("user") || "alice";
const campaignId = params.get("campaign") || "demo";
const sessionId = params.get("session") || "s1";
const $ = (id) => document.getElementById(id);

// For tests and the curious: what happened when, in this browser.
window.cutsceneTimeline = [];

async function main() {
  setUpForm();
  const config = await (await fetch("/config.json", { cache: "no-store" })).json();
  const [host, port] = config.FIRESTORE_EMULATOR_HOST.split(":");
  const projectId = config.GOOGLE_CLOUD_PROJECT;
  $("who").textContent = user;
  $("campaign").textContent = campaignId;
  $("session").textContent = sessionId;

  // The campaign must exist before anyone listens (rules deny reads of one
  // that does not); in a real game AIDM's backend creates it.
  await fetch("/api/setup", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ campaign_id: campaignId }),
  });
  const element = $("player");
  for (const name of ["cutscene:status", "cutscene:still", "cutscene:playing",
    "cutscene:denied", "cutscene:error"]) {
    element.addEventListener(name, (event) => {
      window.cutsceneTimeline.push({ event: name, t: Date.now(), ...event.detail });
    });
  }
  window.cutscenePlayer = mountCutscenePlayer(element, {
    firebaseConfig: { projectId, apiKey: "demo-key", appId: "demo" },
    emulator: { host, port, userId: user },
    campaignId,
    sessionId,
    apiUrl: config.MEDIA_API_URL,
  });
  $("go").disabled = false;
}

function setUpForm() {
  let turn = 1;
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
      $("status").textContent = `requested (${answer.asset_id.slice(0, 8)}…)`;
      turn += 1;
      $("turn").textContent = `turn ${turn}`;
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
