// The GitHub Action's scheduled jobs, in process against the fake GitHub: the enabled jobs come from
// the checkout (like the config), a scheduled run turns a due slot into a routed task and a
// dispatched worker, a second run for the same slot adds nothing, and an invalid job file fails the
// step with E_CONFIG_INVALID naming file and line. The job's task shows on GitHub through its own
// issue: labelled, one tracking comment, closed by the pull request and on done, never a second task.
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeLedger } from "../../src/adapters/ledger-codec/ledger-file.ts";
import { runAction } from "../../src/entrypoints/action/run-action.ts";
import { isRouterError } from "../../src/core/errors.ts";
import { parseMarker } from "../../src/core/sync/markers.ts";
import type { Runner } from "../support/action-world.ts";
import { EXAMPLE_CONFIG, REPO, useActionWorld } from "../support/action-world.ts";

const world = useActionWorld();

/** A runner whose checkout holds this job file (as if committed on main). */
function runnerWithJob(name: string, text: string): Runner {
  const r = world().runner();
  mkdirSync(join(r.workspace, ".github/agent-router/jobs"), { recursive: true });
  writeFileSync(join(r.workspace, `.github/agent-router/jobs/${name}.yml`), text);
  return r;
}

function ledgerTasks() {
  const repo = world().fake.state.mustRepo(REPO);
  const text = repo.commits.get(repo.refs.get("refs/heads/agent-router/ledger")!)!.files.get("ledger.yml")!;
  return decodeLedger(text, "ledger.yml", "test").ledger;
}

// Every minute: whatever the wall clock says, a slot is due at the first run.
const EVERY_MINUTE = "name: sweep\nschedule: '* * * * *'\nenabled: true\ntask:\n  title: Sweep the flaky tests\n  labels: [tests]\n  agent: example\n";

/** The runner's checkout with `github.closeOnDone` on (as if committed on main). */
function closingOnDone(r: Runner): Runner {
  writeFileSync(join(r.workspace, ".github/agent-router.yml"), `${EXAMPLE_CONFIG}github:\n  closeOnDone: true\n`);
  return r;
}

describe("the Action's scheduled jobs", () => {
  it("a scheduled run creates the due slot's task from the checkout's job file, routes it and dispatches its worker; the next run adds none while it is live", async () => {
    await runAction(world().io(runnerWithJob("sweep", EVERY_MINUTE), "auto", "schedule", { schedule: "*/15 * * * *" }));
    const first = ledgerTasks();
    expect(first.tasks.map((t) => [t.id, t.source.kind, t.title, t.status, t.route?.agent, t.route?.decidedBy])).toEqual([[1, "job", "Sweep the flaky tests", "running", "example", "override"]]);
    expect(first.jobs["sweep"]).toMatchObject({ activeTaskId: 1, lastSlot: expect.stringMatching(/:00\.000Z$/) as unknown });
    expect(world().fake.state.mustRepo(REPO).dispatches.map((d) => (d.inputs as Record<string, string>)["task"])).toEqual(["1"]);

    await runAction(world().io(runnerWithJob("sweep", EVERY_MINUTE), "auto", "schedule", { schedule: "*/15 * * * *" }));
    expect(ledgerTasks().tasks).toHaveLength(1);
    expect(world().fake.state.mustRepo(REPO).dispatches).toHaveLength(1);
  });

  it("a disabled job makes no task; an invalid job file fails the step with E_CONFIG_INVALID naming file and line", async () => {
    await runAction(world().io(runnerWithJob("sweep", EVERY_MINUTE.replace("enabled: true", "enabled: false")), "auto", "schedule", { schedule: "*/15 * * * *" }));
    expect(world().fake.state.mustRepo(REPO).refs.get("refs/heads/agent-router/ledger")).toBeUndefined();

    const bad = runnerWithJob("sweep", EVERY_MINUTE.replace("'* * * * *'", "'0 25 * * *'"));
    const error = await runAction(world().io(bad, "auto", "schedule", { schedule: "*/15 * * * *" })).catch((e: unknown) => e);
    expect(isRouterError(error) && error.code).toBe("E_CONFIG_INVALID");
    expect((error as Error).message).toMatch(/\.github\/agent-router\/jobs\/sweep\.yml:2 schedule: job "sweep": the hour field "25" is not valid/);
  });
});

describe("a scheduled job's task on GitHub", () => {
  it("due slot → task → its own issue (job label, one tracking comment) → the worker's commits → a pull request closing that issue → done closes it; labelling the issue makes no second task", async () => {
    const repo = () => world().fake.state.mustRepo(REPO);
    const statusComments = (issue: number) => [...repo().comments.values()].filter((c) => c.issue_number === issue && parseMarker(c.body)?.kind === "status");

    // 1. The scheduled run: the slot's task, routed and claimed, and its issue with the tracking comment.
    await runAction(world().io(closingOnDone(runnerWithJob("sweep", EVERY_MINUTE)), "auto", "schedule", { schedule: "*/15 * * * *" }));
    const issues = [...repo().issues.values()].filter((i) => !i.pull_request);
    expect(issues).toHaveLength(1);
    const issue = issues[0]!;
    expect(issue).toMatchObject({ number: 1, title: "Sweep the flaky tests", state: "open" });
    expect(parseMarker(issue.body ?? "")).toEqual({ taskId: 1, kind: "issue", key: "1" });
    expect(issue.labels).toEqual(expect.arrayContaining(["agent-router/job", "agent-router/running"]));
    expect(statusComments(1)).toHaveLength(1);
    expect(ledgerTasks().tasks[0]).toMatchObject({ id: 1, source: { kind: "job", jobId: "sweep" }, status: "running", github: { issue: 1 } });

    // 2. A maintainer puts the trigger label on the job's issue: its event makes no second task.
    const maintainer = world().person("maintainer", "write");
    world().fake.state.labelIssue(REPO, 1, "agent", "maintainer");
    const labelled = { action: "labeled", issue: { number: 1, title: issue.title, body: issue.body, labels: repo().issues.get(1)!.labels.map((name) => ({ name })), user: world().person(issue.user.login) }, label: { name: "agent" }, sender: maintainer, repository: { full_name: REPO } };
    await runAction(world().io(closingOnDone(world().runner()), "auto", "issues", labelled));
    expect(ledgerTasks().tasks.map((t) => t.id)).toEqual([1]);
    expect(repo().dispatches).toHaveLength(1);

    // 3. The worker performs the attempt; the record job pushes the branch, records done and opens the pull request.
    const inputs = repo().dispatches[0]!.inputs as Record<string, string>;
    const work = closingOnDone(world().runner());
    const performed = await runAction(world().io(work, "worker", "workflow_dispatch", { inputs, ref: "refs/heads/main" }));
    const rec = closingOnDone(world().runner());
    cpSync(performed.artifactDir!, join(rec.workspace, ".agent-router-attempt"), { recursive: true });
    const recorded = await runAction(world().io(rec, "record", "workflow_dispatch", { inputs, ref: "refs/heads/main" }));
    expect(recorded).toMatchObject({ taskId: 1, status: "done", prUrl: expect.stringMatching(/\/acme\/widgets\/pull\/\d+$/) as unknown });
    const pulls = [...repo().pulls.values()];
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ head: "agent-router/task-1" });
    expect(pulls[0]!.body).toMatch(/^Closes #1$/m);

    // 4. Done: the issue is closed (closeOnDone) with the done label, still one tracking comment, and one issue.
    expect(repo().issues.get(1)).toMatchObject({ state: "closed", state_reason: "completed" });
    expect(repo().issues.get(1)!.labels).toEqual(expect.arrayContaining(["agent-router/job", "agent-router/done"]));
    expect(statusComments(1)).toHaveLength(1);
    expect([...repo().issues.values()].filter((i) => !i.pull_request)).toHaveLength(1);
    expect(ledgerTasks().tasks).toMatchObject([{ id: 1, status: "done", github: { issue: 1, pr: pulls[0]!.number } }]);
  });
});
