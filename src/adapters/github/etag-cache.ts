// Conditional GETs. GitHub answers `If-None-Match` with 304 when nothing changed, and a 304 does not
// count against the primary rate limit: reconciles re-read the same comments, issues and
// permissions all the time, so this is most of the budget. Octokit throws a RequestError for a 304;
// the hook below turns it back into the cached answer, so callers (and `paginate`, which follows the
// cached `link` header) never see it.
import type { Octokit } from "@octokit/core";
import type { Hooks } from "@octokit/core/types";

interface Entry {
  etag: string;
  response: Hooks["request"]["Result"];
}

/** Headers of a 304 that describe this request rather than the cached body. */
const FRESH_HEADERS = ["link", "x-github-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used", "date"];

/** A least-recently-used map of GET answers by method, URL and accept header. */
export class EtagCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries: number) {}

  get(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * A full page without a next link may have gained a next page while its own body (and so its ETag)
 * stayed the same, and a 304 need not carry the new link: such a page is asked for unconditionally.
 */
function trustworthy(entry: Entry, url: string): boolean {
  const data: unknown = entry.response.data;
  if (!Array.isArray(data)) return true;
  const perPage = Number(new URL(url).searchParams.get("per_page") ?? 30);
  return /rel="next"/.test(entry.response.headers.link ?? "") || data.length < perPage;
}

function status304(err: unknown): Record<string, string | undefined> | null {
  const e = err as { status?: unknown; response?: { headers?: Record<string, string | undefined> } } | null;
  return e?.status === 304 ? (e.response?.headers ?? {}) : null;
}

/**
 * Registers the conditional-request hook on `octokit`. Register it before the retry and throttling
 * plugins wrap the request (it is then the innermost hook), so a 304 never reaches them as an error.
 */
export function useEtagCache(octokit: Octokit, cache: EtagCache): void {
  // Requests whose If-None-Match this hook set (a retry comes back with the same options object).
  const ours = new WeakSet<object>();
  octokit.hook.wrap("request", async (request, options) => {
    if (options.method !== "GET" || (options.headers["if-none-match"] !== undefined && !ours.has(options))) return request(options);
    const parsed = octokit.request.endpoint.parse(options);
    const key = `${parsed.url} ${parsed.headers.accept ?? ""}`;
    const hit = cache.get(key);
    const cached = hit && trustworthy(hit, parsed.url) ? hit : undefined;
    // Inner hooks are bound to this very options object (before-after-hook), so it is changed in place.
    if (cached) {
      options.headers["if-none-match"] = cached.etag;
      ours.add(options);
    } else if (ours.delete(options)) {
      delete options.headers["if-none-match"];
    }
    try {
      const response = await request(options);
      const etag = response.headers.etag;
      if (etag) cache.set(key, { etag, response: { ...response, data: structuredClone<unknown>(response.data) } });
      return response;
    } catch (err) {
      const fresh = status304(err);
      if (!cached || !fresh) throw err;
      const headers = { ...cached.response.headers };
      for (const name of FRESH_HEADERS) if (fresh[name] !== undefined) Object.assign(headers, { [name]: fresh[name] });
      return { ...cached.response, headers, data: structuredClone<unknown>(cached.response.data) };
    }
  });
}
