// The TypeScript client against a real `sameday serve` (SAMEDAY_URL, started by
// tests/http_client/test_typescript.py) and against the ways a server fails, all on 127.0.0.1
// in ports 18300-18399.

import assert from "node:assert/strict";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { after, test } from "node:test";

import { RequestRejected, SamedayClient, SamedayUnavailable, retryAfterMs, type Event } from "../src/index.js";

const URL_ = process.env.SAMEDAY_URL ?? "";
const KEY = process.env.SAMEDAY_KEY ?? "";
const TAG = process.env.SAMEDAY_EVENT_TAG ?? "ts";
const FAST = { attempts: 3, backoffMs: 20, maxBackoffMs: 100 };
const servers: (Server | HttpServer)[] = [];
const sockets: Socket[] = [];

after(() => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) server.close();
});

async function listen(server: Server | HttpServer): Promise<string> {
  for (let port = 18300; port < 18400; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (ok) {
      servers.push(server);
      return `http://127.0.0.1:${port}`;
    }
  }
  throw new Error("no free port in 18300-18399");
}

/** A URL nothing listens on. */
async function closedUrl(): Promise<string> {
  const server = createTcpServer();
  const url = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return url;
}

/** A server that accepts connections, reads requests and never answers. */
function silentUrl(): Promise<string> {
  return listen(createTcpServer((socket) => void sockets.push(socket)));
}

/** A load balancer in front of sameday: answers `replies` in turn, then forwards to SAMEDAY_URL. */
async function flakyProxy(replies: [number, Record<string, string>][]): Promise<{ url: string; times: number[] }> {
  const times: number[] = [];
  const server = createHttpServer(async (req, res) => {
    times.push(performance.now());
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = replies.shift();
    if (reply) {
      res.writeHead(reply[0], reply[1]).end("<html>no healthy replica</html>");
      return;
    }
    const init: RequestInit = { method: req.method ?? "GET", headers: req.headers as Record<string, string> };
    if (chunks.length) init.body = Buffer.concat(chunks);
    const upstream = await fetch(URL_ + (req.url ?? "/"), init);
    res.writeHead(upstream.status, { "content-type": "application/json" }).end(await upstream.text());
  });
  return { url: await listen(server), times };
}

function counting(): { fetch: typeof fetch; sent: { method: string; url: string }[] } {
  const sent: { method: string; url: string }[] = [];
  const wrapped: typeof fetch = (input, init) => {
    sent.push({ method: init?.method ?? "GET", url: String(input) });
    return fetch(input, init);
  };
  return { fetch: wrapped, sent };
}

test("recommend returns the server's list, with an id of the client's making", async () => {
  const { fetch: counted, sent } = counting();
  const client = new SamedayClient({ baseUrl: URL_, apiKey: KEY, fetch: counted });
  const rec = await client.recommend("home", "user-3", { n: 4 });
  const again = await client.recommend("home", "user-3", { n: 4 });
  const direct = await fetch(`${URL_}/v1/recommend/home?unit=user-3&n=4&request_id=${rec.request_id}`, {
    headers: { authorization: `Bearer ${KEY}` },
  });
  const expected = (await direct.json()) as { arm: string; items: { item: string }[] };
  assert.equal(rec.fallback, false);
  assert.equal(rec.experiment, "home-personal");
  assert.equal(rec.arm, expected.arm);
  assert.deepEqual(rec.items.map((i) => i.item), expected.items.map((i) => i.item));
  assert.deepEqual(rec.items.map((i) => i.position), [1, 2, 3, 4]);
  assert.notEqual(rec.request_id, again.request_id);
  assert.match(sent[0]?.url ?? "", new RegExp(`request_id=${rec.request_id}`));
});

test("typed attributes and excludes are posted", async () => {
  const { fetch: counted, sent } = counting();
  const client = new SamedayClient({ baseUrl: URL_, apiKey: KEY, fetch: counted });
  const plain = await client.recommend("home", "user-5", { n: 3 });
  const seen = plain.items.slice(0, 2).map((i) => i.item);
  const rec = await client.recommend("home", "user-5", { n: 3, attributes: { is_new: false }, exclude: seen });
  assert.deepEqual(sent.map((s) => s.method), ["GET", "POST"]);
  assert.equal(rec.items[0]?.item, plain.items[2]?.item);
  assert.equal(rec.items.length, 3);
  assert.ok(rec.items.every((i) => !seen.includes(i.item)));
});

test("a batch answers in the order of the units", async () => {
  const client = new SamedayClient({ baseUrl: URL_, apiKey: KEY });
  const units = ["user-9", "nobody", "user-1"];
  const recs = await client.recommendBatch("home", units, { n: 2, attributes: { "user-1": { x: 1 } } });
  assert.deepEqual(recs.map((r) => r.unit), units);
  assert.ok(recs.every((r) => r.items.length === 2 && !r.fallback));
});

test("events are accepted once durable, and a resend is harmless", async () => {
  const client = new SamedayClient({ baseUrl: URL_, apiKey: KEY });
  const events: Event[] = [0, 1].map((i) => ({ event_id: `${TAG}-${i}`, unit: `user-${i}`, name: "click", time: 1.7e9 }));
  assert.equal(await client.sendEvents(events), 2);
  assert.equal(await client.sendEvents(events), 2);
  assert.equal(await client.sendEvents([]), 0);
});

test("a 4xx rejects with its field and is never retried", async () => {
  const { fetch: counted, sent } = counting();
  const client = new SamedayClient({ baseUrl: URL_, apiKey: KEY, fetch: counted, retry: FAST, fallback: ["x"] });
  await assert.rejects(client.recommend("nowhere", "user-1"), (err: unknown) => {
    assert.ok(err instanceof RequestRejected);
    assert.equal(err.status, 404);
    assert.equal(err.field, "surface");
    return true;
  });
  await assert.rejects(client.sendEvents([{ event_id: "e", unit: "", name: "click" }]), (err: unknown) => {
    assert.ok(err instanceof RequestRejected);
    assert.equal(err.field, "events[0].unit");
    return true;
  });
  const keyless = new SamedayClient({ baseUrl: URL_, fetch: counted, retry: FAST });
  await assert.rejects(keyless.recommend("home", "user-1"), (err: unknown) => err instanceof RequestRejected && err.status === 401);
  assert.equal(sent.length, 3);
});

test("health says ready, or down", async () => {
  const up = await new SamedayClient({ baseUrl: URL_ }).health();
  const down = await new SamedayClient({ baseUrl: await closedUrl() }).health();
  assert.deepEqual([up.live, up.ready, up.surfaces], [true, true, ["home"]]);
  assert.deepEqual([down.live, down.ready], [false, false]);
  assert.match(down.message, /cannot connect \(ECONNREFUSED\)/);
});

test("a server that is down gives the fallback after the retries; events reject", async () => {
  const baseUrl = await closedUrl();
  const client = new SamedayClient({ baseUrl, retry: FAST, fallback: ["a", "b", "c", "b", "d"] });
  const started = performance.now();
  const rec = await client.recommend("home", "user-1", { n: 2, exclude: ["a"] });
  assert.ok(performance.now() - started < 2000);
  assert.equal(rec.fallback, true);
  assert.deepEqual(rec.items.map((i) => [i.item, i.position, i.source, i.score]), [
    ["b", 1, "fallback", 0],
    ["c", 2, "fallback", 0],
  ]);
  assert.equal(rec.error?.attempts, 3);
  const batch = await client.recommendBatch("home", ["u1", "u2"], { fallback: (s, u) => [`${s}-${u}`] });
  assert.deepEqual(batch.map((r) => r.items.map((i) => i.item)), [["home-u1"], ["home-u2"]]);
  await assert.rejects(client.sendEvents([{ event_id: "kept", unit: "u", name: "click" }]), (err: unknown) => {
    assert.ok(err instanceof SamedayUnavailable);
    assert.equal(err.attempts, 3);
    assert.match(err.message, /is 'sameday serve' running at/);
    return true;
  });
  const strict = new SamedayClient({ baseUrl, retry: FAST });
  await assert.rejects(strict.recommend("home", "user-1"), SamedayUnavailable);
});

test("a server that never answers falls back at the deadline", async () => {
  const client = new SamedayClient({ baseUrl: await silentUrl(), timeout: { attemptMs: 5000, deadlineMs: 600 }, fallback: ["pop"] });
  const started = performance.now();
  const rec = await client.recommend("home", "user-1");
  const took = performance.now() - started;
  assert.ok(took > 500 && took < 2000, `took ${took} ms`); // the attempt timeout (5 s) would be far longer
  assert.equal(rec.fallback, true);
  assert.match(rec.error?.reason ?? "", /600 ms deadline/);
});

test("a lost answer is resent only when it cannot log twice", async () => {
  const client = new SamedayClient({ baseUrl: await silentUrl(), timeout: { attemptMs: 200, deadlineMs: 5000 }, retry: FAST });
  await assert.rejects(client.recommend("home", "user-1"), (err: unknown) => err instanceof SamedayUnavailable && err.attempts === 3);
  await assert.rejects(client.recommendBatch("home", ["user-1"]), (err: unknown) => {
    assert.ok(err instanceof SamedayUnavailable);
    assert.equal(err.attempts, 1);
    assert.match(err.reason, /not resent, as that could log its exposures twice/);
    return true;
  });
});

test("503 is retried, after what Retry-After says, then reaches sameday", async () => {
  const proxy = await flakyProxy([
    [503, { "retry-after": "1" }],
    [502, {}],
  ]);
  const client = new SamedayClient({ baseUrl: proxy.url, apiKey: KEY, retry: FAST });
  const rec = await client.recommend("home", "user-2", { n: 2 });
  assert.equal(rec.fallback, false);
  assert.equal(rec.items.length, 2);
  const [first = 0, second = 0, third = 0] = proxy.times;
  assert.equal(proxy.times.length, 3);
  assert.ok(second - first >= 1000);
  assert.ok(third - second < 900); // a backoff, not the 1 s asked before
  const hurried = await client.recommend("home", "user-2", {
    timeout: { deadlineMs: 500 },
    fallback: ["pop"],
  });
  assert.equal(hurried.fallback, false); // the proxy has no 503 left: straight through
});

test("a Retry-After past the deadline gives up at once; a 500 is not retried", async () => {
  const busy = await flakyProxy([[503, { "retry-after": "30" }]]);
  const client = new SamedayClient({ baseUrl: busy.url, retry: FAST, fallback: ["pop"] });
  const rec = await client.recommend("home", "user-1");
  assert.equal(rec.error?.attempts, 1);
  assert.match(rec.error?.reason ?? "", /asked to wait 30 s would pass the deadline/);
  const broken = await flakyProxy([[500, {}]]);
  const failed = await new SamedayClient({ baseUrl: broken.url, retry: FAST, fallback: ["pop"] }).recommend("home", "u");
  assert.deepEqual([failed.error?.attempts, failed.error?.status, broken.times.length], [1, 500, 1]);
});

test("backoff and Retry-After", () => {
  const client = new SamedayClient({ baseUrl: "http://x", retry: { backoffMs: 100, maxBackoffMs: 500, jitter: 0 } });
  assert.deepEqual([1, 2, 3, 4, 9].map((n) => client.backoffMs(n)), [100, 200, 400, 500, 500]);
  const jittered = new SamedayClient({ baseUrl: "http://x", retry: { backoffMs: 100, random: () => 1 } });
  assert.equal(jittered.backoffMs(1), 50);
  assert.equal(retryAfterMs("2"), 2000);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 3_000), 7000);
  assert.equal(retryAfterMs("soon"), null);
  assert.throws(() => new SamedayClient({ baseUrl: "localhost:8000" }), /must start with http/);
});
