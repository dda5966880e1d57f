// Generated from sameday's OpenAPI document by scripts/generate_types.py: do not edit.
// Regenerate: python clients/typescript/scripts/generate_types.py

export interface BatchRequest {
  requests: {
    unit: string;
    attributes?: { [key: string]: unknown };
  }[];
  n?: number;
  exclude?: string[];
}

export interface BatchResponse {
  results: Recommendation[];
}

export interface Error {
  error: {
    status: number;
    message: string;
    field: string | null;
  };
}

export interface EventsAccepted {
  accepted: number;
}

export interface EventsRequest {
  events: {
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
  }[];
}

export interface Item {
  item: string;
  score: number;
  position: number;
  /** The result set the item came from. */
  source: string;
  payload?: { [key: string]: unknown };
}

export interface RecommendRequest {
  unit: string;
  /** For targeting and surface rules. */
  attributes?: { [key: string]: unknown };
  n?: number;
  exclude?: string[];
  /** Your id for the served list (an impression id), unique per list; by default sameday makes one. Outcomes refer to it, interleaving and bandit draws are seeded by it, and a repeated id is logged once. */
  request_id?: string;
}

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
}

export interface Status {
  status?: string;
}
