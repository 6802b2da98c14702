// The GitHub adapter's REST side against nock at a non-github.com base URL (as on GHES): what each
// port method sends, how answers map, which failures are values, and how errors are wrapped.
// GraphQL (ledger branch, Projects v2) is in github-adapter-graphql.test.ts, limits in -limits.
import nock from "nock";
import { describe, expect, it } from "vitest";
import { createOctokit } from "../../src/adapters/github/create-octokit.ts";
import { octokitGitHub } from "../../src/adapters/github/octokit-github.ts";
import { isRouterError } from "../../src/core/errors.ts";
import { memoryLog } from "../fakes/memory-log.ts";
import { failure, guardNock } from "../support/nock-guard.ts";

const BASE = "https://api.github.example";
const TOKEN = "ghp_testtokenTESTTOKEN0123456789abcdef";
const R = "/repos/acme/widgets";

function setup(opts: { timeoutMs?: number } = {}) {
  const log = memoryLog();
  const octokit = createOctokit({
    token: TOKEN,
    baseUrl: BASE,
    log,
    userAgent: "agent-router-test",
    throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0 },
    retry: { baseDelayMs: 5 },
    ...opts,
  });
  return { gh: octokitGitHub(octokit, { owner: "acme", repo: "widgets", log }), log };
}

const user = (login: string, id: number, type = "User") => ({ login, id, type });
const issueJson = (n: number, extra: Record<string, unknown> = {}) => ({
  number: n,
  id: 1000 + n,
  node_id: `I_${n}`,
  title: `Issue ${n}`,
  body: null,
  state: "open",
  labels: [{ name: "agent:ready" }, "plain"],
  user: user("alice", 1),
  html_url: `https://github.example/acme/widgets/issues/${n}`,
  ...extra,
});
const commentJson = (id: number) => ({ id, body: `c${id}`, user: user("bob", 2), created_at: "2026-01-01T00:00:00Z", html_url: `https://x/c/${id}` });
const pullJson = (n: number, state = "open", merged_at: string | null = null) => ({
  number: n,
  html_url: `https://x/pull/${n}`,
  state,
  draft: false,
  merged_at,
  head: { ref: "agent-router/task-1", repo: { full_name: "acme/widgets" } },
  base: { ref: "main" },
  title: `PR ${n}`,
  body: null,
});


guardNock();

describe("issues", () => {
  it("getIssue maps the issue, says which are pull requests, and reads 404 and 410 as absent", async () => {
    const { gh } = setup();
    const scope = nock(BASE)
      .matchHeader("authorization", `token ${TOKEN}`)
      .matchHeader("user-agent", /^agent-router-test /)
      .get(`${R}/issues/1`)
      .reply(200, issueJson(1, { user: null }))
      .get(`${R}/issues/2`)
      .reply(200, issueJson(2, { pull_request: { url: "x" }, state: "closed" }))
      .get(`${R}/issues/3`)
      .reply(404, { message: "Not Found" })
      .get(`${R}/issues/4`)
      .reply(410, { message: "This issue was deleted" });
    expect(await gh.getIssue(1)).toEqual({
      number: 1,
      id: 1001,
      nodeId: "I_1",
      title: "Issue 1",
      body: "",
      state: "open",
      labels: ["agent:ready", "plain"],
      author: { login: "ghost", id: 0, type: "Ghost" },
      url: "https://github.example/acme/widgets/issues/1",
      isPullRequest: false,
    });
    expect(await gh.getIssue(2)).toMatchObject({ isPullRequest: true, state: "closed", author: { login: "alice", id: 1, type: "User" } });
    expect(await gh.getIssue(3)).toBeNull();
    expect(await gh.getIssue(4)).toBeNull();
    expect(scope.isDone()).toBe(true);
    expect(gh.repository).toBe("acme/widgets");
  });

  it("createIssue and setIssueState send the documented bodies", async () => {
    const { gh } = setup();
    const scope = nock(BASE)
      .post(`${R}/issues`, { title: "T", body: "B", labels: ["x"] })
      .reply(201, issueJson(9))
      .patch(`${R}/issues/9`, { state: "closed", state_reason: "not_planned" })
      .reply(200, issueJson(9))
      .patch(`${R}/issues/9`, (body) => JSON.stringify(body) === JSON.stringify({ state: "open" }))
      .reply(200, issueJson(9));
    expect((await gh.createIssue({ title: "T", body: "B", labels: ["x"] })).number).toBe(9);
    await gh.setIssueState(9, "closed", "not_planned");
    await gh.setIssueState(9, "open");
    expect(scope.isDone()).toBe(true);
  });

  it("issuesSince asks for every state since the time, newest first, reads every page and drops pull requests", async () => {
    const { gh } = setup();
    const query = { state: "all", since: "2026-01-01T00:00:00Z", sort: "created", direction: "desc", per_page: "100" };
    const scope = nock(BASE)
      .get(`${R}/issues`)
      .query(query)
      .reply(200, [issueJson(9), issueJson(8, { pull_request: { url: "x" } })], { link: `<${BASE}${R}/issues?page=2>; rel="next"` })
      .get(`${R}/issues`)
      .query({ page: "2" })
      .reply(200, [issueJson(7)]);
    expect((await gh.issuesSince("2026-01-01T00:00:00Z")).map((i) => i.number)).toEqual([9, 7]);
    expect(scope.isDone()).toBe(true);
  });

  it("openIssuesLabelled asks for open issues with the label, oldest first, without pull requests; labelledBy names who last added the label", async () => {
    const { gh } = setup();
    const labelled = (id: number, event: string, name: string, login: string) => ({ id, event, label: { name, color: "ededed" }, actor: user(login, id) });
    const scope = nock(BASE)
      .get(`${R}/issues`)
      .query({ state: "open", labels: "agent", sort: "created", direction: "asc", per_page: "100" })
      .reply(200, [issueJson(3), issueJson(4, { pull_request: { url: "x" } })])
      .get(`${R}/issues/3/events`)
      .query({ per_page: "100" })
      .reply(200, [labelled(1, "labeled", "Agent", "mallory"), labelled(2, "unlabeled", "agent", "maintainer"), { id: 3, event: "assigned", actor: user("x", 9) }, labelled(4, "labeled", "agent", "maintainer"), labelled(5, "labeled", "bug", "mallory")])
      .get(`${R}/issues/5/events`)
      .query({ per_page: "100" })
      .reply(200, [labelled(6, "labeled", "agent", "mallory"), labelled(7, "unlabeled", "agent", "maintainer")]);
    expect((await gh.openIssuesLabelled("agent")).map((i) => i.number)).toEqual([3]);
    expect(await gh.labelledBy(3, "agent")).toMatchObject({ login: "maintainer", id: 4 });
    expect(await gh.labelledBy(5, "agent")).toBeNull();
    expect(scope.isDone()).toBe(true);
  });

  it("listComments reads three pages through Link headers, oldest first", async () => {
    const { gh } = setup();
    const link = (page: number, last = 3) => `<${BASE}${R}/issues/5/comments?per_page=100&page=${page}>; rel="next", <${BASE}${R}/issues/5/comments?per_page=100&page=${last}>; rel="last"`;
    const scope = nock(BASE)
      .get(`${R}/issues/5/comments`)
      .query({ per_page: "100" })
      .reply(200, [commentJson(1), commentJson(2)], { link: link(2) })
      .get(`${R}/issues/5/comments`)
      .query({ per_page: "100", page: "2" })
      .reply(200, [commentJson(4), commentJson(3)], { link: link(3) })
      .get(`${R}/issues/5/comments`)
      .query({ per_page: "100", page: "3" })
      .reply(200, [commentJson(5)]);
    const comments = await gh.listComments(5);
    expect(comments.map((c) => c.id)).toEqual([1, 2, 3, 4, 5]);
    expect(comments[0]).toEqual({ id: 1, body: "c1", author: { login: "bob", id: 2, type: "User" }, createdAt: "2026-01-01T00:00:00Z", url: "https://x/c/1" });
    expect(scope.isDone()).toBe(true);
  });

  it("comments, reactions (200 and 201) and labels", async () => {
    const { gh } = setup();
    const scope = nock(BASE)
      .post(`${R}/issues/5/comments`, { body: "hello" })
      .reply(201, commentJson(77))
      .patch(`${R}/issues/comments/77`, { body: "edited" })
      .reply(200, commentJson(77))
      .post(`${R}/issues/5/reactions`, { content: "eyes" })
      .reply(201, { id: 1, content: "eyes" })
      .post(`${R}/issues/comments/77/reactions`, { content: "+1" })
      .reply(200, { id: 2, content: "+1" })
      .post(`${R}/issues/5/labels`, { labels: ["a", "b"] })
      .reply(200, [])
      .delete(`${R}/issues/5/labels/status%3A%20ready`)
      .reply(200, [])
      .delete(`${R}/issues/5/labels/gone`)
      .reply(404, { message: "Label does not exist" });
    expect(await gh.createComment(5, "hello")).toMatchObject({ id: 77, body: "c77" });
    await gh.updateComment(77, "edited");
    await gh.react({ issue: 5 }, "eyes");
    await gh.react({ comment: 77 }, "+1");
    await gh.addLabels(5, ["a", "b"]);
    await gh.addLabels(5, []);
    await gh.removeLabel(5, "status: ready");
    await gh.removeLabel(5, "gone");
    expect(scope.isDone()).toBe(true);
  });

  it("ensureLabel: created, already there is fine, any other 422 throws", async () => {
    const { gh } = setup();
    const scope = nock(BASE)
      .post(`${R}/labels`, { name: "agent:ready", color: "0e8a16", description: "d" })
      .reply(201, {})
      .post(`${R}/labels`)
      .reply(422, { message: "Validation Failed", errors: [{ resource: "Label", code: "already_exists", field: "name" }] })
      .post(`${R}/labels`)
      .reply(422, { message: "Validation Failed", errors: [{ resource: "Label", code: "invalid", field: "color" }] });
    await gh.ensureLabel({ name: "agent:ready", color: "#0e8a16", description: "d" });
    await gh.ensureLabel({ name: "agent:ready", color: "0e8a16", description: "d" });
    const err = await failure(gh.ensureLabel({ name: "x", color: "zz", description: "" }));
    expect(isRouterError(err, "E_GITHUB") && err.details).toMatchObject({ status: 422, method: "POST", route: "/repos/{owner}/{repo}/labels" });
    expect(scope.isDone()).toBe(true);
  });

  it("sub-issues: lists every page, links by database id, and only an existing link makes a 422 fine", async () => {
    const { gh } = setup();
    const sub = (n: number, state = "open") => ({ number: n, id: 500 + n, state });
    const scope = nock(BASE)
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: "100" })
      .reply(200, [sub(2)], { link: `<${BASE}${R}/issues/1/sub_issues?per_page=100&page=2>; rel="next"` })
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: "100", page: "2" })
      .reply(200, [sub(3, "closed")])
      .post(`${R}/issues/1/sub_issues`, { sub_issue_id: 504 })
      .reply(201, issueJson(1))
      .post(`${R}/issues/1/sub_issues`, { sub_issue_id: 502 })
      .reply(422, { message: "Validation Failed" })
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: "100" })
      .reply(200, [sub(2)])
      .post(`${R}/issues/1/sub_issues`, { sub_issue_id: 509 })
      .reply(422, { message: "Validation Failed" })
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: "100" })
      .reply(200, [sub(2)]);
    expect(await gh.listSubIssues(1)).toEqual([
      { number: 2, id: 502, state: "open" },
      { number: 3, id: 503, state: "closed" },
    ]);
    await gh.addSubIssue(1, 504);
    await gh.addSubIssue(1, 502);
    expect(await failure(gh.addSubIssue(1, 509))).toMatchObject({ code: "E_GITHUB", details: { status: 422 } });
    expect(scope.isDone()).toBe(true);
  });
});

describe("conditional requests", () => {
  it("a repeated GET sends If-None-Match and a 304 returns the cached answer (pages, issue, permission)", async () => {
    const { gh } = setup();
    const next = `<${BASE}${R}/issues/6/comments?per_page=100&page=2>; rel="next"`;
    const first = nock(BASE)
      .get(`${R}/issues/6/comments`)
      .query({ per_page: "100" })
      .reply(200, [commentJson(1)], { etag: '"p1"', link: next })
      .get(`${R}/issues/6/comments`)
      .query({ per_page: "100", page: "2" })
      .reply(200, [commentJson(2)], { etag: '"p2"' })
      .get(`${R}/issues/6`)
      .reply(200, issueJson(6), { etag: 'W/"i6"' })
      .get(`${R}/collaborators/carol/permission`)
      .reply(200, { permission: "write", user: user("carol", 3) }, { etag: '"perm"' });
    const firstComments = await gh.listComments(6);
    const firstIssue = await gh.getIssue(6);
    expect(await gh.permission("carol")).toBe("write");
    expect(first.isDone()).toBe(true);

    const second = nock(BASE)
      .get(`${R}/issues/6/comments`)
      .query({ per_page: "100" })
      .matchHeader("if-none-match", '"p1"')
      .reply(304, "", { "x-github-request-id": "R304" })
      .get(`${R}/issues/6/comments`)
      .query({ per_page: "100", page: "2" })
      .matchHeader("if-none-match", '"p2"')
      .reply(304, "")
      .get(`${R}/issues/6`)
      .matchHeader("if-none-match", 'W/"i6"')
      .reply(304, "")
      .get(`${R}/collaborators/carol/permission`)
      .matchHeader("if-none-match", '"perm"')
      .reply(304, "");
    expect(await gh.listComments(6)).toEqual(firstComments);
    expect(await gh.getIssue(6)).toEqual(firstIssue);
    expect(await gh.permission("carol")).toBe("write");
    expect(second.isDone()).toBe(true);
  });

  it("a full page without a next link is asked for again without If-None-Match (it may have gained a next page)", async () => {
    const { gh } = setup();
    const full = Array.from({ length: 100 }, (_, i) => commentJson(i + 1));
    const scope = nock(BASE)
      .get(`${R}/issues/7/comments`)
      .query({ per_page: "100" })
      .reply(200, full, { etag: '"full"' })
      .get(`${R}/issues/7/comments`)
      .query({ per_page: "100" })
      .reply(function () {
        return this.req.headers["if-none-match"] === undefined ? [200, full, { etag: '"full"', link: `<${BASE}${R}/issues/7/comments?per_page=100&page=2>; rel="next"` }] : [500, {}];
      })
      .get(`${R}/issues/7/comments`)
      .query({ per_page: "100", page: "2" })
      .reply(200, [commentJson(101)]);
    expect(await gh.listComments(7)).toHaveLength(100);
    expect(await gh.listComments(7)).toHaveLength(101);
    expect(scope.isDone()).toBe(true);
  });
});

describe("pull requests and permission", () => {
  it("findPull asks for owner:branch in every state and returns the newest; none is null", async () => {
    const { gh } = setup();
    const q = { head: "acme:agent-router/task-1", state: "all", sort: "created", direction: "desc", per_page: "100" };
    const scope = nock(BASE)
      .get(`${R}/pulls`)
      .query(q)
      .reply(200, [pullJson(12, "closed", "2026-01-02T00:00:00Z"), pullJson(7, "closed")])
      .get(`${R}/pulls`)
      .query({ ...q, head: "acme:nothing" })
      .reply(200, []);
    expect(await gh.findPull("agent-router/task-1")).toEqual({
      number: 12,
      url: "https://x/pull/12",
      state: "closed",
      draft: false,
      merged: true,
      head: "agent-router/task-1",
      base: "main",
      title: "PR 12",
      body: "",
    });
    expect(await gh.findPull("nothing")).toBeNull();
    expect(scope.isDone()).toBe(true);
  });

  it("createPull and updatePull", async () => {
    const { gh } = setup();
    const input = { head: "agent-router/task-1", base: "main", title: "T", body: "B", draft: true };
    const scope = nock(BASE)
      .post(`${R}/pulls`, input)
      .reply(201, pullJson(3))
      .patch(`${R}/pulls/3`, { body: "new" })
      .reply(200, pullJson(3));
    expect(await gh.createPull(input)).toMatchObject({ number: 3, state: "open", merged: false });
    await gh.updatePull(3, { body: "new" });
    await gh.updatePull(3, {});
    expect(scope.isDone()).toBe(true);
  });

  it("permission: the legacy role, 404 is none, anything else throws", async () => {
    const { gh } = setup();
    const answer = (permission: string) => ({ permission, role_name: permission, user: user("u", 1) });
    const scope = nock(BASE)
      .get(`${R}/collaborators/a/permission`)
      .reply(200, answer("admin"))
      .get(`${R}/collaborators/m/permission`)
      .reply(200, answer("maintain"))
      .get(`${R}/collaborators/t/permission`)
      .reply(200, answer("triage"))
      .get(`${R}/collaborators/n/permission`)
      .reply(200, answer("none"))
      .get(`${R}/collaborators/stranger/permission`)
      .reply(404, { message: "Not Found" })
      .get(`${R}/collaborators/x/permission`)
      .reply(403, { message: "Must have push access to view collaborator permission." });
    expect([await gh.permission("a"), await gh.permission("m"), await gh.permission("t"), await gh.permission("n")]).toEqual(["admin", "write", "read", "none"]);
    expect(await gh.permission("stranger")).toBe("none");
    expect(await failure(gh.permission("x"))).toMatchObject({ code: "E_GITHUB", details: { status: 403 } });
    expect(scope.isDone()).toBe(true);
  });

  it("defaultBranch is asked once", async () => {
    const { gh } = setup();
    const scope = nock(BASE).get(R).once().reply(200, { default_branch: "trunk" });
    expect(await gh.defaultBranch()).toBe("trunk");
    expect(await gh.defaultBranch()).toBe("trunk");
    expect(scope.isDone()).toBe(true);
  });
});

describe("workflow dispatch", () => {
  it("asks for the run's details and returns its page; a 204 from an older server is null; a failed dispatch is never re-sent", async () => {
    const { gh } = setup();
    const inputs = { task: "3", attempt: "1", key: "k" };
    const scope = nock(BASE)
      .post(`${R}/actions/workflows/agent-router.yml/dispatches`, { ref: "main", inputs, return_run_details: true })
      .reply(200, { workflow_run_id: 42, run_url: `${BASE}${R}/actions/runs/42`, html_url: "https://github.example/acme/widgets/actions/runs/42" })
      .post(`${R}/actions/workflows/agent-router.yml/dispatches`)
      .reply(204)
      .post(`${R}/actions/workflows/agent-router.yml/dispatches`)
      .reply(502, { message: "Server Error" });
    expect(await gh.dispatchWorkflow({ workflow: "agent-router.yml", ref: "main", inputs })).toEqual({ runUrl: "https://github.example/acme/widgets/actions/runs/42" });
    expect(await gh.dispatchWorkflow({ workflow: "agent-router.yml", ref: "main", inputs })).toEqual({ runUrl: null });
    await expect(gh.dispatchWorkflow({ workflow: "agent-router.yml", ref: "main", inputs })).rejects.toSatisfy((e: unknown) => isRouterError(e) && e.code === "E_GITHUB_UNAVAILABLE");
    expect(scope.isDone()).toBe(true);
  });
});

describe("branches", () => {
  it("createBranch: created, exists, and another 422 throws", async () => {
    const { gh } = setup();
    const scope = nock(BASE)
      .post(`${R}/git/refs`, { ref: "refs/heads/agent-router/ledger", sha: "a".repeat(40) })
      .reply(201, { ref: "refs/heads/agent-router/ledger" })
      .post(`${R}/git/refs`)
      .reply(422, { message: "Reference already exists" })
      .post(`${R}/git/refs`)
      .reply(422, { message: "Object does not exist" });
    expect(await gh.createBranch("agent-router/ledger", "a".repeat(40))).toBe("created");
    expect(await gh.createBranch("agent-router/ledger", "a".repeat(40))).toBe("exists");
    expect(await failure(gh.createBranch("agent-router/ledger", "b".repeat(40)))).toMatchObject({ code: "E_GITHUB", details: { status: 422 } });
    expect(scope.isDone()).toBe(true);
  });

  it("branchHead: the exact ref only; 404 and a prefix-only list are null", async () => {
    const { gh } = setup();
    const ref = (name: string, sha: string) => ({ ref: `refs/heads/${name}`, object: { sha, type: "commit" } });
    const scope = nock(BASE)
      .get(`${R}/git/ref/heads%2Fagent-router%2Fledger`)
      .reply(200, ref("agent-router/ledger", "c1"))
      .get(`${R}/git/ref/heads%2Fmissing`)
      .reply(404, { message: "Not Found" })
      .get(`${R}/git/ref/heads%2Ffeat`)
      .reply(200, [ref("feat-a", "c2"), ref("feat-b", "c3")])
      .get(`${R}/git/ref/heads%2Ffeat-a`)
      .reply(200, [ref("feat-a", "c2"), ref("feat-ab", "c4")]);
    expect(await gh.branchHead("agent-router/ledger")).toBe("c1");
    expect(await gh.branchHead("missing")).toBeNull();
    expect(await gh.branchHead("feat")).toBeNull();
    expect(await gh.branchHead("feat-a")).toBe("c2");
    expect(scope.isDone()).toBe(true);
  });

  it("listBranches reads every matching ref in one request (the route takes no paging parameters)", async () => {
    const { gh } = setup();
    const ref = (name: string) => ({ ref: `refs/heads/${name}`, object: { sha: "s" } });
    const path = `${R}/git/matching-refs/heads%2Fagent-router%2Ftask-`;
    const scope = nock(BASE).get(path).reply(200, [ref("agent-router/task-1"), ref("agent-router/task-2")]);
    expect(await gh.listBranches("agent-router/task-")).toEqual(["agent-router/task-1", "agent-router/task-2"]);
    expect(scope.isDone()).toBe(true);
  });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- request bodies are arbitrary JSON
type Vars = Record<string, any>;
type GraphQLBody = { query: string; variables: Vars };
const op = (name: string, check: (vars: Vars) => boolean = () => true) => (body: GraphQLBody) =>
  body.query.includes(` ${name}(`) && check(body.variables);

describe("errors", () => {
  it("wraps a refusal once with status, method, route and request id, and never the token", async () => {
    const { gh } = setup();
    const scope = nock(BASE).get(`${R}/issues/8`).reply(401, { message: "Bad credentials", documentation_url: "https://docs" }, { "x-github-request-id": "ABCD:1234" });
    const err = await failure(gh.getIssue(8));
    if (!isRouterError(err)) throw err;
    expect(err.code).toBe("E_GITHUB");
    expect(err.retryable).toBe(false);
    expect(err.details).toEqual({
      status: 401,
      method: "GET",
      route: "/repos/{owner}/{repo}/issues/{issue_number}",
      requestId: "ABCD:1234",
      message: "Bad credentials - https://docs",
    });
    expect(err.message).toBe("GitHub answered 401 to GET /repos/{owner}/{repo}/issues/{issue_number}: Bad credentials - https://docs");
    const cause = err.cause as { status: number; request: { headers: Record<string, string> } };
    expect(cause.status).toBe(401);
    expect(cause.request.headers.authorization).toBe("token [REDACTED]");
    for (const text of [err.message, JSON.stringify(err.details), String(err.cause), JSON.stringify(cause.request)]) expect(text).not.toContain(TOKEN);
    expect(scope.isDone()).toBe(true);
  });

  it("retries a 5xx on a read (plugin-retry); a creating POST is sent once (no duplicate) and fails as E_GITHUB_UNAVAILABLE", async () => {
    const { gh } = setup();
    const scope = nock(BASE)
      .get(`${R}/issues/9`)
      .times(2)
      .reply(502, "Bad Gateway")
      .get(`${R}/issues/9`)
      .reply(200, issueJson(9))
      .post(`${R}/issues/9/comments`)
      .once()
      .reply(500, { message: "Server Error" }, { "x-github-request-id": "E500" });
    expect((await gh.getIssue(9))?.number).toBe(9);
    const err = await failure(gh.createComment(9, "hi"));
    expect(err).toMatchObject({ code: "E_GITHUB_UNAVAILABLE", retryable: true, details: { status: 500, method: "POST", requestId: "E500" } });
    expect(scope.isDone()).toBe(true);
  });

  it("retries GraphQL's 'Something went wrong' answer", async () => {
    const { gh } = setup();
    const scope = nock(BASE)
      .post("/graphql", op("ReadBranchFile"))
      .reply(200, { data: null, errors: [{ message: "Something went wrong while executing your query. Please try again." }] })
      .post("/graphql", op("ReadBranchFile"))
      .reply(200, { data: { repository: { ref: null } } });
    expect(await gh.readFile("nope", "ledger.yml")).toBeNull();
    expect(scope.isDone()).toBe(true);
  });

  it("a request without an answer times out per attempt, is retried, and ends as E_GITHUB_UNAVAILABLE", async () => {
    const { gh } = setup({ timeoutMs: 100 });
    const scope = nock(BASE).get(`${R}/issues/10`).times(4).delay(1000).reply(200, issueJson(10));
    const started = Date.now();
    const err = await failure(gh.getIssue(10));
    expect(err).toMatchObject({ code: "E_GITHUB_UNAVAILABLE", details: { method: "GET", timedOut: true } });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(scope.isDone()).toBe(true);
  });
});
