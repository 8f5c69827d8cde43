// media_api client: signed URLs, gallery pages, session cost, who the caller
// is, an owner's actions on an asset (regenerate, retry the clip, hide) and
// the owner's spend report.

export class MediaApi {
  constructor(baseUrl, getIdToken) {
    this.baseUrl = (baseUrl || "").replace(/\/+$/, "");
    this.getIdToken = getIdToken;
  }

  async get(path) {
    return this.send("GET", path);
  }

  async send(method, path, json) {
    const token = await this.getIdToken();
    const headers = { Authorization: `Bearer ${token}` };
    if (json !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(this.baseUrl + path, {
      method, headers, cache: "no-store",
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const body = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(body?.error?.message || `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  asset(campaignId, assetId) {
    return this.get(`/campaigns/${enc(campaignId)}/media/${enc(assetId)}`);
  }

  gallery(campaignId, pageSize, cursor) {
    const params = new URLSearchParams({ limit: String(pageSize) });
    if (cursor) params.set("cursor", cursor);
    return this.get(`/campaigns/${enc(campaignId)}/gallery?${params}`);
  }

  cost(campaignId, sessionId) {
    return this.get(`/campaigns/${enc(campaignId)}/sessions/${enc(sessionId)}/cost`);
  }

  // The owner's spend report: {rows: [{key, spent_usd, assets}], total_usd},
  // `by` "day" or "session".
  spend(campaignId, by) {
    return this.get(`/campaigns/${enc(campaignId)}/spend?by=${enc(by)}`);
  }

  // {uid, member, owner}: whether to show the owner's buttons.
  me(campaignId) {
    return this.get(`/campaigns/${enc(campaignId)}/me`);
  }

  // A new take: {asset_id, request_id}. `prompts` holds only the edited ones.
  regenerate(campaignId, assetId, prompts) {
    return this.send("POST", `/campaigns/${enc(campaignId)}/media/${enc(assetId)}/regenerate`,
      prompts);
  }

  // Try the clip of a partial cutscene again.
  animate(campaignId, assetId) {
    return this.send("POST", `/campaigns/${enc(campaignId)}/media/${enc(assetId)}/animate`);
  }

  hide(campaignId, assetId) {
    return this.send("DELETE", `/campaigns/${enc(campaignId)}/media/${enc(assetId)}`);
  }
}

const enc = encodeURIComponent;

// Signed URLs live at most 900 s; fetch again a minute before they lapse.
const URL_REUSE_MS = 13 * 60 * 1000;

// One cached set of signed URLs per asset, fetched again when a file appears
// that the cached set lacks, or when it is about to expire.
export class UrlCache {
  constructor(api, campaignId) {
    this.api = api;
    this.campaignId = campaignId;
    this.entries = new Map();
  }

  async urls(asset) {
    const want = { image: Boolean(asset.image), video: Boolean(asset.video) };
    const entry = this.entries.get(asset.id);
    const fresh = entry && Date.now() - entry.at < URL_REUSE_MS;
    if (fresh && (!want.image || entry.image_url) && (!want.video || entry.video_url)) {
      return entry;
    }
    const key = `${asset.id}:${asset.status}`;
    if (entry?.pending?.key === key) return entry.pending.promise;
    const promise = this.api.asset(this.campaignId, asset.id).then((body) => {
      const next = { at: Date.now(), image_url: body.image_url, video_url: body.video_url };
      this.entries.set(asset.id, next);
      return next;
    }).catch((error) => {
      this.entries.delete(asset.id);
      throw error;
    });
    this.entries.set(asset.id, { ...(entry || { at: 0 }), pending: { key, promise } });
    return promise;
  }

  remember(asset, body) {
    this.entries.set(asset.id, { at: Date.now(), image_url: body.image_url,
      video_url: body.video_url });
  }
}
