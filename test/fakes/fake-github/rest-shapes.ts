// GitHub's REST JSON for the fake's records: every field a client reads (ids, numbers, node ids,
// html_url, user, labels, head/base, …) plus enough of the rest to look like the real thing. The
// server checks these against the OpenAPI response schemas (types of the fields present).
import type { FakeComment, FakeIssue, FakeLabel, FakePull, FakeReaction, FakeRepository, FakeUser, Permission } from "./records.ts";

/** Where links point: the fake's own URL for API links, a github.com-like host for html_url. */
export interface Urls {
  api: string;
  web: string;
}

export function userJson(u: FakeUser, urls: Urls) {
  return {
    login: u.login,
    id: u.id,
    node_id: u.node_id,
    avatar_url: `${urls.web}/avatars/${encodeURIComponent(u.login)}`,
    gravatar_id: "",
    url: `${urls.api}/users/${encodeURIComponent(u.login)}`,
    html_url: `${urls.web}/${encodeURIComponent(u.login)}`,
    type: u.type,
    site_admin: false,
  };
}

const full = (repo: FakeRepository) => `${repo.owner.login}/${repo.name}`;
const apiRepo = (repo: FakeRepository, urls: Urls) => `${urls.api}/repos/${full(repo)}`;

export function repoJson(repo: FakeRepository, urls: Urls) {
  const at = "2026-01-01T00:00:00Z";
  return {
    id: repo.id,
    node_id: repo.node_id,
    name: repo.name,
    full_name: full(repo),
    owner: userJson(repo.owner, urls),
    private: false,
    visibility: "public",
    html_url: `${urls.web}/${full(repo)}`,
    url: apiRepo(repo, urls),
    description: null,
    fork: false,
    default_branch: repo.default_branch,
    archived: false,
    disabled: false,
    has_issues: true,
    has_projects: true,
    has_wiki: false,
    open_issues_count: [...repo.issues.values()].filter((i) => i.state === "open" && !i.deleted).length,
    created_at: at,
    updated_at: at,
    pushed_at: at,
  };
}

export function labelJson(label: FakeLabel, repo: FakeRepository, urls: Urls) {
  return {
    id: label.id,
    node_id: label.node_id,
    url: `${apiRepo(repo, urls)}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    default: false,
    description: label.description,
  };
}

export function authorAssociation(repo: FakeRepository, user: FakeUser): string {
  if (user.login.toLowerCase() === repo.owner.login.toLowerCase()) return "OWNER";
  const permission = repo.permissions.get(user.login.toLowerCase());
  return permission && permission !== "none" ? "COLLABORATOR" : "NONE";
}

export function issueHtmlUrl(repo: FakeRepository, issue: FakeIssue, urls: Urls): string {
  return `${urls.web}/${full(repo)}/${issue.pull_request ? "pull" : "issues"}/${issue.number}`;
}

export function issueJson(issue: FakeIssue, repo: FakeRepository, urls: Urls) {
  const url = `${apiRepo(repo, urls)}/issues/${issue.number}`;
  const subs = issue.subIssueIds.map((id) => [...repo.issues.values()].find((i) => i.id === id)).filter((i) => i !== undefined);
  const completed = subs.filter((s) => s.state === "closed").length;
  const pull = issue.pull_request ? repo.pulls.get(issue.number) : undefined;
  return {
    id: issue.id,
    node_id: issue.node_id,
    url,
    repository_url: apiRepo(repo, urls),
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: issueHtmlUrl(repo, issue, urls),
    number: issue.number,
    state: issue.state,
    state_reason: issue.state_reason,
    title: issue.title,
    body: issue.body,
    user: userJson(issue.user, urls),
    labels: issue.labels.map((name) => repo.labels.get(name.toLowerCase())).filter((l) => l !== undefined).map((l) => labelJson(l, repo, urls)),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    comments: [...repo.comments.values()].filter((c) => c.issue_number === issue.number).length,
    ...(pull
      ? { pull_request: { url: `${apiRepo(repo, urls)}/pulls/${issue.number}`, html_url: issueHtmlUrl(repo, issue, urls), diff_url: null, patch_url: null, merged_at: pull.merged_at } }
      : {}),
    closed_at: issue.closed_at,
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    author_association: authorAssociation(repo, issue.user),
    sub_issues_summary: { total: subs.length, completed, percent_completed: subs.length === 0 ? 0 : Math.floor((completed * 100) / subs.length) },
    ...(issue.parentNumber === undefined ? {} : { parent_issue_url: `${apiRepo(repo, urls)}/issues/${issue.parentNumber}` }),
  };
}

export function commentJson(comment: FakeComment, repo: FakeRepository, urls: Urls) {
  const issue = repo.issues.get(comment.issue_number);
  const issueUrl = issue ? issueHtmlUrl(repo, issue, urls) : `${urls.web}/${full(repo)}/issues/${comment.issue_number}`;
  return {
    id: comment.id,
    node_id: comment.node_id,
    url: `${apiRepo(repo, urls)}/issues/comments/${comment.id}`,
    html_url: `${issueUrl}#issuecomment-${comment.id}`,
    issue_url: `${apiRepo(repo, urls)}/issues/${comment.issue_number}`,
    body: comment.body,
    user: userJson(comment.user, urls),
    created_at: comment.created_at,
    updated_at: comment.updated_at,
    author_association: authorAssociation(repo, comment.user),
  };
}

export function reactionJson(reaction: FakeReaction, urls: Urls) {
  return { id: reaction.id, node_id: reaction.node_id, user: userJson(reaction.user, urls), content: reaction.content, created_at: reaction.created_at };
}

function branchJson(repo: FakeRepository, ref: string, urls: Urls) {
  return {
    label: `${repo.owner.login}:${ref}`,
    ref,
    sha: repo.refs.get(`refs/heads/${ref}`) ?? "0000000000000000000000000000000000000000",
    user: userJson(repo.owner, urls),
    repo: repoJson(repo, urls),
  };
}

/** A pull request as the list endpoint shows it; `detailed` adds what GET/POST/PATCH of one pull add. */
export function pullJson(pull: FakePull, repo: FakeRepository, urls: Urls, detailed = false) {
  const url = `${apiRepo(repo, urls)}/pulls/${pull.number}`;
  const html = `${urls.web}/${full(repo)}/pull/${pull.number}`;
  const base = {
    url,
    id: pull.id,
    node_id: pull.node_id,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${apiRepo(repo, urls)}/issues/${pull.number}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userJson(pull.user, urls),
    body: pull.body,
    labels: [],
    milestone: null,
    created_at: pull.created_at,
    updated_at: pull.updated_at,
    closed_at: pull.closed_at,
    merged_at: pull.merged_at,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    head: branchJson(repo, pull.head, urls),
    base: branchJson(repo, pull.base, urls),
    draft: pull.draft,
    author_association: authorAssociation(repo, pull.user),
    auto_merge: null,
  };
  if (!detailed) return base;
  return {
    ...base,
    merged: pull.merged,
    mergeable: null,
    mergeable_state: "unknown",
    merged_by: null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: 1,
    additions: 0,
    deletions: 0,
    changed_files: 0,
  };
}

/** The legacy base role the permission API reports: maintain → write, triage → read. */
const LEGACY: Record<Permission, "admin" | "write" | "read" | "none"> = { admin: "admin", maintain: "write", write: "write", triage: "read", read: "read", none: "none" };

export function permissionJson(permission: Permission, user: FakeUser, urls: Urls) {
  return { permission: LEGACY[permission], role_name: permission, user: userJson(user, urls) };
}

export function refJson(repo: FakeRepository, ref: string, sha: string, urls: Urls) {
  return {
    ref,
    node_id: `REF_kw${Buffer.from(`${repo.id}:${ref}`).toString("base64url")}`,
    url: `${apiRepo(repo, urls)}/git/${ref}`,
    object: { type: "commit", sha, url: `${apiRepo(repo, urls)}/git/commits/${sha}` },
  };
}
