/**
 * The router's own GitHub account: anyone can post a comment that starts with a router marker, and
 * only the router's own are its (`withoutForgedMarkers`). Known up front (`GitHubIo.accountId`), or
 * asked of GitHub (`viewer`) by the first sync round that syncs a task or answers a comment (so
 * before any comment is read), once per client: a failed answer is not kept, so the next sync asks
 * again. Without it nothing is synced (fail closed).
 */
import { RouterError } from "../core/errors.ts";
import type { GitHub } from "../core/github-port.ts";
import type { GitHubIo } from "./app-deps.ts";

const asked = new WeakMap<GitHub, Promise<number>>();

export function accountOf(gh: GitHubIo): Promise<number> {
  if (gh.accountId !== undefined) return Promise.resolve(gh.accountId);
  const api = gh.api;
  let id = asked.get(api);
  if (!id) {
    const fresh = ask(api);
    asked.set(api, fresh);
    fresh.catch(() => asked.get(api) === fresh && asked.delete(api));
    id = fresh;
  }
  return id;
}

/** The account if this client already asked for it (and it answered), without asking. */
export async function learntAccountOf(gh: GitHubIo): Promise<number | undefined> {
  if (gh.accountId !== undefined) return gh.accountId;
  return asked.get(gh.api)?.catch(() => undefined);
}

async function ask(api: GitHub): Promise<number> {
  const unknown = (why: string, cause?: unknown): RouterError =>
    new RouterError("E_GITHUB_ACCOUNT", `could not learn the router's own GitHub account (GraphQL viewer): ${why}; GitHub was not synced, so no comment carrying a router marker was taken for the router's`, { repository: api.repository }, cause === undefined ? undefined : { cause });
  let viewer: { id: number; login: string };
  try {
    viewer = await api.viewer();
  } catch (err) {
    throw unknown(err instanceof Error ? err.message : String(err), err);
  }
  if (!Number.isSafeInteger(viewer.id) || viewer.id <= 0) throw unknown(`GitHub answered no account id for ${JSON.stringify(viewer.login)}`);
  return viewer.id;
}
