/**
 * Hidden markers: how the router finds what it wrote on GitHub before writing again. Every comment,
 * pull request and issue body it owns starts with `<!-- agent-router:task=ID kind=KIND key=KEY -->`
 * on its first line; a lookup reads every comment (all pages) and edits the marked one instead of
 * posting another (REST writes have no idempotency key and the retry plugin re-sends POSTs).
 *
 * Only the first line counts. Text an agent or a person wrote never reaches the first line of a
 * router-owned body, and outbound text is stripped of HTML comments (outbound.ts), so quoting
 * cannot forge a marker. A person can still post a comment that starts with one: pass the router's
 * own account id (`authorId`) where it is known.
 */
import { RouterError } from "../errors.ts";
import type { GitHubComment } from "../github-port.ts";

/** status: the tracking comment · reply: an answer to a command · pr: the pull request body · issue: the body of an issue the router opened for a task (a child's, a scheduled job's). */
export type MarkerKind = "status" | "reply" | "pr" | "issue";

export interface Marker {
  taskId: number;
  kind: string;
  key: string;
}

/** Singletons (the one tracking comment, pull request or sub-issue of a task) use this key. */
export const SINGLE_KEY = "1";

const KEY = /^[A-Za-z0-9._:-]+$/;
const MARKER_LINE = /^<!-- agent-router:task=(0|[1-9][0-9]{0,14}) kind=([a-z_]+) key=([A-Za-z0-9._:-]+) -->$/;

export function taskMarker(m: { taskId: number; kind: MarkerKind; key: string }): string {
  // Task 0: a reply on an issue that has no task ("add the label to make one").
  if (!Number.isSafeInteger(m.taskId) || m.taskId < 0 || !KEY.test(m.key)) {
    throw new RouterError("E_INTERNAL", `invalid marker: task ${m.taskId}, key ${JSON.stringify(m.key)}`, { taskId: m.taskId, key: m.key });
  }
  return `<!-- agent-router:task=${m.taskId} kind=${m.kind} key=${m.key} -->`;
}

/** The marker on the body's first line, or null. Strict: exactly the shape `taskMarker` writes (a trailing CR is allowed). */
export function parseMarker(body: string): Marker | null {
  const end = body.indexOf("\n");
  const first = (end < 0 ? body : body.slice(0, end)).replace(/\r$/, "");
  const m = MARKER_LINE.exec(first);
  if (!m) return null;
  return { taskId: Number(m[1]), kind: m[2]!, key: m[3]! };
}

export interface MarkerQuery {
  taskId: number;
  kind: MarkerKind;
  /** Only this key; any key when absent. */
  key?: string;
  /** Only comments by this account (the router's own numeric id), when known. */
  authorId?: number;
}

/** Every comment carrying the marker, oldest first (by id: GitHub's ids grow with time, creation times can tie). */
export function allMarked(comments: readonly GitHubComment[], q: MarkerQuery): GitHubComment[] {
  return comments
    .filter((c) => {
      const m = parseMarker(c.body);
      return m !== null && m.taskId === q.taskId && m.kind === q.kind && (q.key === undefined || m.key === q.key) && (q.authorId === undefined || c.author.id === q.authorId);
    })
    .sort((a, b) => a.id - b.id);
}

/** The oldest comment with the marker: the one to edit. Any others are duplicates a cleanup may report. */
export function findMarked(comments: readonly GitHubComment[], q: MarkerQuery): GitHubComment | undefined {
  return allMarked(comments, q)[0];
}
