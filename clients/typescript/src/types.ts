// Generated from sameday's OpenAPI document by scripts/generate_types.py: do not edit.
// Regenerate: python clients/typescript/scripts/generate_types.py

/** One unit of a batch call. */
export interface BatchEntry {
  unit: string;
  /** For targeting and surface rules. */
  attributes?: { [key: string]: unknown };
}

/** The body of `POST /v1/recommend/{surface}/batch`: one list per unit. */
export interface BatchRequest {
  requests: BatchEntry[];
  n?: number;
  exclude?: string[];
}

/** One list per unit of the request, in its order. */
export interface BatchResponse {
  results: Recommendation[];
}

/** The one error shape of the API. */
export interface Error {
  error: ErrorDetail;
}

/** What went wrong. */
export interface ErrorDetail {
  status: number;
  message: string;
  /** The input field at fault, if one is. */
  field: string | null;
}

/** An outcome event: a click, a purchase, any named event with a value. */
export interface Event {
  /** Unique per event; a resent event is stored once. */
  event_id: string;
  unit: string;
  /** The event's name, e.g. click or purchase. */
  name: string;
  value?: number;
  /** Seconds since the epoch; default: now. */
  time?: number;
  /** The served list the event follows from. */
  request_id?: string | null;
  item?: string | null;
}

/** The events are durable: committed to the event log. */
export interface EventsAccepted {
  accepted: number;
}

/** The body of `POST /v1/events`. */
export interface EventsRequest {
  events: Event[];
}

/** One slot of a served list. */
export interface Item {
  item: string;
  score: number;
  position: number;
  /** The result set the item came from. */
  source: string;
  payload?: { [key: string]: unknown };
}

/** A configuration is loaded; `degraded` while the store cannot be read (fallbacks serve). */
export interface Ready {
  status: "ready" | "degraded";
  surfaces: string[];
  /** ok, or unreachable: and why. */
  store: string;
}

/** The body of `POST /v1/recommend/{surface}`. */
export interface RecommendRequest {
  unit: string;
  /** For targeting and surface rules. */
  attributes?: { [key: string]: unknown };
  n?: number;
  exclude?: string[];
  /** Your id for the served list (an impression id), unique per list; by default sameday makes one. Outcomes refer to it, interleaving and bandit draws are seeded by it, and a repeated id is logged once. */
  request_id?: string;
}

/** A served list, and why it is this one. */
export interface Recommendation {
  request_id: string;
  surface: string;
  unit: string;
  experiment: string | null;
  arm: string | null;
  /** True when the store or a list was missing and fallbacks served. */
  degraded: boolean;
  /** Result set → snapshot version the list was read from. */
  snapshots: { [key: string]: string };
  items: Item[];
  /** Present when a scorer re-ranks this list. */
  model?: Scoring;
}

/** The configuration and snapshots were reloaded. */
export interface Refreshed {
  changed: boolean;
  /** The applied configuration's fingerprint. */
  fingerprint: string;
}

/** How a scorer ordered the list (docs/models.md, "Online scoring"). */
export interface Scoring {
  /** The arm's or surface's scorer: NAME@ALIAS, or python:MOD:FN. */
  scorer: string;
  /** The exact version that ordered the list; null when it fell back. */
  version: string | null;
  /** Why the list is in the batch order, or null when scored. */
  fallback: ("timeout" | "error" | "unavailable" | "store") | null;
}

/** The process answers. */
export interface Status {
  status: "ok";
}
