// Types of the Node client of aidm-cutscenes (written by hand beside index.js).

export declare const REQUEST_SCHEMA: "media.request.v1";
export declare const DEFAULT_TOPIC: "media-requests";

export type Kind = "cutscene" | "location_visual" | "npc_portrait" | "model_sheet";
export type CutsceneType =
  | "character_intro"
  | "location_reveal"
  | "action_climax"
  | "emotional_peak"
  | "power_awakening"
  | "plot_twist"
  | "arc_transition";

export interface Style {
  art_style?: string | null;
  ip_title?: string | null;
  palette?: string | null;
  notes?: string | null;
}

/** A request (docs/interface.md section 1) without `schema`, which the client adds. */
export interface MediaRequest {
  /** 8-128 of [A-Za-z0-9._:-]; generated when absent. The idempotency key. */
  request_id?: string;
  campaign_id: string;
  session_id: string;
  turn_number: number;
  kind: Kind;
  cutscene_type?: CutsceneType | null;
  image_prompt: string;
  motion_prompt?: string | null;
  subject?: string | null;
  style?: Style | null;
  reference_images?: string[];
  characters?: string[];
  aspect_ratio?: "16:9" | "9:16" | "1:1";
  duration_seconds?: 4 | 6 | 8 | null;
  /** Unknown fields are sent along; the pipeline ignores the ones it does not know. */
  [field: string]: unknown;
}

export type PublishResult =
  | { status: "queued"; asset_id: string; request_id: string }
  /** The request broke the schema and was not published. */
  | { status: "refused"; request_id: string | null; reason: string }
  /** Publishing failed (safe to try again: a request id is charged once). */
  | { status: "failed"; asset_id: string; request_id: string; reason: string };

/** An HTTP answer of media_api; status 0 when none came (error says why). */
export interface ApiResult<T = unknown> {
  status: number;
  body: T | { error: { code: number; message: string } } | string | null;
  error?: string;
}

export interface TurnRow {
  id: string;
  asset_type: "image" | "video";
  cutscene_type: CutsceneType | null;
  category: "cutscenes";
  file_url: string | null;
  status: string;
}

export interface MediaClientOptions {
  projectId: string;
  /** Pub/Sub topic of requests (default "media-requests"). */
  topic?: string;
  /** media_api's root URL, for turnMedia and rewind. */
  apiUrl?: string;
  /** How long a publish or an HTTP call may take (default 10000 ms). */
  timeoutMs?: number;
}

export declare class MediaClient {
  constructor(options: MediaClientOptions);
  /** Never rejects. */
  publishRequest(request: MediaRequest): Promise<PublishResult>;
  /** Never rejects. */
  turnMedia(args: {
    campaignId: string;
    sessionId: string;
    turnId: string;
    token: string;
    progressive?: boolean;
  }): Promise<ApiResult<{ assets: TurnRow[] }>>;
  /** Never rejects. Owners only. */
  rewind(args: {
    campaignId: string;
    sessionId: string;
    afterTurn: number;
    token: string;
  }): Promise<ApiResult<{ hidden: number }>>;
  close(): Promise<void>;
}

export declare function assetIdFor(requestId: string): string;
export declare function newRequestId(): string;
export declare function checkRequest(
  message: Record<string, unknown>,
): { ok: true } | { ok: false; reason: string };
