// The GitHub App side of the fake: the app's installations (asked with the app's JWT), installation
// access tokens, and the repositories an installation may use. Tokens are recorded so tests can
// check which credentials a request carried.
import type { IncomingHttpHeaders } from "node:http";
import type { FakeUser } from "./records.ts";
import type { RestAnswer } from "./rest-router.ts";
import { notFound, paginate } from "./rest-router.ts";
import type { Urls } from "./rest-shapes.ts";
import { repoJson, userJson } from "./rest-shapes.ts";
import type { FakeGitHubState } from "./state.ts";

export interface FakeInstallation {
  id: number;
  account: FakeUser;
  /** Full names of the repositories the installation may use. */
  repositories: string[];
  /** Tokens issued for it, newest last. */
  tokens: string[];
}

export interface AppRestContext {
  state: FakeGitHubState;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  urls: Urls;
  path: string;
}

export type AppRestHandler = (ctx: AppRestContext) => RestAnswer;

const PERMISSIONS = { actions: "write", contents: "write", issues: "write", pull_requests: "write", metadata: "read" };
const EVENTS = ["issues", "issue_comment", "installation", "installation_repositories"];

function installationJson(inst: FakeInstallation, urls: Urls) {
  return {
    id: inst.id,
    app_id: 1,
    app_slug: "agent-router",
    target_id: inst.account.id,
    target_type: inst.account.type === "Organization" ? "Organization" : "User",
    single_file_name: null,
    repository_selection: "selected",
    access_tokens_url: `${urls.api}/app/installations/${inst.id}/access_tokens`,
    html_url: `${urls.web}/settings/installations/${inst.id}`,
    repositories_url: `${urls.api}/installation/repositories`,
    events: EVENTS,
    account: userJson(inst.account, urls),
    permissions: PERMISSIONS,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    suspended_by: null,
    suspended_at: null,
  };
}

/** The installation whose token the request carries. */
function installationOf(ctx: AppRestContext): FakeInstallation | undefined {
  const token = /^(?:token|bearer) (\S+)$/i.exec(ctx.headers.authorization ?? "")?.[1];
  return token === undefined ? undefined : [...ctx.state.installations.values()].find((i) => i.tokens.includes(token));
}

const unauthorized = (message: string): RestAnswer => ({ status: 401, body: { message, documentation_url: "https://docs.github.com/rest" } });

/** An app JWT: three base64url parts, the payload naming the app (`iss`). */
function isAppJwt(headers: IncomingHttpHeaders): boolean {
  const jwt = /^bearer (\S+)$/i.exec(headers.authorization ?? "")?.[1];
  const payload = jwt?.split(".")[1];
  if (!payload) return false;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { iss?: unknown; exp?: unknown };
    return claims.iss !== undefined && typeof claims.exp === "number";
  } catch {
    return false;
  }
}

export const appRoutes: Record<string, AppRestHandler> = {
  "GET /app/installations": (ctx) => {
    if (!isAppJwt(ctx.headers)) return unauthorized("A JSON web token could not be decoded");
    return paginate({ ...ctx, repo: undefined as never, body: {} }, [...ctx.state.installations.values()].map((i) => installationJson(i, ctx.urls)));
  },
  "POST /app/installations/{installation_id}/access_tokens": (ctx) => {
    if (!isAppJwt(ctx.headers)) return unauthorized("A JSON web token could not be decoded");
    const inst = ctx.state.installations.get(Number(ctx.params.installation_id));
    if (!inst) return notFound("Integration not found");
    const token = `ghs_fake${inst.id}x${inst.tokens.length + 1}${"0".repeat(20)}`;
    inst.tokens.push(token);
    const expires = new Date(Date.parse(ctx.state.now()) + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    return { status: 201, body: { token, expires_at: expires, permissions: PERMISSIONS, repository_selection: "selected" } };
  },
  "GET /installation/repositories": (ctx) => {
    const inst = installationOf(ctx);
    if (!inst) return unauthorized("Bad credentials");
    const repos = inst.repositories.map((full) => ctx.state.mustRepo(full));
    const page = paginate({ ...ctx, repo: undefined as never, body: {} }, repos.map((r) => repoJson(r, ctx.urls)));
    return { ...page, body: { total_count: repos.length, repositories: page.body } };
  },
};
