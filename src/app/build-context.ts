import type { MainConfig } from "../core/config/main-config.ts";
import type { Profile } from "../core/config/profile.ts";
import { HANDOFF_INSTRUCTIONS } from "../core/context/handoff-text.ts";
import type { BundleComment, BundlePlan, RelatedTask } from "../core/context/plan-bundle.ts";
import { planBundle } from "../core/context/plan-bundle.ts";
import { selectFiles } from "../core/context/select-files.ts";
import { RouterError } from "../core/errors.ts";
import type { Ledger } from "../core/ledger/ledger.ts";
import { findTask, requireTask } from "../core/ledger/ledger.ts";
import type { Task } from "../core/ledger/task.ts";
import { isTerminal } from "../core/ledger/task.ts";
import type { BundleWriter, RepoFiles } from "../core/ports.ts";
import type { AppDeps } from "./app-deps.ts";

/** Bytes read from any one repository file; the token budget cuts further. */
const MAX_FILE_BYTES = 64 * 1024;

export interface ContextResult {
  plan: BundlePlan;
  bundlePath: string;
  manifestPath: string;
  sha256: string;
  profile: string;
}

function related(task: Task): RelatedTask {
  const summary = typeof task.result?.["summary"] === "string" ? task.result["summary"] : undefined;
  const key = task.source.kind === "parent" ? task.source.key : undefined;
  return { id: task.id, title: task.title, status: task.status, ...(key ? { key } : {}), ...(summary ? { summary } : {}), ...(task.result ? { result: task.result } : {}) };
}

/** The parent, its finished children other than this task, and this task's own children. */
export function lineageOf(ledger: Ledger, task: Task): { parent?: RelatedTask; siblings: RelatedTask[]; children: RelatedTask[] } {
  const parent = task.parentId === undefined ? undefined : findTask(ledger, task.parentId);
  const siblings = parent ? parent.children.filter((id) => id !== task.id).map((id) => findTask(ledger, id)).filter((t): t is Task => t !== undefined && isTerminal(t.status)) : [];
  const children = task.children.map((id) => findTask(ledger, id)).filter((t): t is Task => t !== undefined);
  return { ...(parent ? { parent: related(parent) } : {}), siblings: siblings.map(related), children: children.map(related) };
}

export interface BundleIo {
  profiles: ReadonlyMap<string, Profile>;
  repo: RepoFiles;
  boundary: string;
  comments?: readonly BundleComment[];
  profileName?: string;
}

/**
 * Plans a task's context bundle (nothing is written). The profile is the task's routed one (or
 * `profileName` when given; before routing, the hint's or the fallback's).
 */
export async function planTaskBundle(config: MainConfig, ledger: Ledger, task: Task, io: BundleIo): Promise<{ plan: BundlePlan; profile: Profile }> {
  const profileName = io.profileName ?? task.route?.profile ?? task.hint?.profile ?? config.router.fallback.profile;
  const profile = io.profiles.get(profileName);
  if (!profile) throw new RouterError("E_USAGE", `profile "${profileName}" does not exist`, { profile: profileName }, { fix: "Route the task again, or add the profile under .github/agent-router/profiles/." });

  const paths = await io.repo.list();
  const selection = selectFiles(task, paths);
  const read = async (path: string): Promise<string | null> => {
    const r = await io.repo.readText(path, MAX_FILE_BYTES);
    return r ? r.text + (r.truncated ? "\n[… file cut at 64 KB]" : "") : null;
  };
  const instructions = (await Promise.all(selection.instructions.map(async (path) => ({ path, text: await read(path) })))).filter((f): f is { path: string; text: string } => f.text !== null);
  const files = (await Promise.all(selection.matches.map(async (m) => ({ ...m, text: await read(m.path) })))).filter((f): f is { path: string; why: string; text: string } => f.text !== null);
  const diff = task.attempts.length > 0 ? await io.repo.taskDiff(task.id) : null;
  // Back from review (the task is retrying after a change request): the reviewer's notes.
  const lastReview = task.history.findLast((h) => h.type === "review");
  const reviewNotes = task.status !== "in_review" && lastReview && (lastReview.data as { decision?: string } | undefined)?.decision === "request_changes" ? lastReview.note : undefined;

  const plan = planBundle({
    task,
    profile,
    handoff: HANDOFF_INSTRUCTIONS,
    comments: [...answersOf(task), ...(io.comments ?? [])],
    lineage: lineageOf(ledger, task),
    repo: { instructions, paths, files },
    ...(diff ? { diff } : {}),
    ...(reviewNotes ? { reviewNotes } : {}),
    boundary: io.boundary,
    budget: { maxTokens: config.context.maxTokens, attempts: config.context.attempts },
  });
  return { plan, profile };
}

/**
 * People's answers to the task's questions (a `needs_help` task answered with a comment or the CLI),
 * oldest first: from people allowed to steer the task, but still shown inside the untrusted block.
 */
export function answersOf(task: Task): BundleComment[] {
  return task.history.filter((h) => h.type === "answer" && h.note !== undefined).map((h) => ({ author: h.by.replace(/^github:/, ""), at: h.at, body: h.note! }));
}

/** Builds a task's context bundle and writes it with its manifest (`agent-router context ID`). */
export async function buildContextCommand(deps: AppDeps, id: number, io: BundleIo & { writer: BundleWriter }): Promise<ContextResult> {
  const { ledger } = await deps.store.read();
  const task = requireTask(ledger, id, deps.store.location);
  const { plan, profile } = await planTaskBundle(deps.config, ledger, task, io);
  const manifest = { taskId: id, profile: profile.name, createdAt: deps.clock.now().toISOString(), tokens: plan.tokens, maxTokens: plan.maxTokens, boundary: io.boundary, sections: plan.sections, cuts: plan.cuts };
  const written = await io.writer.write(id, plan.text, manifest);
  return { plan, profile: profile.name, ...written };
}
