import * as z from "zod";
import { RouterError } from "../errors.ts";
import { Task } from "./task.ts";

export const LEDGER_SCHEMA_VERSION = 1;

const isoTime = z.iso.datetime({ offset: true });

/**
 * Per scheduled job (see `planJobs`): the newest slot handled (it got a task, or was skipped while
 * the job's previous task was live), and the newest task the job created while that task is live.
 */
export const JobState = z
  .object({ lastSlot: isoTime.optional(), activeTaskId: z.number().int().positive().optional() })
  .strict();

/** A handled webhook delivery, kept for dedupe. */
export const Delivery = z.object({ id: z.string().min(1), at: isoTime }).strict();

const LedgerShape = z
  .object({
    schemaVersion: z.literal(LEDGER_SCHEMA_VERSION).describe("Version of this file's format"),
    nextId: z.number().int().positive().describe("The id the next task gets; never reused"),
    tasks: z.array(Task).default([]),
    jobs: z.record(z.string(), JobState).default({}),
    deliveries: z.array(Delivery).default([]),
  })
  .strict();

export interface LedgerProblem {
  /** Path inside the document, e.g. ["tasks", 3, "status"]. */
  path: (string | number)[];
  message: string;
}

/** Rules a schema cannot say: unique ids, and ids below nextId so none is handed out twice. */
export function ledgerRuleProblems(ledger: { nextId: number; tasks: readonly { id: number }[] }): LedgerProblem[] {
  const problems: LedgerProblem[] = [];
  const seen = new Map<number, number>();
  ledger.tasks.forEach((task, index) => {
    const first = seen.get(task.id);
    if (first !== undefined) problems.push({ path: ["tasks", index, "id"], message: `duplicate task id ${task.id} (also at tasks[${first}])` });
    else seen.set(task.id, index);
    if (task.id >= ledger.nextId) problems.push({ path: ["tasks", index, "id"], message: `task id ${task.id} is not below nextId ${ledger.nextId}` });
  });
  return problems;
}

/** The top level without the tasks, for validating a write that changed only some tasks. */
export const LedgerHeader = LedgerShape.omit({ tasks: true });

export const Ledger = LedgerShape.superRefine((ledger, ctx) => {
  for (const p of ledgerRuleProblems(ledger)) ctx.addIssue({ code: "custom", path: p.path, message: p.message });
});
export type Ledger = z.infer<typeof Ledger>;

export function emptyLedger(): Ledger {
  return { schemaVersion: LEDGER_SCHEMA_VERSION, nextId: 1, tasks: [], jobs: {}, deliveries: [] };
}

export type LedgerCheck = { ok: true; ledger: Ledger } | { ok: false; problems: LedgerProblem[] };

/** Validates parsed ledger data. A version this code does not know is reported before anything else. */
export function checkLedger(value: unknown): LedgerCheck {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, problems: [{ path: [], message: "the ledger must be a mapping with schemaVersion, nextId and tasks" }] };
  }
  const version = (value as Record<string, unknown>).schemaVersion;
  if (version !== LEDGER_SCHEMA_VERSION) {
    return {
      ok: false,
      problems: [{ path: ["schemaVersion"], message: `unknown schemaVersion ${JSON.stringify(version)}; this agent-router reads version ${LEDGER_SCHEMA_VERSION}` }],
    };
  }
  const parsed = Ledger.safeParse(value);
  if (parsed.success) return { ok: true, ledger: parsed.data };
  return { ok: false, problems: zodProblems(parsed.error.issues) };
}

export function zodProblems(issues: readonly z.core.$ZodIssue[], prefix: (string | number)[] = []): LedgerProblem[] {
  return issues.map((issue) => ({ path: [...prefix, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))], message: issue.message }));
}

/** `tasks[3].status` */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), "");
}

export function findTask(ledger: Ledger, id: number): Task | undefined {
  return ledger.tasks.find((t) => t.id === id);
}

/** The task with this id, or E_TASK_NOT_FOUND naming where it was looked for (a store's location). */
export function requireTask(ledger: Ledger, id: number, where = "the ledger"): Task {
  const task = findTask(ledger, id);
  if (!task) throw new RouterError("E_TASK_NOT_FOUND", `no task ${id} in ${where}`, { id });
  return task;
}

/** The ledger with `task` in place of the task that has its id. */
export function replaceTask(ledger: Ledger, task: Task): Ledger {
  return { ...ledger, tasks: ledger.tasks.map((t) => (t.id === task.id ? task : t)) };
}
