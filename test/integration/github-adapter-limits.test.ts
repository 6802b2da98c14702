// Rate limits and write spacing, measured with real time (retry-after 1 s, reset = now + 1 s). The
// tests run concurrently on distinct paths so the file takes about as long as its slowest test.
import nock from "nock";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createOctokit } from "../../src/adapters/github/create-octokit.ts";
import type { CreateOctokitOptions } from "../../src/adapters/github/create-octokit.ts";
import { octokitGitHub } from "../../src/adapters/github/octokit-github.ts";
import { memoryLog } from "../fakes/memory-log.ts";
import { failure } from "../support/nock-guard.ts";

const BASE = "https://api.github.example";
const R = "/repos/acme/widgets";
const SECONDARY = { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." };

function setup(throttle: CreateOctokitOptions["throttle"] = { writeMinTimeMs: 0, notificationMinTimeMs: 0 }) {
  const log = memoryLog();
  const octokit = createOctokit({ token: "t0k3n", baseUrl: BASE, log, throttle, retry: { baseDelayMs: 5 } });
  return { gh: octokitGitHub(octokit, { owner: "acme", repo: "widgets", log }), log };
}

const issue = (n: number) => ({ number: n, id: n, node_id: `I_${n}`, title: "t", body: "", state: "open", labels: [], user: null, html_url: "u" });

/** A nock reply that records when each request arrived and answers from `answers` in turn. */
function timed(times: number[], answers: [number, unknown, Record<string, string>?][]) {
  return () => {
    times.push(Date.now());
    return answers[Math.min(times.length, answers.length) - 1]!;
  };
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);


beforeAll(() => nock.disableNetConnect());
afterAll(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  nock.enableNetConnect();
  if (pending.length) throw new Error(`pending mocks: ${pending.join(", ")}`);
});

describe.concurrent("rate limits", () => {
  it("a secondary limit (403, retry-after: 1) is retried no sooner than a second later", async ({ expect }) => {
    const { gh, log } = setup();
    const times: number[] = [];
    const scope = nock(BASE)
      .get(`${R}/issues/1`)
      .times(2)
      .reply(timed(times, [[403, SECONDARY, { "retry-after": "1" }], [200, issue(1)]]));
    expect((await gh.getIssue(1))?.number).toBe(1);
    expect(times).toHaveLength(2);
    expect(gaps(times)[0]).toBeGreaterThanOrEqual(1000);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: "warn", msg: expect.stringContaining("secondary rate limit"), retryAfterSeconds: 1 }));
    expect(scope.isDone()).toBe(true);
  });

  it("a 429 with a secondary-limit message waits the same way", async ({ expect }) => {
    const { gh } = setup();
    const times: number[] = [];
    const scope = nock(BASE)
      .post(`${R}/issues/2/labels`)
      .times(2)
      .reply(timed(times, [[429, SECONDARY, { "retry-after": "1" }], [200, []]]));
    await gh.addLabels(2, ["x"]);
    expect(gaps(times)[0]).toBeGreaterThanOrEqual(1000);
    expect(scope.isDone()).toBe(true);
  });

  it("the primary limit (remaining 0) waits until the reset plus a second", async ({ expect }) => {
    const { gh } = setup();
    const times: number[] = [];
    const reset = Math.floor(Date.now() / 1000) + 1;
    const limited = { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) };
    const scope = nock(BASE)
      .get(`${R}/issues/3`)
      .times(2)
      .reply(timed(times, [[403, { message: "API rate limit exceeded for installation." }, limited], [200, issue(3)]]));
    expect((await gh.getIssue(3))?.number).toBe(3);
    expect(times[1]).toBeGreaterThanOrEqual(reset * 1000 + 1000);
    expect(scope.isDone()).toBe(true);
  });

  it("gives up after three secondary retries with E_GITHUB_UNAVAILABLE and the wait asked", async ({ expect }) => {
    const { gh } = setup();
    const times: number[] = [];
    const scope = nock(BASE)
      .post(`${R}/issues/4/comments`)
      .times(4)
      .reply(timed(times, [[403, SECONDARY, { "retry-after": "1", "x-github-request-id": "SEC4" }]]));
    const err = await failure(gh.createComment(4, "hi"));
    expect(err).toMatchObject({
      code: "E_GITHUB_UNAVAILABLE",
      retryable: true,
      details: { status: 403, method: "POST", limit: "secondary", retryAfterSeconds: 1, requestId: "SEC4" },
    });
    expect(times).toHaveLength(4);
    for (const gap of gaps(times)) expect(gap).toBeGreaterThanOrEqual(1000);
    expect(scope.isDone()).toBe(true);
  });

  it("does not wait for a reset further away than maxWaitSeconds", async ({ expect }) => {
    const { gh, log } = setup({ writeMinTimeMs: 0, notificationMinTimeMs: 0, maxWaitSeconds: 60 });
    const reset = Math.floor(Date.now() / 1000) + 3600;
    const started = Date.now();
    const scope = nock(BASE)
      .get(`${R}/issues/5`)
      .reply(403, { message: "API rate limit exceeded" }, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) });
    const err = await failure(gh.getIssue(5));
    expect(err).toMatchObject({ code: "E_GITHUB_UNAVAILABLE", details: { status: 403, limit: "primary", rateLimitReset: reset } });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: "warn", msg: expect.stringContaining("giving up") }));
    expect(scope.isDone()).toBe(true);
  });

  it("a secondary limit without retry-after asks for 60 s (here more than maxWaitSeconds, so it gives up at once)", async ({ expect }) => {
    const { gh, log } = setup({ writeMinTimeMs: 0, maxWaitSeconds: 30 });
    const scope = nock(BASE).get(`${R}/issues/9`).once().reply(403, SECONDARY);
    expect(await failure(gh.getIssue(9))).toMatchObject({ code: "E_GITHUB_UNAVAILABLE", details: { status: 403, limit: "secondary" } });
    expect(log.lines).toContainEqual(expect.objectContaining({ level: "warn", retryAfterSeconds: 60, msg: expect.stringContaining("giving up") }));
    expect(scope.isDone()).toBe(true);
  });

  it("a 429 that is not a known limit is not hammered by plugin-retry", async ({ expect }) => {
    const { gh } = setup();
    const scope = nock(BASE).get(`${R}/issues/6`).once().reply(429, { message: "Too Many Requests" }, { "retry-after": "30" });
    expect(await failure(gh.getIssue(6))).toMatchObject({ code: "E_GITHUB_UNAVAILABLE", details: { status: 429, retryAfterSeconds: 30 } });
    expect(scope.isDone()).toBe(true);
  });

  it("a GraphQL RATE_LIMITED answer is the primary limit", async ({ expect }) => {
    const { gh } = setup();
    const rateLimited = { data: null, errors: [{ type: "RATE_LIMITED", message: "API rate limit exceeded" }] };
    const past = String(Math.floor(Date.now() / 1000) - 10);
    const future = String(Math.floor(Date.now() / 1000) + 3600);
    const scope = nock(BASE)
      .post("/graphql", (b: { variables: { ref: string } }) => b.variables.ref === "refs/heads/gql-a")
      .reply(200, rateLimited, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": past })
      .post("/graphql", (b: { variables: { ref: string } }) => b.variables.ref === "refs/heads/gql-a")
      .reply(200, { data: { repository: { ref: null } } })
      .post("/graphql", (b: { variables: { ref: string } }) => b.variables.ref === "refs/heads/gql-b")
      .reply(200, rateLimited, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": future });
    expect(await gh.readFile("gql-a", "ledger.yml")).toBeNull();
    const { gh: impatient } = setup({ writeMinTimeMs: 0, maxWaitSeconds: 10 });
    expect(await failure(impatient.readFile("gql-b", "ledger.yml"))).toMatchObject({ code: "E_GITHUB_UNAVAILABLE", details: { limit: "primary" } });
    expect(scope.isDone()).toBe(true);
  });
});

describe.concurrent("write spacing", () => {
  it("writes start one at a time, writeMinTimeMs apart", async ({ expect }) => {
    const { gh } = setup({ writeMinTimeMs: 300, notificationMinTimeMs: 0 });
    const times: number[] = [];
    const scope = nock(BASE)
      .post(`${R}/issues/7/labels`)
      .times(3)
      .reply(timed(times, [[200, []]]));
    await Promise.all([gh.addLabels(7, ["a"]), gh.addLabels(7, ["b"]), gh.addLabels(7, ["c"])]);
    // The limiter spaces the starts 300 ms apart; the gaps are seen where nock answers, after the
    // client's own hooks, whose time varies under load (a CI run once saw 288 ms). Unspaced writes
    // arrive within a few milliseconds of each other.
    for (const gap of gaps(times)) expect(gap).toBeGreaterThanOrEqual(250);
    expect(scope.isDone()).toBe(true);
  });

  it("without options the plugin's production spacing applies (writes 1 s apart)", async ({ expect }) => {
    const { gh } = setup({});
    const times: number[] = [];
    const scope = nock(BASE)
      .post(`${R}/issues/8/labels`)
      .times(2)
      .reply(timed(times, [[200, []]]));
    await Promise.all([gh.addLabels(8, ["a"]), gh.addLabels(8, ["b"])]);
    expect(gaps(times)[0]).toBeGreaterThanOrEqual(995);
    expect(scope.isDone()).toBe(true);
  });
});
