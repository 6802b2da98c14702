// A repository's agent-router setup (config, profiles, routing rules, enabled jobs) from any config
// source (the Action's checkout, the app's snapshot over GraphQL), checked: any error stops the run
// with every problem listed, before anything is read from or written to the ledger.
import { formatConfigProblem, loadConfig } from "../../adapters/config-fs/load-config.ts";
import { loadEnabledJobs } from "../../adapters/config-fs/load-jobs.ts";
import { loadRouting } from "../../adapters/config-fs/load-routing.ts";
import type { Job } from "../../core/config/job.ts";
import type { MainConfig } from "../../core/config/main-config.ts";
import { RouterError } from "../../core/errors.ts";
import type { ConfigSource } from "../../core/ports.ts";
import type { RoutingSetup } from "../../core/routing/decide-route.ts";

export interface RepoSetup {
  config: MainConfig;
  routing: RoutingSetup;
  classifierTemplate: string;
  jobs: Job[];
}

/** Minutes a dispatched worker may take beyond its agent's time limit: queueing, checkout, installing the CLI. */
export const WORKER_SLACK_MINUTES = 20;

export async function loadRepoSetup(source: ConfigSource): Promise<RepoSetup> {
  const loaded = await loadConfig(source);
  const errors = loaded.problems.filter((p) => p.severity === "error");
  if (errors.length > 0) throw new RouterError("E_CONFIG_INVALID", `${loaded.file} is invalid:\n${errors.map((p) => `  ${formatConfigProblem(p)}`).join("\n")}`, { problems: errors });
  const routing = await loadRouting(source, loaded.config);
  const bad = routing.problems.filter((p) => p.severity === "error");
  if (bad.length > 0) throw new RouterError("E_CONFIG_INVALID", `profiles, routing rules or the classifier template are invalid:\n${bad.map((p) => `  ${formatConfigProblem(p)}`).join("\n")}`);
  const jobs = await loadEnabledJobs(source, new Set(routing.profiles.keys()));
  return { config: loaded.config, routing: { config: loaded.config, profiles: routing.profiles, rules: routing.rules }, classifierTemplate: routing.classifierTemplate, jobs };
}

/**
 * The config for a router whose workers run elsewhere (dispatched Actions runs): a claim's lease
 * covers the whole worker run, since a worker with a read-only token cannot renew it.
 */
export function withWorkerLease(setup: RepoSetup): MainConfig {
  const { config } = setup;
  const profileTimeouts = [...setup.routing.profiles.values()].map((p) => p.timeoutMinutes);
  const agentTimeouts = Object.values(config.agents).flatMap((a) => (a.timeoutMinutes === undefined ? [] : [a.timeoutMinutes]));
  const longest = Math.max(0, ...profileTimeouts, ...agentTimeouts);
  return { ...config, execution: { ...config.execution, leaseMinutes: Math.min(24 * 60, Math.max(config.execution.leaseMinutes, longest + WORKER_SLACK_MINUTES)) } };
}
