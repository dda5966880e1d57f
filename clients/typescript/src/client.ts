/**
 * sameday's HTTP API for product code, on `fetch` alone (Node 20+, browsers, Deno, Bun).
 *
 * The same semantics as the Python `sameday.http_client.HttpClient`: a timeout per attempt and a
 * total deadline (both through `AbortController`), retries with exponential backoff and jitter
 * on failures to connect and on 502/503/504 (waiting what `Retry-After` says), never on a 4xx,
 * and a caller-supplied fallback list returned, flagged `fallback: true`, when sameday cannot
 * answer. Events that cannot be delivered reject: they are never dropped silently.
 */

import type {
  BatchRequest,
  BatchResponse,
  EventsAccepted,
  EventsRequest,
  Item,
  RecommendRequest,
  Recommendation as ApiRecommendation,
} from "./types.js";

/** An outcome event (`POST /v1/events`): `event_id` makes a resend harmless. */
export type Event = EventsRequest["events"][number];

/** Item ids to show when sameday cannot answer: a list, or `(surface, unit) => list`. */
export type Fallback = readonly string[] | ((surface: string, unit: string) => readonly string[]);

/** A served list; `fallback` is true when the items are the caller's fallback. */
export interface Recommendation extends ApiRecommendation {
  /** sameday did not answer: `items` are the caller's fallback; no exposure was logged. */
  fallback: boolean;
  /** Why sameday did not answer (when `fallback`), for the caller's logs. */
  error?: SamedayUnavailable;
}

/** What `GET /readyz` said. */
export interface Health {
  /** The server answered at all. */
  live: boolean;
  /** It has a configuration to serve (`sameday apply` ran). */
  ready: boolean;
  surfaces: string[];
  /** Why it is not ready or not reachable (empty when ready). */
  message: string;
}

/** How long a call may take. `fetch` has no separate connect timeout: one bounds each attempt. */
export interface Timeouts {
  /** Milliseconds for one attempt, connecting and reading the answer included. */
  attemptMs: number;
  /** Milliseconds for the whole call, every attempt and backoff included. */
  deadlineMs: number;
}

/** When and how soon to try again; the n-th retry waits `min(maxBackoffMs, backoffMs * 2**(n-1))`, a `jitter` share of it random. */
export interface RetryOptions {
  /** Requests per call at most, the first included (1: no retry). Default 3. */
  attempts?: number;
  /** Default 50. */
  backoffMs?: number;
  /** Default 1000. */
  maxBackoffMs?: number;
  /** 0 to 1: the share of each wait drawn at random. Default 0.5. */
  jitter?: number;
  /** Source of randomness for the jitter (tests pass a seeded one). Default `Math.random`. */
  random?: () => number;
}

export interface ClientOptions {
  /** Where `sameday serve` listens, e.g. `"http://sameday.internal:8000"`. */
  baseUrl: string;
  /** The serving key (`serve.api_keys.serving`), sent as `Authorization: Bearer`. */
  apiKey?: string;
  /** For lists. Default: 2,000 ms per attempt, 3,000 ms in all. */
  timeout?: Partial<Timeouts>;
  /** For events, which wait for a commit on the server. Default: 10,000 / 15,000 ms. */
  eventsTimeout?: Partial<Timeouts>;
  retry?: RetryOptions;
  /** Served, flagged `fallback`, when sameday cannot answer; without one, calls reject. */
  fallback?: Fallback;
  headers?: Record<string, string>;
  /** A `fetch` of your own (instrumented, or with an agent); default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

export interface RecommendOptions {
  /** List length (default: the surface's). */
  n?: number;
  /** For targeting and surface rules. */
  attributes?: Record<string, unknown>;
  /** Item ids not to serve (already seen). */
  exclude?: readonly string[];
  /** Your impression id; by default the client makes one, so a retry is logged once. */
  requestId?: string;
  fallback?: Fallback;
  timeout?: Partial<Timeouts>;
}

export interface BatchOptions {
  n?: number;
  /** Unit → its attributes, for the units that have some. */
  attributes?: Record<string, Record<string, unknown>>;
  exclude?: readonly string[];
  fallback?: Fallback;
  timeout?: Partial<Timeouts>;
}

/** No usable answer from sameday after every allowed attempt. */
export class SamedayUnavailable extends Error {
  override name = "SamedayUnavailable";
  constructor(
    message: string,
    /** The last failure in a few words. */
    readonly reason: string,
    /** How many requests were sent (or tried to be). */
    readonly attempts: number,
    /** The last HTTP status received (a 5xx), or `null` when none came. */
    readonly status: number | null,
  ) {
    super(message);
  }
}

/** sameday answered 4xx: the request is wrong (or the API key), so it was not retried. */
export class RequestRejected extends Error {
  override name = "RequestRejected";
  constructor(
    readonly status: number,
    /** The server's explanation. */
    readonly detail: string,
    /** The input field at fault (`"n"`, `"events[3].unit"`), when the server names one. */
    readonly field: string | null,
  ) {
    super(`sameday refused the request with ${status}${field ? ` (field '${field}')` : ""}: ${detail}`);
  }
}

const RETRY_STATUSES = new Set([502, 503, 504]);
const GET_EXCLUDE_MAX = 100;
const LIST_TIMEOUTS: Timeouts = { attemptMs: 2000, deadlineMs: 3000 };
const EVENTS_TIMEOUTS: Timeouts = { attemptMs: 10000, deadlineMs: 15000 };
/** Codes of `fetch` failures raised before the request left: resending duplicates nothing. */
const NOT_SENT = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

interface Call {
  method: "GET" | "POST";
  path: string;
  timeouts: Timeouts;
  /** Sending it again after it may have arrived logs nothing twice: a lost answer is retried. */
  resendable: boolean;
  query?: [string, string][];
  body?: unknown;
  attempts?: number;
}

/** Seconds a `Retry-After` header asks to wait, or `null`. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const when = Date.parse(text);
  return Number.isNaN(when) ? null : Math.max(0, when - now);
}

function failureCode(err: unknown): string | undefined {
  let cause: unknown = err;
  for (let depth = 0; depth < 3 && cause instanceof Object; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string") return code;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorText(text: string, status: number): [string, string | null] {
  try {
    const error = (JSON.parse(text) as { error?: { message?: unknown; field?: unknown } }).error;
    if (error && typeof error.message === "string") {
      return [error.message, typeof error.field === "string" ? error.field : null];
    }
  } catch {
    // not the API's error shape: a proxy in between answered
  }
  return [text.trim().slice(0, 200) || `HTTP ${status}`, null];
}

/** The attempts of one call: the count, the deadline, and the wait before the next one. */
class Attempts {
  count = 0;
  private readonly ends: number;
  private readonly limit: number;
  capped = false;

  constructor(
    private readonly client: SamedayClient,
    private readonly call: Call,
  ) {
    this.ends = performance.now() + call.timeouts.deadlineMs;
    this.limit = call.attempts ?? client.retry.attempts;
  }

  remaining(): number {
    return this.ends - performance.now();
  }

  /** Counts an attempt; its timeout in ms, cut to what is left of the deadline. */
  start(): number {
    const left = this.remaining();
    if (left <= 0) throw this.expired();
    this.count += 1;
    this.capped = left < this.call.timeouts.attemptMs;
    return Math.min(this.call.timeouts.attemptMs, left);
  }

  /** Ms to wait after `fetch` failed or timed out; throws when there is no retry. */
  failed(err: unknown, timedOut: boolean): number {
    if (timedOut && this.capped) throw this.expired();
    const code = failureCode(err);
    const sent = timedOut || code === undefined || !NOT_SENT.has(code);
    const reason = timedOut
      ? `no answer within ${this.call.timeouts.attemptMs} ms`
      : `cannot connect (${code ?? (err instanceof Error ? err.message : String(err))})`;
    if (sent && !this.call.resendable) {
      throw this.giveUp(`${reason}; not resent, as that could log its exposures twice`, null);
    }
    return this.wait(reason, null, null);
  }

  /** `null` for a 2xx answer; else ms to wait before retrying; throws otherwise. */
  answered(response: Response, text: string): number | null {
    const status = response.status;
    if (status < 400) return null;
    const [message, field] = errorText(text, status);
    if (status < 500) throw new RequestRejected(status, message, field);
    const reason = `answered ${status}: ${message}`;
    if (!RETRY_STATUSES.has(status)) throw this.giveUp(reason, status);
    return this.wait(reason, status, retryAfterMs(response.headers.get("retry-after")));
  }

  private wait(reason: string, status: number | null, asked: number | null): number {
    if (this.count >= this.limit) throw this.giveUp(reason, status);
    const delay = asked ?? this.client.backoffMs(this.count);
    if (delay >= this.remaining()) {
      const what = asked !== null ? `the server asked to wait ${asked / 1000} s` : "a retry";
      throw this.giveUp(`${reason}; ${what} would pass the deadline`, status);
    }
    return delay;
  }

  expired(): SamedayUnavailable {
    return this.giveUp(`no answer within the ${this.call.timeouts.deadlineMs} ms deadline`, null);
  }

  giveUp(reason: string, status: number | null): SamedayUnavailable {
    const hint =
      status !== null
        ? "the server's log has the details"
        : `is 'sameday serve' running at ${this.client.baseUrl} and reachable?`;
    const attempts = `${this.count} attempt${this.count === 1 ? "" : "s"}`;
    return new SamedayUnavailable(
      `sameday gave no usable answer to ${this.call.method} ${this.call.path} after ${attempts}: ${reason}; ${hint}`,
      reason,
      this.count,
      status,
    );
  }
}

/** Lists and events over sameday's HTTP API, with timeouts, retries and a fallback. */
export class SamedayClient {
  readonly baseUrl: string;
  readonly retry: Required<Omit<RetryOptions, "random">>;
  private readonly random: () => number;
  private readonly timeouts: Timeouts;
  private readonly eventsTimeouts: Timeouts;
  private readonly fallback: Fallback | undefined;
  private readonly headers: Record<string, string>;
  private readonly fetch: typeof fetch;

  constructor(options: ClientOptions) {
    if (!/^https?:\/\//.test(options.baseUrl)) {
      throw new TypeError(
        `baseUrl must start with http:// or https://, got '${options.baseUrl}' (e.g. 'http://127.0.0.1:8000')`,
      );
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    const retry = options.retry ?? {};
    this.retry = {
      attempts: retry.attempts ?? 3,
      backoffMs: retry.backoffMs ?? 50,
      maxBackoffMs: retry.maxBackoffMs ?? 1000,
      jitter: retry.jitter ?? 0.5,
    };
    if (!Number.isInteger(this.retry.attempts) || this.retry.attempts < 1) {
      throw new RangeError(`retry.attempts must be an integer of at least 1, got ${this.retry.attempts}`);
    }
    if (!(this.retry.jitter >= 0 && this.retry.jitter <= 1)) {
      throw new RangeError(`retry.jitter must be a fraction from 0 to 1, got ${this.retry.jitter}`);
    }
    this.random = retry.random ?? Math.random;
    this.timeouts = { ...LIST_TIMEOUTS, ...options.timeout };
    this.eventsTimeouts = { ...EVENTS_TIMEOUTS, ...options.eventsTimeout };
    this.fallback = options.fallback;
    this.headers = { accept: "application/json", ...options.headers };
    if (options.apiKey) this.headers["authorization"] = `Bearer ${options.apiKey}`;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Ms before retry number `retry` (1 for the first). */
  backoffMs(retry: number): number {
    const base = Math.min(this.retry.maxBackoffMs, this.retry.backoffMs * 2 ** (retry - 1));
    return base * (1 - this.retry.jitter * this.random());
  }

  /**
   * The list for `unit` on `surface`: GET (the server's fastest path) when the input fits a
   * query string, else POST. Rejects with `RequestRejected` on a 4xx; with `SamedayUnavailable`
   * when sameday cannot answer and there is no fallback.
   */
  async recommend(surface: string, unit: string, options: RecommendOptions = {}): Promise<Recommendation> {
    const requestId = options.requestId ?? newRequestId();
    const exclude = options.exclude ?? [];
    const attributes = options.attributes ?? {};
    const path = `/v1/recommend/${encodeURIComponent(surface)}`;
    const timeouts = { ...this.timeouts, ...options.timeout };
    const asQuery =
      Object.values(attributes).every((value) => typeof value === "string") &&
      exclude.length <= GET_EXCLUDE_MAX &&
      !exclude.some((item) => item.includes(","));
    let call: Call;
    if (asQuery) {
      const query: [string, string][] = [
        ["unit", unit],
        ["request_id", requestId],
      ];
      if (options.n !== undefined) query.push(["n", String(options.n)]);
      if (exclude.length) query.push(["exclude", exclude.join(",")]);
      for (const [name, value] of Object.entries(attributes)) query.push([`attr.${name}`, String(value)]);
      call = { method: "GET", path, timeouts, resendable: true, query };
    } else {
      const body: RecommendRequest = { unit, request_id: requestId };
      if (options.n !== undefined) body.n = options.n;
      if (exclude.length) body.exclude = [...exclude];
      if (Object.keys(attributes).length) body.attributes = attributes;
      call = { method: "POST", path, timeouts, resendable: true, body };
    }
    try {
      const [body, attempts] = await this.send(call);
      return recommendation(body, attempts);
    } catch (err) {
      const [result] = this.fallBack(err, options.fallback, surface, [unit], [requestId], options);
      return result as Recommendation;
    }
  }

  /**
   * Lists for many units in one call (at most 1,000), in the order of `units`. A lost answer is
   * not resent (the server names the lists, so a resend could log them twice).
   */
  async recommendBatch(surface: string, units: readonly string[], options: BatchOptions = {}): Promise<Recommendation[]> {
    const attributes = options.attributes ?? {};
    const body: BatchRequest = {
      requests: units.map((unit) => {
        const own = attributes[unit];
        return own ? { unit, attributes: own } : { unit };
      }),
    };
    if (options.n !== undefined) body.n = options.n;
    if (options.exclude?.length) body.exclude = [...options.exclude];
    const call: Call = {
      method: "POST",
      path: `/v1/recommend/${encodeURIComponent(surface)}/batch`,
      timeouts: { ...this.timeouts, ...options.timeout },
      resendable: false,
      body,
    };
    try {
      const [answer, attempts] = await this.send(call);
      const results = (answer as Partial<BatchResponse> | null)?.results;
      if (!Array.isArray(results) || results.length !== units.length) {
        throw attempts.giveUp(`the answer does not hold ${units.length} results`, null);
      }
      return results.map((result) => recommendation(result, attempts));
    } catch (err) {
      const ids = units.map(() => newRequestId());
      return this.fallBack(err, options.fallback, surface, units, ids, options);
    }
  }

  /**
   * Sends outcome events (at most 1,000); resolves to how many were accepted, once durable.
   * Retried on 503 and lost answers (events are idempotent by `event_id`). Rejects with
   * `RequestRejected` (a 400 naming `events[i].field`: none stored) or `SamedayUnavailable`
   * (not delivered: keep the events and send them again later).
   */
  async sendEvents(events: readonly Event[], options: { timeout?: Partial<Timeouts> } = {}): Promise<number> {
    if (!events.length) return 0;
    const body: EventsRequest = { events: [...events] };
    const call: Call = {
      method: "POST",
      path: "/v1/events",
      timeouts: { ...this.eventsTimeouts, ...options.timeout },
      resendable: true,
      body,
    };
    const [answer, attempts] = await this.send(call);
    const accepted = (answer as Partial<EventsAccepted> | null)?.accepted;
    if (typeof accepted !== "number") {
      throw attempts.giveUp("the answer does not say how many events were accepted", null);
    }
    return accepted;
  }

  /** Whether the server is up and has a configuration (`GET /readyz`, one attempt); never rejects for an unreachable server. */
  async health(options: { timeout?: Partial<Timeouts> } = {}): Promise<Health> {
    const call: Call = {
      method: "GET",
      path: "/readyz",
      timeouts: { ...this.timeouts, ...options.timeout },
      resendable: true,
      attempts: 1,
    };
    try {
      const [body] = await this.send(call);
      const surfaces = (body as { surfaces?: unknown } | null)?.surfaces;
      return { live: true, ready: true, surfaces: Array.isArray(surfaces) ? surfaces.map(String) : [], message: "" };
    } catch (err) {
      if (!(err instanceof SamedayUnavailable)) throw err;
      return { live: err.status !== null, ready: false, surfaces: [], message: err.reason };
    }
  }

  private fallBack(
    err: unknown,
    fallback: Fallback | undefined,
    surface: string,
    units: readonly string[],
    requestIds: readonly string[],
    options: { n?: number; exclude?: readonly string[] },
  ): Recommendation[] {
    const chosen = fallback ?? this.fallback;
    if (!(err instanceof SamedayUnavailable) || chosen === undefined) throw err;
    const excluded = new Set(options.exclude ?? []);
    return units.map((unit, index) => {
      const ids = typeof chosen === "function" ? chosen(surface, unit) : chosen;
      let kept = [...new Set(ids)].filter((item) => !excluded.has(item));
      if (options.n !== undefined) kept = kept.slice(0, options.n);
      const items: Item[] = kept.map((item, i) => ({ item, score: 0, position: i + 1, source: "fallback" }));
      return {
        request_id: requestIds[index] ?? newRequestId(),
        surface,
        unit,
        experiment: null,
        arm: null,
        degraded: false,
        snapshots: {},
        items,
        fallback: true,
        error: err,
      };
    });
  }

  /** The parsed JSON of a 2xx answer to `call`, retried as the policy says. */
  private async send(call: Call): Promise<[unknown, Attempts]> {
    const attempts = new Attempts(this, call);
    let url = this.baseUrl + call.path;
    if (call.query) url += `?${new URLSearchParams(call.query).toString()}`;
    const headers = { ...this.headers };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
    for (;;) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), attempts.start());
      let response: Response;
      let text: string;
      try {
        const init: RequestInit = { method: call.method, headers, signal: controller.signal };
        if (payload !== undefined) init.body = payload;
        response = await this.fetch(url, init);
        text = await response.text();
      } catch (err) {
        await sleep(attempts.failed(err, controller.signal.aborted));
        continue;
      } finally {
        clearTimeout(timer);
      }
      const delay = attempts.answered(response, text);
      if (delay === null) {
        try {
          return [JSON.parse(text) as unknown, attempts];
        } catch {
          throw attempts.giveUp(`the answer is not JSON: ${JSON.stringify(text.slice(0, 80))}`, null);
        }
      }
      await sleep(delay);
    }
  }
}

function newRequestId(): string {
  return globalThis.crypto.randomUUID().replaceAll("-", "");
}

function recommendation(body: unknown, attempts: Attempts): Recommendation {
  const rec = body as Partial<ApiRecommendation> | null;
  if (!rec || typeof rec.request_id !== "string" || !Array.isArray(rec.items)) {
    throw attempts.giveUp("the answer is not a recommendation", null);
  }
  return { ...(rec as ApiRecommendation), fallback: false };
}
