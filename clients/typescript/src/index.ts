export {
  RequestRejected,
  SamedayClient,
  SamedayUnavailable,
  retryAfterMs,
  type BatchOptions,
  type ClientOptions,
  type Event,
  type Fallback,
  type Health,
  type Recommendation,
  type RecommendOptions,
  type RetryOptions,
  type Timeouts,
} from "./client.js";
export type { Item } from "./types.js";
/** Every type of sameday's OpenAPI document (`api.BatchRequest`, `api.Error`, ...). */
export type * as api from "./types.js";
