// The GitHub App: signed webhooks in, one reconcile at a time per repository, workers dispatched to
// the repository's Actions. The router's own Octokit (throttling, retries, conditional GETs) talks to
// GitHub as each installation, its token made and renewed from the app's key (@octokit/auth-app),
// exactly as the Action talks with its job token. Stateless: the ledger on GitHub is the only state,
// so any number of replicas may run; compare-and-swap decides between them.
import { classifierFromEnv } from "../../adapters/classifier-ai/classifier-from-env.ts";
import type { ConfigSnapshot } from "../../adapters/github/config-graphql.ts";
import { readConfigSnapshot, snapshotSource } from "../../adapters/github/config-graphql.ts";
import type { GitHubOctokit } from "../../adapters/github/create-octokit.ts";
import { triggerFromEvent } from "../../adapters/github/event-trigger.ts";
import { octokitGitHub } from "../../adapters/github/octokit-github.ts";
import { githubLedgerStore } from "../../adapters/ledger-github/github-ledger-store.ts";
import { attemptKey, newTraceId, systemBackoff, systemClock } from "../../adapters/system/system.ts";
import type { GitHubIo, ReconcileDeps } from "../../app/app-deps.ts";
import { reconcileOnGitHub } from "../../app/reconcile-github.ts";
import { learntAccountOf } from "../../app/router-account.ts";
import { DispatchExecutor } from "../../app/remote-worker.ts";
import { RepoQueue } from "../../app/repo-queue.ts";
import { LocalWorkers } from "./local-workers.ts";
import type { Target } from "./installations.ts";
import { InstallationClients, targetOf } from "./installations.ts";
import { gitAuthEnv } from "../../adapters/workspace-git/git-auth-env.ts";
import { isRouterError } from "../../core/errors.ts";
import type { Clock, Log } from "../../core/ports.ts";
import type { Trigger } from "../../core/reconcile/trigger.ts";
import { describeTrigger } from "../../core/reconcile/trigger.ts";
import { makeRedactor, secretValuesOf } from "../../core/secrets/redact.ts";
import type { RepoSetup } from "../shared/repo-setup.ts";
import { loadRepoSetup, withWorkerLease } from "../shared/repo-setup.ts";
import type { Acceptance, Delivery, NodeHandler } from "./webhook-handler.ts";
import { DeliveryMemory, webhookHandler } from "./webhook-handler.ts";

type Env = Readonly<Record<string, string | undefined>>;

export interface RouterAppOptions {
  /** The GitHub App's id and private key (PEM). */
  credentials: { appId: number; privateKey: string };
  /** The current webhook secret first, then previous ones still accepted. */
  secrets: readonly string[];
  /** REST base URL (https://api.github.com, or https://HOST/api/v3). */
  apiUrl: string;
  /** Web URL for links (https://github.com, or https://HOST). */
  serverUrl: string;
  /** The classifier's keys and base URLs (the agents' keys stay in the repositories' Actions secrets). */
  env: Env;
  /** A logger whose every line carries this trace id. */
  logFor(traceId: string): Log;
  /** Seconds between ticks of every installed repository; 0: no timer (tests call `tickAll`). */
  tickSeconds?: number;
  /** Reconciles running at once, across repositories; default 8. */
  concurrency?: number;
  /** Deliveries that may wait per repository; default 100 (more answer 503). */
  maxPendingPerRepo?: number;
  /** How long a repository's config snapshot is reused; default 60 s. */
  configTtlMs?: number;
  /** Spacing of GitHub writes; GitHub's advice unless a test needs it faster. */
  limits?: { writeMinTimeMs: number; notificationMinTimeMs: number };
  clock?: Clock;
  path?: string;
  /**
   * Agents on this machine for repositories with `execution.executor: inline`: clones under
   * `workdir`, at most `slots` agents at once. Absent: such repositories' tasks are made, routed and
   * shown, and nothing is claimed.
   */
  local?: { workdir: string; slots: number; cloneUrl?: (owner: string, repo: string) => string };
}

export interface RouterApp {
  /** POST /api/github/webhooks and GET /healthz, as a node:http / Express handler. */
  handler: NodeHandler;
  /** A verified delivery (the handler's, or Probot's): queued, ignored, refused, or the queue is full. Does not dedupe. */
  accept(delivery: Delivery): Acceptance;
  queue: RepoQueue;
  deliveries: DeliveryMemory;
  /** Queues a tick for every repository of every installation; resolves with how many were queued. */
  tickAll(): Promise<number>;
  /** Starts the tick timer (when tickSeconds > 0). */
  start(): void;
  /** Stops the timer and new work, and waits for queued work to finish. */
  stop(): Promise<void>;
}


const CONFIG_FILE = ".github/agent-router.yml";

export function createRouterApp(opts: RouterAppOptions): RouterApp {
  const root = opts.logFor(newTraceId());
  const queue = new RepoQueue({ concurrency: opts.concurrency ?? 8, maxPendingPerRepo: opts.maxPendingPerRepo ?? 100, log: root });
  const deliveries = new DeliveryMemory();
  const clients = new InstallationClients(opts);
  const configs = new Map<string, { at: number; snapshot: ConfigSnapshot | null; setup?: Promise<RepoSetup> }>();
  const clock = opts.clock ?? systemClock;
  const started = clock.now().getTime();
  let timer: ReturnType<typeof setInterval> | undefined;
  let ticking = false;
  const botAccount: { id?: number | undefined } = {};
  // The secrets of the app's environment; installation tokens have a token shape (ghs_…), which the
  // redactor always removes.
  const redact = makeRedactor(secretValuesOf(opts.env));
  const locals = opts.local ? new LocalWorkers({ workdir: opts.local.workdir, slots: opts.local.slots, cloneUrl: opts.local.cloneUrl ?? ((o, r) => `${opts.serverUrl}/${o}/${r}.git`), env: opts.env }) : undefined;

  /**
   * The repository's config at its default branch's head, read again after `configTtlMs`, and its
   * parsed setup, kept while the commit stays the same (parsing profiles and rules costs more CPU
   * than the rest of an idle reconcile). Null: the repository is not set up.
   */
  async function setupOf(t: Target, octokit: GitHubOctokit): Promise<{ snapshot: ConfigSnapshot; setup: Promise<RepoSetup> } | null> {
    const key = `${t.owner}/${t.repo}`;
    const now = clock.now().getTime();
    let entry = configs.get(key);
    if (!entry || now - entry.at >= (opts.configTtlMs ?? 60_000)) {
      const snapshot = await readConfigSnapshot(octokit, t);
      const same = entry?.snapshot && snapshot && entry.snapshot.commit === snapshot.commit ? entry.setup : undefined;
      entry = { at: now, snapshot, ...(same ? { setup: same } : {}) };
      configs.set(key, entry);
    }
    if (!entry.snapshot?.files.has(CONFIG_FILE)) return null;
    if (!entry.setup) {
      const setup = loadRepoSetup(snapshotSource(entry.snapshot));
      // An invalid config is read again next time (someone may be fixing it), not kept as a failure.
      setup.catch(() => configs.get(key) === entry && delete entry.setup);
      entry.setup = setup;
    }
    return { snapshot: entry.snapshot, setup: entry.setup };
  }

  async function reconcileRepo(t: Target, trigger: Trigger, traceId: string, deliveryId?: string): Promise<void> {
    const log = opts.logFor(traceId).child({ repository: `${t.owner}/${t.repo}`, ...(deliveryId ? { deliveryId } : {}) });
    const octokit = clients.forInstallation(t.installationId, log);
    const found = await setupOf(t, octokit);
    if (!found) {
      log.debug(`no ${CONFIG_FILE} on the default branch; the repository is not set up`, { trigger: describeTrigger(trigger) });
      return;
    }
    const { snapshot } = found;
    const setup = await found.setup;
    const config = withWorkerLease(setup);
    const api = octokitGitHub(octokit, { owner: t.owner, repo: t.repo, log });
    const classifier = await classifierFromEnv(config.router.classifier, opts.env, setup.classifierTemplate);
    // The app's bot account is the same in every installation: learnt once (by the first sync that
    // needs it), then given to every later reconcile so that none asks again.
    const github: GitHubIo = { api, serverUrl: opts.serverUrl, ...(botAccount.id !== undefined ? { accountId: botAccount.id } : {}) };
    const deps: ReconcileDeps & { github: GitHubIo } = {
      store: githubLedgerStore(api, { branch: config.ledger.branch, path: config.ledger.path }),
      clock,
      backoff: systemBackoff,
      config,
      traceId,
      actor: "router",
      conflictBaseDelayMs: 500,
      log,
      redact,
      github,
      routing: { ...setup.routing, config },
      classifier: classifier.classifier,
      keyFor: attemptKey,
      random: Math.random,
      jobs: setup.jobs,
    };
    // Workers run in the repository's Actions (the workflow `init --github` writes), or with
    // `executor: inline` on this machine when the app offers it; otherwise nothing is claimed.
    const key = `${t.owner}/${t.repo}`;
    let run;
    if (config.execution.executor === "actions") {
      const executor = new DispatchExecutor(github, { workflow: config.execution.workflow, ref: snapshot.branch }, log);
      run = await reconcileOnGitHub(trigger, deps, { maxWorkers: config.execution.parallelism, executor });
    } else if (locals) {
      const auth = async () => gitAuthEnv(opts.serverUrl, ((await octokit.auth({ type: "installation" })) as { token: string }).token);
      const recordNext = () => void queue.push(key, { kind: "tick", label: "record a finished local run", run: () => reconcileRepo(t, { kind: "tick" }, newTraceId()) });
      const executor = await locals.prepare(t, snapshot.branch, deps, auth, recordNext);
      const results = executor.drain();
      try {
        run = await reconcileOnGitHub(trigger, deps, { maxWorkers: Math.min(config.execution.parallelism, locals.free()), executor, busy: executor.busy(), results });
      } catch (err) {
        executor.requeue(results);
        throw err;
      }
    } else {
      log.debug("execution.executor is inline and this app runs no agents: nothing is claimed");
      run = await reconcileOnGitHub(trigger, deps, { maxWorkers: 0 });
    }
    botAccount.id ??= await learntAccountOf(github);
    log.info("reconciled", { trigger: describeTrigger(trigger), outcome: run.result.outcome.kind, claims: run.result.claims.length, written: run.result.written });
  }

  function accept(d: Delivery): Acceptance {
    const traceId = newTraceId();
    const log = opts.logFor(traceId).child({ deliveryId: d.id, event: d.name });
    // The app's own dispatches and anything not a task event are not the app's work.
    if (d.name === "workflow_dispatch") return { status: "ignored", why: "worker runs are the Action's" };
    let reading;
    try {
      reading = triggerFromEvent({ name: d.name, payload: d.payload, deliveryId: d.id });
    } catch (err) {
      if (isRouterError(err, "E_EVENT_INVALID")) {
        log.warn("webhook payload refused", { why: err.message });
        return { status: "invalid", why: err.message };
      }
      throw err;
    }
    if ("ignored" in reading) {
      log.debug("webhook ignored", { why: reading.ignored });
      return { status: "ignored", why: reading.ignored };
    }
    const target = targetOf(d.payload);
    if (!target) return { status: "invalid", why: "the payload names no installation and repository (installation.id, repository.full_name)" };
    const trigger = reading.trigger;
    const queued = queue.push(`${target.owner}/${target.repo}`, { kind: "event", label: describeTrigger(trigger), run: () => reconcileRepo(target, trigger, traceId, d.id) });
    if (queued === "full" || queued === "closed") return { status: "full" };
    log.info("webhook queued", { repository: `${target.owner}/${target.repo}`, trigger: describeTrigger(trigger) });
    return { status: "queued" };
  }

  async function tickAll(): Promise<number> {
    const traceId = newTraceId();
    const log = opts.logFor(traceId).child({ tick: true });
    let queued = 0;
    for await (const t of clients.targets(log)) {
      const r = queue.push(`${t.owner}/${t.repo}`, { kind: "tick", label: "tick", run: () => reconcileRepo(t, { kind: "tick" }, traceId) });
      if (r === "queued") queued++;
    }
    log.debug("tick queued", { repositories: queued });
    return queued;
  }

  const handler = webhookHandler({
    ...(opts.path ? { path: opts.path } : {}),
    secrets: opts.secrets,
    deliveries,
    accept,
    health: () => ({ ...queue.stats(), agentsRunning: locals?.running ?? 0, deliveriesRemembered: deliveries.size, uptimeSeconds: Math.round((clock.now().getTime() - started) / 1000) }),
    log: root,
  });

  return {
    handler,
    accept,
    queue,
    deliveries,
    tickAll,
    start() {
      const seconds = opts.tickSeconds ?? 60;
      if (seconds <= 0 || timer) return;
      timer = setInterval(() => {
        if (ticking) return;
        ticking = true;
        tickAll()
          .catch((err: unknown) => root.error("tick failed", { error: err instanceof Error ? err.message : String(err) }))
          .finally(() => (ticking = false));
      }, seconds * 1000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      // Agents on this machine stop first; the reconciles that give their claims back are queued
      // as they end, and run before the queue closes.
      await locals?.stop();
      await queue.close();
    },
  };
}
