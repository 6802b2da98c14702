// Fault injection in the fake GitHub: dropped answers (the write happened), 5xx, primary and
// secondary rate limits (REST and GraphQL), forced STALE_DATA and latency.
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, graphql } from "../../fakes/fake-github/call.ts";
import type { FakeGitHub } from "../../fakes/fake-github/index.ts";
import { startFakeGitHub } from "../../fakes/fake-github/index.ts";

const R = "/repos/acme/widgets";
let gh: FakeGitHub;
const comments = () => [...gh.state.mustRepo("acme/widgets").comments.values()].map((c) => c.body);

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
beforeEach(async () => {
  gh = await startFakeGitHub();
  gh.state.addIssue("acme/widgets", { title: "t" });
});
afterEach(async () => {
  expect(gh.state.schemaProblems).toEqual([]);
  expect(gh.faults.pending()).toBe(0);
  await gh.close();
});
afterAll(() => nock.enableNetConnect());

describe("dropResponse", () => {
  it("performs the request, then closes the connection without an answer", async () => {
    gh.faults.dropResponse({ method: "POST", path: /\/issues\/1\/comments$/ });
    await expect(call(gh.url, "POST", `${R}/issues/1/comments`, { body: "hello" })).rejects.toThrow(/fetch failed/);
    expect(comments()).toEqual(["hello"]);
    expect(gh.requests.at(-1)).toMatchObject({ method: "POST", status: 201, fault: "drop", mutating: true });
    // A blind retry duplicates the comment: why writers look before they create.
    expect((await call(gh.url, "POST", `${R}/issues/1/comments`, { body: "hello" })).status).toBe(201);
    expect(comments()).toEqual(["hello", "hello"]);
  });

  it("matches GraphQL requests by root field, and only as many times as asked", async () => {
    const sha = gh.state.commit(gh.state.mustRepo("acme/widgets"), "ledger", { "ledger.yml": "v0" }).sha;
    gh.faults.dropResponse({ operation: /^createCommitOnBranch$/, times: 1 });
    const doc = "mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }";
    const input = (head: string) => ({ input: { branch: { repositoryNameWithOwner: "acme/widgets", branchName: "ledger" }, expectedHeadOid: head, message: { headline: "h" } } });
    expect((await graphql(gh.url, '{ repository(owner: "acme", name: "widgets") { id } }')).status).toBe(200);
    await expect(graphql(gh.url, doc, input(sha))).rejects.toThrow(/fetch failed/);
    const moved = gh.state.mustRepo("acme/widgets").refs.get("refs/heads/ledger");
    expect(moved).not.toBe(sha);
    // The retry of the lost commit finds the head moved: the caller must re-read.
    expect((await graphql(gh.url, doc, input(sha))).body.errors[0].type).toBe("STALE_DATA");
  });
});

describe("failNext", () => {
  it("answers a 5xx without performing the request, `times` times", async () => {
    gh.faults.failNext({ method: "POST", path: /comments/, status: 502, times: 2 });
    expect((await call(gh.url, "POST", `${R}/issues/1/comments`, { body: "a" })).status).toBe(502);
    expect((await call(gh.url, "GET", `${R}/issues/1/comments`)).status).toBe(200);
    expect((await call(gh.url, "POST", `${R}/issues/1/comments`, { body: "a" })).status).toBe(502);
    expect((await call(gh.url, "POST", `${R}/issues/1/comments`, { body: "a" })).status).toBe(201);
    expect(comments()).toEqual(["a"]);
    expect(gh.requests.map((r) => r.fault ?? r.status)).toEqual(["fail", 200, "fail", 201]);
  });

  it("applies to any request when no method or path is given", async () => {
    gh.faults.failNext({ status: 500 });
    const res = await call(gh.url, "GET", R);
    expect(res.status).toBe(500);
    expect(res.body.message).toBe("Server Error");
    gh.faults.failNext({ status: 503 });
    expect((await graphql(gh.url, '{ repository(owner: "acme", name: "widgets") { id } }')).status).toBe(503);
  });
});

describe("rateLimit", () => {
  it("secondary: 403 with retry-after and GitHub's message, or 429; retry-after can be left out", async () => {
    gh.faults.rateLimit({ kind: "secondary", retryAfterSeconds: 7 });
    const limited = await call(gh.url, "POST", `${R}/issues/1/comments`, { body: "a" });
    expect(limited.status).toBe(403);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(limited.body.message).toContain("You have exceeded a secondary rate limit");
    expect(comments()).toEqual([]);

    gh.faults.rateLimit({ kind: "secondary", status: 429 });
    const tooMany = await call(gh.url, "GET", R);
    expect(tooMany.status).toBe(429);
    expect(tooMany.headers.get("retry-after")).toBe("1");
    gh.faults.rateLimit({ kind: "secondary", retryAfterSeconds: null });
    expect((await call(gh.url, "GET", R)).headers.get("retry-after")).toBeNull();
  });

  it("primary: 403 with x-ratelimit-remaining 0 and a reset time", async () => {
    gh.faults.rateLimit({ kind: "primary", retryAfterSeconds: 30 });
    const limited = await call(gh.url, "GET", R);
    expect(limited.status).toBe(403);
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    const reset = Number(limited.headers.get("x-ratelimit-reset"));
    expect(reset - Date.now() / 1000).toBeGreaterThan(28);
    expect(limited.body.message).toMatch(/^API rate limit exceeded/);
    expect((await call(gh.url, "GET", R)).status).toBe(200);
  });

  it("primary on GraphQL: HTTP 200 with errors[].type RATE_LIMITED, or the given status", async () => {
    const doc = '{ repository(owner: "acme", name: "widgets") { id } }';
    gh.faults.rateLimit({ kind: "primary" });
    const limited = await graphql(gh.url, doc);
    expect(limited.status).toBe(200);
    expect(limited.body).toEqual({ data: null, errors: [{ type: "RATE_LIMITED", message: "API rate limit already exceeded for user ID 1." }] });
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    gh.faults.rateLimit({ kind: "primary", status: 403 });
    expect((await graphql(gh.url, doc)).status).toBe(403);
  });
});

describe("staleNext", () => {
  it("makes the next createCommitOnBranch answer STALE_DATA although the head matches", async () => {
    const repo = gh.state.mustRepo("acme/widgets");
    const sha = gh.state.commit(repo, "ledger", { "ledger.yml": "v0" }).sha;
    const doc = "mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }";
    const input = { input: { branch: { repositoryNameWithOwner: "acme/widgets", branchName: "ledger" }, expectedHeadOid: sha, message: { headline: "h" } } };
    gh.faults.staleNext();
    const stale = await graphql(gh.url, doc, input);
    expect(stale.body.errors[0]).toMatchObject({ type: "STALE_DATA", message: `Expected branch to point to "${sha}" but it did not.  Pull and try again.` });
    expect(repo.refs.get("refs/heads/ledger")).toBe(sha);
    expect((await graphql(gh.url, doc, input)).body.data.createCommitOnBranch.commit.oid).not.toBe(sha);
  });
});

describe("latencyMs", () => {
  it("delays every answer", async () => {
    gh.faults.latencyMs = 60;
    const started = performance.now();
    await call(gh.url, "GET", R);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    gh.faults.clear();
  });
});
