// REST handlers for the repository, pull requests, collaborator permission, git refs, file
// contents and workflow dispatch. Status codes follow GitHub: 404 for an unknown collaborator or
// ref, 422 `Reference already exists`, 204 (or 200 with run details) for a dispatch.
import { blobSha } from "./git.ts";
import type { RestContext, RestHandler } from "./rest-router.ts";
import { notFound, num, paginate, unprocessable } from "./rest-router.ts";
import { permissionJson, pullJson, refJson, repoJson } from "./rest-shapes.ts";
import type { FakePull } from "./records.ts";

/** A branch name from `head` ("owner:branch" or "branch"), or undefined when it names another owner. */
function ownBranch(ctx: RestContext, head: string): string | undefined {
  const colon = head.indexOf(":");
  if (colon < 0) return head;
  return head.slice(0, colon).toLowerCase() === ctx.repo.owner.login.toLowerCase() ? head.slice(colon + 1) : undefined;
}

const hasBranch = (ctx: RestContext, branch: string) => ctx.repo.refs.has(`refs/heads/${branch}`);

function pullOrder(ctx: RestContext): (a: FakePull, b: FakePull) => number {
  const sort = ctx.query.get("sort") ?? "created";
  const direction = ctx.query.get("direction") ?? (sort === "created" ? "desc" : "asc");
  const key = (p: FakePull) => (sort === "updated" ? Date.parse(p.updated_at) : Date.parse(p.created_at) * 1000 + p.number);
  return (a, b) => (direction === "desc" ? key(b) - key(a) : key(a) - key(b));
}

/** The commit a `ref` query names: a branch, a tag or a sha; the default branch when absent. */
function commitFor(ctx: RestContext, ref: string | null) {
  const name = ref ?? ctx.repo.default_branch;
  const sha = ctx.repo.refs.get(`refs/heads/${name}`) ?? ctx.repo.refs.get(`refs/tags/${name}`) ?? ctx.repo.refs.get(name) ?? name;
  return ctx.repo.commits.get(sha);
}

export const repoRoutes: Record<string, RestHandler> = {
  "GET /repos/{owner}/{repo}": (ctx) => ({ status: 200, body: repoJson(ctx.repo, ctx.urls) }),

  "GET /repos/{owner}/{repo}/pulls": (ctx) => {
    const state = ctx.query.get("state") ?? "open";
    // GitHub filters by head only in the `owner:branch` form; a bare branch name is ignored.
    const head = ctx.query.get("head");
    const headBranch = head?.includes(":") ? ownBranch(ctx, head) : undefined;
    const base = ctx.query.get("base");
    const pulls = [...ctx.repo.pulls.values()]
      .filter((p) => state === "all" || p.state === state)
      .filter((p) => !head?.includes(":") || p.head === headBranch)
      .filter((p) => base === null || p.base === base)
      .sort(pullOrder(ctx));
    return paginate(ctx, pulls.map((p) => pullJson(p, ctx.repo, ctx.urls)));
  },

  "POST /repos/{owner}/{repo}/pulls": (ctx) => {
    const head = ownBranch(ctx, String(ctx.body.head));
    const base = String(ctx.body.base);
    const invalid = (field: string) => unprocessable("Validation Failed", [{ resource: "PullRequest", field, code: "invalid" }]);
    if (typeof ctx.body.title !== "string") return unprocessable("Validation Failed", [{ resource: "PullRequest", code: "missing_field", field: "title" }]);
    if (head === undefined || !hasBranch(ctx, head)) return invalid("head");
    if (!hasBranch(ctx, base)) return invalid("base");
    if (head === base) return unprocessable("Validation Failed", [{ resource: "PullRequest", code: "custom", message: `No commits between ${base} and ${head}` }]);
    if ([...ctx.repo.pulls.values()].some((p) => p.state === "open" && p.head === head && p.base === base)) {
      return unprocessable("Validation Failed", [{ resource: "PullRequest", code: "custom", message: `A pull request already exists for ${ctx.repo.owner.login}:${head}.` }]);
    }
    const body = typeof ctx.body.body === "string" ? ctx.body.body : null;
    const issue = ctx.state.createIssue(ctx.repo, { title: ctx.body.title, body, user: ctx.state.viewer });
    issue.pull_request = true;
    const pull: FakePull = {
      number: issue.number,
      id: ctx.state.nextId(),
      node_id: `PR_kw${issue.id}`,
      head,
      base,
      title: ctx.body.title,
      body,
      draft: ctx.body.draft === true,
      state: "open",
      merged: false,
      merged_at: null,
      user: ctx.state.viewer,
      created_at: issue.created_at,
      updated_at: issue.updated_at,
      closed_at: null,
    };
    ctx.repo.pulls.set(pull.number, pull);
    return { status: 201, body: pullJson(pull, ctx.repo, ctx.urls, true) };
  },

  "PATCH /repos/{owner}/{repo}/pulls/{pull_number}": (ctx) => {
    const pull = ctx.repo.pulls.get(num(ctx.params.pull_number));
    const issue = ctx.repo.issues.get(num(ctx.params.pull_number));
    if (!pull || !issue) return notFound();
    if (typeof ctx.body.base === "string" && !hasBranch(ctx, ctx.body.base)) return unprocessable("Validation Failed", [{ resource: "PullRequest", field: "base", code: "invalid" }]);
    if (typeof ctx.body.title === "string") pull.title = issue.title = ctx.body.title;
    if (typeof ctx.body.body === "string") pull.body = issue.body = ctx.body.body;
    if (typeof ctx.body.base === "string") pull.base = ctx.body.base;
    const at = ctx.state.now();
    if ((ctx.body.state === "closed" || ctx.body.state === "open") && ctx.body.state !== pull.state && !pull.merged) {
      pull.state = issue.state = ctx.body.state;
      pull.closed_at = issue.closed_at = ctx.body.state === "closed" ? at : null;
    }
    pull.updated_at = issue.updated_at = at;
    return { status: 200, body: pullJson(pull, ctx.repo, ctx.urls, true) };
  },

  "GET /repos/{owner}/{repo}/collaborators/{username}/permission": (ctx) => {
    const login = ctx.params.username ?? "";
    const permission = ctx.repo.permissions.get(login.toLowerCase());
    if (permission === undefined) return notFound();
    return { status: 200, body: permissionJson(permission, ctx.state.user(login), ctx.urls) };
  },

  "GET /repos/{owner}/{repo}/git/ref/{ref}": (ctx) => {
    const ref = `refs/${ctx.params.ref ?? ""}`;
    const sha = ctx.repo.refs.get(ref);
    return sha === undefined ? notFound() : { status: 200, body: refJson(ctx.repo, ref, sha, ctx.urls) };
  },

  "POST /repos/{owner}/{repo}/git/refs": (ctx) => {
    const ref = String(ctx.body.ref);
    const sha = String(ctx.body.sha);
    if (!/^refs\/[^/]+\/.+/.test(ref) || ref.endsWith("/") || ref.includes("..")) return unprocessable("Reference name is invalid");
    if (ctx.repo.refs.has(ref)) return unprocessable("Reference already exists");
    if (!ctx.repo.commits.has(sha)) return unprocessable("Object does not exist");
    ctx.repo.refs.set(ref, sha);
    return { status: 201, body: refJson(ctx.repo, ref, sha, ctx.urls) };
  },

  // Not paginated on GitHub (per_page is ignored and every match comes back at once).
  "GET /repos/{owner}/{repo}/git/matching-refs/{ref}": (ctx) => {
    const prefix = `refs/${ctx.params.ref ?? ""}`;
    const refs = [...ctx.repo.refs.entries()].filter(([name]) => name.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { status: 200, body: refs.map(([name, sha]) => refJson(ctx.repo, name, sha, ctx.urls)) };
  },

  "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches": (ctx) => {
    const workflow = ctx.params.workflow_id ?? "";
    if (!ctx.repo.workflows.has(workflow)) return notFound();
    const ref = String(ctx.body.ref).replace(/^refs\/heads\//, "");
    if (!hasBranch(ctx, ref) && !ctx.repo.refs.has(`refs/tags/${ref}`)) return unprocessable(`No ref found for: ${String(ctx.body.ref)}`);
    const runId = ctx.state.nextId() * 1000;
    ctx.repo.dispatches.push({ workflow_id: workflow, ref, inputs: (ctx.body.inputs as Record<string, unknown> | undefined) ?? {}, run_id: runId });
    if (ctx.body.return_run_details !== true) return { status: 204 };
    const runUrl = `${ctx.urls.api}/repos/${ctx.repo.owner.login}/${ctx.repo.name}/actions/runs/${runId}`;
    return { status: 200, body: { workflow_run_id: runId, run_url: runUrl, html_url: `${ctx.urls.web}/${ctx.repo.owner.login}/${ctx.repo.name}/actions/runs/${runId}` } };
  },

  "GET /repos/{owner}/{repo}/contents/{path}": (ctx) => {
    const commit = commitFor(ctx, ctx.query.get("ref"));
    const path = ctx.params.path ?? "";
    const text = commit?.files.get(path);
    if (commit === undefined || text === undefined) return notFound();
    if (/raw/.test(String(ctx.headers.accept ?? ""))) return { status: 200, raw: text };
    const content = Buffer.from(text, "utf8").toString("base64").replace(/.{60}/g, "$&\n");
    const api = `${ctx.urls.api}/repos/${ctx.repo.owner.login}/${ctx.repo.name}`;
    const sha = blobSha(text);
    const html = `${ctx.urls.web}/${ctx.repo.owner.login}/${ctx.repo.name}/blob/${commit.sha}/${path}`;
    return {
      status: 200,
      body: {
        type: "file",
        encoding: "base64",
        size: Buffer.byteLength(text),
        name: path.split("/").pop(),
        path,
        content,
        sha,
        url: `${api}/contents/${path}?ref=${commit.sha}`,
        git_url: `${api}/git/blobs/${sha}`,
        html_url: html,
        download_url: null,
        _links: { self: `${api}/contents/${path}`, git: `${api}/git/blobs/${sha}`, html },
      },
    };
  },
};
