// A small stateful GitHub on 127.0.0.1 for adapter tests: REST routes (rest-issues.ts, rest-repo.ts)
// and POST /graphql (graphql.ts) over one shared state, with ETags, pagination, rate-limit headers
// and fault injection. Every request is checked against GitHub's published descriptions first
// (test/support/github-schema.ts); one with problems gets HTTP 400 and lands in
// `state.schemaProblems`, which tests assert stays empty. 2xx answers are checked too, so the fake
// cannot drift from GitHub's shapes. GHES-style paths (/api/v3/…, /api/graphql) are accepted as well.
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Kind, OperationTypeNode, parse } from "graphql";
import { checkGraphql, checkRestRequest, checkRestResponse, matchRestOperation } from "../../support/github-schema.ts";
import type { BeforeFault, RequestInfo } from "./faults.ts";
import { Faults } from "./faults.ts";
import { runGraphql } from "./graphql.ts";
import { issueRoutes } from "./rest-issues.ts";
import type { RestAnswer, RestHandler } from "./rest-router.ts";
import { notFound } from "./rest-router.ts";
import { repoRoutes } from "./rest-repo.ts";
import { appRoutes } from "./rest-app.ts";
import type { FakeStateOptions } from "./state.ts";
import { FakeGitHubState } from "./state.ts";

const ROUTES: Record<string, RestHandler> = { ...issueRoutes, ...repoRoutes };

/** "METHOD /template" of every REST operation the fake serves. */
export const SERVED_OPERATIONS: readonly string[] = [...Object.keys(ROUTES), ...Object.keys(appRoutes)];

export interface FakeRequest {
  method: string;
  /** Path and query as received (GHES prefix removed). */
  path: string;
  body: unknown;
  status: number;
  /** A write: any REST method but GET/HEAD, or a GraphQL mutation. */
  mutating: boolean;
  graphqlOperation?: "query" | "mutation";
  /** GraphQL root fields, e.g. ["createCommitOnBranch"]. */
  graphqlFields?: string[];
  /** The fault applied, if any. */
  fault?: "drop" | "fail" | "rate-limit";
  /** The Authorization header's scheme and credential, e.g. "token ghs_…" or "bearer eyJ…". */
  authorization?: string;
}

export interface FakeGitHubOptions extends FakeStateOptions {
  /** When set, requests must carry `authorization: token|bearer <token>` (else 401 Bad credentials). */
  token?: string;
  /** Host of html_url links; default https://github.com. */
  webUrl?: string;
  /** x-ratelimit-limit per resource (core, graphql); default 5000. */
  rateLimit?: number;
}

export interface FakeGitHub {
  /** Base URL for REST (e.g. http://127.0.0.1:PORT); GraphQL is `${url}/graphql`. */
  url: string;
  state: FakeGitHubState;
  requests: FakeRequest[];
  faults: Faults;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

const problemAnswer = (problems: string[]): Answer => ({ status: 400, body: { message: "fake-github: the request does not match GitHub's published description", problems } });

function faultAnswer(fault: BeforeFault, graphql: boolean, resetAt: number): Answer {
  if (fault.kind === "fail") return { status: fault.status, body: { message: fault.status === 500 ? "Server Error" : fault.status === 502 ? "Bad Gateway" : "Service Unavailable" } };
  if (fault.limit === "secondary") {
    const message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID FAKE:0000.";
    const headers: Record<string, string> = fault.retryAfterSeconds === null ? {} : { "retry-after": String(fault.retryAfterSeconds) };
    return { status: fault.status ?? 403, headers, body: { message, documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits" } };
  }
  const headers = { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(resetAt + (fault.retryAfterSeconds ?? 0)) };
  if (graphql && fault.status === undefined) return { status: 200, headers, body: { data: null, errors: [{ type: "RATE_LIMITED", message: "API rate limit already exceeded for user ID 1." }] } };
  return { status: fault.status ?? 403, headers, body: { message: "API rate limit exceeded for user ID 1.", documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits" } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeGitHub(opts: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const state = new FakeGitHubState(opts);
  const faults = new Faults();
  const requests: FakeRequest[] = [];
  const web = opts.webUrl ?? "https://github.com";
  const limit = opts.rateLimit ?? 5000;
  const used = { core: 0, graphql: 0 };
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const resetAt = nowSeconds() + 3600;
  let requestId = 0;
  let api = "";

  const graphqlRequest = (body: unknown, entry: FakeRequest, info: RequestInfo): { problems: string[]; run?: () => Answer } => {
    const b = body as { query?: unknown; variables?: unknown; operationName?: unknown } | undefined;
    if (typeof b?.query !== "string") return { problems: ["GraphQL: the body needs a string `query`"] };
    const extra = Object.keys(b).filter((k) => !["query", "variables", "operationName"].includes(k));
    const variables = (b.variables ?? {}) as Record<string, unknown>;
    const operationName = typeof b.operationName === "string" ? b.operationName : undefined;
    const problems = [...extra.map((k) => `GraphQL: unknown body key ${k}`), ...checkGraphql(b.query, variables, operationName)];
    if (problems.length) return { problems };
    const document = parse(b.query);
    const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (operationName === undefined || d.name?.value === operationName));
    if (op?.kind === Kind.OPERATION_DEFINITION) {
      entry.graphqlOperation = op.operation === OperationTypeNode.MUTATION ? "mutation" : "query";
      entry.mutating = op.operation === OperationTypeNode.MUTATION;
      entry.graphqlFields = op.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
      info.rootFields = entry.graphqlFields;
      info.operationName = op.name?.value;
    }
    const ctx = { state, web, takeStale: () => faults.takeStale() };
    return { problems: [], run: () => ({ status: 200, body: runGraphql(document, variables, operationName, ctx) }) };
  };

  const restRequest = (method: string, path: string, body: unknown, req: IncomingMessage): { problems: string[]; run?: () => Answer } => {
    const problems = checkRestRequest({ method, path, body });
    if (problems.length) return { problems };
    const match = matchRestOperation(method, path)!;
    const key = `${match.operation.method} ${match.operation.path}`;
    const handler = ROUTES[key];
    const appHandler = appRoutes[key];
    return {
      problems: [],
      run: (): RestAnswer => {
        if (appHandler) return appHandler({ state, params: match.params, query: match.query, headers: req.headers, urls: { api, web }, path });
        if (!handler) return notFound(`fake-github does not serve ${match.operation.method} ${match.operation.path}`);
        const repo = state.repo(match.params.owner ?? "", match.params.repo ?? "");
        if (!repo) return notFound();
        const urls = { api, web };
        return handler({ state, repo, params: match.params, query: match.query, body: (body ?? {}) as Record<string, unknown>, headers: req.headers, urls, path });
      },
    };
  };

  /** Writes the answer (a 304 when If-None-Match names its ETag) and returns the status sent. */
  const send = (res: ServerResponse, req: IncomingMessage, answer: Answer, resource: "core" | "graphql"): number => {
    const headers: Record<string, string> = { "x-github-request-id": `FAKE:${++requestId}`, "x-github-api-version-selected": "2022-11-28" };
    let text = answer.raw ?? (answer.body === undefined ? "" : JSON.stringify(answer.body));
    let status = answer.status;
    if (req.method === "GET" && status === 200) {
      headers.etag = `W/"${createHash("sha1").update(text).digest("hex")}"`;
      const inm = req.headers["if-none-match"];
      if (inm !== undefined && inm.split(/\s*,\s*/).includes(headers.etag)) {
        status = 304;
        text = "";
      }
    }
    // A 304 does not count against the primary limit.
    if (status !== 304) used[resource]++;
    Object.assign(headers, {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(limit - used[resource], 0)),
      "x-ratelimit-reset": String(resetAt),
      "x-ratelimit-used": String(used[resource]),
      "x-ratelimit-resource": resource,
    });
    if (text !== "") headers["content-type"] = answer.raw === undefined ? "application/json; charset=utf-8" : "text/plain; charset=utf-8";
    Object.assign(headers, answer.headers ?? {});
    res.writeHead(status, headers);
    res.end(status === 304 || status === 204 ? undefined : text);
    return status;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = (req.method ?? "GET").toUpperCase();
    const raw = new URL(req.url ?? "/", "http://fake.test");
    const pathname = raw.pathname === "/api/graphql" ? "/graphql" : raw.pathname.replace(/^\/api\/v3(?=\/)/, "");
    const path = `${pathname}${raw.search}`;
    const text = await readBody(req);
    const entry: FakeRequest = { method, path, body: undefined, status: 0, mutating: method !== "GET" && method !== "HEAD", ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) };
    requests.push(entry);
    const isGraphql = method === "POST" && pathname === "/graphql";
    const resource = isGraphql ? "graphql" : "core";
    if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
    const reply = (answer: Answer) => {
      entry.status = send(res, req, answer, resource);
    };
    if (opts.token !== undefined && !new RegExp(`^(token|bearer) ${opts.token}$`, "i").test(req.headers.authorization ?? "")) {
      return reply({ status: 401, body: { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" } });
    }
    try {
      entry.body = text === "" ? undefined : JSON.parse(text);
    } catch {
      state.schemaProblems.push(`${method} ${path}: body is not JSON`);
      return reply({ status: 400, body: { message: "Problems parsing JSON" } });
    }
    const info: RequestInfo = { method, path };
    const planned = isGraphql ? graphqlRequest(entry.body, entry, info) : restRequest(method, path, entry.body, req);
    if (planned.problems.length || !planned.run) {
      state.schemaProblems.push(...planned.problems.map((p) => `${method} ${path}: ${p}`));
      return reply(problemAnswer(planned.problems));
    }
    const fault = faults.takeBefore(info);
    if (fault) {
      entry.fault = fault.kind;
      return reply(faultAnswer(fault, isGraphql, nowSeconds()));
    }
    state.readPushes();
    const answer = planned.run();
    if (!isGraphql && answer.status >= 200 && answer.status < 300 && answer.raw === undefined) {
      state.schemaProblems.push(...checkRestResponse({ method, path, status: answer.status, body: answer.body }).map((p) => `fake-github answer: ${p}`));
    }
    if (faults.takeDrop(info)) {
      entry.status = answer.status;
      entry.fault = "drop";
      req.socket.destroy();
      return;
    }
    reply(answer);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      state.schemaProblems.push(`fake-github crashed on ${req.method} ${req.url}: ${err instanceof Error ? err.stack : String(err)}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "fake-github crashed" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: api,
    state,
    requests,
    faults,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
