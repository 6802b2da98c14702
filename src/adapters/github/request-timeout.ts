// fetch has no timeout of its own, and a hung request would hold a reconcile (and the ledger
// branch's writer slot) forever. Each attempt gets its own deadline; a missed one looks to
// plugin-retry like a 5xx (status 500 and the request options), so it is retried the same way.
import type { Octokit } from "@octokit/core";

export class GitHubTimeoutError extends Error {
  override readonly name = "GitHubTimeoutError";
  /** What plugin-retry reads to decide on a retry. */
  readonly status = 500;

  constructor(
    readonly ms: number,
    readonly request: unknown,
  ) {
    super(`no answer from GitHub within ${ms} ms`);
  }
}

export function useRequestTimeout(octokit: Octokit, ms: number): void {
  octokit.hook.wrap("request", async (request, options) => {
    const signal = AbortSignal.timeout(ms);
    // Inner hooks are bound to this very options object (before-after-hook), so it is changed in
    // place; a retry passes through here again and gets a fresh deadline.
    options.request.signal = signal;
    try {
      const response = await request(options);
      // @octokit/request reads a JSON body after the headers and swallows a failure there as "".
      if (signal.aborted && response.data === "") throw new GitHubTimeoutError(ms, options);
      return response;
    } catch (err) {
      if (signal.aborted && !(err instanceof GitHubTimeoutError)) throw new GitHubTimeoutError(ms, options);
      throw err;
    }
  });
}
