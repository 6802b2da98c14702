import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRouting } from "../../../src/adapters/config-fs/load-routing.ts";
import { MemoryLedgerStore } from "../../../src/adapters/ledger-memory/memory-ledger-store.ts";
import type { AppDeps } from "../../../src/app/app-deps.ts";
import { reviewTask } from "../../../src/app/review-task.ts";
import type { WorkerIo } from "../../../src/app/run-task.ts";
import { applyEvent, runTask } from "../../../src/app/run-task.ts";
import { addTaskCommand } from "../../../src/app/task-commands.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import type { Profile } from "../../../src/core/config/profile.ts";
import { findTask } from "../../../src/core/ledger/ledger.ts";
import type { Script } from "../../fakes/fake-agent-runner.ts";
import { FakeAgentRunner, handoffRun } from "../../fakes/fake-agent-runner.ts";
import { FakeWorkspaces, MemoryRepoFiles } from "../../fakes/fake-workspaces.ts";
import { removeTempDirs, tempDir } from "../../support/git-repo.ts";

let profiles: Map<string, Profile>;
beforeAll(async () => {
  const loaded = (await loadRouting(tempDir(), MainConfig.parse({}))).profiles;
  profiles = new Map([...loaded, ["reviewed", { ...loaded.get("feature")!, name: "reviewed", review: { required: true, maxRounds: 1 } }]]);
});
afterAll(removeTempDirs);

async function inReview(scripts: Record<string, Script>, config: Record<string, unknown>) {
  const store = new MemoryLedgerStore();
  const deps: AppDeps = { store, clock: { now: () => new Date(Date.UTC(2026, 10, 1)) }, backoff: { sleep: async () => undefined, random: () => 0.5 }, config: MainConfig.parse(config), traceId: "00-trace-01", actor: "cli:tester" };
  const runner = new FakeAgentRunner(scripts);
  const workspaces = new FakeWorkspaces();
  let keys = 0;
  const io: WorkerIo = { runner, workspaces, repoAt: () => new MemoryRepoFiles({}, { 1: "diff --git a/x b/x\n" }), root: "/repo", profiles, newKey: () => `key-${++keys}`, newBoundary: () => "ab".repeat(16), random: () => 0.5 };
  const { id } = await addTaskCommand(deps, { title: "Change the parser" });
  await applyEvent(deps, id, { type: "route", route: { agent: "claude", profile: "reviewed", complexity: "medium", reason: "t", decidedBy: "override" } });
  expect(await runTask(deps, id, io)).toMatchObject({ kind: "recorded", status: "in_review" });
  return { deps, io, runner, workspaces, id, task: async () => findTask((await store.read()).ledger, id)! };
}

describe("reviewTask", () => {
  it("a second agent reviews in the task's worktree with the review profile and the diff; its changes are discarded", async () => {
    const h = await inReview({ claude: [handoffRun({ status: "done", summary: "changed" })], codex: [handoffRun({ status: "done", summary: "ok", review: { decision: "approve", notes: "Looks right." } })] }, {});
    const out = await reviewTask(h.deps, h.id, h.io);
    expect(out).toMatchObject({ kind: "recorded", status: "done", note: "review by codex: approve" });
    const request = h.runner.requests.at(-1)!;
    expect(request).toMatchObject({ agent: "codex", profile: { name: "review" }, workdir: h.workspaces.pathOf(h.id) });
    expect(request.bundle).toContain("diff --git a/x b/x");
    expect(h.workspaces.discarded).toEqual([h.id]);
    expect((await h.task()).history.at(-1)).toMatchObject({ type: "review", to: "done", data: { reviewer: "codex", decision: "approve" } });
  });

  it("with no second enabled agent, a person is asked and nothing runs", async () => {
    const h = await inReview({ claude: [handoffRun({ status: "done", summary: "changed" })] }, { agents: { codex: { enabled: false }, opencode: { enabled: false } } });
    const runs = h.runner.requests.length;
    expect(await reviewTask(h.deps, h.id, h.io)).toEqual({ taskId: h.id, kind: "decided", status: "needs_help", note: "review by nobody: request_changes (a person must decide)" });
    expect(h.runner.requests).toHaveLength(runs);
    expect((await h.task()).history.at(-1)?.note).toBe("no second enabled agent can review this task");
  });
});
