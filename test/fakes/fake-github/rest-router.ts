// What every REST handler of the fake shares: its context, its answer, GitHub's error bodies and
// GitHub's pagination (`per_page` up to 100, `page`, and a Link header with next/last/first/prev).
import type { IncomingHttpHeaders } from "node:http";
import type { Urls } from "./rest-shapes.ts";
import type { FakeRepository } from "./records.ts";
import type { FakeGitHubState } from "./state.ts";

export interface RestContext {
  state: FakeGitHubState;
  repo: FakeRepository;
  /** Decoded path parameters of the matched template. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body (already checked against the operation's schema). */
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  urls: Urls;
  /** The request's path and query as received, for Link headers. */
  path: string;
}

export interface RestAnswer {
  status: number;
  body?: unknown;
  /** A non-JSON body (raw file contents), sent as text/plain. */
  raw?: string;
  headers?: Record<string, string>;
}

export type RestHandler = (ctx: RestContext) => RestAnswer;

const DOCS = "https://docs.github.com/rest";

export function notFound(message = "Not Found"): RestAnswer {
  return { status: 404, body: { message, documentation_url: DOCS, status: "404" } };
}

export function gone(message: string): RestAnswer {
  return { status: 410, body: { message, documentation_url: DOCS, status: "410" } };
}

/** GitHub's 422: a message and, for field errors, `errors: [{resource, code, field, message?}]`. */
export function unprocessable(message: string, errors?: Record<string, string>[]): RestAnswer {
  return { status: 422, body: { message, ...(errors ? { errors } : {}), documentation_url: DOCS, status: "422" } };
}

export function num(text: string | undefined): number {
  return Number(text);
}

/** One page of `items`, with GitHub's Link header built on the request's own URL. */
export function paginate(ctx: RestContext, items: unknown[]): RestAnswer {
  const perPage = Math.min(Math.max(Number(ctx.query.get("per_page") ?? 30) || 30, 1), 100);
  const page = Math.max(Number(ctx.query.get("page") ?? 1) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const url = new URL(ctx.path, ctx.urls.api);
  const link = (p: number, rel: string) => {
    const u = new URL(url);
    u.searchParams.set("page", String(p));
    return `<${ctx.urls.api}${u.pathname}${u.search}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(Math.min(page - 1, last), "prev"));
  if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
  if (page > 1) links.push(link(1, "first"));
  const body = items.slice((page - 1) * perPage, page * perPage);
  return { status: 200, body, ...(links.length ? { headers: { link: links.join(", ") } } : {}) };
}
