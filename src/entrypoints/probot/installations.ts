// The app's installations: where a webhook points (installation and repository), the router's
// Octokit per installation (its token made from the app's key and renewed by @octokit/auth-app),
// and every repository of every installation for the ticks.
import { createAppAuth } from "@octokit/auth-app";
import type { GitHubOctokit } from "../../adapters/github/create-octokit.ts";
import { createOctokit } from "../../adapters/github/create-octokit.ts";
import type { Log } from "../../core/ports.ts";

export interface Target {
  installationId: number;
  owner: string;
  repo: string;
}

/** Installation id and repository of a webhook payload, or null. */
export function targetOf(payload: unknown): Target | null {
  const p = payload as { installation?: { id?: unknown }; repository?: { name?: unknown; owner?: { login?: unknown } } } | null;
  const id = p?.installation?.id;
  const owner = p?.repository?.owner?.login;
  const repo = p?.repository?.name;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0 || typeof owner !== "string" || typeof repo !== "string" || owner === "" || repo === "") return null;
  return { installationId: id, owner, repo };
}

/**
 * The router's Octokit per installation, kept for the app's life: it renews the installation's token
 * itself, and its write spacing is its own (an installation's limits are its own).
 */
export class InstallationClients {
  private readonly byInstallation = new Map<number, GitHubOctokit>();

  constructor(private readonly opts: { credentials: { appId: number; privateKey: string }; apiUrl: string; limits?: { writeMinTimeMs: number; notificationMinTimeMs: number } }) {}

  forInstallation(installationId: number, log: Log): GitHubOctokit {
    let octokit = this.byInstallation.get(installationId);
    if (!octokit) {
      octokit = createOctokit({ app: { ...this.opts.credentials, installationId, createAppAuth }, baseUrl: this.opts.apiUrl, log, throttle: { ownGroups: true, ...this.opts.limits } });
      this.byInstallation.set(installationId, octokit);
    }
    return octokit;
  }

  /** Every repository of every installation, installation by installation. */
  async *targets(log: Log): AsyncGenerator<Target> {
    const app = createOctokit({ app: { ...this.opts.credentials, createAppAuth }, baseUrl: this.opts.apiUrl, log });
    const installations = await app.paginate("GET /app/installations", { per_page: 100 });
    for (const inst of installations) {
      try {
        const repos = await this.forInstallation(inst.id, log).paginate("GET /installation/repositories", { per_page: 100 });
        for (const r of repos) yield { installationId: inst.id, owner: r.owner.login, repo: r.name };
      } catch (err) {
        log.warn("an installation's repositories could not be listed; it is skipped this tick", { installationId: inst.id, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}
