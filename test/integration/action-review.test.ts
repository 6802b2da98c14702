// Reviews in the GitHub Action, in process against the fake GitHub: a task whose profile asks for a
// review by a second agent has each review dispatched as a worker run of its own (inputs task,
// review and agent), which reviews the task branch read-only and hands its decision to the record
// job; record records it through reconcile, fenced by the review claim's key. A change request sends
// the task back for another dispatched attempt; an approval finishes it. A review whose dispatch
// fails, or whose worker leaves nothing, gives its claim back.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeLedger } from "../../src/adapters/ledger-codec/ledger-file.ts";
import type { Task } from "../../src/core/ledger/task.ts";
import { parseMarker } from "../../src/core/sync/markers.ts";
import { runAction } from "../../src/entrypoints/action/run-action.ts";
import type { Runner } from "../support/action-world.ts";
import { REPO, useActionWorld } from "../support/action-world.ts";
import { sh, tempDir } from "../support/git-repo.ts";

const world = useActionWorld();
const REVIEWER = join(import.meta.dirname, "../fixtures/agents/second-look-reviewer.mjs");
// `reviewed` (the repository's profile) asks for a review; the built-in agents are off, so the
// second command agent is the only one that can review the example agent's work.
const PROFILE = "name: reviewed\ndescription: work a second agent reviews\nrole: You are an engineer.\ninstructions: Make the change.\ntimeoutMinutes: 50\nreview: { required: true, maxRounds: 2 }\n";
const config = (countFile: string) => `agents:
  example: { type: command, command: ["node", "tools/agent.mjs"] }
  second: { type: command, command: ["node", ${JSON.stringify(REVIEWER)}, ${JSON.stringify(countFile)}] }
  claude: { enabled: false }
  codex: { enabled: false }
  opencode: { enabled: false }
router:
  fallback: { agent: example, profile: reviewed }
`;

/** A runner whose checkout holds the review config and profile (as if committed on main). */
function setup() {
  const countFile = join(tempDir("ar-reviews-"), "count");
  const runner = (): Runner => {
    const r = world().runner();
    writeFileSync(join(r.workspace, ".github/agent-router.yml"), config(countFile));
    mkdirSync(join(r.workspace, ".github/agent-router/profiles"), { recursive: true });
    writeFileSync(join(r.workspace, ".github/agent-router/profiles/reviewed.yml"), PROFILE);
    return r;
  };
  return { runner, reviews: () => (existsSync(countFile) ? Number(readFileSync(countFile, "utf8")) : 0) };
}

const repo = () => world().fake.state.mustRepo(REPO);
/** The dispatches' inputs as the worker run's event has them: every declared input, "" when not sent. */
const dispatched = (): Record<string, string>[] => repo().dispatches.map((d) => ({ task: "", attempt: "", key: "", review: "", agent: "", ...(d.inputs as Record<string, string>) }));
function ledgerTask(id = 1): Task {
  const text = repo().commits.get(repo().refs.get("refs/heads/agent-router/ledger")!)!.files.get("ledger.yml")!;
  return decodeLedger(text, "ledger.yml", "test").ledger.tasks.find((t) => t.id === id)!;
}
const tracking = () => [...repo().comments.values()].filter((c) => parseMarker(c.body)?.kind === "status");

describe("reviews in the Action", () => {
  it("attempt → review dispatched as its own run → request_changes → attempt 2 dispatched → review → approve → done; one tracking comment, one pull request", { timeout: 60_000 }, async () => {
    const { runner, reviews } = setup();
    /** One dispatched run: its worker job, then its record job with the artifact, each on its own runner. */
    const workerRun = async (inputs: Record<string, string>) => {
      const event = { inputs, ref: "refs/heads/main" };
      const work = runner();
      const performed = await runAction(world().io(work, "worker", "workflow_dispatch", event));
      const rec = runner();
      cpSync(performed.artifactDir!, join(rec.workspace, ".agent-router-attempt"), { recursive: true });
      return { performed, recorded: await runAction(world().io(rec, "record", "workflow_dispatch", event)) };
    };

    await runAction(world().io(runner(), "auto", "issues", world().labelledIssue()));
    expect(dispatched()).toEqual([expect.objectContaining({ task: "1", attempt: "1", agent: "example", review: "" })]);
    const minutes = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 60_000;
    const running = ledgerTask().attempts[0]!;
    expect(minutes(running.startedAt, running.leaseUntil!)).toBe(70);
    const first = await workerRun(dispatched()[0]!);
    // Attempt 1 recorded: the task is in review, and the record job dispatched the review as a run of its own.
    expect(first.recorded).toMatchObject({ taskId: 1, status: "in_review" });
    expect(dispatched()).toHaveLength(2);
    const review1 = dispatched()[1]!;
    expect(review1).toEqual({ task: "1", attempt: "", key: "", review: expect.stringMatching(/^review-1-1-[0-9a-z]+$/), agent: "second" });
    expect(repo().dispatches[1]!.inputs).toEqual({ task: "1", review: review1.review, agent: "second" }); // an attempt's inputs are not sent
    // The review claim's lease covers the whole worker run, as an attempt's does: the longest timeout (the profile's 50) + 20 minutes.
    const claimed = ledgerTask();
    expect(claimed.reviewClaim?.key).toBe(review1.review);
    expect(minutes(claimed.reviewClaim!.startedAt, claimed.reviewClaim!.leaseUntil)).toBe(70);

    // The review's worker run: read-only (no mutating request, nothing pushed), its artifact holds the decision and no branch.
    const branchBefore = sh(world().bare, "rev-parse", "refs/heads/agent-router/task-1");
    const requestsBefore = world().fake.requests.length;
    const work = runner();
    const performed = await runAction(world().io(work, "worker", "workflow_dispatch", { inputs: review1, ref: "refs/heads/main" }));
    expect(world().fake.requests.slice(requestsBefore).filter((q) => q.mutating)).toEqual([]);
    expect(reviews()).toBe(1);
    const artifact = JSON.parse(readFileSync(join(performed.artifactDir!, "result.json"), "utf8")) as Record<string, unknown>;
    expect(artifact).toMatchObject({ kind: "review", taskId: 1, key: review1.review, review: { kind: "reviewed", event: { decision: "request_changes", reviewer: "second" } } });
    expect(existsSync(join(performed.artifactDir!, "branch.bundle"))).toBe(false);
    expect(sh(world().bare, "rev-parse", "refs/heads/agent-router/task-1")).toBe(branchBefore);
    expect(ledgerTask().status).toBe("in_review"); // the worker wrote no ledger

    // Its record job: the change request sends the task back, and the same run dispatches attempt 2.
    const rec = runner();
    cpSync(performed.artifactDir!, join(rec.workspace, ".agent-router-attempt"), { recursive: true });
    expect(await runAction(world().io(rec, "record", "workflow_dispatch", { inputs: review1, ref: "refs/heads/main" }))).toMatchObject({ taskId: 1, status: "running" });
    expect(dispatched()[2]).toMatchObject({ task: "1", attempt: "2", agent: "example", review: "" });
    expect(ledgerTask().history.filter((h) => h.type === "review").map((h) => [h.to, h.note])).toEqual([["retrying", "Handle the empty file too."]]);

    // Attempt 2, then its review (another claim, another run), which approves.
    expect((await workerRun(dispatched()[2]!)).recorded).toMatchObject({ taskId: 1, status: "in_review" });
    const review2 = dispatched()[3]!;
    expect(review2).toMatchObject({ task: "1", review: expect.stringMatching(/^review-1-2-[0-9a-z]+$/), agent: "second" });
    const last = await workerRun(review2);
    expect(last.recorded).toMatchObject({ taskId: 1, status: "done", prUrl: expect.stringMatching(/\/acme\/widgets\/pull\/\d+$/) });
    expect(reviews()).toBe(2);
    expect(dispatched()).toHaveLength(4);

    const task = ledgerTask();
    expect(task.history.map((h) => h.type)).toEqual(["created", "route", "start", "finish", "review", "start", "finish", "review"]);
    expect(task.history.at(-1)).toMatchObject({ type: "review", from: "in_review", to: "done", data: { decision: "approve", reviewer: "second" } });
    expect(task.reviewClaim).toBeUndefined();
    expect(tracking()).toHaveLength(1);
    expect(tracking()[0]!.body).not.toMatch(/being reviewed/);
    expect(repo().pulls.size).toBe(1);
    // Nothing the reviewer wrote in its worktree reached the task branch.
    expect(sh(world().bare, "ls-tree", "-r", "--name-only", "refs/heads/agent-router/task-1")).not.toContain("reviewer-was-here.txt");
  });

  it("a review whose dispatch fails gives its claim back at once; the next run dispatches it again", { timeout: 60_000 }, async () => {
    const { runner } = setup();
    await runAction(world().io(runner(), "auto", "issues", world().labelledIssue()));
    const attempt = dispatched()[0]!;
    const work = runner();
    const performed = await runAction(world().io(work, "worker", "workflow_dispatch", { inputs: attempt }));
    // The workflow cannot be dispatched to any more (404) when the record job dispatches the review.
    repo().workflows.delete("agent-router.yml");
    const rec = runner();
    cpSync(performed.artifactDir!, join(rec.workspace, ".agent-router-attempt"), { recursive: true });
    expect(await runAction(world().io(rec, "record", "workflow_dispatch", { inputs: attempt }))).toMatchObject({ taskId: 1, status: "in_review" });
    expect(dispatched()).toHaveLength(1);
    const task = ledgerTask();
    expect(task.status).toBe("in_review");
    expect(task.reviewClaim).toBeUndefined();
    // Given back, not waited out: a scheduled run claims and dispatches the review again.
    repo().workflows.add("agent-router.yml");
    await runAction(world().io(runner(), "auto", "schedule", { schedule: "*/15 * * * *" }));
    expect(dispatched()).toEqual([attempt, expect.objectContaining({ task: "1", review: expect.stringMatching(/^review-1-1-/), agent: "second" })]);
    expect(ledgerTask().reviewClaim?.key).toBe(dispatched()[1]!.review);
  });

  it("a review's worker that left nothing: the record job gives the claim back without dispatching it again; the next run does", { timeout: 60_000 }, async () => {
    const { runner, reviews } = setup();
    await runAction(world().io(runner(), "auto", "issues", world().labelledIssue()));
    const attempt = dispatched()[0]!;
    const work = runner();
    const performed = await runAction(world().io(work, "worker", "workflow_dispatch", { inputs: attempt }));
    const rec = runner();
    cpSync(performed.artifactDir!, join(rec.workspace, ".agent-router-attempt"), { recursive: true });
    await runAction(world().io(rec, "record", "workflow_dispatch", { inputs: attempt }));
    const review = dispatched()[1]!;
    // The worker died before it uploaded anything: its record job finds no artifact.
    expect(await runAction(world().io(runner(), "record", "workflow_dispatch", { inputs: review }))).toMatchObject({ taskId: 1, status: "in_review" });
    expect(ledgerTask().reviewClaim).toBeUndefined();
    expect(ledgerTask().history.map((h) => h.type)).toEqual(["created", "route", "start", "finish"]);
    expect(dispatched()).toHaveLength(2);
    expect(reviews()).toBe(0);
    await runAction(world().io(runner(), "auto", "schedule", { schedule: "*/15 * * * *" }));
    expect(dispatched()).toHaveLength(3);
    expect(dispatched()[2]).toMatchObject({ task: "1", review: expect.stringMatching(/^review-1-1-/) });
    expect(dispatched()[2]!.review).not.toBe(review.review);
  });
});
