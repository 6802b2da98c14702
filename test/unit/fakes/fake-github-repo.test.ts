// The fake GitHub's repository, pull request, permission, git ref, contents and dispatch routes
// with plain fetch: happy paths and GitHub's status codes for the expected failures.
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, pluck } from "../../fakes/fake-github/call.ts";
import type { FakeGitHub } from "../../fakes/fake-github/index.ts";
import { startFakeGitHub } from "../../fakes/fake-github/index.ts";

const R = "/repos/acme/widgets";
let gh: FakeGitHub;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(gh.url, method, path, body, headers);
const mainSha = () => gh.state.mustRepo("acme/widgets").refs.get("refs/heads/main")!;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
beforeEach(async () => {
  gh = await startFakeGitHub();
});
afterEach(async () => {
  expect(gh.state.schemaProblems).toEqual([]);
  await gh.close();
});
afterAll(() => nock.enableNetConnect());

it("answers the repository with its default branch; 404 for an unknown one", async () => {
  const repo = await api("GET", R);
  expect(repo.body).toMatchObject({ full_name: "acme/widgets", default_branch: "main", owner: { login: "acme", type: "Organization" } });
  expect((await api("GET", "/repos/acme/gadgets")).status).toBe(404);
});

describe("git refs", () => {
  it("reads a ref (404 when missing), creates one (201, 422 when it exists or the sha is unknown) and lists by prefix", async () => {
    const head = await api("GET", `${R}/git/ref/heads/main`);
    expect(head.body).toMatchObject({ ref: "refs/heads/main", object: { type: "commit", sha: mainSha() } });
    expect(head.body.object.sha).toMatch(/^[0-9a-f]{40}$/);
    expect((await api("GET", `${R}/git/ref/heads/agent-router/task-1`)).status).toBe(404);

    const created = await api("POST", `${R}/git/refs`, { ref: "refs/heads/agent-router/task-1", sha: mainSha() });
    expect(created.status).toBe(201);
    expect(created.body.ref).toBe("refs/heads/agent-router/task-1");
    const exists = await api("POST", `${R}/git/refs`, { ref: "refs/heads/agent-router/task-1", sha: mainSha() });
    expect(exists.status).toBe(422);
    expect(exists.body.message).toBe("Reference already exists");
    expect((await api("POST", `${R}/git/refs`, { ref: "refs/heads/x", sha: "f".repeat(40) })).body.message).toBe("Object does not exist");
    expect((await api("POST", `${R}/git/refs`, { ref: "heads/x", sha: mainSha() })).status).toBe(422);

    await api("POST", `${R}/git/refs`, { ref: "refs/heads/agent-router/task-2", sha: mainSha() });
    const matching = await api("GET", `${R}/git/matching-refs/heads/agent-router/task-`);
    expect(pluck(matching.body, "ref")).toEqual(["refs/heads/agent-router/task-1", "refs/heads/agent-router/task-2"]);
    expect(matching.headers.get("link")).toBeNull();
    expect((await api("GET", `${R}/git/matching-refs/heads/none`)).body).toEqual([]);
  });
});

describe("pull requests", () => {
  it("creates one (201), finds it by owner:branch, updates it, and shows it as an issue with pull_request", async () => {
    const repo = gh.state.mustRepo("acme/widgets");
    gh.state.commit(repo, "agent-router/task-1", { "src/a.ts": "export {};\n" }, "work");
    const created = await api("POST", `${R}/pulls`, { head: "agent-router/task-1", base: "main", title: "Task 1", body: "Closes #1", draft: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ number: 1, state: "open", draft: true, merged: false, merged_at: null, head: { ref: "agent-router/task-1" }, base: { ref: "main" } });
    expect(created.body.head.repo.full_name).toBe("acme/widgets");
    expect(created.body.html_url).toBe("https://github.com/acme/widgets/pull/1");

    const found = await api("GET", `${R}/pulls?head=acme:agent-router/task-1&state=all&sort=created&direction=desc&per_page=100`);
    expect(pluck(found.body, "number")).toEqual([1]);
    expect((await api("GET", `${R}/pulls?head=acme:other&state=all`)).body).toEqual([]);
    expect((await api("GET", `${R}/pulls?head=agent-router/task-1&state=closed`)).body).toEqual([]);

    const updated = await api("PATCH", `${R}/pulls/1`, { title: "Task 1 (v2)", body: "new" });
    expect(updated.body).toMatchObject({ title: "Task 1 (v2)", body: "new" });
    expect((await api("GET", `${R}/issues/1`)).body).toMatchObject({ title: "Task 1 (v2)", pull_request: { html_url: "https://github.com/acme/widgets/pull/1" } });
    expect((await api("PATCH", `${R}/pulls/9`, { title: "x" })).status).toBe(404);

    gh.state.mergePull(repo, 1);
    const merged = await api("GET", `${R}/pulls?state=closed`);
    expect(merged.body[0]).toMatchObject({ number: 1, state: "closed", merged_at: expect.stringMatching(/^2026-/) });
    expect((await api("GET", `${R}/issues/1`)).body).toMatchObject({ state: "closed", pull_request: { merged_at: merged.body[0].merged_at } });
  });

  it("answers 422 for a missing head, a duplicate open pull and a missing title", async () => {
    const repo = gh.state.mustRepo("acme/widgets");
    expect((await api("POST", `${R}/pulls`, { head: "nope", base: "main", title: "t" })).body.errors).toEqual([{ resource: "PullRequest", field: "head", code: "invalid" }]);
    gh.state.commit(repo, "feature", { x: "1" });
    expect((await api("POST", `${R}/pulls`, { head: "feature", base: "main", title: "t" })).status).toBe(201);
    const dup = await api("POST", `${R}/pulls`, { head: "acme:feature", base: "main", title: "t" });
    expect(dup.status).toBe(422);
    expect(dup.body.errors[0].message).toBe("A pull request already exists for acme:feature.");
    expect((await api("POST", `${R}/pulls`, { head: "feature", base: "main" })).status).toBe(422);
  });
});

describe("collaborator permission", () => {
  it("answers the legacy role and the exact one; 404 for a non-collaborator", async () => {
    const repo = gh.state.mustRepo("acme/widgets");
    repo.permissions.set("alice", "maintain").set("bob", "triage").set("carol", "write");
    expect((await api("GET", `${R}/collaborators/alice/permission`)).body).toMatchObject({ permission: "write", role_name: "maintain", user: { login: "alice" } });
    expect((await api("GET", `${R}/collaborators/bob/permission`)).body).toMatchObject({ permission: "read", role_name: "triage" });
    expect((await api("GET", `${R}/collaborators/acme/permission`)).body.permission).toBe("admin");
    expect((await api("GET", `${R}/collaborators/mallory/permission`)).status).toBe(404);
  });
});

describe("contents", () => {
  it("reads a file at a branch or commit, as JSON with base64 or raw; 404 when absent", async () => {
    const repo = gh.state.mustRepo("acme/widgets");
    const commit = gh.state.commit(repo, "agent-router/ledger", { "ledger.yml": "tasks: []\n" });
    const json = await api("GET", `${R}/contents/ledger.yml?ref=agent-router/ledger`);
    expect(json.body).toMatchObject({ type: "file", encoding: "base64", path: "ledger.yml", size: 10 });
    expect(Buffer.from(json.body.content, "base64").toString()).toBe("tasks: []\n");
    const raw = await api("GET", `${R}/contents/ledger.yml?ref=${commit.sha}`, undefined, { accept: "application/vnd.github.raw+json" });
    expect(raw.body).toBe("tasks: []\n");
    expect(raw.headers.get("content-type")).toMatch(/^text\/plain/);
    expect((await api("GET", `${R}/contents/ledger.yml`)).status).toBe(404);
  });
});

describe("workflow dispatch", () => {
  it("answers 204, or 200 with the run when asked; 404 for an unknown workflow, 422 for an unknown ref", async () => {
    const plain = await api("POST", `${R}/actions/workflows/agent-router.yml/dispatches`, { ref: "main", inputs: { task: "7" } });
    expect(plain.status).toBe(204);
    const detailed = await api("POST", `${R}/actions/workflows/agent-router.yml/dispatches`, { ref: "main", return_run_details: true });
    expect(detailed.status).toBe(200);
    expect(detailed.body.workflow_run_id).toBeTypeOf("number");
    expect(detailed.body.html_url).toMatch(/^https:\/\/github.com\/acme\/widgets\/actions\/runs\/\d+$/);
    expect((await api("POST", `${R}/actions/workflows/other.yml/dispatches`, { ref: "main" })).status).toBe(404);
    expect((await api("POST", `${R}/actions/workflows/agent-router.yml/dispatches`, { ref: "nope" })).status).toBe(422);
    expect(gh.state.mustRepo("acme/widgets").dispatches.map((d) => d.inputs)).toEqual([{ task: "7" }, {}]);
  });
});
