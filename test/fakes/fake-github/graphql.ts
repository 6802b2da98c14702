// POST /graphql for the fake. The document has already passed checkGraphql (GitHub's schema); it is
// then executed against that same schema with the fake's resolvers, so the answer has exactly the
// shape asked for (aliases, fragments, __typename, nulls) and errors carry GitHub's `type` and `path`.
//
// Supported subset (anything else answers a GraphQL error, type FAKE_UNSUPPORTED):
//   query    repository(owner, name) { id databaseId name nameWithOwner url defaultBranchRef
//              ref(qualifiedName) { name prefix target { oid … on Commit { url message file(path) {
//              object { … on Blob { text isTruncated isBinary byteSize oid } } } } } }
//              issue(number) { id number title state projectItems(first) { … } } }
//            organization(login) / user(login) { projectV2(number) { id number title
//              field(name) { … on ProjectV2SingleSelectField { id name options { id name } } } } }
//            node(id) on Repository, Issue, ProjectV2, ProjectV2Item
//            viewer { id databaseId login } (the state's viewer, who makes every write)
//            ProjectV2Item { id project { id } content fieldValueByName(name) { … on
//              ProjectV2ItemFieldSingleSelectValue { optionId name } } }
//   mutation createCommitOnBranch (expectedHeadOid compare-and-swap, STALE_DATA otherwise),
//            createRef, addProjectV2ItemById (idempotent), updateProjectV2ItemFieldValue (singleSelectOptionId).
import type { DocumentNode, GraphQLError, GraphQLFieldResolver } from "graphql";
import { executeSync } from "graphql";
import { githubGraphqlSchema } from "../../support/github-schema.ts";
import type { GraphqlContext } from "./graphql-nodes.ts";
import { commitNode, GitHubGraphqlError, itemNode, nodeById, ownerNode, refNode, repositoryNode } from "./graphql-nodes.ts";
import type { FakeProject, FakeRepository } from "./records.ts";

type Input = Record<string, unknown>;

function repoByName(ctx: GraphqlContext, nameWithOwner: string): FakeRepository {
  const repo = ctx.state.repo(nameWithOwner);
  if (!repo) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a Repository with the name '${nameWithOwner}'.`);
  return repo;
}

function repoById(ctx: GraphqlContext, id: string): FakeRepository {
  const repo = [...ctx.state.repositories.values()].find((r) => r.node_id === id);
  if (!repo) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a node with the global id of '${id}'`);
  return repo;
}

function decodeBase64(text: string, path: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw new GitHubGraphqlError("UNPROCESSABLE", `Invalid Base64 contents for ${path}`);
  return Buffer.from(text, "base64").toString("utf8");
}

function createCommitOnBranch(input: Input, ctx: GraphqlContext) {
  const branch = input.branch as { repositoryNameWithOwner?: string; branchName?: string; id?: string };
  const repo = branch.repositoryNameWithOwner ? repoByName(ctx, branch.repositoryNameWithOwner) : repoById(ctx, String(branch.id));
  const name = `refs/heads/${String(branch.branchName ?? "").replace(/^refs\/heads\//, "")}`;
  const head = repo.refs.get(name);
  if (head === undefined) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a Ref with the name '${name}'.`);
  const expected = String(input.expectedHeadOid);
  if (ctx.takeStale() || head !== expected) throw new GitHubGraphqlError("STALE_DATA", `Expected branch to point to "${expected}" but it did not.  Pull and try again.`);
  const changes = (input.fileChanges ?? {}) as { additions?: { path: string; contents: string }[]; deletions?: { path: string }[] };
  const files = repo.commits.get(head)?.files ?? new Map<string, string>();
  const edits: Record<string, string | null> = {};
  for (const d of changes.deletions ?? []) {
    if (!files.has(d.path)) throw new GitHubGraphqlError("UNPROCESSABLE", `A path was requested for deletion which does not exist as of commit oid \`${head}\``);
    edits[d.path] = null;
  }
  for (const a of changes.additions ?? []) edits[a.path] = decodeBase64(a.contents, a.path);
  const message = input.message as { headline: string; body?: string | null };
  const text = message.body ? `${message.headline}\n\n${message.body}` : message.headline;
  const commit = ctx.state.commit(repo, name.slice("refs/heads/".length), edits, text);
  return { clientMutationId: input.clientMutationId ?? null, commit: commitNode(repo, commit, ctx), ref: refNode(repo, name, ctx) };
}

function createRef(input: Input, ctx: GraphqlContext) {
  const repo = repoById(ctx, String(input.repositoryId));
  const name = String(input.name);
  const oid = String(input.oid);
  if (!/^refs\/[^/]+\/.+/.test(name)) throw new GitHubGraphqlError("UNPROCESSABLE", `Reference name "${name}" must start with refs/ and have at least two slashes.`);
  if (repo.refs.has(name)) throw new GitHubGraphqlError("UNPROCESSABLE", `A ref named "${name}" already exists in the repository.`);
  if (!repo.commits.has(oid)) throw new GitHubGraphqlError("UNPROCESSABLE", `Could not resolve to a commit with the oid ${oid}.`);
  repo.refs.set(name, oid);
  return { clientMutationId: input.clientMutationId ?? null, ref: refNode(repo, name, ctx) };
}

function projectById(ctx: GraphqlContext, id: string): FakeProject {
  if (ctx.state.projectsForbidden) throw new GitHubGraphqlError("FORBIDDEN", "Resource not accessible by integration");
  const project = ctx.state.projects.find((p) => p.id === id);
  if (!project) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a node with the global id of '${id}'`);
  return project;
}

function addProjectV2ItemById(input: Input, ctx: GraphqlContext) {
  const project = projectById(ctx, String(input.projectId));
  const contentId = String(input.contentId);
  if (!ctx.state.findIssueByNodeId(contentId)) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a node with the global id of '${contentId}'`);
  let item = project.items.find((i) => i.contentId === contentId);
  if (!item) {
    item = { id: `PVTI_lA${ctx.state.nextId()}`, contentId, values: new Map() };
    project.items.push(item);
  }
  return { clientMutationId: input.clientMutationId ?? null, item: itemNode(project, item, ctx) };
}

function updateProjectV2ItemFieldValue(input: Input, ctx: GraphqlContext) {
  const project = projectById(ctx, String(input.projectId));
  const item = project.items.find((i) => i.id === input.itemId);
  if (!item) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a node with the global id of '${String(input.itemId)}'`);
  const field = project.fields.find((f) => f.id === input.fieldId);
  if (!field) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a node with the global id of '${String(input.fieldId)}'`);
  const value = (input.value ?? {}) as Record<string, unknown>;
  const given = Object.keys(value).filter((k) => value[k] !== undefined && value[k] !== null);
  if (given.length !== 1) throw new GitHubGraphqlError("UNPROCESSABLE", "Exactly one value must be provided for a field");
  if (given[0] !== "singleSelectOptionId" || field.dataType !== "SINGLE_SELECT") throw new GitHubGraphqlError("FAKE_UNSUPPORTED", `fake-github sets only single-select values, not ${given[0]} on ${field.dataType}`);
  const optionId = String(value.singleSelectOptionId);
  if (!field.options.some((o) => o.id === optionId)) throw new GitHubGraphqlError("UNPROCESSABLE", `The single select option Id does not belong to the field`);
  item.values.set(field.id, optionId);
  return { clientMutationId: input.clientMutationId ?? null, projectV2Item: itemNode(project, item, ctx) };
}

const root = (ctx: GraphqlContext) => ({
  repository: ({ owner, name }: { owner: string; name: string }) => repositoryNode(repoByName(ctx, `${owner}/${name}`), ctx),
  organization: ({ login }: { login: string }) => ownerNode("organization", login, ctx),
  user: ({ login }: { login: string }) => ownerNode("user", login, ctx),
  node: ({ id }: { id: string }) => nodeById(id, ctx),
  viewer: () => ({ __typename: "User", id: ctx.state.viewer.node_id, databaseId: ctx.state.viewer.id, login: ctx.state.viewer.login }),
  createCommitOnBranch: ({ input }: { input: Input }) => createCommitOnBranch(input, ctx),
  createRef: ({ input }: { input: Input }) => createRef(input, ctx),
  addProjectV2ItemById: ({ input }: { input: Input }) => addProjectV2ItemById(input, ctx),
  updateProjectV2ItemFieldValue: ({ input }: { input: Input }) => updateProjectV2ItemFieldValue(input, ctx),
});

/** Only modelled fields resolve; a field the fake lacks is an error, never a silent null. */
const strictResolver: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
  const obj = source as Record<string, unknown> | null;
  if (obj === null || typeof obj !== "object" || !(info.fieldName in obj)) {
    throw new GitHubGraphqlError("FAKE_UNSUPPORTED", `fake-github does not implement ${info.parentType.name}.${info.fieldName}`);
  }
  const value = obj[info.fieldName];
  return typeof value === "function" ? (value as (a: unknown, c: unknown) => unknown)(args, context) : value;
};

export interface GraphqlAnswer {
  data: unknown;
  errors?: Record<string, unknown>[];
}

/** Runs a checked document; errors come out as GitHub shapes them: type, path, locations, message. */
export function runGraphql(document: DocumentNode, variables: Record<string, unknown>, operationName: string | undefined, ctx: GraphqlContext): GraphqlAnswer {
  const result = executeSync({
    schema: githubGraphqlSchema(),
    document,
    rootValue: root(ctx),
    contextValue: ctx,
    variableValues: variables,
    ...(operationName === undefined ? {} : { operationName }),
    fieldResolver: strictResolver,
  });
  const errors = result.errors?.map((e: GraphQLError) => {
    const type = e.originalError instanceof GitHubGraphqlError ? e.originalError.type : undefined;
    return { ...(type ? { type } : {}), path: e.path, locations: e.locations, message: e.message };
  });
  return { data: result.data ?? null, ...(errors?.length ? { errors } : {}) };
}
