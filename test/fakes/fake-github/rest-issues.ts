// REST handlers for issues, comments, reactions, labels and sub-issues, with GitHub's status codes:
// 201 on create, 200/201 for an existing/new reaction, 404 removing a label the issue lacks, 422 for
// a label that exists, 410 for a deleted issue, 422 beyond 100 sub-issues.
import type { RestContext, RestHandler } from "./rest-router.ts";
import { gone, notFound, num, paginate, unprocessable } from "./rest-router.ts";
import { commentJson, issueJson, labelJson, reactionJson, userJson } from "./rest-shapes.ts";
import type { FakeIssue, FakeReaction } from "./records.ts";

const MAX_SUB_ISSUES = 100;
const MAX_COMMENT = 65_536;

type Found = { issue: FakeIssue } | { answer: ReturnType<RestHandler> };

function findIssue(ctx: RestContext, number = num(ctx.params.issue_number)): Found {
  const issue = ctx.repo.issues.get(number);
  if (!issue) return { answer: notFound() };
  if (issue.deleted) return { answer: gone("This issue was deleted") };
  return { issue };
}

const labelNames = (labels: unknown): string[] =>
  (Array.isArray(labels) ? labels : []).map((l) => (typeof l === "string" ? l : ((l as { name?: string }).name ?? ""))).filter((l) => l !== "");

function issueLabels(ctx: RestContext, issue: FakeIssue) {
  return issue.labels.map((name) => ctx.repo.labels.get(name.toLowerCase())).filter((l) => l !== undefined).map((l) => labelJson(l, ctx.repo, ctx.urls));
}

function setState(ctx: RestContext, issue: FakeIssue, state: unknown, reason: unknown): void {
  if (state === "closed" && issue.state === "open") {
    issue.state = "closed";
    issue.closed_at = ctx.state.now();
    issue.state_reason = (reason as FakeIssue["state_reason"]) ?? "completed";
  } else if (state === "open" && issue.state === "closed") {
    issue.state = "open";
    issue.closed_at = null;
    issue.state_reason = "reopened";
  } else if (state === "closed" && reason !== undefined) {
    issue.state_reason = reason as FakeIssue["state_reason"];
  }
}

function react(ctx: RestContext, on: FakeReaction["on"]) {
  const content = String(ctx.body.content);
  const viewer = ctx.state.viewer;
  const same = (r: FakeReaction) => r.content === content && r.user.id === viewer.id && JSON.stringify(r.on) === JSON.stringify(on);
  const existing = ctx.repo.reactions.find(same);
  if (existing) return { status: 200, body: reactionJson(existing, ctx.urls) };
  const id = ctx.state.nextId();
  const reaction: FakeReaction = { id, node_id: `REA_kw${id}`, content, user: viewer, created_at: ctx.state.now(), on };
  ctx.repo.reactions.push(reaction);
  return { status: 201, body: reactionJson(reaction, ctx.urls) };
}

function labelEventJson(e: FakeIssue["labelEvents"][number], issue: FakeIssue, ctx: RestContext) {
  const label = ctx.repo.labels.get(e.label.toLowerCase());
  return {
    id: e.id,
    node_id: `LE_lADO${e.id}`,
    url: `${ctx.urls.api}/repos/${ctx.repo.owner.login}/${ctx.repo.name}/issues/events/${e.id}`,
    actor: userJson(e.actor, ctx.urls),
    event: e.event,
    commit_id: null,
    commit_url: null,
    created_at: e.created_at,
    performed_via_github_app: null,
    label: { name: e.label, color: label?.color ?? "ededed" },
  };
}

/** GitHub links issues of any repository of the same owner; the fake links issues of one repository. */
function findSubIssue(ctx: RestContext, id: number): FakeIssue | undefined {
  for (const issue of ctx.repo.issues.values()) if (issue.id === id && !issue.deleted) return issue;
  return undefined;
}

export const issueRoutes: Record<string, RestHandler> = {
  "GET /repos/{owner}/{repo}/issues/{issue_number}": (ctx) => {
    const found = findIssue(ctx);
    return "answer" in found ? found.answer : { status: 200, body: issueJson(found.issue, ctx.repo, ctx.urls) };
  },

  "GET /repos/{owner}/{repo}/issues": (ctx) => {
    const state = ctx.query.get("state") ?? "open";
    const since = ctx.query.get("since");
    const sort = ctx.query.get("sort") ?? "created";
    const asc = (ctx.query.get("direction") ?? "desc") === "asc";
    const key = (i: FakeIssue) => Date.parse(sort === "updated" ? i.updated_at : i.created_at) * 1000 + i.number;
    const issues = [...ctx.repo.issues.values()]
      .filter((i) => !i.deleted && (state === "all" || i.state === state))
      // `since`: updated at or after (GitHub's meaning), not created.
      .filter((i) => since === null || Date.parse(i.updated_at) >= Date.parse(since))
      .sort((a, b) => (asc ? key(a) - key(b) : key(b) - key(a)));
    return paginate(ctx, issues.map((i) => issueJson(i, ctx.repo, ctx.urls)));
  },

  "POST /repos/{owner}/{repo}/issues": (ctx) => {
    const body = ctx.body.body === undefined ? null : (ctx.body.body as string | null);
    const issue = ctx.state.createIssue(ctx.repo, { title: String(ctx.body.title), body, labels: labelNames(ctx.body.labels), user: ctx.state.viewer });
    return { status: 201, body: issueJson(issue, ctx.repo, ctx.urls) };
  },

  "PATCH /repos/{owner}/{repo}/issues/{issue_number}": (ctx) => {
    const found = findIssue(ctx);
    if ("answer" in found) return found.answer;
    const { issue } = found;
    if (typeof ctx.body.title === "string" || typeof ctx.body.title === "number") issue.title = String(ctx.body.title);
    if (ctx.body.body !== undefined) issue.body = ctx.body.body as string | null;
    if (ctx.body.labels !== undefined) issue.labels = [...new Set(labelNames(ctx.body.labels).map((l) => ctx.state.ensureLabel(ctx.repo, l).name))];
    setState(ctx, issue, ctx.body.state, ctx.body.state_reason);
    issue.updated_at = ctx.state.now();
    return { status: 200, body: issueJson(issue, ctx.repo, ctx.urls) };
  },

  "GET /repos/{owner}/{repo}/issues/{issue_number}/comments": (ctx) => {
    const found = findIssue(ctx);
    if ("answer" in found) return found.answer;
    const since = ctx.query.get("since");
    const comments = [...ctx.repo.comments.values()]
      .filter((c) => c.issue_number === found.issue.number && (since === null || Date.parse(c.updated_at) > Date.parse(since)))
      .sort((a, b) => a.id - b.id);
    return paginate(ctx, comments.map((c) => commentJson(c, ctx.repo, ctx.urls)));
  },

  "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": (ctx) => {
    const found = findIssue(ctx);
    if ("answer" in found) return found.answer;
    const body = String(ctx.body.body);
    if (body.length > MAX_COMMENT) {
      return unprocessable("Validation Failed", [{ resource: "IssueComment", code: "custom", field: "body", message: `body is too long (maximum is ${MAX_COMMENT} characters)` }]);
    }
    const comment = ctx.state.createComment(ctx.repo, found.issue.number, body, ctx.state.viewer);
    return { status: 201, body: commentJson(comment, ctx.repo, ctx.urls) };
  },

  "GET /repos/{owner}/{repo}/issues/comments/{comment_id}": (ctx) => {
    const comment = ctx.repo.comments.get(num(ctx.params.comment_id));
    return comment ? { status: 200, body: commentJson(comment, ctx.repo, ctx.urls) } : notFound();
  },

  "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}": (ctx) => {
    const comment = ctx.repo.comments.get(num(ctx.params.comment_id));
    if (!comment) return notFound();
    const body = String(ctx.body.body);
    if (body.length > MAX_COMMENT) {
      return unprocessable("Validation Failed", [{ resource: "IssueComment", code: "custom", field: "body", message: `body is too long (maximum is ${MAX_COMMENT} characters)` }]);
    }
    comment.body = body;
    comment.updated_at = ctx.state.now();
    return { status: 200, body: commentJson(comment, ctx.repo, ctx.urls) };
  },

  "DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}": (ctx) => {
    if (!ctx.repo.comments.delete(num(ctx.params.comment_id))) return notFound();
    return { status: 204, body: undefined };
  },

  "POST /repos/{owner}/{repo}/issues/{issue_number}/reactions": (ctx) => {
    const found = findIssue(ctx);
    return "answer" in found ? found.answer : react(ctx, { issue: found.issue.number });
  },

  "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions": (ctx) => {
    const comment = ctx.repo.comments.get(num(ctx.params.comment_id));
    return comment ? react(ctx, { comment: comment.id }) : notFound();
  },

  "GET /repos/{owner}/{repo}/issues/{issue_number}/events": (ctx) => {
    const found = findIssue(ctx);
    if ("answer" in found) return found.answer;
    return paginate(ctx, found.issue.labelEvents.map((e) => labelEventJson(e, found.issue, ctx)));
  },

  "POST /repos/{owner}/{repo}/issues/{issue_number}/labels": (ctx) => {
    const found = findIssue(ctx);
    if ("answer" in found) return found.answer;
    const { issue } = found;
    for (const name of labelNames(ctx.body.labels)) {
      const label = ctx.state.ensureLabel(ctx.repo, name);
      if (issue.labels.some((l) => l.toLowerCase() === label.name.toLowerCase())) continue;
      issue.labels.push(label.name);
      issue.labelEvents.push({ id: ctx.state.nextId(), event: "labeled", label: label.name, actor: ctx.state.viewer, created_at: ctx.state.now() });
    }
    issue.updated_at = ctx.state.now();
    return { status: 200, body: issueLabels(ctx, issue) };
  },

  "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}": (ctx) => {
    const found = findIssue(ctx);
    if ("answer" in found) return found.answer;
    const { issue } = found;
    const name = (ctx.params.name ?? "").toLowerCase();
    const removed = issue.labels.find((l) => l.toLowerCase() === name);
    if (removed === undefined) return notFound("Label does not exist");
    issue.labels = issue.labels.filter((l) => l.toLowerCase() !== name);
    issue.labelEvents.push({ id: ctx.state.nextId(), event: "unlabeled", label: removed, actor: ctx.state.viewer, created_at: ctx.state.now() });
    issue.updated_at = ctx.state.now();
    return { status: 200, body: issueLabels(ctx, issue) };
  },

  "POST /repos/{owner}/{repo}/labels": (ctx) => {
    const name = String(ctx.body.name);
    const color = ((ctx.body.color as string | undefined) ?? "ededed").replace(/^#/, "");
    if (ctx.repo.labels.has(name.toLowerCase())) return unprocessable("Validation Failed", [{ resource: "Label", code: "already_exists", field: "name" }]);
    if (!/^[0-9a-fA-F]{6}$/.test(color)) return unprocessable("Validation Failed", [{ resource: "Label", code: "invalid", field: "color" }]);
    const description = (ctx.body.description as string | undefined) ?? null;
    return { status: 201, body: labelJson(ctx.state.ensureLabel(ctx.repo, name, color, description), ctx.repo, ctx.urls) };
  },

  "GET /repos/{owner}/{repo}/issues/{issue_number}/sub_issues": (ctx) => {
    const found = findIssue(ctx);
    if ("answer" in found) return found.answer;
    const subs = found.issue.subIssueIds.map((id) => findSubIssue(ctx, id)).filter((i) => i !== undefined);
    return paginate(ctx, subs.map((s) => issueJson(s, ctx.repo, ctx.urls)));
  },

  "POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues": (ctx) => {
    const found = findIssue(ctx);
    if ("answer" in found) return found.answer;
    const parent = found.issue;
    const child = findSubIssue(ctx, Number(ctx.body.sub_issue_id));
    if (!child) return notFound();
    const fail = (message: string) => unprocessable("Validation Failed", [{ resource: "Issue", code: "custom", field: "sub_issue_id", message }]);
    if (child.id === parent.id) return fail("Issue cannot be a sub-issue of itself");
    if (parent.subIssueIds.includes(child.id)) return fail("Issue may not contain duplicate sub-issues");
    if (child.parentNumber !== undefined && ctx.body.replace_parent !== true) return fail("Sub issue may only have one parent");
    if (parent.subIssueIds.length >= MAX_SUB_ISSUES) return fail(`Parent issue may not have more than ${MAX_SUB_ISSUES} sub-issues`);
    if (child.parentNumber !== undefined) {
      const old = ctx.repo.issues.get(child.parentNumber);
      if (old) old.subIssueIds = old.subIssueIds.filter((id) => id !== child.id);
    }
    parent.subIssueIds.push(child.id);
    child.parentNumber = parent.number;
    parent.updated_at = ctx.state.now();
    return { status: 201, body: issueJson(parent, ctx.repo, ctx.urls) };
  },
};
