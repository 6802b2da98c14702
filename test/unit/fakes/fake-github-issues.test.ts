// The fake GitHub's issue, comment, reaction, label and sub-issue routes with plain fetch: happy
// paths, GitHub's status codes for the expected failures, and no schema problem on either side.
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, pluck } from "../../fakes/fake-github/call.ts";
import type { FakeGitHub } from "../../fakes/fake-github/index.ts";
import { startFakeGitHub } from "../../fakes/fake-github/index.ts";

const R = "/repos/acme/widgets";
let gh: FakeGitHub;
const api = (method: string, path: string, body?: unknown) => call(gh.url, method, path, body);

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

describe("issues", () => {
  it("creates, reads and updates an issue with GitHub's fields", async () => {
    const created = await api("POST", `${R}/issues`, { title: "Fix it", body: "please", labels: ["agent:ready"] });
    expect(created.status).toBe(201);
    const issue = created.body;
    expect(issue).toMatchObject({ number: 1, title: "Fix it", body: "please", state: "open", html_url: "https://github.com/acme/widgets/issues/1" });
    expect(issue.id).toBeTypeOf("number");
    expect(issue.node_id).toMatch(/^I_/);
    expect(pluck(issue.labels, "name")).toEqual(["agent:ready"]);
    expect(issue.user).toMatchObject({ login: "agent-router[bot]", type: "Bot" });
    expect(issue.pull_request).toBeUndefined();

    expect((await api("GET", `${R}/issues/1`)).body).toMatchObject({ id: issue.id, number: 1 });
    const closed = await api("PATCH", `${R}/issues/1`, { state: "closed", state_reason: "not_planned" });
    expect(closed.body).toMatchObject({ state: "closed", state_reason: "not_planned" });
    expect(closed.body.closed_at).toMatch(/^2026-/);
    expect((await api("PATCH", `${R}/issues/1`, { state: "open" })).body).toMatchObject({ state: "open", state_reason: "reopened", closed_at: null });
  });

  it("answers 404 for a missing issue and 410 for a deleted one", async () => {
    expect((await api("GET", `${R}/issues/99`)).status).toBe(404);
    gh.state.addIssue("acme/widgets", { title: "gone" }).deleted = true;
    const deleted = await api("GET", `${R}/issues/1`);
    expect(deleted.status).toBe(410);
    expect(deleted.body.message).toBe("This issue was deleted");
    expect((await api("GET", "/repos/acme/nothing/issues/1")).status).toBe(404);
  });
});

describe("comments", () => {
  it("creates, reads, updates and lists comments in ascending id order", async () => {
    gh.state.addIssue("acme/widgets", { title: "t" });
    const first = await api("POST", `${R}/issues/1/comments`, { body: "one" });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ body: "one", html_url: `https://github.com/acme/widgets/issues/1#issuecomment-${first.body.id}` });
    const second = gh.state.addComment("acme/widgets", 1, "two", "alice");
    expect(second.id).toBeGreaterThan(first.body.id);
    expect((await api("GET", `${R}/issues/comments/${first.body.id}`)).body.body).toBe("one");
    const edited = await api("PATCH", `${R}/issues/comments/${first.body.id}`, { body: "uno" });
    expect(edited.status).toBe(200);
    const list = await api("GET", `${R}/issues/1/comments`);
    expect(pluck(list.body, "body")).toEqual(["uno", "two"]);
    expect(list.body[1].user).toMatchObject({ login: "alice", type: "User" });
    expect(list.body[1].author_association).toBe("NONE");
  });

  it("answers 404 for a missing comment or issue and 422 for a body over 65,536 characters", async () => {
    gh.state.addIssue("acme/widgets", { title: "t" });
    expect((await api("GET", `${R}/issues/comments/5`)).status).toBe(404);
    expect((await api("PATCH", `${R}/issues/comments/5`, { body: "x" })).status).toBe(404);
    expect((await api("POST", `${R}/issues/7/comments`, { body: "x" })).status).toBe(404);
    expect((await api("POST", `${R}/issues/1/comments`, { body: "x".repeat(65_537) })).status).toBe(422);
  });

  it("filters by `since` (updated after)", async () => {
    gh.state.addIssue("acme/widgets", { title: "t" });
    const old = gh.state.addComment("acme/widgets", 1, "old");
    gh.state.addComment("acme/widgets", 1, "new");
    const list = await api("GET", `${R}/issues/1/comments?since=${old.updated_at}`);
    expect(pluck(list.body, "body")).toEqual(["new"]);
  });
});

describe("reactions", () => {
  it("answers 201 for a new reaction and 200 with the same one when it exists", async () => {
    gh.state.addIssue("acme/widgets", { title: "t" });
    const c = gh.state.addComment("acme/widgets", 1, "hi", "alice");
    const created = await api("POST", `${R}/issues/comments/${c.id}/reactions`, { content: "eyes" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ content: "eyes", user: { login: "agent-router[bot]" } });
    const again = await api("POST", `${R}/issues/comments/${c.id}/reactions`, { content: "eyes" });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.body.id);
    expect((await api("POST", `${R}/issues/1/reactions`, { content: "+1" })).status).toBe(201);
    expect((await api("POST", `${R}/issues/1/reactions`, { content: "+1" })).status).toBe(200);
    expect((await api("POST", `${R}/issues/comments/999/reactions`, { content: "eyes" })).status).toBe(404);
    expect(gh.state.mustRepo("acme/widgets").reactions).toHaveLength(2);
  });
});

describe("labels", () => {
  it("adds to the set, removes one (404 when absent) and lists what is left", async () => {
    gh.state.addIssue("acme/widgets", { title: "t", labels: ["bug"] });
    const added = await api("POST", `${R}/issues/1/labels`, { labels: ["agent:ready", "BUG"] });
    expect(added.status).toBe(200);
    expect(pluck(added.body, "name")).toEqual(["bug", "agent:ready"]);
    const removed = await api("DELETE", `${R}/issues/1/labels/${encodeURIComponent("agent:ready")}`);
    expect(removed.status).toBe(200);
    expect(pluck(removed.body, "name")).toEqual(["bug"]);
    const missing = await api("DELETE", `${R}/issues/1/labels/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe("Label does not exist");
  });

  it("creates a repository label (201) and answers 422 already_exists the second time", async () => {
    const created = await api("POST", `${R}/labels`, { name: "agent:running", color: "0e8a16", description: "An agent works on it" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "agent:running", color: "0e8a16", description: "An agent works on it" });
    const again = await api("POST", `${R}/labels`, { name: "Agent:Running", color: "0e8a16" });
    expect(again.status).toBe(422);
    expect(again.body.errors).toEqual([{ resource: "Label", code: "already_exists", field: "name" }]);
    expect((await api("POST", `${R}/labels`, { name: "x", color: "#zzzzzz" })).status).toBe(422);
  });
});

describe("sub-issues", () => {
  it("links a child by database id (201, the parent), lists it and refuses duplicates and a second parent", async () => {
    const parent = gh.state.addIssue("acme/widgets", { title: "parent" });
    const other = gh.state.addIssue("acme/widgets", { title: "other" });
    const child = gh.state.addIssue("acme/widgets", { title: "child" });
    const added = await api("POST", `${R}/issues/${parent.number}/sub_issues`, { sub_issue_id: child.id });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ number: parent.number, sub_issues_summary: { total: 1, completed: 0, percent_completed: 0 } });
    const list = await api("GET", `${R}/issues/${parent.number}/sub_issues`);
    expect([pluck(list.body, "number"), pluck(list.body, "id")]).toEqual([[child.number], [child.id]]);
    expect((await api("GET", `${R}/issues/${child.number}`)).body.parent_issue_url).toMatch(/\/issues\/1$/);
    expect((await api("POST", `${R}/issues/${parent.number}/sub_issues`, { sub_issue_id: child.id })).status).toBe(422);
    expect((await api("POST", `${R}/issues/${other.number}/sub_issues`, { sub_issue_id: child.id })).status).toBe(422);
    expect((await api("POST", `${R}/issues/${other.number}/sub_issues`, { sub_issue_id: child.id, replace_parent: true })).status).toBe(201);
    expect((await api("GET", `${R}/issues/${parent.number}/sub_issues`)).body).toEqual([]);
    expect((await api("POST", `${R}/issues/${parent.number}/sub_issues`, { sub_issue_id: 424242 })).status).toBe(404);
  });

  it("allows 100 sub-issues per parent and answers 422 beyond", async () => {
    const parent = gh.state.addIssue("acme/widgets", { title: "parent" });
    const repo = gh.state.mustRepo("acme/widgets");
    for (let i = 0; i < 100; i++) {
      const child = gh.state.addIssue("acme/widgets", { title: `c${i}` });
      parent.subIssueIds.push(child.id);
      child.parentNumber = parent.number;
    }
    const extra = gh.state.addIssue("acme/widgets", { title: "one too many" });
    const refused = await api("POST", `${R}/issues/${parent.number}/sub_issues`, { sub_issue_id: extra.id });
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0].message).toMatch(/more than 100/);
    expect(repo.issues.get(parent.number)!.subIssueIds).toHaveLength(100);
  });
});
