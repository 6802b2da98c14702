// Fault injection for the fake GitHub. Rules match a request by method, a path regex (tested on
// path + query) and, for GraphQL, a root field or operation name; each applies `times` times.
//   dropResponse: the request is performed, then the socket is destroyed without an answer (the
//                 client sees a network error and, if it retries, finds the write already done).
//   failNext:     answers 500/502/503 without performing the request.
//   rateLimit:    secondary → 403 (or 429) with retry-after and GitHub's "secondary rate limit"
//                 message; primary → 403 (or 429) with x-ratelimit-remaining 0 and x-ratelimit-reset,
//                 and on /graphql HTTP 200 with errors[].type RATE_LIMITED unless a status is given.
//   staleNext:    the next createCommitOnBranch answers STALE_DATA even when the head matches.
//   latencyMs:    every answer waits this long.

export interface FaultMatch {
  method?: string;
  /** Tested against the path and query, e.g. /issues\/\d+\/comments/. */
  path?: RegExp | string;
  /** GraphQL only: tested against the operation name and each root field (createCommitOnBranch). */
  operation?: RegExp | string;
  /** How many matching requests it applies to; default 1. */
  times?: number;
}

export interface RequestInfo {
  method: string;
  path: string;
  operationName?: string;
  rootFields?: string[];
}

export type BeforeFault =
  | { kind: "fail"; status: 500 | 502 | 503 }
  | { kind: "rate-limit"; limit: "primary" | "secondary"; retryAfterSeconds: number | null; status: 403 | 429 | undefined };

interface Rule {
  match: FaultMatch;
  left: number;
  fault?: BeforeFault;
}

const regex = (r: RegExp | string) => (typeof r === "string" ? new RegExp(r) : r);

function matches(m: FaultMatch, info: RequestInfo): boolean {
  if (m.method !== undefined && m.method.toUpperCase() !== info.method.toUpperCase()) return false;
  if (m.path !== undefined && !regex(m.path).test(info.path)) return false;
  if (m.operation !== undefined) {
    const re = regex(m.operation);
    const names = [info.operationName, ...(info.rootFields ?? [])].filter((n): n is string => n !== undefined);
    if (!names.some((n) => re.test(n))) return false;
  }
  return true;
}

export class Faults {
  /** Delay before every answer, in milliseconds. */
  latencyMs = 0;
  private before: Rule[] = [];
  private drops: Rule[] = [];
  private stale = 0;

  /** Perform the matching request, then destroy the socket without answering. */
  dropResponse(match: FaultMatch): void {
    this.drops.push({ match, left: match.times ?? 1 });
  }

  /** Answer the matching request with a 5xx without performing it. */
  failNext(rule: FaultMatch & { status: 500 | 502 | 503 }): void {
    this.before.push({ match: rule, left: rule.times ?? 1, fault: { kind: "fail", status: rule.status } });
  }

  /** Answer the matching request as rate limited. `retryAfterSeconds: null` leaves retry-after out (secondary). */
  rateLimit(rule: FaultMatch & { kind: "primary" | "secondary"; retryAfterSeconds?: number | null; status?: 403 | 429 }): void {
    const retryAfterSeconds = rule.retryAfterSeconds === undefined ? (rule.kind === "secondary" ? 1 : 0) : rule.retryAfterSeconds;
    this.before.push({ match: rule, left: rule.times ?? 1, fault: { kind: "rate-limit", limit: rule.kind, retryAfterSeconds, status: rule.status } });
  }

  /** The next `times` createCommitOnBranch mutations answer STALE_DATA. */
  staleNext(times = 1): void {
    this.stale += times;
  }

  /** Faults not used up yet. */
  pending(): number {
    return [...this.before, ...this.drops].reduce((n, r) => n + r.left, 0) + this.stale;
  }

  clear(): void {
    this.before = [];
    this.drops = [];
    this.stale = 0;
    this.latencyMs = 0;
  }

  /** @internal The fault to answer with instead of performing the request. */
  takeBefore(info: RequestInfo): BeforeFault | undefined {
    return take(this.before, info)?.fault;
  }

  /** @internal Whether to drop the answer of a performed request. */
  takeDrop(info: RequestInfo): boolean {
    return take(this.drops, info) !== undefined;
  }

  /** @internal Whether this commit must fail as stale. */
  takeStale(): boolean {
    if (this.stale === 0) return false;
    this.stale--;
    return true;
  }
}

function take(rules: Rule[], info: RequestInfo): Rule | undefined {
  const rule = rules.find((r) => r.left > 0 && matches(r.match, info));
  if (rule) rule.left--;
  return rule;
}
