// Helpers for app-layer tests: ReconcileDeps over a memory ledger, and the CLI verbs as reconciles.
import type { AppDeps, ReconcileDeps } from "../../src/app/app-deps.ts";
import { reconcile } from "../../src/app/reconcile.ts";
import type { TaskEvent } from "../../src/core/ledger/events.ts";
import { findTask, replaceTask } from "../../src/core/ledger/ledger.ts";
import type { Task } from "../../src/core/ledger/task.ts";
import { transition } from "../../src/core/ledger/transition.ts";
import type { Classifier } from "../../src/core/ports.ts";
import type { RouteDecision, RoutingSetup } from "../../src/core/routing/decide-route.ts";
import { mutateLedger } from "../../src/app/mutate-ledger.ts";
import { contextOf, mutateOptionsOf } from "../../src/app/app-deps.ts";
import type { WorkerIo } from "../../src/app/app-deps.ts";
import type { ReconcileResult } from "../../src/app/reconcile.ts";
import { loadRouting } from "../../src/adapters/config-fs/load-routing.ts";
import { MemoryLedgerStore } from "../../src/adapters/ledger-memory/memory-ledger-store.ts";
import { MainConfig } from "../../src/core/config/main-config.ts";
import type { Profile } from "../../src/core/config/profile.ts";
import type { Route } from "../../src/core/ledger/task.ts";
import type { Clock, ConfigSource, Log, RepoFiles } from "../../src/core/ports.ts";
import type { Claim } from "../../src/core/reconcile/plan-reconcile.ts";
import type { Script } from "../fakes/fake-agent-runner.ts";
import { FakeAgentRunner } from "../fakes/fake-agent-runner.ts";
import { FakeWorkspaces, MemoryRepoFiles } from "../fakes/fake-workspaces.ts";
import { ManualTimer } from "../fakes/manual-timer.ts";

/** AppDeps plus routing, with keys `key-<task>-<attempt>` and a fixed random. */
export function withRouting(deps: AppDeps, routing: RoutingSetup, classifier: Classifier | null = null): ReconcileDeps {
  return { ...deps, routing, classifier, keyFor: (id, n) => `key-${id}-${n}`, random: () => 0.5 };
}

/** `agent-router add`: one reconcile that creates the task. */
export async function addTask(deps: ReconcileDeps, title: string, more: { body?: string; labels?: string[]; hint?: { agent?: string; profile?: string } } = {}): Promise<Task> {
  const r = await reconcile({ kind: "cli", command: { verb: "add", title, body: more.body ?? "", labels: more.labels ?? [], ...(more.hint ? { hint: more.hint } : {}) } }, deps);
  if (r.outcome.kind !== "created") throw new Error(`add did not create a task: ${JSON.stringify(r.outcome)}`);
  return r.outcome.task;
}

/** `agent-router route ID`: the decision, as recorded. */
export async function routeTask(deps: ReconcileDeps, id: number): Promise<RouteDecision> {
  const r = await reconcile({ kind: "cli", command: { verb: "route", taskId: id } }, deps);
  return r.decisions.get(id)!;
}

/** Applies one event to one task in its own write (test setup that no verb offers, e.g. a hand-made route). */
export async function applyEvent(deps: AppDeps, id: number, event: TaskEvent): Promise<void> {
  await mutateLedger(
    deps.store,
    ({ ledger }) => ({ ledger: replaceTask(ledger, transition(findTask(ledger, id)!, event, contextOf(deps)).task), result: null, summary: `task ${id}: ${event.type}` }),
    mutateOptionsOf(deps),
  );
}

// ---------------------------------------------------------------------------------------------
// A whole app over fakes: memory ledger, stepping clock, scripted runner, per-attempt workspaces,
// a timer the test fires by hand. Shared by the app tests (reconcile, perform-attempt, serve…).

/** The time every app test starts at. */
export const T0 = Date.UTC(2026, 10, 1, 9, 0, 0);
export const BOUNDARY = "9d1e6b3f0a2c4e8d7b5a3c1e9f0d2b4a";

export interface SteppingClock extends Clock {
  /** Moves the time on by `ms`. */
  advance(ms: number): void;
  /** From now on every read also moves the time on by `ms` (0 stops it). */
  stepOnRead(ms: number): void;
}

/** A clock that moves only when told. */
export function steppingClock(start = T0): SteppingClock {
  let t = start;
  let step = 0;
  return { now: () => new Date((t += step)), advance: (ms) => void (t += ms), stepOnRead: (ms) => void (step = ms) };
}

/** Repository files held in memory, as a ConfigSource (`files` by repository-relative path). */
export function memorySource(files: Readonly<Record<string, string>> = {}): ConfigSource {
  return {
    describe: "test files",
    read: async (path) => files[path] ?? null,
    list: async (dir) => [...new Set(Object.keys(files).filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1).split("/")[0]!))].sort(),
  };
}

/**
 * The built-in profiles and rules with these repository files on top (`.github/agent-router/…`),
 * plus profiles made in code (e.g. a feature profile gated by approval). Fails on any problem.
 */
export async function testRouting(config: Record<string, unknown> = {}, files: Readonly<Record<string, string>> = {}, extra: (loaded: ReadonlyMap<string, Profile>) => Profile[] = () => []): Promise<RoutingSetup> {
  const main = MainConfig.parse(config);
  const loaded = await loadRouting(memorySource(files), main);
  const problems = loaded.problems.filter((p) => p.severity === "error");
  if (problems.length > 0) throw new Error(`test routing has problems: ${JSON.stringify(problems)}`);
  const profiles = new Map(loaded.profiles);
  for (const p of extra(loaded.profiles)) profiles.set(p.name, p);
  return { config: main, profiles, rules: loaded.rules };
}

/** The built-in feature profile under another name, gated by approval before it runs. */
export const gatedProfile = (loaded: ReadonlyMap<string, Profile>): Profile => ({ ...loaded.get("feature")!, name: "gated", approval: "before_run" });

export interface HarnessOptions {
  /** Scripts per agent for a FakeAgentRunner (or give `runner`). */
  scripts?: Record<string, Script>;
  runner?: FakeAgentRunner;
  store?: MemoryLedgerStore;
  classifier?: Classifier | null;
  repo?: RepoFiles;
  log?: Log;
  actor?: string;
}

export interface AppHarness {
  deps: ReconcileDeps;
  io: WorkerIo;
  store: MemoryLedgerStore;
  clock: SteppingClock;
  runner: FakeAgentRunner;
  workspaces: FakeWorkspaces;
  timer: ManualTimer;
  routing: RoutingSetup;
  task(id: number): Promise<Task>;
  tasks(): Promise<Task[]>;
  /** Adds a task and routes it by hand (an override to `agent`/`profile`, claude/feature by default). */
  add(title: string, route?: { agent?: string; profile?: string; complexity?: Route["complexity"] }): Promise<number>;
  /** `run ID`'s first reconcile: claims one attempt of the task (throws when it does not). */
  claim(id: number): Promise<Claim>;
  /** `run ID` in full: the claim, then a Work reconcile that performs and records it. */
  run(id: number, signal?: AbortSignal): Promise<ReconcileResult>;
}

/** An app over fakes, with routing from `testRouting` (or given). */
export function appHarness(routing: RoutingSetup, opts: HarnessOptions = {}): AppHarness {
  const store = opts.store ?? new MemoryLedgerStore();
  const clock = steppingClock();
  const base: AppDeps = { store, clock, backoff: { sleep: async () => undefined, random: () => 0.5 }, config: routing.config, traceId: "00-trace-01", actor: opts.actor ?? "cli:tester", ...(opts.log ? { log: opts.log } : {}) };
  const deps = withRouting(base, routing, opts.classifier ?? null);
  const runner = opts.runner ?? new FakeAgentRunner(opts.scripts ?? {});
  const workspaces = new FakeWorkspaces();
  const timer = new ManualTimer();
  const repo = opts.repo ?? new MemoryRepoFiles({ "README.md": "# demo\n" });
  const io: WorkerIo = { runner, workspaces, repoFor: () => repo, root: "/repo", profiles: routing.profiles, newBoundary: () => BOUNDARY, timer };
  const task = async (id: number): Promise<Task> => findTask((await store.read()).ledger, id)!;
  const claim = async (id: number): Promise<Claim> => {
    const r = await reconcile({ kind: "cli", command: { verb: "run", taskId: id } }, deps, { claim: { limit: 1 } });
    if (r.outcome.kind !== "claimed") throw new Error(`task ${id} was not claimed: ${JSON.stringify(r.outcome)}`);
    return r.outcome.claim;
  };
  return {
    deps,
    io,
    store,
    clock,
    runner,
    workspaces,
    timer,
    routing,
    task,
    tasks: async () => (await store.read()).ledger.tasks,
    async add(title, route = {}) {
      const created = await addTask(deps, title);
      await applyEvent(deps, created.id, { type: "route", route: { agent: route.agent ?? "claude", profile: route.profile ?? "feature", complexity: route.complexity ?? "medium", reason: "test", decidedBy: "override" } });
      return created.id;
    },
    claim,
    async run(id, signal) {
      const c = await claim(id);
      return reconcile({ kind: "work", taskId: c.taskId, attempt: c.attempt, key: c.key }, deps, { worker: io, ...(signal ? { signal } : {}) });
    },
  };
}
