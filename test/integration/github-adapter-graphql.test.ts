// The GitHub adapter's GraphQL side against nock: the ledger branch (one-query read with the REST
// fallback, createCommitOnBranch compare-and-swap) and Projects v2 status with its warnings.
// Every document is also validated against GitHub's published schema.
import { schema as githubSchema } from "@octokit/graphql-schema";
import { buildSchema, parse, validate } from "graphql";
import nock from "nock";
import { describe, expect, it } from "vitest";
import { createOctokit } from "../../src/adapters/github/create-octokit.ts";
import { COMMIT_ON_BRANCH, READ_BRANCH_FILE } from "../../src/adapters/github/ledger-graphql.ts";
import { octokitGitHub } from "../../src/adapters/github/octokit-github.ts";
import { ADD_PROJECT_ITEM, FIND_ORG_PROJECT, FIND_USER_PROJECT, ISSUE_PROJECT_ITEMS, SET_PROJECT_STATUS } from "../../src/adapters/github/project-status.ts";
import { VIEWER } from "../../src/adapters/github/viewer-api.ts";
import { memoryLog } from "../fakes/memory-log.ts";
import { failure, guardNock } from "../support/nock-guard.ts";

const BASE = "https://api.github.example";
const TOKEN = "ghp_testtokenTESTTOKEN0123456789abcdef";
const R = "/repos/acme/widgets";

function setup() {
  const log = memoryLog();
  const octokit = createOctokit({ token: TOKEN, baseUrl: BASE, log, throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0 }, retry: { baseDelayMs: 5 } });
  return { gh: octokitGitHub(octokit, { owner: "acme", repo: "widgets", log }), log };
}


// eslint-disable-next-line @typescript-eslint/no-explicit-any -- request bodies are arbitrary JSON
type Vars = Record<string, any>;
type GraphQLBody = { query: string; variables: Vars };
/** Matches one named operation, optionally checking its variables. */
const op = (name: string, check: (vars: Vars) => boolean = () => true) => (body: GraphQLBody) =>
  body.query.includes(` ${name}(`) && check(body.variables);

guardNock();

describe("GraphQL documents", () => {
  it("every document validates against GitHub's schema", () => {
    const gqlSchema = buildSchema(githubSchema.idl, { assumeValidSDL: true });
    for (const doc of [READ_BRANCH_FILE, COMMIT_ON_BRANCH, FIND_ORG_PROJECT, FIND_USER_PROJECT, ISSUE_PROJECT_ITEMS, ADD_PROJECT_ITEM, SET_PROJECT_STATUS, VIEWER]) {
      expect(validate(gqlSchema, parse(doc)).map((e) => e.message)).toEqual([]);
    }
  });
});

describe("ledger branch (GraphQL)", () => {
  const head = "f".repeat(40);
  const fileAnswer = (object: unknown, target: Record<string, unknown> = { oid: head, file: { object } }) => ({ data: { repository: { ref: { target } } } });

  it("readFile reads head and text in one query; no branch is null, no file is text null", async () => {
    const { gh } = setup();
    const scope = nock(BASE)
      .post("/graphql", op("ReadBranchFile", (v) => v.owner === "acme" && v.repo === "widgets" && v.ref === "refs/heads/agent-router/ledger" && v.path === "ledger.yml"))
      .reply(200, fileAnswer({ text: "tasks: []\n", isTruncated: false, isBinary: false }))
      .post("/graphql", op("ReadBranchFile"))
      .reply(200, { data: { repository: { ref: null } } })
      .post("/graphql", op("ReadBranchFile"))
      .reply(200, fileAnswer(null, { oid: head, file: null }));
    expect(await gh.readFile("agent-router/ledger", "ledger.yml")).toEqual({ head, text: "tasks: []\n" });
    expect(await gh.readFile("agent-router/ledger", "ledger.yml")).toBeNull();
    expect(await gh.readFile("agent-router/ledger", "ledger.yml")).toEqual({ head, text: null });
    expect(scope.isDone()).toBe(true);
  });

  it("readFile falls back to the raw REST contents at the head commit when GraphQL truncated the text", async () => {
    const { gh } = setup();
    const big = "x: 1\n".repeat(10);
    const scope = nock(BASE)
      .post("/graphql", op("ReadBranchFile"))
      .reply(200, fileAnswer({ text: "x: 1\n", isTruncated: true, isBinary: false }))
      .get(`${R}/contents/dir%2Fledger.yml`)
      .query({ ref: head })
      .matchHeader("accept", "application/vnd.github.raw+json")
      .reply(200, big, { "content-type": "application/vnd.github.raw" });
    expect(await gh.readFile("agent-router/ledger", "dir/ledger.yml")).toEqual({ head, text: big });
    expect(scope.isDone()).toBe(true);
  });

  it("commitFiles sends createCommitOnBranch with the expected head, base64 additions and deletions", async () => {
    const { gh } = setup();
    let sent: Vars | undefined;
    const scope = nock(BASE)
      .post("/graphql", op("CommitOnBranch"))
      .reply(200, (_uri, body) => {
        sent = (body as GraphQLBody).variables.input;
        return { data: { createCommitOnBranch: { commit: { oid: "a".repeat(40) } } } };
      });
    const outcome = await gh.commitFiles({
      branch: "agent-router/ledger",
      expectedHead: head,
      message: "ledger: task 3 running\n\nby agent-router",
      changes: [
        { path: "ledger.yml", text: "tâsks: []\n" },
        { path: "old.yml", text: null },
      ],
    });
    expect(outcome).toEqual({ ok: true, head: "a".repeat(40) });
    expect(sent).toEqual({
      branch: { repositoryNameWithOwner: "acme/widgets", branchName: "agent-router/ledger" },
      expectedHeadOid: head,
      message: { headline: "ledger: task 3 running", body: "by agent-router" },
      fileChanges: { additions: [{ path: "ledger.yml", contents: Buffer.from("tâsks: []\n").toString("base64") }], deletions: [{ path: "old.yml" }] },
    });
    expect(scope.isDone()).toBe(true);
  });

  it("a moved head is stale (by type or by message); any other GraphQL error throws", async () => {
    const { gh } = setup();
    const input = { branch: "b", expectedHead: head, message: "m", changes: [{ path: "p", text: "t" }] };
    const stale = `Expected branch to point to "${head}" but it did not.  Pull and try again.`;
    const scope = nock(BASE)
      .post("/graphql", op("CommitOnBranch"))
      .reply(200, { data: { createCommitOnBranch: null }, errors: [{ type: "STALE_DATA", message: stale, path: ["createCommitOnBranch"] }] })
      .post("/graphql", op("CommitOnBranch"))
      .reply(200, { data: null, errors: [{ message: stale }] })
      .post("/graphql", op("CommitOnBranch"))
      .reply(200, { data: null, errors: [{ type: "NOT_FOUND", message: "Could not resolve to a Ref" }] }, { "x-github-request-id": "GQL1" });
    expect(await gh.commitFiles(input)).toEqual({ ok: false, stale: true });
    expect(await gh.commitFiles(input)).toEqual({ ok: false, stale: true });
    expect(await failure(gh.commitFiles(input))).toMatchObject({
      code: "E_GITHUB",
      details: { method: "POST", route: "/graphql CommitOnBranch", requestId: "GQL1", errorTypes: ["NOT_FOUND"] },
    });
    expect(scope.isDone()).toBe(true);
  });
});

describe("Projects v2 status", () => {
  const input = { owner: "acme", number: 3, field: "Status", issueNodeId: "I_kw1", status: "in progress" };
  const options = [
    { id: "o1", name: "Todo" },
    { id: "o2", name: "In Progress" },
  ];
  const project = (field: unknown = { __typename: "ProjectV2SingleSelectField", id: "F1", options }) => ({ projectV2: { id: "PVT_1", field } });
  const items = (nodes: unknown[]) => ({ data: { node: { projectItems: { nodes } } } });

  it("resolves project, field and option once, adds the issue when needed, and sets the option", async () => {
    const { gh } = setup();
    const scope = nock(BASE)
      .post("/graphql", op("FindOrgProject", (v) => v.login === "acme" && v.number === 3 && v.field === "Status"))
      .reply(200, { data: { organization: project() } })
      .post("/graphql", op("IssueProjectItems", (v) => v.id === "I_kw1"))
      .reply(200, items([{ id: "PVTI_other", project: { id: "PVT_9" }, fieldValueByName: null }]))
      .post("/graphql", op("AddProjectItem", (v) => v.projectId === "PVT_1" && v.contentId === "I_kw1"))
      .reply(200, { data: { addProjectV2ItemById: { item: { id: "PVTI_1" } } } })
      .post("/graphql", op("SetProjectStatus", (v) => v.projectId === "PVT_1" && v.itemId === "PVTI_1" && v.fieldId === "F1" && v.optionId === "o2"))
      .reply(200, { data: { updateProjectV2ItemFieldValue: { projectV2Item: { id: "PVTI_1" } } } })
      // Second call: the project comes from the cache, the item exists with another option.
      .post("/graphql", op("IssueProjectItems"))
      .reply(200, items([{ id: "PVTI_1", project: { id: "PVT_1" }, fieldValueByName: { optionId: "o2" } }]))
      .post("/graphql", op("SetProjectStatus", (v) => v.optionId === "o1"))
      .reply(200, { data: { updateProjectV2ItemFieldValue: { projectV2Item: { id: "PVTI_1" } } } })
      // Third call: already at that option, nothing to write.
      .post("/graphql", op("IssueProjectItems"))
      .reply(200, items([{ id: "PVTI_1", project: { id: "PVT_1" }, fieldValueByName: { optionId: "o1" } }]));
    expect(await gh.setProjectStatus(input)).toEqual({ ok: true, itemId: "PVTI_1" });
    expect(await gh.setProjectStatus({ ...input, status: "TODO" })).toEqual({ ok: true, itemId: "PVTI_1" });
    expect(await gh.setProjectStatus({ ...input, status: "Todo" })).toEqual({ ok: true, itemId: "PVTI_1" });
    expect(scope.isDone()).toBe(true);
  });

  it("falls back to a user-owned project when the login is not an organization", async () => {
    const { gh } = setup();
    const notOrg = { type: "NOT_FOUND", path: ["organization"], message: "Could not resolve to an Organization with the login of 'acme'." };
    const scope = nock(BASE)
      .post("/graphql", op("FindOrgProject"))
      .reply(200, { data: { organization: null }, errors: [notOrg] })
      .post("/graphql", op("FindUserProject", (v) => v.login === "acme"))
      .reply(200, { data: { user: project() } })
      .post("/graphql", op("IssueProjectItems"))
      .reply(200, items([{ id: "PVTI_1", project: { id: "PVT_1" }, fieldValueByName: null }]))
      .post("/graphql", op("SetProjectStatus"))
      .reply(200, { data: { updateProjectV2ItemFieldValue: { projectV2Item: { id: "PVTI_1" } } } });
    expect(await gh.setProjectStatus(input)).toEqual({ ok: true, itemId: "PVTI_1" });
    expect(scope.isDone()).toBe(true);
  });

  it("turns a refused token, a missing field or option, and an unknown owner into warnings", async () => {
    const { gh } = setup();
    const forbidden = { type: "FORBIDDEN", path: ["organization", "projectV2"], message: "Resource not accessible by integration" };
    const scopes = { type: "INSUFFICIENT_SCOPES", message: "Your token has not been granted the required scopes to execute this query." };
    const notFound = (owner: string) => ({ type: "NOT_FOUND", path: [owner], message: `Could not resolve to a ${owner}` });
    const find = (n: number) => op("FindOrgProject", (v) => v.number === n);
    const scope = nock(BASE)
      .post("/graphql", find(3))
      .reply(200, { data: { organization: { projectV2: null } }, errors: [forbidden] })
      .post("/graphql", find(5))
      .reply(200, { data: { organization: project(null) } })
      // A missing option re-reads the field once (the columns may have been renamed since).
      .post("/graphql", find(6))
      .times(2)
      .reply(200, { data: { organization: project() } })
      .post("/graphql", find(7))
      .reply(401, { message: "Bad credentials" })
      .post("/graphql", find(8))
      .reply(200, { data: { organization: null }, errors: [notFound("organization")] })
      .post("/graphql", op("FindUserProject", (v) => v.number === 8))
      .reply(200, { data: { user: null }, errors: [notFound("user")] })
      .post("/graphql", find(4))
      .reply(200, { data: { organization: project() } })
      .post("/graphql", op("IssueProjectItems"))
      .reply(200, items([]))
      .post("/graphql", op("AddProjectItem"))
      .reply(200, { data: null, errors: [scopes] });

    expect(await gh.setProjectStatus(input)).toEqual({
      ok: false,
      warning:
        "the token cannot read project acme/3 (GitHub: Resource not accessible by integration): Projects v2 needs a PAT or GitHub App token with project access; GITHUB_TOKEN cannot",
    });
    expect(await gh.setProjectStatus({ ...input, number: 5 })).toEqual({
      ok: false,
      warning: 'project acme/5 has no field named "Status": add a single-select field with that name, or configure the field\'s name',
    });
    expect(await gh.setProjectStatus({ ...input, number: 6, status: "Blocked" })).toEqual({
      ok: false,
      warning: 'field "Status" of project acme/6 has no option "Blocked" (it has: Todo, In Progress): add the option or change the status mapping',
    });
    expect(await gh.setProjectStatus({ ...input, number: 7 })).toMatchObject({ ok: false, warning: expect.stringMatching(/^the token cannot read project acme\/7 \(GitHub: Bad credentials/) });
    expect(await gh.setProjectStatus({ ...input, number: 8 })).toMatchObject({ ok: false, warning: expect.stringMatching(/^no organization or user acme with project number 8/) });
    expect(await gh.setProjectStatus({ ...input, number: 4 })).toMatchObject({ ok: false, warning: expect.stringMatching(/^the token cannot write to project acme\/4 \(GitHub: Your token has not been granted/) });
    expect(scope.isDone()).toBe(true);
  });
});

describe("viewer (the router's own account)", () => {
  it("asks GraphQL viewer (GET /user refuses installation tokens); no database id or a refusal throws E_GITHUB", async () => {
    const { gh } = setup();
    const viewer = (body: GraphQLBody) => /^query Viewer \{/.test(body.query);
    const scope = nock(BASE)
      .post("/graphql", viewer)
      .reply(200, { data: { viewer: { databaseId: 41898282, login: "github-actions[bot]" } } })
      .post("/graphql", viewer)
      .reply(200, { data: { viewer: { databaseId: null, login: "ghost" } } })
      .post("/graphql", viewer)
      .reply(200, { data: null, errors: [{ type: "FORBIDDEN", message: "Resource not accessible by integration" }] });
    expect(await gh.viewer()).toEqual({ id: 41898282, login: "github-actions[bot]" });
    expect(await failure(gh.viewer())).toMatchObject({ code: "E_GITHUB", message: expect.stringMatching(/viewer ghost has no databaseId/) });
    expect(await failure(gh.viewer())).toMatchObject({ code: "E_GITHUB", message: expect.stringMatching(/refused \/graphql Viewer: Resource not accessible by integration/) });
    expect(scope.isDone()).toBe(true);
  });
});

describe("GitHub Enterprise Server", () => {
  it("REST goes under /api/v3 and GraphQL to /api/graphql", async () => {
    const octokit = createOctokit({ token: TOKEN, baseUrl: "https://ghe.example/api/v3/", log: memoryLog(), throttle: { writeMinTimeMs: 0 } });
    const gh = octokitGitHub(octokit, { owner: "acme", repo: "widgets" });
    const scope = nock("https://ghe.example")
      .get(`/api/v3${R}`)
      .reply(200, { default_branch: "main" })
      .post("/api/graphql", op("ReadBranchFile"))
      .reply(200, { data: { repository: { ref: null } } });
    expect(await gh.defaultBranch()).toBe("main");
    expect(await gh.readFile("agent-router/ledger", "ledger.yml")).toBeNull();
    expect(scope.isDone()).toBe(true);
  });
});
