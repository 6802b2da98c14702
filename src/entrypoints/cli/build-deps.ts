import { stat } from "node:fs/promises";
import { userInfo } from "node:os";
import type { AppDeps } from "../../app/app-deps.ts";
import { RouterError } from "../../core/errors.ts";
import type { LoadedConfig } from "../../adapters/config-fs/load-config.ts";
import { formatConfigProblem, loadConfig } from "../../adapters/config-fs/load-config.ts";
import { GitLedgerStore } from "../../adapters/ledger-git/git-ledger-store.ts";
import { runGit } from "../../adapters/ledger-git/run-git.ts";
import { newTraceId, systemBackoff, systemClock } from "../../adapters/system/system.ts";

export interface CliContext {
  root: string;
  loaded: LoadedConfig;
  store: GitLedgerStore;
  deps: AppDeps;
}

/** Finds the repository, loads its config and wires the local adapters. */
export async function buildCliContext(cwd: string, opts: { allowInvalidConfig?: boolean } = {}): Promise<CliContext> {
  const dir = await stat(cwd).catch(() => null);
  if (!dir?.isDirectory()) throw new RouterError("E_USAGE", `${cwd} is not a directory`, { cwd }, { fix: "Pass an existing directory with -C, or run agent-router inside your repository." });
  const top = await runGit(cwd, ["rev-parse", "--show-toplevel"]);
  if (top.code !== 0) {
    throw new RouterError("E_GIT", `${cwd} is not inside a git repository`, { cwd }, { fix: "Run agent-router inside your repository (or `git init` first), or pass -C <dir>." });
  }
  const root = top.stdout.trim();
  const loaded = await loadConfig(root);
  const errors = loaded.problems.filter((p) => p.severity === "error");
  if (errors.length > 0 && !opts.allowInvalidConfig) {
    throw new RouterError("E_CONFIG_INVALID", `${loaded.file} is invalid:\n${errors.map((p) => `  ${formatConfigProblem(p)}`).join("\n")}`, { problems: errors });
  }
  const store = new GitLedgerStore({ cwd: root, branch: loaded.config.ledger.branch, path: loaded.config.ledger.path });
  const deps: AppDeps = {
    store,
    clock: systemClock,
    backoff: systemBackoff,
    config: loaded.config,
    traceId: newTraceId(),
    actor: `cli:${userInfo().username}`,
    conflictBaseDelayMs: 100,
  };
  return { root, loaded, store, deps };
}
