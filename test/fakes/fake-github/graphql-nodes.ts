// GraphQL objects of the fake, as plain values and argument-taking functions that graphql-js's
// resolver calls. Only the fields listed here exist; asking for any other one is an error
// ("fake-github does not implement …"), never a silent null.
import { blobSha } from "./git.ts";
import type { FakeCommit, FakeIssue, FakeProject, FakeProjectField, FakeProjectItem, FakeRepository } from "./records.ts";
import type { FakeGitHubState } from "./state.ts";

/** A GraphQL error as GitHub words it: `type` (NOT_FOUND, STALE_DATA, FORBIDDEN, UNPROCESSABLE, …) and message. */
export class GitHubGraphqlError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface GraphqlContext {
  state: FakeGitHubState;
  web: string;
  takeStale: () => boolean;
}

type Obj = Record<string, unknown>;

const full = (repo: FakeRepository) => `${repo.owner.login}/${repo.name}`;

function connection(nodes: Obj[], first: unknown): Obj {
  const page = typeof first === "number" ? nodes.slice(0, first) : nodes;
  return {
    nodes: page,
    edges: page.map((node, i) => ({ node, cursor: Buffer.from(`cursor:${i + 1}`).toString("base64") })),
    totalCount: nodes.length,
    pageInfo: { hasNextPage: page.length < nodes.length, hasPreviousPage: false, startCursor: null, endCursor: null },
  };
}

function blobNode(text: string, ctx: GraphqlContext): Obj {
  const bytes = Buffer.from(text, "utf8");
  const binary = bytes.includes(0);
  const truncated = !binary && bytes.length > ctx.state.blobTextLimitBytes;
  const oid = blobSha(text);
  return {
    __typename: "Blob",
    id: `B_${oid}`,
    oid,
    abbreviatedOid: oid.slice(0, 7),
    byteSize: bytes.length,
    isBinary: binary,
    isTruncated: truncated,
    text: binary ? null : truncated ? bytes.subarray(0, ctx.state.blobTextLimitBytes).toString("utf8") : text,
  };
}

export function commitNode(repo: FakeRepository, commit: FakeCommit, ctx: GraphqlContext): Obj {
  const [headline = "", ...rest] = commit.message.split("\n");
  return {
    __typename: "Commit",
    id: `C_${commit.sha}`,
    oid: commit.sha,
    abbreviatedOid: commit.sha.slice(0, 7),
    url: `${ctx.web}/${full(repo)}/commit/${commit.sha}`,
    message: commit.message,
    messageHeadline: headline,
    messageBody: rest.join("\n").trim(),
    committedDate: commit.date,
    file: ({ path }: { path: string }) => treeEntry(commit, path.replace(/\/+$/, ""), ctx),
  };
}

/** The entry at `path` in the commit's tree: a blob, or a tree when files lie under it; null when neither. */
function treeEntry(commit: FakeCommit, path: string, ctx: GraphqlContext): Obj | null {
  const name = path.split("/").pop();
  const text = commit.files.get(path);
  if (text !== undefined) return { name, path, type: "blob", mode: 33188, oid: blobSha(text), size: Buffer.byteLength(text), isGenerated: false, object: blobNode(text, ctx) };
  const prefix = `${path}/`;
  const under = [...commit.files.keys()].filter((p) => p.startsWith(prefix));
  if (under.length === 0) return null;
  const children = [...new Set(under.map((p) => p.slice(prefix.length).split("/")[0]!))].sort();
  const oid = blobSha(`tree:${under.map((p) => `${p}\0${commit.files.get(p)!}`).join("\n")}`);
  return {
    name,
    path,
    type: "tree",
    mode: 16384,
    oid,
    size: 0,
    isGenerated: false,
    object: { __typename: "Tree", id: `T_${oid}`, oid, abbreviatedOid: oid.slice(0, 7), entries: () => children.map((c) => treeEntry(commit, `${prefix}${c}`, ctx)) },
  };
}

export function refNode(repo: FakeRepository, name: string, ctx: GraphqlContext): Obj | null {
  const sha = repo.refs.get(name);
  const commit = sha === undefined ? undefined : repo.commits.get(sha);
  if (!commit) return null;
  const prefix = name.match(/^refs\/[^/]+\//)?.[0] ?? "";
  return {
    __typename: "Ref",
    id: `REF_${Buffer.from(`${repo.id}:${name}`).toString("base64url")}`,
    name: name.slice(prefix.length),
    prefix,
    target: commitNode(repo, commit, ctx),
    repository: () => repositoryNode(repo, ctx),
  };
}

/** A qualified name, or a short one resolved as a branch, then a tag (as GitHub does). */
function qualify(repo: FakeRepository, name: string): string {
  if (name.startsWith("refs/")) return name;
  return [`refs/heads/${name}`, `refs/tags/${name}`].find((n) => repo.refs.has(n)) ?? `refs/heads/${name}`;
}

export function repositoryNode(repo: FakeRepository, ctx: GraphqlContext): Obj {
  return {
    __typename: "Repository",
    id: repo.node_id,
    databaseId: repo.id,
    name: repo.name,
    nameWithOwner: full(repo),
    url: `${ctx.web}/${full(repo)}`,
    defaultBranchRef: () => refNode(repo, `refs/heads/${repo.default_branch}`, ctx),
    ref: ({ qualifiedName }: { qualifiedName: string }) => refNode(repo, qualify(repo, qualifiedName), ctx),
    issue: ({ number }: { number: number }) => {
      const issue = repo.issues.get(number);
      if (!issue || issue.deleted || issue.pull_request) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to an Issue with the number of ${number}.`);
      return issueNode(repo, issue, ctx);
    },
  };
}

export function issueNode(repo: FakeRepository, issue: FakeIssue, ctx: GraphqlContext): Obj {
  return {
    __typename: issue.pull_request ? "PullRequest" : "Issue",
    id: issue.node_id,
    databaseId: issue.id,
    number: issue.number,
    title: issue.title,
    state: issue.state === "open" ? "OPEN" : "CLOSED",
    url: `${ctx.web}/${full(repo)}/${issue.pull_request ? "pull" : "issues"}/${issue.number}`,
    repository: () => repositoryNode(repo, ctx),
    projectItems: ({ first }: { first?: number }) => {
      const items = ctx.state.projects.flatMap((p) => p.items.filter((i) => i.contentId === issue.node_id).map((i) => itemNode(p, i, ctx)));
      return connection(items, first);
    },
  };
}

function fieldNode(field: FakeProjectField): Obj {
  if (field.dataType !== "SINGLE_SELECT") return { __typename: "ProjectV2Field", id: field.id, name: field.name, dataType: field.dataType };
  return {
    __typename: "ProjectV2SingleSelectField",
    id: field.id,
    name: field.name,
    dataType: field.dataType,
    options: ({ names }: { names?: string[] | null }) =>
      field.options
        .filter((o) => !names || names.includes(o.name))
        .map((o) => ({ id: o.id, name: o.name, nameHTML: o.name, color: "GRAY", description: "", descriptionHTML: "" })),
  };
}

export function projectNode(project: FakeProject, ctx: GraphqlContext): Obj {
  return {
    __typename: "ProjectV2",
    id: project.id,
    number: project.number,
    title: project.title,
    closed: false,
    field: ({ name }: { name: string }) => {
      const field = project.fields.find((f) => f.name === name);
      return field ? fieldNode(field) : null;
    },
    items: ({ first }: { first?: number }) => connection(project.items.map((i) => itemNode(project, i, ctx)), first),
  };
}

export function itemNode(project: FakeProject, item: FakeProjectItem, ctx: GraphqlContext): Obj {
  return {
    __typename: "ProjectV2Item",
    id: item.id,
    type: "ISSUE",
    isArchived: false,
    project: () => projectNode(project, ctx),
    content: () => {
      const found = ctx.state.findIssueByNodeId(item.contentId);
      return found ? issueNode(found.repo, found.issue, ctx) : null;
    },
    fieldValueByName: ({ name }: { name: string }) => {
      const field = project.fields.find((f) => f.name === name);
      const optionId = field ? item.values.get(field.id) : undefined;
      const option = field?.options.find((o) => o.id === optionId);
      if (!field || !option) return null;
      return { __typename: "ProjectV2ItemFieldSingleSelectValue", id: `PVTFSV_${item.id}_${field.id}`, optionId: option.id, name: option.name, field: fieldNode(field) };
    },
  };
}

/** `organization(login:)` / `user(login:)`: NOT_FOUND unless the login is an account of that kind. */
export function ownerNode(kind: "organization" | "user", login: string, ctx: GraphqlContext): Obj {
  const account = ctx.state.users.get(login.toLowerCase());
  const wanted = kind === "organization" ? "Organization" : "User";
  if (!account || account.type !== wanted) {
    throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to ${kind === "organization" ? "an Organization" : "a User"} with the login of '${login}'.`);
  }
  return {
    __typename: wanted,
    id: account.node_id,
    login: account.login,
    projectV2: ({ number }: { number: number }) => {
      if (ctx.state.projectsForbidden) throw new GitHubGraphqlError("FORBIDDEN", "Resource not accessible by integration");
      const project = ctx.state.projects.find((p) => p.owner.kind === kind && p.owner.login.toLowerCase() === login.toLowerCase() && p.number === number);
      if (!project) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a ProjectV2 with the number ${number}.`);
      return projectNode(project, ctx);
    },
  };
}

/** `node(id:)` for the objects the fake knows: repositories, issues, projects and project items. */
export function nodeById(id: string, ctx: GraphqlContext): Obj {
  for (const repo of ctx.state.repositories.values()) if (repo.node_id === id) return repositoryNode(repo, ctx);
  const issue = ctx.state.findIssueByNodeId(id);
  if (issue) return issueNode(issue.repo, issue.issue, ctx);
  for (const project of ctx.state.projects) {
    if (project.id === id) return projectNode(project, ctx);
    const item = project.items.find((i) => i.id === id);
    if (item) return itemNode(project, item, ctx);
  }
  throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a node with the global id of '${id}'`);
}
