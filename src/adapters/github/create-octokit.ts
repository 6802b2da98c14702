// The one Octokit the GitHub adapter uses: @octokit/core with paginate, retry and throttling, plus two
// hooks of our own (a per-attempt timeout and conditional GETs). Production uses the plugins'
// defaults for spacing writes; tests may shorten them.
import type { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import Bottleneck from "bottleneck/light.js";
import type { Log } from "../../core/ports.ts";
import { EtagCache, useEtagCache } from "./etag-cache.ts";
import { useRequestTimeout } from "./request-timeout.ts";

export interface CreateOctokitOptions {
  /** A token (the Action's job token, a PAT); or `app` for a GitHub App installation. */
  token?: string;
  /**
   * A GitHub App: with `installationId`, the client signs the app's JWT, fetches the installation's
   * token from `baseUrl` and renews it before it expires (@octokit/auth-app caches it); without one,
   * it calls as the app itself (the JWT: `GET /app/installations`). The caller passes
   * `createAppAuth`, so that the Action's bundle does not carry @octokit/auth-app.
   */
  app?: { appId: number; privateKey: string; installationId?: number; createAppAuth: typeof createAppAuth };
  /** REST base URL; default https://api.github.com. The Action passes GITHUB_API_URL, so GHES (https://HOST/api/v3) works. */
  baseUrl?: string;
  /** Prepended to Octokit's own user agent, e.g. "agent-router/0.1.0". */
  userAgent?: string;
  log: Log;
  throttle?: {
    /** Spacing of writes (non-GET and all GraphQL), one at a time. Default: the plugin's 1,000 ms. Tests only. */
    writeMinTimeMs?: number;
    /** Spacing of writes that notify people (comments, issues, pulls). Default: the plugin's 3,000 ms. Tests only. */
    notificationMinTimeMs?: number;
    /** Retries after a secondary limit (403/429 with "secondary rate limit"); default 3. */
    secondaryRetries?: number;
    /** Retries after the primary limit (waits until reset + 1 s); default 1. */
    primaryRetries?: number;
    /** Give up at once rather than wait longer than this for a limit; default 900 s (an Action re-runs sooner). */
    maxWaitSeconds?: number;
    /**
     * Space this client's writes on its own (GitHub's advice: 1 s, 3 s for notifications) rather than
     * in the plugin's groups shared by every client of the process. The app sets it: each
     * installation has its own limits, and one busy repository must not slow the others.
     */
    ownGroups?: boolean;
  };
  retry?: {
    /** Retries of 5xx and timeouts (plugin-retry); default 3. */
    retries?: number;
    /** plugin-retry waits (retry number)² × this; default 1,000 ms. */
    baseDelayMs?: number;
  };
  /** Per attempt; default 30,000 ms. A timeout is retried like a 5xx. */
  timeoutMs?: number;
  /** Conditional-GET answers kept (least recently used go first); default 500. */
  etagCacheSize?: number;
}

export type GitHubOctokit = InstanceType<ReturnType<typeof clientClass>>;

/** plugin-retry's list plus 429: a 429 is a rate limit, and only the throttling plugin waits out `retry-after`. */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

function clientClass(timeoutMs: number, cache: EtagCache) {
  // Registered first, so these hooks sit inside retry and throttling: each attempt gets its own
  // timeout, and a 304 is answered from the cache before the plugins see an error.
  const inner = (octokit: Octokit) => {
    useRequestTimeout(octokit, timeoutMs);
    useEtagCache(octokit, cache);
  };
  return Octokit.plugin(inner, paginateRest, retry, throttling);
}

function octokitLog(log: Log) {
  const at = (level: "debug" | "info" | "warn" | "error") => (message: string, extra?: unknown) =>
    log[level](message, extra === undefined ? undefined : { detail: extra instanceof Error ? extra.message : JSON.stringify(extra) });
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export function createOctokit(opts: CreateOctokitOptions): GitHubOctokit {
  const t = opts.throttle ?? {};
  const secondaryRetries = t.secondaryRetries ?? 3;
  const primaryRetries = t.primaryRetries ?? 1;
  const maxWait = t.maxWaitSeconds ?? 900;
  const log = opts.log;
  const onLimit =
    (kind: "primary" | "secondary", retries: number) =>
    (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      const again = retryCount < retries && retryAfter <= maxWait;
      const what = again ? `retrying in ${retryAfter} s (retry ${retryCount + 1} of ${retries})` : "giving up";
      log.warn(`GitHub ${kind} rate limit on ${options.method} ${options.url}: ${what}`, { retryAfterSeconds: retryAfter, retryCount });
      return again;
    };
  // Left out, the plugin's shared groups (and their production spacing) apply.
  const spaced = (name: "write" | "notifications", minTime: number | undefined, ownDefault: number) => {
    const ms = minTime ?? (t.ownGroups ? ownDefault : undefined);
    return ms === undefined ? {} : { [name]: new Bottleneck.Group({ maxConcurrent: 1, minTime: ms }) };
  };
  const Client = clientClass(opts.timeoutMs ?? 30_000, new EtagCache(opts.etagCacheSize ?? 500));
  if ((opts.token === undefined) === (opts.app === undefined)) throw new Error("createOctokit: give either a token or an app installation");
  return new Client({
    ...(opts.app ? { authStrategy: opts.app.createAppAuth, auth: { appId: opts.app.appId, privateKey: opts.app.privateKey, ...(opts.app.installationId === undefined ? {} : { installationId: opts.app.installationId }) } } : { auth: opts.token }),
    baseUrl: (opts.baseUrl ?? "https://api.github.com").replace(/\/+$/, ""),
    ...(opts.userAgent ? { userAgent: opts.userAgent } : {}),
    log: octokitLog(log),
    retry: {
      doNotRetry: DO_NOT_RETRY,
      ...(opts.retry?.retries === undefined ? {} : { retries: opts.retry.retries }),
      ...(opts.retry?.baseDelayMs === undefined ? {} : { retryAfterBaseValue: opts.retry.baseDelayMs }),
    },
    throttle: {
      onRateLimit: onLimit("primary", primaryRetries),
      onSecondaryRateLimit: onLimit("secondary", secondaryRetries),
      ...spaced("write", t.writeMinTimeMs, 1_000),
      ...spaced("notifications", t.notificationMinTimeMs, 3_000),
    },
  });
}
