// POST /graphql of the fake GitHub: the branch+file read, createCommitOnBranch compare-and-swap
// (STALE_DATA), createRef, the Projects v2 documents, unknown fields and unsupported operations.
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { graphql, pluck } from "../../fakes/fake-github/call.ts";
import type { FakeGitHub } from "../../fakes/fake-github/index.ts";
import { startFakeGitHub } from "../../fakes/fake-github/index.ts";

let gh: FakeGitHub;
const q = (query: string, variables?: Record<string, unknown>) => graphql(gh.url, query, variables);
const repo = () => gh.state.mustRepo("acme/widgets");
const b64 = (text: string) => Buffer.from(text).toString("base64");

const READ = `query($owner: String!, $repo: String!, $ref: String!, $path: String!) {
  repository(owner: $owner, name: $repo) { ref(qualifiedName: $ref) { target { oid
    ... on Commit { file(path: $path) { object { ... on Blob { text isTruncated isBinary } } } } } } } }`;
const COMMIT = `mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid url } } }`;
const commitInput = (head: string, text: string, headline = "ledger: update") => ({
  input: { branch: { repositoryNameWithOwner: "acme/widgets", branchName: "agent-router/ledger" }, expectedHeadOid: head, message: { headline }, fileChanges: { additions: [{ path: "ledger.yml", contents: b64(text) }] } },
});
const read = (path = "ledger.yml") => q(READ, { owner: "acme", repo: "widgets", ref: "refs/heads/agent-router/ledger", path });

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
beforeEach(async () => {
  gh = await startFakeGitHub({ blobTextLimitBytes: 64 });
});
afterEach(async () => {
  expect(gh.state.schemaProblems).toEqual([]);
  await gh.close();
});
afterAll(() => nock.enableNetConnect());

describe("ledger branch", () => {
  it("reads head and file in one query; a missing file is null, a missing branch a null ref", async () => {
    const commit = gh.state.commit(repo(), "agent-router/ledger", { "ledger.yml": "tasks: []\n" });
    const res = await read();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { repository: { ref: { target: { oid: commit.sha, file: { object: { text: "tasks: []\n", isTruncated: false, isBinary: false } } } } } } });
    expect((await read("other.yml")).body.data.repository.ref.target).toEqual({ oid: commit.sha, file: null });
    const missing = await q(READ, { owner: "acme", repo: "widgets", ref: "refs/heads/nope", path: "ledger.yml" });
    expect(missing.body).toEqual({ data: { repository: { ref: null } } });
  });

  it("cuts a long blob short with isTruncated", async () => {
    gh.state.commit(repo(), "agent-router/ledger", { "ledger.yml": "x".repeat(100) });
    const blob = (await read()).body.data.repository.ref.target.file.object;
    expect(blob).toEqual({ text: "x".repeat(64), isTruncated: true, isBinary: false });
  });

  it("commits only on the expected head: of two commits on one head, one wins and one is STALE_DATA", async () => {
    const base = gh.state.commit(repo(), "agent-router/ledger", { "ledger.yml": "v0\n" });
    const [a, b] = await Promise.all([q(COMMIT, commitInput(base.sha, "a\n")), q(COMMIT, commitInput(base.sha, "b\n"))]);
    type Answer = { data: { createCommitOnBranch: { commit: { oid: string; url: string } } | null }; errors?: unknown[] };
    const answers = [a.body, b.body] as Answer[];
    const won = answers.filter((x) => x.data.createCommitOnBranch !== null);
    const lost = answers.filter((x) => x.data.createCommitOnBranch === null);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(lost[0]!.errors).toEqual([
      { type: "STALE_DATA", path: ["createCommitOnBranch"], locations: [{ line: 1, column: 48 }], message: `Expected branch to point to "${base.sha}" but it did not.  Pull and try again.` },
    ]);
    const head = won[0]!.data.createCommitOnBranch!.commit.oid;
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    expect(won[0]!.data.createCommitOnBranch!.commit.url).toBe(`https://github.com/acme/widgets/commit/${head}`);
    expect(repo().refs.get("refs/heads/agent-router/ledger")).toBe(head);
    expect(repo().commits.get(head)!.parent).toBe(base.sha);
    expect(gh.requests.filter((r) => r.graphqlOperation === "mutation")).toHaveLength(2);
    expect(gh.requests.every((r) => r.mutating === (r.graphqlOperation === "mutation"))).toBe(true);
  });

  it("applies additions and deletions, keeps the other files and takes headline and body as the message", async () => {
    const base = gh.state.commit(repo(), "agent-router/ledger", { "ledger.yml": "v0\n", "old.txt": "x" });
    const input = commitInput(base.sha, "v1\n", "ledger: v1");
    Object.assign(input.input, { message: { headline: "ledger: v1", body: "details" } });
    Object.assign(input.input.fileChanges, { deletions: [{ path: "old.txt" }] });
    const oid = (await q(COMMIT, input)).body.data.createCommitOnBranch.commit.oid;
    const commit = repo().commits.get(oid)!;
    expect(Object.fromEntries(commit.files)).toEqual({ "README.md": "# widgets\n", "ledger.yml": "v1\n" });
    expect(commit.message).toBe("ledger: v1\n\ndetails");
    Object.assign(input.input, { expectedHeadOid: oid });
    const bad = await q(COMMIT, input);
    expect(bad.body.errors[0]).toMatchObject({ type: "UNPROCESSABLE", message: expect.stringContaining("does not exist") });
  });

  it("answers NOT_FOUND for a missing branch or repository", async () => {
    const noBranch = await q(COMMIT, commitInput("a".repeat(40), "x"));
    expect(noBranch.body.errors[0].type).toBe("NOT_FOUND");
    const noRepo = await q(READ, { owner: "acme", repo: "gadgets", ref: "refs/heads/main", path: "x" });
    expect(noRepo.body).toMatchObject({ data: { repository: null }, errors: [{ type: "NOT_FOUND", path: ["repository"] }] });
  });

  it("creates a branch with createRef; a second time is an error", async () => {
    const doc = "mutation($input: CreateRefInput!) { createRef(input: $input) { ref { name target { oid } } } }";
    const repoId = (await q('{ repository(owner: "acme", name: "widgets") { id } }')).body.data.repository.id;
    const input = { input: { repositoryId: repoId, name: "refs/heads/agent-router/ledger", oid: repo().refs.get("refs/heads/main") } };
    expect((await q(doc, input)).body.data.createRef.ref).toEqual({ name: "agent-router/ledger", target: { oid: repo().refs.get("refs/heads/main") } });
    expect((await q(doc, input)).body.errors[0]).toMatchObject({ type: "UNPROCESSABLE", message: expect.stringContaining("already exists") });
  });
});

describe("Projects v2", () => {
  const FIND = (owner: string) => `query($login: String!, $number: Int!) { ${owner}(login: $login) { projectV2(number: $number) { id
    field(name: "Status") { __typename ... on ProjectV2SingleSelectField { id options { id name } } } } } }`;
  const ITEMS = `query($owner: String!, $repo: String!, $number: Int!) { repository(owner: $owner, name: $repo) { issue(number: $number) { id
    projectItems(first: 20) { nodes { id project { id } fieldValueByName(name: "Status") { ... on ProjectV2ItemFieldSingleSelectValue { optionId name } } } } } } }`;
  const ADD = "mutation($projectId: ID!, $contentId: ID!) { addProjectV2ItemById(input: { projectId: $projectId, contentId: $contentId }) { item { id } } }";
  const SET = `mutation($projectId: ID!, $itemId: ID!, $fieldId: ID!, $optionId: String!) { updateProjectV2ItemFieldValue(input: { projectId: $projectId,
    itemId: $itemId, fieldId: $fieldId, value: { singleSelectOptionId: $optionId } }) { projectV2Item { id } } }`;

  it("finds the field, adds the issue once (idempotent), sets the status and reads it back from the issue", async () => {
    const project = gh.state.addProject({ owner: "acme", statuses: ["Todo", "Running", "Done"] });
    const issue = gh.state.addIssue("acme/widgets", { title: "t" });
    const found = (await q(FIND("organization"), { login: "acme", number: 1 })).body.data.organization.projectV2;
    expect(found.id).toBe(project.id);
    expect(found.field.__typename).toBe("ProjectV2SingleSelectField");
    expect(pluck(found.field.options, "name")).toEqual(["Todo", "Running", "Done"]);
    const running = found.field.options[1];

    const itemId = (await q(ADD, { projectId: project.id, contentId: issue.node_id })).body.data.addProjectV2ItemById.item.id;
    expect((await q(ADD, { projectId: project.id, contentId: issue.node_id })).body.data.addProjectV2ItemById.item.id).toBe(itemId);
    await q(SET, { projectId: project.id, itemId, fieldId: found.field.id, optionId: running.id });
    const items = (await q(ITEMS, { owner: "acme", repo: "widgets", number: issue.number })).body.data.repository.issue;
    expect(items).toEqual({ id: issue.node_id, projectItems: { nodes: [{ id: itemId, project: { id: project.id }, fieldValueByName: { optionId: running.id, name: "Running" } }] } });
    expect((await q(SET, { projectId: project.id, itemId, fieldId: found.field.id, optionId: "nope" })).body.errors[0].type).toBe("UNPROCESSABLE");
  });

  it("answers NOT_FOUND at `organization` for a user login, finds user projects, and FORBIDDEN when the token cannot see projects", async () => {
    gh.state.addProject({ owner: "alice", kind: "user" });
    const asOrg = await q(FIND("organization"), { login: "alice", number: 1 });
    expect(asOrg.body).toMatchObject({ data: { organization: null }, errors: [{ type: "NOT_FOUND", path: ["organization"] }] });
    expect((await q(FIND("user"), { login: "alice", number: 1 })).body.data.user.projectV2.field.options).toHaveLength(3);
    expect((await q(FIND("user"), { login: "alice", number: 2 })).body.errors[0]).toMatchObject({ type: "NOT_FOUND", path: ["user", "projectV2"] });
    gh.state.projectsForbidden = true;
    expect((await q(FIND("user"), { login: "alice", number: 1 })).body.errors[0].type).toBe("FORBIDDEN");
  });

  it("resolves node(id:) to an issue with its project items", async () => {
    const issue = gh.state.addIssue("acme/widgets", { title: "t" });
    const doc = "query($id: ID!) { node(id: $id) { ... on Issue { number projectItems(first: 100) { nodes { id } } } } }";
    expect((await q(doc, { id: issue.node_id })).body.data.node).toEqual({ number: issue.number, projectItems: { nodes: [] } });
    expect((await q(doc, { id: "I_nope" })).body.errors[0].type).toBe("NOT_FOUND");
  });
});

describe("viewer", () => {
  it("answers the account every write is made as", async () => {
    const res = await q("query Viewer { viewer { databaseId login } }");
    expect(res.body).toEqual({ data: { viewer: { databaseId: gh.state.viewer.id, login: "agent-router[bot]" } } });
  });
});

describe("what the fake refuses", () => {
  it("answers 400 and records a problem for an unknown field or bad variables", async () => {
    const res = await q('{ repository(owner: "acme", name: "widgets") { idd } }');
    expect(res.status).toBe(400);
    expect(res.body.problems).toEqual(['GraphQL validation: Cannot query field "idd" on type "Repository". Did you mean "id"?']);
    expect((await q(COMMIT, { input: { branch: {} } })).status).toBe(400);
    expect(gh.state.schemaProblems).toHaveLength(3);
    gh.state.schemaProblems.length = 0;
  });

  it("answers a valid document it does not model with a GraphQL error, not a silent null", async () => {
    const res = await q("{ rateLimit { remaining } }");
    expect(res.status).toBe(200);
    expect(res.body.errors[0]).toMatchObject({ type: "FAKE_UNSUPPORTED", message: "fake-github does not implement Query.rateLimit" });
  });
});
