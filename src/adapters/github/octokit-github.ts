// The GitHub port on Octokit, for one repository. Build the client with `createOctokit` (retries,
// rate limits, conditional GETs); the parts live in issues-api, repo-api, ledger-graphql,
// viewer-api and project-status, and every failure leaves through github-errors as a RouterError.
import type { GitHub } from "../../core/github-port.ts";
import type { Log } from "../../core/ports.ts";
import type { GitHubOctokit } from "./create-octokit.ts";
import { issuesApi } from "./issues-api.ts";
import { ledgerGraphql } from "./ledger-graphql.ts";
import { projectStatus } from "./project-status.ts";
import { repoApi } from "./repo-api.ts";
import { viewerApi } from "./viewer-api.ts";

export interface OctokitGitHubOptions {
  owner: string;
  repo: string;
  log?: Log;
  /** The client for Projects v2 (an App or PAT token: GITHUB_TOKEN cannot reach projects); the main one when absent. */
  projectOctokit?: GitHubOctokit;
}

const silent: Log = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

export function octokitGitHub(octokit: GitHubOctokit, opts: OctokitGitHubOptions): GitHub {
  const ctx = { octokit, owner: opts.owner, repo: opts.repo, log: opts.log ?? silent };
  return {
    repository: `${opts.owner}/${opts.repo}`,
    ...issuesApi(ctx),
    ...repoApi(ctx),
    ...ledgerGraphql(ctx),
    ...viewerApi(ctx),
    ...projectStatus(opts.projectOctokit ? { ...ctx, octokit: opts.projectOctokit } : ctx),
  };
}
