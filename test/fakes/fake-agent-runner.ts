// A scripted, in-memory AgentRunner. Each agent name has a queue of steps or one function that
// answers every request; a step is a ready AgentRun or a function of the request and the signal
// (which may wait on a promise the test controls, or on the signal itself). Every request is
// recorded, repair rounds included, with start/end events and the peak number of runs in flight.
import type { FailureClass } from "../../src/core/agents/classify-failure.ts";
import type { RunRecord } from "../../src/core/agents/run-record.ts";
import type { AgentRun, AgentRunner, AgentRunPlan, AgentRunRequest } from "../../src/core/ports.ts";

export type RunFn = (req: AgentRunRequest, signal: AbortSignal | undefined) => AgentRun | Promise<AgentRun>;
export type Step = AgentRun | RunFn;
/** Per agent: steps used in order (running out is an error), or one function for every request. */
export type Script = Step[] | RunFn;

export interface RunnerEvent {
  kind: "start" | "end";
  taskId: number;
  agent: string;
  repair: boolean;
}

export class FakeAgentRunner implements AgentRunner {
  readonly requests: AgentRunRequest[] = [];
  /** What each run was given as its signal, in request order. */
  readonly signals: (AbortSignal | undefined)[] = [];
  readonly planned: AgentRunRequest[] = [];
  readonly log: RunnerEvent[] = [];
  active = 0;
  peak = 0;
  private readonly used = new Map<string, number>();
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(private readonly scripts: Record<string, Script>) {}

  async run(req: AgentRunRequest, signal?: AbortSignal): Promise<AgentRun> {
    this.requests.push(req);
    this.signals.push(signal);
    this.log.push({ kind: "start", taskId: req.taskId, agent: req.agent, repair: req.repair !== undefined });
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    this.waiters = this.waiters.filter((w) => (this.requests.length >= w.n ? (w.resolve(), false) : true));
    try {
      const step = this.next(req.agent);
      return typeof step === "function" ? await step(req, signal) : step;
    } finally {
      this.active--;
      this.log.push({ kind: "end", taskId: req.taskId, agent: req.agent, repair: req.repair !== undefined });
    }
  }

  plan(req: AgentRunRequest): AgentRunPlan {
    this.planned.push(req);
    return { argv: ["fake-agent", req.agent, "--key", req.key, ...(req.model ? ["--model", req.model] : [])], envNames: ["AGENT_ROUTER_OUTPUT"], bundlePath: `/runs/${req.key}/bundle.md`, cwd: req.workdir };
  }

  /** Resolves once `n` requests (repairs included) have started. */
  started(n: number): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Requests for one task, in order. */
  requestsFor(taskId: number): AgentRunRequest[] {
    return this.requests.filter((r) => r.taskId === taskId);
  }

  private next(agent: string): Step {
    const script = this.scripts[agent];
    if (script === undefined) throw new Error(`fake runner: no script for agent ${agent}`);
    if (typeof script === "function") return script;
    const i = this.used.get(agent) ?? 0;
    this.used.set(agent, i + 1);
    const step = script[i];
    if (step === undefined) throw new Error(`fake runner: agent ${agent} has no step ${i + 1} scripted`);
    return step;
  }
}

/** A run record with everything zero or empty, ok unless told otherwise. */
export function runRecord(over: Partial<RunRecord> = {}): RunRecord {
  return { ok: true, exitCode: 0, timedOut: false, inputTokens: 0, outputTokens: 0, deniedActions: [], filesChanged: [], finalText: "", errorText: "", durationMs: 1, ...over };
}

/** A successful run that wrote a v1 handoff file with these fields. */
export function handoffRun(fields: { status: "done" | "needs_help" | "delegate" | "failed"; summary: string } & Record<string, unknown>, over: Partial<RunRecord> = {}): AgentRun {
  return { record: runRecord({ finalText: "finished", ...over }), handoffText: JSON.stringify({ schemaVersion: 1, ...fields }) };
}

/** A run that exited cleanly but left no handoff: only this text as its final message. */
export function garbageRun(text: string, over: Partial<RunRecord> = {}): AgentRun {
  return { record: runRecord({ finalText: text, ...over }), handoffText: null };
}

/** A failed run of the given class; `errorText` is what classification read. */
export function failedRun(failure: FailureClass, errorText: string, over: Partial<RunRecord> = {}): AgentRun {
  return { record: runRecord({ ok: false, exitCode: 1, failure, errorText, ...over }), handoffText: null };
}

/** Never finishes on its own: it ends (cancelled, like the CLI runner) when the signal fires. */
export const hangUntilAbort: RunFn = (_req, signal) =>
  new Promise((resolve) => {
    const done = (): void => resolve(failedRun("agent_error", "", { exitCode: null, stopReason: "cancelled" }));
    if (signal?.aborted) return done();
    signal?.addEventListener("abort", done, { once: true });
  });

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

/** A promise the test settles: a delay that ends exactly when the test says. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves every arrival once `parties` have arrived: they were all in flight together. */
export function barrier(parties: number): () => Promise<void> {
  const gate = deferred<void>();
  let arrived = 0;
  return () => {
    if (++arrived >= parties) gate.resolve();
    return gate.promise;
  };
}
