// The committed Action bundle, as the runner starts it: `node dist/action.js` with the runner's
// environment, against the fake GitHub on 127.0.0.1 (GITHUB_API_URL) and checkouts of a bare remote
// it reads. GitHub writes keep their real spacing (1 s), hence slow. What a user sees on the issue:
// one task, one tracking comment, one pull request, however often the event comes; commands obey
// writers only; a planner's children run as separate dispatched workers and the parent resumes.
import { execFile } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseMarker } from "../../src/core/sync/markers.ts";
import type { ActionWorld, Runner } from "../support/action-world.ts";
import { EXAMPLE_CONFIG, REPO, startActionWorld } from "../support/action-world.ts";
import { removeTempDirs } from "../support/git-repo.ts";

const ACTION = join(import.meta.dirname, "../../dist/action.js");
const run = promisify(execFile);
let w: ActionWorld | undefined;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
afterEach(async () => {
  if (w) {
    expect(w.fake.state.schemaProblems).toEqual([]);
    await w.close();
  }
  w = undefined;
  removeTempDirs();
});
afterAll(() => nock.enableNetConnect());

/** One step: `node dist/action.js`; its exit code, its workflow commands (stdout) and its log. */
async function step(world: ActionWorld, r: Runner, mode: string, event: string, payload: unknown, inputs: Record<string, string> = {}): Promise<{ code: number; stdout: string; outputs: Record<string, string> }> {
  const env = Object.fromEntries(Object.entries(world.env(r, mode, event, payload, inputs)).filter((e): e is [string, string] => e[1] !== undefined));
  try {
    const { stdout } = await run(process.execPath, [ACTION], { env, timeout: 120_000 });
    return { code: 0, stdout, outputs: world.outputs(r) };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: `${e.stdout ?? ""}\n${e.stderr ?? ""}`, outputs: {} };
  }
}

const dispatches = (world: ActionWorld) => world.fake.state.mustRepo(REPO).dispatches.map((d) => d.inputs as Record<string, string>);
const trackingOn = (world: ActionWorld, issue: number) => [...world.fake.state.mustRepo(REPO).comments.values()].filter((c) => c.issue_number === issue && parseMarker(c.body)?.kind === "status");
const pulls = (world: ActionWorld) => [...world.fake.state.mustRepo(REPO).pulls.values()];

/** A dispatched attempt as the worker and record jobs of its run perform it (each on its own runner). */
async function workerRun(world: ActionWorld, inputs: Record<string, string>): Promise<Record<string, string>> {
  const event = { inputs, ref: "refs/heads/main" };
  const work = world.runner();
  const performed = await step(world, work, "worker", "workflow_dispatch", event);
  expect(performed.code, performed.stdout).toBe(0);
  const rec = world.runner();
  cpSync(performed.outputs["artifact-dir"]!, join(rec.workspace, ".agent-router-attempt"), { recursive: true });
  const recorded = await step(world, rec, "record", "workflow_dispatch", event);
  expect(recorded.code, recorded.stdout).toBe(0);
  return recorded.outputs;
}

describe("node dist/action.js", () => {
  it("labelled issue → task, worker, pull request; the same event again changes nothing; /agent retry codex from a writer starts attempt 2 on codex, from a reader nothing", { timeout: 300_000 }, async () => {
    const world = (w = await startActionWorld());
    const labelled = world.labelledIssue();
    const first = await step(world, world.runner(), "auto", "issues", labelled);
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs).toMatchObject({ "task-id": "1", status: "running" });
    expect(dispatches(world)).toEqual([expect.objectContaining({ task: "1", attempt: "1", agent: "example" })]);

    const done = await workerRun(world, dispatches(world)[0]!);
    expect(done).toMatchObject({ "task-id": "1", status: "done", "pr-url": expect.stringMatching(/\/acme\/widgets\/pull\/\d+$/) });

    const again = await step(world, world.runner(), "auto", "issues", labelled);
    expect(again.code, again.stdout).toBe(0);
    expect(trackingOn(world, 1)).toHaveLength(1);
    expect(pulls(world)).toHaveLength(1);
    expect(dispatches(world)).toHaveLength(1);

    const reader = await step(world, world.runner(), "auto", "issue_comment", world.comment(1, "/agent retry codex", world.person("mallory", "read")));
    expect(reader.code, reader.stdout).toBe(0);
    expect(dispatches(world)).toHaveLength(1);
    const writer = await step(world, world.runner(), "auto", "issue_comment", world.comment(1, "/agent retry codex", world.person("maintainer", "write")));
    expect(writer.code, writer.stdout).toBe(0);
    expect(dispatches(world)[1]).toMatchObject({ task: "1", attempt: "2", agent: "codex" });
    expect(trackingOn(world, 1)).toHaveLength(1);
  });

  it("a planner's children run as separate dispatched workers, and the parent resumes with their results", { timeout: 600_000 }, async () => {
    // Only the example agent: the children's profiles would otherwise prefer Claude Code or Codex.
    const only = "  claude: { enabled: false }\n  codex: { enabled: false }\n  opencode: { enabled: false }\n";
    const world = (w = await startActionWorld(EXAMPLE_CONFIG.replace("profile: feature", "profile: planner").replace("agents:\n", `agents:\n${only}`)));
    const first = await step(world, world.runner(), "auto", "issues", world.labelledIssue());
    expect(first.code, first.stdout).toBe(0);
    const parentRun = await workerRun(world, dispatches(world)[0]!);
    expect(parentRun).toMatchObject({ "task-id": "1", status: "waiting" });
    // Every dispatched run is worked through in order, as GitHub would start them; a child that
    // comes after another is dispatched once that one is done.
    let last: Record<string, string> = parentRun;
    for (let next = 1; next < dispatches(world).length && next < 10; next++) last = await workerRun(world, dispatches(world)[next]!);
    expect(dispatches(world).map((d) => `${d.task}.${d.attempt}`)).toEqual(["1.1", ...["2.1", "3.1", "4.1"].filter((k) => dispatches(world).some((d) => `${d.task}.${d.attempt}` === k)), "1.2"]);
    expect(new Set(dispatches(world).slice(1, 4).map((d) => d.task))).toEqual(new Set(["2", "3", "4"]));
    expect(last).toMatchObject({ "task-id": "1", status: "done" });
    // Each child has its issue (a sub-issue of #1) with one tracking comment.
    const repo = world.fake.state.mustRepo(REPO);
    const subIssues = repo.issues.get(1)!.subIssueIds.map((id) => [...repo.issues.values()].find((i) => i.id === id)!);
    expect(subIssues).toHaveLength(3);
    for (const issue of subIssues) {
      expect(trackingOn(world, issue.number)).toHaveLength(1);
      expect(issue.state).toBe("open");
    }
  });
});
