import type { Log } from "../../core/ports.ts";
import type { GitHubOctokit } from "./create-octokit.ts";

/** What every part of the adapter needs: the client, the repository, a logger. */
export interface RepoContext {
  octokit: GitHubOctokit;
  owner: string;
  repo: string;
  log: Log;
}

/** Lists are read 100 at a time (GitHub's maximum), through every page. */
export const PER_PAGE = 100;
