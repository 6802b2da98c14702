// Pagination (per_page up to 100, page, Link rel next/last/prev/first), ETag with If-None-Match →
// 304, and the x-ratelimit-* headers of the fake GitHub.
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, pluck } from "../../fakes/fake-github/call.ts";
import type { FakeGitHub } from "../../fakes/fake-github/index.ts";
import { startFakeGitHub } from "../../fakes/fake-github/index.ts";

const R = "/repos/acme/widgets";
let gh: FakeGitHub;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
beforeEach(async () => {
  gh = await startFakeGitHub();
  gh.state.addIssue("acme/widgets", { title: "busy" });
});
afterEach(async () => {
  expect(gh.state.schemaProblems).toEqual([]);
  await gh.close();
});
afterAll(() => nock.enableNetConnect());

/** rel → URL of a Link header. */
function links(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (header ?? "").matchAll(/<([^>]+)>; rel="(\w+)"/g)) out[m[2]!] = m[1]!;
  return out;
}

describe("pagination", () => {
  it("walks 250 comments 100 at a time by following rel=next, ending on a page without next", async () => {
    for (let i = 0; i < 250; i++) gh.state.addComment("acme/widgets", 1, `c${i}`);
    const seen: string[] = [];
    const pages: Record<string, string>[] = [];
    let next: string | undefined = `${gh.url}${R}/issues/1/comments?per_page=100`;
    while (next) {
      const res = await call("", "GET", next);
      expect(res.status).toBe(200);
      seen.push(...(pluck(res.body, "body") as string[]));
      pages.push(links(res.headers.get("link")));
      next = pages.at(-1)!.next;
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => `c${i}`));
    expect(pages).toHaveLength(3);
    expect(pages[0]).toEqual({ next: `${gh.url}${R}/issues/1/comments?per_page=100&page=2`, last: `${gh.url}${R}/issues/1/comments?per_page=100&page=3` });
    expect(pages[1]).toMatchObject({ prev: `${gh.url}${R}/issues/1/comments?per_page=100&page=1`, next: expect.stringContaining("page=3"), first: expect.stringContaining("page=1") });
    expect(pages[2]!.next).toBeUndefined();
    expect(pages[2]!.last).toBeUndefined();
  });

  it("defaults to 30 per page, caps per_page at 100 and answers an empty page past the end", async () => {
    for (let i = 0; i < 150; i++) gh.state.addComment("acme/widgets", 1, `c${i}`);
    const first = await call(gh.url, "GET", `${R}/issues/1/comments`);
    expect(first.body).toHaveLength(30);
    expect(links(first.headers.get("link")).last).toMatch(/page=5$/);
    expect((await call(gh.url, "GET", `${R}/issues/1/comments?per_page=500`)).body).toHaveLength(100);
    const past = await call(gh.url, "GET", `${R}/issues/1/comments?per_page=100&page=9`);
    expect(past.body).toEqual([]);
    expect(links(past.headers.get("link")).next).toBeUndefined();
  });

  it("has no Link header when everything fits on one page", async () => {
    gh.state.addComment("acme/widgets", 1, "only");
    expect((await call(gh.url, "GET", `${R}/issues/1/comments?per_page=100`)).headers.get("link")).toBeNull();
  });
});

describe("conditional requests", () => {
  it("answers 304 to If-None-Match while the list is unchanged, and 200 with a new ETag after a write", async () => {
    gh.state.addComment("acme/widgets", 1, "one");
    const path = `${R}/issues/1/comments?per_page=100`;
    const first = await call(gh.url, "GET", path);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^W\/"[0-9a-f]{40}"$/);
    const unchanged = await call(gh.url, "GET", path, undefined, { "if-none-match": etag });
    expect(unchanged.status).toBe(304);
    expect(unchanged.body).toBeUndefined();
    expect(unchanged.headers.get("etag")).toBe(etag);

    await call(gh.url, "POST", `${R}/issues/1/comments`, { body: "two" });
    const changed = await call(gh.url, "GET", path, undefined, { "if-none-match": etag });
    expect(changed.status).toBe(200);
    expect(changed.body).toHaveLength(2);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(gh.requests.map((r) => r.status)).toEqual([200, 304, 201, 200]);
  });

  it("gives single resources an ETag too, and never answers 304 to a write", async () => {
    const issue = await call(gh.url, "GET", `${R}/issues/1`);
    expect((await call(gh.url, "GET", `${R}/issues/1`, undefined, { "if-none-match": issue.headers.get("etag")! })).status).toBe(304);
    const write = await call(gh.url, "POST", `${R}/issues/1/comments`, { body: "x" }, { "if-none-match": "*" });
    expect(write.status).toBe(201);
    expect(write.headers.get("etag")).toBeNull();
  });
});

describe("rate-limit headers", () => {
  it("counts requests per resource; a 304 costs nothing", async () => {
    const first = await call(gh.url, "GET", `${R}/issues/1`);
    expect(first.headers.get("x-ratelimit-limit")).toBe("5000");
    expect(first.headers.get("x-ratelimit-remaining")).toBe("4999");
    expect(first.headers.get("x-ratelimit-used")).toBe("1");
    expect(first.headers.get("x-ratelimit-resource")).toBe("core");
    expect(Number(first.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
    const cached = await call(gh.url, "GET", `${R}/issues/1`, undefined, { "if-none-match": first.headers.get("etag")! });
    expect(cached.headers.get("x-ratelimit-remaining")).toBe("4999");
    const gql = await call(gh.url, "POST", "/graphql", { query: '{ repository(owner: "acme", name: "widgets") { id } }' });
    expect(gql.headers.get("x-ratelimit-resource")).toBe("graphql");
    expect(gql.headers.get("x-ratelimit-remaining")).toBe("4999");
    expect((await call(gh.url, "GET", `${R}/issues/1`)).headers.get("x-ratelimit-remaining")).toBe("4998");
  });
});
