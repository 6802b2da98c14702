/** Where a task lives on GitHub: its issue, branch and pull request, and their URLs. */
import type { Task } from "../ledger/task.ts";

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
