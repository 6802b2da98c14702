// The app's webhook endpoint over real HTTP on 127.0.0.1: GitHub's published signature test vector,
// 10,000 mutated deliveries all refused without a side effect, the header rules, secret rotation,
// dedupe of redeliveries (in a row and at once), the size cap and /healthz.
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signBody, verifySignature } from "../../../../src/adapters/github/webhook-signature.ts";
import type { Acceptance, Delivery } from "../../../../src/entrypoints/probot/webhook-handler.ts";
import { DeliveryMemory, webhookHandler } from "../../../../src/entrypoints/probot/webhook-handler.ts";
import { memoryLog } from "../../../fakes/memory-log.ts";
import { seeded } from "../../../support/seeded-random.ts";

const SECRET = "current-secret-7f3a";
const PREVIOUS = "previous-secret-19c2";

describe("verifySignature", () => {
  it("passes GitHub's published test vector", () => {
    const vector = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    expect(signBody("It's a Secret to Everybody", "Hello, World!")).toBe(vector);
    expect(verifySignature(["It's a Secret to Everybody"], Buffer.from("Hello, World!"), vector)).toEqual({ ok: true, secretIndex: 0 });
    expect(verifySignature(["It's a Secret to Everybody"], Buffer.from("Hello, World?"), vector).ok).toBe(false);
  });

  it("refuses missing, SHA-1-only, wrong-length and upper-case signatures", () => {
    const body = Buffer.from("{}");
    const good = signBody(SECRET, body);
    expect(verifySignature([SECRET], body, undefined)).toEqual({ ok: false, why: "the delivery has no X-Hub-Signature-256 header" });
    expect(verifySignature([SECRET], body, undefined, "sha1=0123")).toMatchObject({ ok: false, why: expect.stringContaining("SHA-1 only") });
    expect(verifySignature([SECRET], body, "")).toMatchObject({ ok: false });
    for (const wrong of [good.slice(0, -1), `${good}0`, good.slice(0, -2), good.replace("sha256=", "sha1="), good.replace("sha256=", ""), good.toUpperCase(), `${good.slice(0, -1)}g`]) {
      expect(verifySignature([SECRET], body, wrong), wrong).toMatchObject({ ok: false });
    }
  });

  it("accepts a previous secret while it is configured, and says so", () => {
    const body = Buffer.from('{"zen":"rotate"}');
    expect(verifySignature([SECRET, PREVIOUS], body, signBody(PREVIOUS, body))).toEqual({ ok: true, secretIndex: 1 });
    expect(verifySignature([SECRET], body, signBody(PREVIOUS, body)).ok).toBe(false);
  });
});

describe("webhookHandler over HTTP", () => {
  const accepted: Delivery[] = [];
  let answerWith: Acceptance = { status: "queued" };
  let secrets = [SECRET];
  const deliveries = new DeliveryMemory();
  const log = memoryLog();
  let url = "";
  const server = createServer(
    webhookHandler({
      get secrets() {
        return secrets;
      },
      deliveries,
      accept: (d) => {
        accepted.push(d);
        return answerWith;
      },
      health: () => ({ queued: accepted.length }),
      log,
      maxBodyBytes: 64 * 1024,
    }),
  );
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    accepted.length = 0;
    answerWith = { status: "queued" };
    secrets = [SECRET];
  });

  const post = (body: string | Buffer, headers: Record<string, string>, path = "/api/github/webhooks"): Promise<{ status: number; json: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const req = request(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown> }));
      });
      req.on("error", reject);
      req.end(body);
    });
  const signed = (body: string, id: string, event = "issues", secret = SECRET) => post(body, { "x-github-event": event, "x-github-delivery": id, "x-hub-signature-256": signBody(secret, body) });

  it("acknowledges a signed delivery with 202 and hands it over once", async () => {
    const body = JSON.stringify({ action: "opened", zen: "ünïcode ✓" });
    const r = await signed(body, "d-accept-1");
    expect(r).toEqual({ status: 202, json: { status: "queued" } });
    expect(accepted).toEqual([{ id: "d-accept-1", name: "issues", payload: { action: "opened", zen: "ünïcode ✓" } }]);
  });

  it("a redelivery, five in a row and five at once, is handed over once", async () => {
    const body = JSON.stringify({ action: "labeled" });
    const inRow = [];
    for (let i = 0; i < 5; i++) inRow.push((await signed(body, "d-redeliver-1")).status);
    expect(inRow).toEqual([202, 200, 200, 200, 200]);
    const atOnce = await Promise.all(Array.from({ length: 5 }, () => signed(body, "d-redeliver-2")));
    expect(atOnce.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 202]);
    expect(accepted.map((d) => d.id)).toEqual(["d-redeliver-1", "d-redeliver-2"]);
  });

  it("10,000 mutated bodies or signatures are all refused with 400 and change nothing", async () => {
    const random = seeded(20261206);
    const base = JSON.stringify({ action: "opened", issue: { number: 7, title: "Fix the importer", body: "Rows vanish" }, sender: { login: "octocat", id: 1 } });
    const goodSig = signBody(SECRET, base);
    const hex = "0123456789abcdef";
    const mutate = (n: number): { body: Buffer; sig: string } => {
      const body = Buffer.from(base);
      const pick = (max: number) => Math.floor(random() * max);
      switch (n % 6) {
        case 0: {
          const at = pick(body.length);
          body[at] = body[at]! ^ (1 << pick(8)); // one bit of the body
          return { body, sig: goodSig };
        }
        case 1: {
          const i = 7 + pick(64); // one hex digit of the signature, to another digit
          const other = hex.replace(goodSig[i]!, "")[pick(15)]!;
          return { body, sig: goodSig.slice(0, i) + other + goodSig.slice(i + 1) };
        }
        case 2:
          return { body: Buffer.concat([body, Buffer.from(" ")]), sig: goodSig }; // a byte appended (re-serialised JSON)
        case 3:
          return { body: body.subarray(0, body.length - 1 - pick(5)), sig: goodSig }; // truncated
        case 4:
          return { body, sig: signBody(`${SECRET}x`, body) }; // another secret
        default:
          return { body, sig: signBody(SECRET, Buffer.from(JSON.stringify(JSON.parse(base), null, 1))) }; // the same JSON, other bytes
      }
    };
    const statuses = new Map<number, number>();
    const N = 10_000;
    for (let start = 0; start < N; start += 50) {
      const batch = Array.from({ length: Math.min(50, N - start) }, (_, k) => {
        const m = mutate(start + k);
        return post(m.body, { "x-github-event": "issues", "x-github-delivery": `m-${start + k}`, "x-hub-signature-256": m.sig });
      });
      for (const r of await Promise.all(batch)) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 400: N });
    expect(accepted).toEqual([]);
    expect(deliveries.seen("m-1", Date.now())).toBe(false); // never remembered: a later genuine delivery with that id is taken
  }, 120_000);

  it("refuses missing headers, a SHA-1-only signature and a wrong-length one, before anything else", async () => {
    const body = "{}";
    const sig = signBody(SECRET, body);
    const cases: [Record<string, string>, string][] = [
      [{ "x-github-delivery": "h-1", "x-hub-signature-256": sig }, "X-GitHub-Event"],
      [{ "x-github-event": "issues", "x-hub-signature-256": sig }, "X-GitHub-Delivery"],
      [{ "x-github-event": "issues", "x-github-delivery": "h-2" }, "no X-Hub-Signature-256"],
      [{ "x-github-event": "issues", "x-github-delivery": "h-3", "x-hub-signature": "sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0" }, "SHA-1 only"],
      [{ "x-github-event": "issues", "x-github-delivery": "h-4", "x-hub-signature-256": sig.slice(0, 40) }, "64 lowercase hex"],
      [{ "x-github-event": "issues", "x-github-delivery": "../etc", "x-hub-signature-256": sig }, "X-GitHub-Delivery"],
    ];
    for (const [headers, why] of cases) {
      const r = await post(body, headers);
      expect(r.status, why).toBe(400);
      expect(String(r.json.error)).toContain(why);
    }
    expect(accepted).toEqual([]);
  });

  it("takes a delivery signed with the previous secret only while that secret is configured", async () => {
    secrets = [SECRET, PREVIOUS];
    expect((await signed("{}", "rot-1", "issues", PREVIOUS)).status).toBe(202);
    expect(log.lines.some((l) => l.msg.includes("previous secret") && l.deliveryId === "rot-1")).toBe(true);
    secrets = [SECRET];
    expect((await signed("{}", "rot-2", "issues", PREVIOUS)).status).toBe(400);
    expect(accepted.map((d) => d.id)).toEqual(["rot-1"]);
  });

  it("refuses a body over the cap with 413, and a signed non-JSON body with 400", async () => {
    const big = JSON.stringify({ pad: "x".repeat(70 * 1024) });
    expect((await signed(big, "big-1")).status).toBe(413);
    expect((await signed("not json", "nj-1")).status).toBe(400);
    expect(accepted).toEqual([]);
  });

  it("answers 503 when the repository's queue is full, and takes the redelivery later", async () => {
    answerWith = { status: "full" };
    expect((await signed("{}", "full-1")).status).toBe(503);
    answerWith = { status: "queued" };
    expect((await signed("{}", "full-1")).status).toBe(202);
  });

  it("serves /healthz and 404s other paths", async () => {
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve) => {
        request(`${url}${path}`, (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        }).end();
      });
    const health = await get("/healthz");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: "ok", queued: expect.any(Number) });
    expect((await get("/elsewhere")).status).toBe(404);
    expect((await get("/api/github/webhooks")).status).toBe(405);
  });
});
