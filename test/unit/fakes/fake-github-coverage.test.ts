// The fake serves exactly the operations of the OpenAPI fixture: each one is reachable with a valid
// request and answers a status GitHub documents, and no route exists without a description.
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { call } from "../../fakes/fake-github/call.ts";
import type { FakeGitHub } from "../../fakes/fake-github/index.ts";
import { SERVED_OPERATIONS, startFakeGitHub } from "../../fakes/fake-github/index.ts";
import { restOperations } from "../../support/github-schema.ts";

const R = "/repos/acme/widgets";
let gh: FakeGitHub;
let ids: { comment: number; child: number; main: string };

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
beforeEach(async () => {
  gh = await startFakeGitHub();
  const repo = gh.state.mustRepo("acme/widgets");
  gh.state.addIssue("acme/widgets", { title: "parent", labels: ["bug"] });
  const child = gh.state.addIssue("acme/widgets", { title: "child" });
  const comment = gh.state.addComment("acme/widgets", 1, "hi", "alice");
  gh.state.commit(repo, "feature", { "ledger.yml": "tasks: []\n" });
  repo.permissions.set("alice", "write");
  gh.state.addInstallation(7, ["acme/widgets"]);
  ids = { comment: comment.id, child: child.id, main: repo.refs.get("refs/heads/main")! };
});
afterEach(async () => {
  expect(gh.state.schemaProblems).toEqual([]);
  await gh.close();
});
afterAll(() => nock.enableNetConnect());

/** An app JWT as the fake reads it (it checks the shape and claims, not the signature). */
const JWT = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ iss: 1, iat: 0, exp: 4_102_444_800 })).toString("base64url")}.c2ln`;
const appAuth = { authorization: `bearer ${JWT}` };
const installationAuth = () => ({ authorization: `token ${gh.state.installations.get(7)!.tokens.at(-1)!}` });

/** A valid request per operation id (path, body, headers), in an order that lets later ones find what earlier ones made. */
const EXAMPLES: Record<string, () => [string, unknown?, Record<string, string>?]> = {
  "repos/get": () => [R],
  "issues/get": () => [`${R}/issues/1`],
  "issues/update": () => [`${R}/issues/1`, { title: "parent!" }],
  "issues/create": () => [`${R}/issues`, { title: "new" }],
  "issues/list-for-repo": () => [`${R}/issues?state=all&since=2026-01-01T00:00:00Z&sort=created&direction=desc&per_page=100`],
  "issues/list-events": () => [`${R}/issues/1/events?per_page=100`],
  "issues/list-comments": () => [`${R}/issues/1/comments?per_page=100`],
  "issues/create-comment": () => [`${R}/issues/1/comments`, { body: "x" }],
  "issues/get-comment": () => [`${R}/issues/comments/${ids.comment}`],
  "issues/update-comment": () => [`${R}/issues/comments/${ids.comment}`, { body: "y" }],
  "issues/delete-comment": () => [`${R}/issues/comments/${gh.state.addComment("acme/widgets", 1, "a duplicate").id}`],
  "reactions/create-for-issue": () => [`${R}/issues/1/reactions`, { content: "rocket" }],
  "reactions/create-for-issue-comment": () => [`${R}/issues/comments/${ids.comment}/reactions`, { content: "eyes" }],
  "issues/add-labels": () => [`${R}/issues/1/labels`, { labels: ["agent:ready"] }],
  "issues/remove-label": () => [`${R}/issues/1/labels/bug`],
  "issues/create-label": () => [`${R}/labels`, { name: "agent:done", color: "0e8a16", description: "d" }],
  "issues/list-sub-issues": () => [`${R}/issues/1/sub_issues?per_page=100`],
  "issues/add-sub-issue": () => [`${R}/issues/1/sub_issues`, { sub_issue_id: ids.child }],
  "pulls/list": () => [`${R}/pulls?state=all&head=acme:feature`],
  "pulls/create": () => [`${R}/pulls`, { head: "feature", base: "main", title: "PR" }],
  "pulls/update": () => [`${R}/pulls/${[...gh.state.mustRepo("acme/widgets").pulls.keys()].at(-1)}`, { body: "b" }],
  "repos/get-collaborator-permission-level": () => [`${R}/collaborators/alice/permission`],
  "git/get-ref": () => [`${R}/git/ref/heads/main`],
  "git/create-ref": () => [`${R}/git/refs`, { ref: "refs/heads/agent-router/task-1", sha: ids.main }],
  "git/list-matching-refs": () => [`${R}/git/matching-refs/heads/`],
  "actions/create-workflow-dispatch": () => [`${R}/actions/workflows/agent-router.yml/dispatches`, { ref: "main" }],
  "repos/get-content": () => [`${R}/contents/ledger.yml?ref=feature`],
  "apps/list-installations": () => ["/app/installations?per_page=100", undefined, appAuth],
  "apps/create-installation-access-token": () => ["/app/installations/7/access_tokens", {}, appAuth],
  "apps/list-repos-accessible-to-installation": () => ["/installation/repositories?per_page=100", undefined, installationAuth()],
};

it("serves every operation of the fixture, and nothing the fixture does not describe", () => {
  const described = restOperations().map((o) => `${o.method} ${o.path}`);
  expect([...SERVED_OPERATIONS].sort()).toEqual([...described].sort());
  expect(Object.keys(EXAMPLES).sort()).toEqual(restOperations().map((o) => o.operationId).sort());
});

it("reaches every served operation with a documented success status", async () => {
  for (const op of restOperations()) {
    const example = EXAMPLES[op.operationId];
    if (!example) throw new Error(`no example request for ${op.operationId}`);
    const [path, body, headers] = example();
    const res = await call(gh.url, op.method, path, body, headers);
    expect({ op: op.operationId, status: res.status, ok: res.status >= 200 && res.status < 300 && op.responses.includes(String(res.status)) }).toEqual({
      op: op.operationId,
      status: res.status,
      ok: true,
    });
  }
  expect(gh.requests).toHaveLength(restOperations().length);
  expect(gh.requests.filter((r) => r.mutating).map((r) => r.method)).not.toContain("GET");
});

it("checks its own answers against the response schemas", async () => {
  const label = gh.state.mustRepo("acme/widgets").labels.get("bug")!;
  Object.assign(label, { color: 255 });
  expect((await call(gh.url, "GET", `${R}/issues/1`)).status).toBe(200);
  expect(gh.state.schemaProblems).toContain("fake-github answer: GET /repos/{owner}/{repo}/issues/{issue_number} 200 answer/labels/0/color must be string,null");
  gh.state.schemaProblems.length = 0;
});

it("answers 400 to a REST request with an unknown field or a bad body, and records the problem", async () => {
  const unknown = await call(gh.url, "POST", `${R}/issues/1/sub_issues`, { sub_issue: ids.child });
  expect(unknown.status).toBe(400);
  expect(unknown.body.problems).toContain("POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues: body must NOT have additional properties (sub_issue)");
  const bad = await call(gh.url, "POST", `${R}/issues/1/comments`, { body: ["x"] });
  expect(bad.status).toBe(400);
  expect((await call(gh.url, "GET", `${R}/issues/1/timeline`)).status).toBe(400);
  expect(gh.state.schemaProblems).toEqual([
    "POST /repos/acme/widgets/issues/1/sub_issues: POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues: body must have required property 'sub_issue_id'",
    "POST /repos/acme/widgets/issues/1/sub_issues: POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues: body must NOT have additional properties (sub_issue)",
    "POST /repos/acme/widgets/issues/1/comments: POST /repos/{owner}/{repo}/issues/{issue_number}/comments: body/body must be string",
    "GET /repos/acme/widgets/issues/1/timeline: unknown endpoint: GET /repos/acme/widgets/issues/1/timeline",
  ]);
  expect(gh.requests.map((r) => r.status)).toEqual([400, 400, 400]);
  gh.state.schemaProblems.length = 0;
});

it("accepts GHES paths and refuses a wrong token when one is set", async () => {
  const ghes = await startFakeGitHub({ token: "s3cret" });
  try {
    expect((await call(ghes.url, "GET", "/api/v3/repos/acme/widgets", undefined, { authorization: "token s3cret" })).status).toBe(200);
    const denied = await call(ghes.url, "GET", "/api/v3/repos/acme/widgets", undefined, { authorization: "token nope" });
    expect(denied).toMatchObject({ status: 401, body: { message: "Bad credentials" } });
    expect(ghes.requests.map((r) => r.path)).toEqual(["/repos/acme/widgets", "/repos/acme/widgets"]);
  } finally {
    await ghes.close();
  }
});
