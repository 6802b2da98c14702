// REST payloads to port types. The inputs are the few fields read, so any Octokit response type
// (or a fake server's JSON) fits.
import type { GitHubActor, GitHubComment, GitHubIssue, GitHubPermission, GitHubPull } from "../../core/github-port.ts";

interface RestUser {
  login: string;
  id: number | bigint;
  type?: string;
}

/** A deleted account shows as a null user; it is never a "User", so it can never command. */
const GHOST: GitHubActor = { login: "ghost", id: 0, type: "Ghost" };

export function toActor(user: RestUser | null | undefined): GitHubActor {
  return user ? { login: user.login, id: Number(user.id), type: user.type ?? "User" } : GHOST;
}

function openOrClosed(state: string): "open" | "closed" {
  return state === "closed" ? "closed" : "open";
}

export interface RestIssue {
  number: number;
  /** Octokit parses integers beyond 2^53 as bigint; GitHub's ids are far below that. */
  id: number | bigint;
  node_id: string;
  title: string;
  body?: string | null;
  state: string;
  labels: (string | { name?: string | null })[];
  user: RestUser | null;
  html_url: string;
  pull_request?: unknown;
}

export function toIssue(issue: RestIssue): GitHubIssue {
  return {
    number: issue.number,
    id: Number(issue.id),
    nodeId: issue.node_id,
    title: issue.title,
    body: issue.body ?? "",
    state: openOrClosed(issue.state),
    labels: issue.labels.map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter((l) => l !== ""),
    author: toActor(issue.user),
    url: issue.html_url,
    isPullRequest: issue.pull_request !== undefined && issue.pull_request !== null,
  };
}

export interface RestComment {
  id: number | bigint;
  body?: string;
  user: RestUser | null;
  created_at: string;
  html_url: string;
}

export function toComment(comment: RestComment): GitHubComment {
  return { id: Number(comment.id), body: comment.body ?? "", author: toActor(comment.user), createdAt: comment.created_at, url: comment.html_url };
}

export interface RestPull {
  number: number;
  html_url: string;
  state: string;
  draft?: boolean;
  merged_at: string | null;
  head: { ref: string };
  base: { ref: string };
  title: string;
  body: string | null;
}

export function toPull(pull: RestPull): GitHubPull {
  return {
    number: pull.number,
    url: pull.html_url,
    state: openOrClosed(pull.state),
    draft: pull.draft ?? false,
    merged: pull.merged_at !== null,
    head: pull.head.ref,
    base: pull.base.ref,
    title: pull.title,
    body: pull.body ?? "",
  };
}

/**
 * The collaborator API's legacy `permission` is already admin | write | read | none (it maps
 * maintain to write and triage to read); the finer names are mapped too in case a server sends
 * them. Anything unknown fails closed.
 */
export function toPermission(permission: string): GitHubPermission {
  switch (permission) {
    case "admin":
      return "admin";
    case "maintain":
    case "write":
      return "write";
    case "triage":
    case "read":
      return "read";
    default:
      return "none";
  }
}
