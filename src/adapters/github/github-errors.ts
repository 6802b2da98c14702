// The one place where Octokit's failures become RouterErrors. Octokit's classes are read by shape
// (status, response, errors) rather than imported, so a second copy of @octokit/request-error in the
// tree cannot make `instanceof` lie.
import { RouterError, isRouterError } from "../../core/errors.ts";

/** A failed HTTP request as Octokit reports it (a RequestError), read by shape. */
export interface HttpFailure {
  status: number;
  message: string;
  headers: Record<string, string | undefined>;
  data: unknown;
}

/** One GraphQL error as GitHub sends it (`type` is e.g. NOT_FOUND, FORBIDDEN, STALE_DATA). */
export interface GraphQLErrorEntry {
  type?: string;
  message: string;
  path?: (string | number)[];
}

/** A GraphQL answer with `errors` (HTTP 200), as @octokit/graphql throws it (GraphqlResponseError). */
export interface GraphQLFailure {
  errors: GraphQLErrorEntry[];
  data: unknown;
  headers: Record<string, string | undefined>;
}

/** Where a failed call went: "GET /repos/{owner}/{repo}/issues/{issue_number}" or "POST /graphql ReadBranchFile". */
export interface CallSite {
  method: string;
  route: string;
}

type Loose = { name?: unknown; status?: unknown; message?: unknown; response?: { headers?: unknown; data?: unknown }; errors?: unknown; headers?: unknown; data?: unknown };

export function httpFailure(err: unknown): HttpFailure | null {
  if (typeof err !== "object" || err === null) return null;
  const e = err as Loose;
  if (e.name !== "HttpError" || typeof e.status !== "number") return null;
  return {
    status: e.status,
    message: typeof e.message === "string" ? e.message : "",
    headers: (e.response?.headers ?? {}) as Record<string, string | undefined>,
    data: e.response?.data,
  };
}

export function graphqlFailure(err: unknown): GraphQLFailure | null {
  if (typeof err !== "object" || err === null) return null;
  const e = err as Loose;
  if (e.name !== "GraphqlResponseError" || !Array.isArray(e.errors)) return null;
  return { errors: e.errors as GraphQLErrorEntry[], data: e.data, headers: (e.headers ?? {}) as Record<string, string | undefined> };
}

/** plugin-throttling's own error for a GraphQL `RATE_LIMITED` answer it gave up on (no status). */
function isGraphQLRateLimited(err: unknown): boolean {
  const data = (err as Loose | null)?.data as { errors?: { type?: string }[] } | undefined;
  return Array.isArray(data?.errors) && data.errors.some((e) => e.type === "RATE_LIMITED");
}

function isTimeout(err: unknown): boolean {
  const name = (err as Loose | null)?.name;
  return name === "AbortError" || name === "TimeoutError" || name === "GitHubTimeoutError";
}

/** The wait GitHub asked for, in the units it used: `retry-after` seconds, or the primary limit's reset (epoch s). */
function limitDetails(f: HttpFailure): Record<string, unknown> | null {
  const retryAfter = Number(f.headers["retry-after"]);
  const secondary = /secondary rate/i.test(f.message) || f.status === 429;
  const primary = f.headers["x-ratelimit-remaining"] === "0";
  if (!secondary && !primary && !(f.status === 403 && /rate limit/i.test(f.message))) return null;
  return {
    limit: primary ? "primary" : "secondary",
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
    ...(primary ? { rateLimitReset: Number(f.headers["x-ratelimit-reset"]) } : {}),
  };
}

function firstLine(text: string): string {
  return (text.split("\n")[0] ?? "").slice(0, 300);
}

/**
 * Wraps an Octokit or GraphQL failure as a RouterError once: E_GITHUB_UNAVAILABLE (retryable) for
 * 5xx, timeouts and rate limits the plugins gave up on, E_GITHUB for the rest. Details keep status,
 * method, route, the request id and GitHub's message; `cause` keeps the original (whose
 * authorization header Octokit has already redacted). Anything else (a bug) is rethrown unchanged.
 */
export function toRouterError(err: unknown, site: CallSite): unknown {
  if (isRouterError(err)) return err;
  const base = { method: site.method, route: site.route };
  const http = httpFailure(err);
  if (http) {
    const limit = limitDetails(http);
    const unavailable = http.status >= 500 || limit !== null;
    const details = { ...base, status: http.status, requestId: http.headers["x-github-request-id"], message: firstLine(http.message), ...limit };
    const what = limit ? `${http.status} (${String(limit.limit)} rate limit)` : `${http.status}`;
    return new RouterError(unavailable ? "E_GITHUB_UNAVAILABLE" : "E_GITHUB", `GitHub answered ${what} to ${site.method} ${site.route}: ${details.message}`, details, { cause: err });
  }
  const gql = graphqlFailure(err);
  if (gql) {
    const types = gql.errors.map((e) => e.type ?? "UNKNOWN");
    const message = firstLine(gql.errors.map((e) => e.message).join("; "));
    const details = { ...base, status: 200, requestId: gql.headers["x-github-request-id"], message, errorTypes: types };
    return new RouterError("E_GITHUB", `GitHub's GraphQL API refused ${site.route}: ${message}`, details, { cause: err });
  }
  if (isGraphQLRateLimited(err)) {
    const headers = ((err as Loose).response?.headers ?? {}) as Record<string, string | undefined>;
    const details = { ...base, requestId: headers["x-github-request-id"], message: "GraphQL rate limit exceeded", limit: "primary", rateLimitReset: Number(headers["x-ratelimit-reset"]) };
    return new RouterError("E_GITHUB_UNAVAILABLE", `GitHub's GraphQL rate limit stopped ${site.route}`, details, { cause: err });
  }
  if (isTimeout(err)) {
    return new RouterError("E_GITHUB_UNAVAILABLE", `GitHub did not answer ${site.method} ${site.route} in time`, { ...base, timedOut: true }, { cause: err });
  }
  return err;
}

/** Runs one GitHub call and wraps its failure; `expected` may turn a failure into a value (return undefined to throw). */
export async function guard<T, F = never>(site: CallSite, call: () => Promise<T>, expected?: (err: unknown) => { value: F } | undefined): Promise<T | F> {
  try {
    return await call();
  } catch (err) {
    const outcome = expected?.(err);
    if (outcome) return outcome.value;
    throw toRouterError(err, site);
  }
}

/** `expected` helper: these HTTP statuses become `value`. */
export function onStatus<F>(statuses: number[], value: F): (err: unknown) => { value: F } | undefined {
  return (err) => {
    const f = httpFailure(err);
    return f && statuses.includes(f.status) ? { value } : undefined;
  };
}

/** Splits "GET /route" into a call site. */
export function site(route: string): CallSite {
  const space = route.indexOf(" ");
  return { method: route.slice(0, space), route: route.slice(space + 1) };
}

/**
 * Request option for POSTs that create something (comments, issues, pull requests): plugin-retry
 * would re-send them after a 5xx or a lost response and create a duplicate. The caller looks for
 * its marker before it tries again instead.
 */
export const NO_RESEND = { retries: 0 } as const;
