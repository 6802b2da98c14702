// The schema checkers the fake GitHub (and adapter tests) rely on: REST requests against the
// extracted OpenAPI operations, GraphQL documents and variables against @octokit/graphql-schema.
import { describe, expect, it } from "vitest";
import { checkGraphql, checkRestRequest, checkRestResponse, matchRestOperation, restOperations } from "../../support/github-schema.ts";

describe("checkRestRequest", () => {
  it.each([
    ["GET", "/repos/o/r", undefined],
    ["GET", "/repos/o/r/issues/3/comments?per_page=100&page=2&since=2026-01-01T00:00:00Z", undefined],
    ["POST", "/repos/o/r/issues/3/comments", { body: "hello" }],
    ["PATCH", "/repos/o/r/issues/3", { state: "closed", state_reason: "not_planned" }],
    ["PATCH", "/repos/o/r/issues/3", { body: null }],
    ["POST", "/repos/o/r/issues", { title: "t", body: "b", labels: ["agent:ready"] }],
    ["POST", "/repos/o/r/issues/3/labels", { labels: ["a", { name: "b" }] }],
    ["DELETE", "/repos/o/r/issues/3/labels/agent%3Aready", undefined],
    ["POST", "/repos/o/r/labels", { name: "x", color: "ff0000", description: "d" }],
    ["POST", "/repos/o/r/issues/comments/12/reactions", { content: "eyes" }],
    ["POST", "/repos/o/r/issues/3/sub_issues", { sub_issue_id: 1234 }],
    ["GET", "/repos/o/r/pulls?head=o:feature&state=all&sort=created&direction=desc&per_page=100", undefined],
    ["POST", "/repos/o/r/pulls", { head: "f", base: "main", title: "t", body: "b", draft: true }],
    ["GET", "/repos/o/r/git/ref/heads/agent-router/task-1", undefined],
    ["POST", "/repos/o/r/git/refs", { ref: "refs/heads/x", sha: "a".repeat(40) }],
    ["GET", "/repos/o/r/git/matching-refs/heads/agent-router/", undefined],
    ["POST", "/repos/o/r/actions/workflows/agent-router.yml/dispatches", { ref: "main", inputs: { task: "1" }, return_run_details: true }],
    ["GET", "/repos/o/r/contents/dir/ledger.yml?ref=main", undefined],
  ])("accepts %s %s", (method, path, body) => {
    expect(checkRestRequest({ method, path, body })).toEqual([]);
  });

  it("names an unknown endpoint, method or query parameter", () => {
    expect(checkRestRequest({ method: "GET", path: "/repos/o/r/issuez/3" })).toEqual(["unknown endpoint: GET /repos/o/r/issuez/3"]);
    expect(checkRestRequest({ method: "PUT", path: "/repos/o/r/issues/3/labels" })).toEqual(["unknown endpoint: PUT /repos/o/r/issues/3/labels"]);
    expect(checkRestRequest({ method: "GET", path: "/repos/o/r/issues/3/comments?per_pag=100" })).toEqual([
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments: unknown query parameter per_pag",
    ]);
  });

  it("checks parameter types and enums", () => {
    expect(checkRestRequest({ method: "GET", path: "/repos/o/r/issues/x/comments?per_page=many" })).toEqual([
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments: path parameter issue_number must be integer",
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments: query parameter per_page must be integer",
    ]);
    expect(checkRestRequest({ method: "GET", path: "/repos/o/r/pulls?state=merged" })[0]).toMatch(/query parameter state must be equal to one of the allowed values/);
  });

  it("matching-refs is not paginated: per_page is not one of its parameters", () => {
    expect(checkRestRequest({ method: "GET", path: "/repos/o/r/git/matching-refs/heads/x?per_page=100" })).toEqual([
      "GET /repos/{owner}/{repo}/git/matching-refs/{ref}: unknown query parameter per_page",
    ]);
  });

  it("finds a body of the wrong type, a missing required field, an unknown field and a body where none belongs", () => {
    expect(checkRestRequest({ method: "POST", path: "/repos/o/r/issues/3/comments", body: { body: 42 } })).toEqual([
      "POST /repos/{owner}/{repo}/issues/{issue_number}/comments: body/body must be string",
    ]);
    expect(checkRestRequest({ method: "POST", path: "/repos/o/r/issues/3/sub_issues", body: { replace_parent: true } })).toEqual([
      "POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues: body must have required property 'sub_issue_id'",
    ]);
    expect(checkRestRequest({ method: "POST", path: "/repos/o/r/issues/3/sub_issues", body: { sub_issue: 5 } })).toContain(
      "POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues: body must NOT have additional properties (sub_issue)",
    );
    expect(checkRestRequest({ method: "POST", path: "/repos/o/r/issues/3/reactions", body: { content: "smile" } })[0]).toMatch(/body\/content must be equal to one of the allowed values/);
    expect(checkRestRequest({ method: "POST", path: "/repos/o/r/issues/3/comments" })).toEqual(["POST /repos/{owner}/{repo}/issues/{issue_number}/comments: missing request body"]);
    expect(checkRestRequest({ method: "GET", path: "/repos/o/r", body: { x: 1 } })).toEqual(["GET /repos/{owner}/{repo}: takes no request body"]);
  });

  it("prefers the template with more literal segments and decodes parameters", () => {
    expect(matchRestOperation("GET", "/repos/o/r/issues/comments/12")?.operation.operationId).toBe("issues/get-comment");
    expect(matchRestOperation("GET", "/repos/o/r/issues/12")?.operation.operationId).toBe("issues/get");
    expect(matchRestOperation("DELETE", "/repos/o/r/issues/3/labels/a%20b")?.params.name).toBe("a b");
    expect(matchRestOperation("GET", "/repos/o/r/git/ref/heads/a/b")?.params.ref).toBe("heads/a/b");
  });

  it("reads the fixture: every operation has an id, its parameters and documented statuses", () => {
    const ops = restOperations();
    expect(ops.length).toBeGreaterThanOrEqual(24);
    for (const op of ops) {
      expect(op.operationId).toMatch(/^[a-z-]+\/[a-z-]+$/);
      expect(op.responses.length).toBeGreaterThan(0);
      expect(JSON.stringify(op)).not.toContain("$ref");
    }
  });
});

describe("checkRestResponse", () => {
  it("checks the types of the fields present and the documented statuses", () => {
    expect(checkRestResponse({ method: "GET", path: "/repos/o/r/issues/1", status: 200, body: { number: 1, title: "t", labels: [{ name: "x" }] } })).toEqual([]);
    expect(checkRestResponse({ method: "GET", path: "/repos/o/r/issues/1", status: 200, body: { number: "1" } })).toEqual([
      "GET /repos/{owner}/{repo}/issues/{issue_number} 200 answer/number must be integer",
    ]);
    expect(checkRestResponse({ method: "POST", path: "/repos/o/r/labels", status: 200, body: {} })[0]).toMatch(/does not document status 200/);
  });
});

// The documents of github-apis.md §4 and §5.
const FIND_PROJECT = `query($login: String!, $number: Int!) { organization(login: $login) { projectV2(number: $number) { id
  field(name: "Status") { ... on ProjectV2SingleSelectField { id options { id name } } } } } }`;
const ISSUE_ITEMS = `query($owner: String!, $repo: String!, $number: Int!) { repository(owner: $owner, name: $repo) { issue(number: $number) { id
  projectItems(first: 20) { nodes { id project { id } fieldValueByName(name: "Status") { ... on ProjectV2ItemFieldSingleSelectValue { optionId name } } } } } } }`;
const ADD_ITEM = "mutation($projectId: ID!, $contentId: ID!) { addProjectV2ItemById(input: { projectId: $projectId, contentId: $contentId }) { item { id } } }";
const SET_STATUS = `mutation($projectId: ID!, $itemId: ID!, $fieldId: ID!, $optionId: String!) { updateProjectV2ItemFieldValue(input: { projectId: $projectId,
  itemId: $itemId, fieldId: $fieldId, value: { singleSelectOptionId: $optionId } }) { projectV2Item { id } } }`;
const COMMIT = `mutation($repo: String!, $branch: String!, $head: GitObjectID!, $headline: String!, $path: String!, $b64: Base64String!) {
  createCommitOnBranch(input: { branch: { repositoryNameWithOwner: $repo, branchName: $branch }, expectedHeadOid: $head,
  message: { headline: $headline }, fileChanges: { additions: [{ path: $path, contents: $b64 }] } }) { commit { oid url } } }`;
const READ = `query { repository(owner: "o", name: "r") { ref(qualifiedName: "refs/heads/ledger") { target { oid
  ... on Commit { file(path: "ledger.yml") { object { ... on Blob { text isTruncated } } } } } } } }`;

describe("checkGraphql", () => {
  it("accepts the documents of the reference with their variables", () => {
    expect(checkGraphql(FIND_PROJECT, { login: "acme", number: 1 })).toEqual([]);
    expect(checkGraphql(FIND_PROJECT.replace("organization(", "user("), { login: "alice", number: 1 })).toEqual([]);
    expect(checkGraphql(ISSUE_ITEMS, { owner: "o", repo: "r", number: 3 })).toEqual([]);
    expect(checkGraphql(ADD_ITEM, { projectId: "P", contentId: "I" })).toEqual([]);
    expect(checkGraphql(SET_STATUS, { projectId: "P", itemId: "I", fieldId: "F", optionId: "o" })).toEqual([]);
    expect(checkGraphql(COMMIT, { repo: "o/r", branch: "ledger", head: "a".repeat(40), headline: "h", path: "ledger.yml", b64: "eA==" })).toEqual([]);
    expect(checkGraphql(READ)).toEqual([]);
  });

  it("an option id is a String, not an ID", () => {
    expect(checkGraphql(SET_STATUS.replace("$optionId: String!", "$optionId: ID!"), { projectId: "P", itemId: "I", fieldId: "F", optionId: "o" })[0]).toMatch(
      /Variable "\$optionId" of type "ID!" used in position expecting type "String"/,
    );
  });

  it("reports syntax errors, unknown fields and arguments", () => {
    expect(checkGraphql("query { repository(owner: ")[0]).toMatch(/^GraphQL syntax: Syntax Error/);
    expect(checkGraphql('query { repository(owner: "o", name: "r") { idd } }')).toEqual([
      'GraphQL validation: Cannot query field "idd" on type "Repository". Did you mean "id"?',
    ]);
    expect(checkGraphql('query { repository(owner: "o", nam: "r") { id } }').join("\n")).toMatch(/Unknown argument "nam"/);
  });

  it("coerces variables against the operation's definitions", () => {
    const doc = "query($owner: String!, $number: Int!) { repository(owner: $owner, name: \"r\") { issue(number: $number) { id } } }";
    expect(checkGraphql(doc, { owner: "o", number: 3 })).toEqual([]);
    expect(checkGraphql(doc, { owner: "o", number: "three" })[0]).toMatch(/Variable "\$number" got invalid value "three"; Int cannot represent non-integer value/);
    expect(checkGraphql(doc, { number: 3 })[0]).toMatch(/Variable "\$owner" of required type "String!" was not provided/);
    expect(checkGraphql(doc, { owner: "o", number: 3, extra: 1 })).toEqual(["GraphQL variables: $extra is not defined by the operation"]);
  });

  it("checks nested input objects (createCommitOnBranch's required expectedHeadOid)", () => {
    const doc = "mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }";
    const input = { branch: { repositoryNameWithOwner: "o/r", branchName: "ledger" }, message: { headline: "h" }, fileChanges: {} };
    expect(checkGraphql(doc, { input: { ...input, expectedHeadOid: "a".repeat(40) } })).toEqual([]);
    expect(checkGraphql(doc, { input })[0]).toMatch(/Field "expectedHeadOid" of required type "GitObjectID!" was not provided/);
  });
});
