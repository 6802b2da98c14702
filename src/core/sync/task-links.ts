/** Where a task lives on GitHub: its issue, branch and pull request, and their URLs. */
import type { Ledger } from "../ledger/ledger.ts";
import type { Task } from "../ledger/task.ts";
import { parseMarker } from "./markers.ts";

export interface RepoRef {
  /** "owner/name". */
  repository: string;
  /** "https://github.com", or a GitHub Enterprise server's URL. */
  serverUrl: string;
}

/** The issue a task mirrors: the one it was recorded with, else the one it came from. */
export function issueOf(task: Task): number | undefined {
  return task.github?.issue ?? (task.source.kind === "issue" ? task.source.issue : undefined);
}

/**
 * An issue the router opened for a task that came from elsewhere (a child's, a scheduled job's): its
 * body starts with the router's issue marker, or a task records it as its issue without coming from
 * it. Such an issue is that task's mirror and never becomes a task of its own, whatever its labels
 * (the marker covers the moment before the ledger links it; the link covers a body someone edited).
 */
export function openedByRouter(ledger: Ledger, issue: { number: number; body: string | null }): boolean {
  if (parseMarker(issue.body ?? "")?.kind === "issue") return true;
  return ledger.tasks.some((t) => t.github?.issue === issue.number && !(t.source.kind === "issue" && t.source.issue === issue.number));
}

/** The branch the router commits the task's work to. */
export function taskBranch(task: Task): string {
  return task.github?.branch ?? `agent-router/task-${task.id}`;
}

function repoUrl(ref: RepoRef): string {
  return `${ref.serverUrl.replace(/\/+$/, "")}/${ref.repository}`;
}

export function branchUrl(ref: RepoRef, branch: string): string {
  return `${repoUrl(ref)}/tree/${branch.split("/").map(encodeURIComponent).join("/")}`;
}

export function pullUrl(ref: RepoRef, pull: number): string {
  return `${repoUrl(ref)}/pull/${pull}`;
}
