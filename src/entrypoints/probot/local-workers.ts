// Running agents on the app's own machine (a repository's `execution.executor: inline`): a clone
// per repository under the app's work folder, kept at the default branch's head, one worktree per
// attempt as the CLI does, and a LocalExecutor per repository that runs at most `slots` agents at
// once across all repositories. A finished run asks for its repository's next reconcile, which
// records the result (one commit) and claims what comes next.
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { cliAgentRunner } from "../../adapters/agent-cli/cli-agent-runner.ts";
import { processRegistry } from "../../adapters/agent-cli/process-registry.ts";
import { runFolders } from "../../adapters/agent-cli/run-folders.ts";
import { repoFiles } from "../../adapters/context-fs/repo-files.ts";
import { runGit } from "../../adapters/ledger-git/run-git.ts";
import { newBoundary, systemTimer } from "../../adapters/system/system.ts";
import { gitWorktrees } from "../../adapters/workspace-git/git-worktrees.ts";
import type { ReconcileDeps, WorkerIo } from "../../app/app-deps.ts";
import { LocalExecutor } from "../../app/local-executor.ts";
import { RouterError } from "../../core/errors.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** The agents' keys the app passes on to the agents it runs (each agent sees only its own: the runner's allowlist). */
const AGENT_KEYS = ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "CODEX_API_KEY", "OPENAI_API_KEY"] as const;

export interface LocalWorkersOptions {
  /** Clones live under `<workdir>/<owner>/<repo>`. */
  workdir: string;
  /** Agents running at once on this machine, all repositories together. */
  slots: number;
  /** Where to clone from; default `<serverUrl>/<owner>/<repo>.git`. */
  cloneUrl: (owner: string, repo: string) => string;
  env: Env;
}

interface RepoWorkers {
  executor: LocalExecutor;
}

export class LocalWorkers {
  private readonly repos = new Map<string, RepoWorkers>();
  private readonly abort = new AbortController();

  constructor(private readonly opts: LocalWorkersOptions) {}

  /** Agents running now, all repositories together. */
  get running(): number {
    let n = 0;
    for (const r of this.repos.values()) n += r.executor.size;
    return n;
  }

  /**
   * The repository's executor, its clone brought to the default branch's head first. `auth` gives
   * git's credentials (asked before each fetch or push: installation tokens expire); `onFinished`
   * is called when one of its runs ends, so the app queues the reconcile that records it.
   */
  async prepare(t: { owner: string; repo: string }, branch: string, deps: ReconcileDeps, auth: () => Promise<Record<string, string>>, onFinished: () => void): Promise<LocalExecutor> {
    const key = `${t.owner}/${t.repo}`;
    const dir = join(this.opts.workdir, t.owner, t.repo);
    await this.sync(dir, this.opts.cloneUrl(t.owner, t.repo), branch, await auth());
    const existing = this.repos.get(key);
    if (existing) return existing.executor;
    const common = join(dir, ".git");
    const runRoot = join(common, "agent-router", "runs");
    const agentEnv = Object.fromEntries(AGENT_KEYS.flatMap((k) => (this.opts.env[k] ? [[k, this.opts.env[k]]] : [])));
    // The agent CLIs are the machine's own (on PATH), installed by whoever runs the app.
    const path = this.opts.env["PATH"];
    const io: WorkerIo = {
      runner: cliAgentRunner({ config: deps.config, hostEnv: { PATH: path, ...agentEnv }, runRoot, processes: processRegistry(join(common, "agent-router", "procs")) }),
      workspaces: gitWorktrees(dir, { remote: "origin", remoteEnv: auth, base: `refs/remotes/origin/${branch}` }),
      repoFor: (taskId: number) => repoFiles(dir, { taskId }),
      root: dir,
      profiles: deps.routing.profiles,
      newBoundary,
      timer: systemTimer,
      runFolders: runFolders(runRoot),
    };
    const executor = new LocalExecutor(deps, io, this.abort.signal, (e) => {
      if (e.kind === "performed" || e.kind === "reviewed" || e.kind === "error") onFinished();
    });
    this.repos.set(key, { executor });
    return executor;
  }

  /** How many more agents may start now (none once stopping: the last reconciles only record). */
  free(): number {
    if (this.abort.signal.aborted) return 0;
    return Math.max(0, this.opts.slots - this.running);
  }

  /** Stops every agent (their claims come back as released results) and waits for them. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all([...this.repos.values()].map((r) => r.executor.settle()));
  }

  /** Clones the repository once, then fetches and moves the working tree to the default branch's head. */
  private async sync(dir: string, url: string, branch: string, env: Record<string, string>): Promise<void> {
    const git = async (cwd: string, args: string[]) => {
      const r = await runGit(cwd, ["-c", "core.hooksPath=/dev/null", ...args], undefined, env);
      if (r.code !== 0) throw new RouterError("E_GIT", `git ${args[0]} for ${url.replace(/\/\/[^@/]*@/, "//")} failed: ${r.stderr.trim().slice(0, 500)}`, { args: args.slice(0, 1) }, { fix: "Check that the app can reach the repository (network, the installation's contents permission)." });
      return r;
    };
    // Its own .git, not `rev-parse`: inside a folder with no clone yet, git would find an enclosing
    // repository (the app's own checkout, say) and fetch there.
    const present = await stat(join(dir, ".git")).then(
      () => true,
      () => false,
    );
    if (!present) {
      await mkdir(dir, { recursive: true });
      await git(dir, ["clone", "--quiet", "--no-tags", url, "."]);
    } else {
      await git(dir, ["fetch", "--quiet", "--no-tags", "origin"]);
    }
    await git(dir, ["checkout", "--quiet", "--detach", `refs/remotes/origin/${branch}`]);
  }
}
