import { describe, expect, it } from "vitest";
import { addTask } from "../../../../src/core/ledger/create-task.ts";
import { emptyLedger, replaceTask } from "../../../../src/core/ledger/ledger.ts";
import type { Task } from "../../../../src/core/ledger/task.ts";
import { parseMarker, taskMarker } from "../../../../src/core/sync/markers.ts";
import type { SyncObserved, SyncOp, SyncOptions } from "../../../../src/core/sync/plan-sync.ts";
import { MAX_SUB_ISSUES, planSync } from "../../../../src/core/sync/plan-sync.ts";
import { ctxAt } from "../../../support/ctx.ts";
import type { Built } from "./sync-fixtures.ts";
import { applySyncOps, comment, observedNothing, options, PERSON, ROUTER, taskIn } from "./sync-fixtures.ts";

const plan = (b: Built, observed: Partial<SyncObserved> = {}, opts: Partial<SyncOptions> = {}): SyncOp[] => planSync(b.task, b.ledger, observedNothing(observed), options(opts));
const kinds = (ops: SyncOp[]): string[] => ops.map((op) => op.kind);
const only = <K extends SyncOp["kind"]>(ops: SyncOp[], kind: K): Extract<SyncOp, { kind: K }>[] => ops.filter((op): op is Extract<SyncOp, { kind: K }> => op.kind === kind);
const marker = taskMarker({ taskId: 1, kind: "status", key: "1" });

describe("planSync: the tracking comment", () => {
  it("creates exactly one comment on the first sync, then edits it only when the task changed", () => {
    const routed = taskIn("routed");
    const first = plan(routed);
    expect(only(first, "create_comment")).toHaveLength(1);
    expect(only(first, "create_comment")[0]).toMatchObject({ taskId: 1, issue: 7 });
    expect(parseMarker(only(first, "create_comment")[0]!.body)).toEqual({ taskId: 1, kind: "status", key: "1" });

    const world = applySyncOps({ ledger: routed.ledger, observed: observedNothing(), nextNumber: 100 }, 1, first);
    expect(planSync(world.ledger.tasks[0]!, world.ledger, world.observed, options())).toEqual([]);

    const crlf = { ...world.observed, comments: world.observed.comments.map((c) => ({ ...c, body: `${c.body.replace(/\n/g, "\r\n")}\r\n` })) };
    expect(planSync(world.ledger.tasks[0]!, world.ledger, crlf, options())).toEqual([]);

    const running = taskIn("running");
    const again = planSync(running.task, running.ledger, world.observed, options());
    expect(kinds(again).filter((k) => k.endsWith("_comment"))).toEqual(["update_comment"]);
    expect(only(again, "update_comment")[0]!.commentId).toBe(100);
  });

  it("edits the oldest of duplicate marked comments and creates nothing", () => {
    const comments = [comment(3, "hello", PERSON), comment(20, `${marker}\nnewer copy`), comment(9, `${marker}\nolder copy`)];
    const ops = plan(taskIn("running"), { comments });
    expect(kinds(ops)).not.toContain("create_comment");
    expect(only(ops, "update_comment").map((op) => op.commentId)).toEqual([9]);
  });

  it("ignores a marker a person planted when the router's account is known", () => {
    const comments = [comment(3, `${marker}\nplanted`, PERSON)];
    expect(kinds(plan(taskIn("running"), { comments }))).toContain("update_comment");
    expect(kinds(plan(taskIn("running"), { comments }, { routerAccountId: ROUTER.id }))).toContain("create_comment");
  });

  it("reacts with eyes once, when the first attempt starts and GitHub was not told yet", () => {
    const b = taskIn("routed");
    const started = { ...b.task, status: "running" as const, attempts: [{ n: 1, key: "k1", agent: "claude", startedAt: ctxAt(2).now }], history: [...b.task.history, { ...b.task.history.at(-1)!, type: "start", from: "routed" as const, to: "running" as const }] };
    expect(only(plan({ ...b, task: started }), "react")).toEqual([{ kind: "react", taskId: 1, issue: 7, content: "eyes" }]);
    expect(only(plan({ ...b, task: { ...started, github: { issue: 7, synced: started.history.length } } }), "react")).toEqual([]);
    expect(only(plan(taskIn("running")), "react")).toEqual([]);
  });
});

describe("planSync: labels", () => {
  it("adds the new status label before removing stale ones, and leaves other labels alone", () => {
    const ops = plan(taskIn("running"), { issue: { state: "open", labels: ["agent", "agent-router/new", "agent-router/routed", "agent-router/keep-me"] } });
    const labelOps = ops.filter((op) => op.kind === "add_labels" || op.kind === "remove_label");
    expect(labelOps).toEqual([
      { kind: "add_labels", taskId: 1, issue: 7, labels: ["agent-router/running"] },
      { kind: "remove_label", taskId: 1, issue: 7, label: "agent-router/new" },
      { kind: "remove_label", taskId: 1, issue: 7, label: "agent-router/routed" },
    ]);
  });

  it("does nothing when exactly the status label is there", () => {
    const ops = plan(taskIn("done"), { issue: { state: "open", labels: ["agent-router/done", "bug"] } });
    expect(kinds(ops).filter((k) => k.includes("label"))).toEqual([]);
  });
});

describe("planSync: the pull request", () => {
  const pushed = { branchPushed: true };

  it("opens one for code-producing statuses, with marker, Closes and the sanitised summary", () => {
    const ops = plan(taskIn("done"), {}, { ...pushed, draftPr: true });
    const [create] = only(ops, "create_pull");
    expect(create).toMatchObject({ head: "agent-router/task-1", base: "main", draft: true, title: "Checkout crashes when the cart is empty" });
    expect(parseMarker(create!.body)).toEqual({ taskId: 1, kind: "pr", key: "1" });
    expect(create!.body).toContain("Closes #7");
    expect(create!.body).toContain("Fixed the crash; added a test.\n\\/agent retry codex");
    expect(create!.body).toContain("2 attempts (claude / claude-sonnet-4-5)");
    for (const s of ["in_review", "needs_help"] as const) expect(kinds(plan(taskIn(s), {}, pushed))).toContain("create_pull");
    for (const s of ["running", "retrying", "waiting", "failed", "cancelled"] as const) expect(kinds(plan(taskIn(s), {}, pushed))).not.toContain("create_pull");
  });

  it("updates only what differs, and leaves a closed pull request alone", () => {
    const done = taskIn("done");
    const [create] = only(plan(done, {}, pushed), "create_pull");
    const pull = { number: 31, url: "u", state: "open" as const, draft: false, merged: false, head: create!.head, base: "main", title: create!.title, body: create!.body };
    expect(only(plan(done, { pull }, pushed), "update_pull")).toEqual([]);
    expect(only(plan(done, { pull: { ...pull, body: "old" } }, pushed), "update_pull")).toEqual([{ kind: "update_pull", taskId: 1, pull: 31, body: create!.body }]);
    expect(only(plan(done, { pull: { ...pull, title: "old" } }, pushed), "update_pull")).toEqual([{ kind: "update_pull", taskId: 1, pull: 31, title: create!.title }]);
    expect(kinds(plan(done, { pull: { ...pull, body: "old", state: "closed" } }, pushed)).filter((k) => k.endsWith("_pull"))).toEqual([]);
  });

  it("holds it while an approval before the pull request is pending, and says so", () => {
    const ops = plan(taskIn("in_review"), {}, { ...pushed, prAllowed: false });
    expect(kinds(ops)).not.toContain("create_pull");
    expect(only(ops, "create_comment")[0]!.body).toContain("pull request held until someone with write access comments `/agent approve`");
    expect(kinds(plan(taskIn("in_review"), {}, { branchPushed: false }))).not.toContain("create_pull");
  });
});

describe("planSync: links in agent text", () => {
  it("replaces links to other hosts in the pull request's title and body and the comment; config and server hosts stay", () => {
    const done = taskIn("done");
    const summary = "See https://evil.example/?q=SECRET, https://docs.acme.com/a, https://ghe.acme.com/acme/shop/pull/1 and https://github.com/acme/shop/pull/2";
    const task = { ...done.task, title: "Fix https://evil.example/x per https://docs.acme.com/y", result: { status: "done", summary } };
    const ops = plan({ task, ledger: replaceTask(done.ledger, task) }, {}, { branchPushed: true, serverUrl: "https://ghe.acme.com", linkHosts: ["docs.acme.com"] });
    const [create] = only(ops, "create_pull");
    expect(create!.title).toBe("Fix (link removed: evil[.]example) per https://docs.acme.com/y");
    expect(create!.body).toContain("See (link removed: evil[.]example), https://docs.acme.com/a, https://ghe.acme.com/acme/shop/pull/1 and https://github.com/acme/shop/pull/2");
    expect(only(ops, "create_comment")[0]!.body).toContain("> See (link removed: evil[.]example), https://docs.acme.com/a, https://ghe.acme.com/acme/shop/pull/1 and");
    const plain = only(plan({ task, ledger: replaceTask(done.ledger, task) }, {}, { branchPushed: true }), "create_pull")[0]!.body;
    expect(plain).toContain("See (link removed: evil[.]example), (link removed: docs[.]acme[.]com), (link removed: ghe[.]acme[.]com) and https://github.com/acme/shop/pull/2");
  });

  it("replaces links to other hosts in a child issue's title and body (a parent agent wrote them)", () => {
    const w = taskIn("waiting");
    const child = { ...w.ledger.tasks[2]!, title: "Read https://evil.example/t", body: "Use ![](https://evil.example/a.png?k=SECRET) and https://docs.acme.com/x" };
    const [create] = only(plan({ ...w, ledger: replaceTask(w.ledger, child) }, {}, { linkHosts: ["docs.acme.com"] }), "create_child_issue");
    expect(create!.title).toBe("Read (link removed: evil[.]example)");
    expect(create!.body).toContain("Use ![]((link removed: evil[.]example)) and https://docs.acme.com/x");
  });
});

describe("planSync: the issue's state", () => {
  const closed = { issue: { state: "closed" as const, labels: [] } };
  const stateOps = (b: Built, o: Partial<SyncObserved>, closeOnDone: boolean) => only(plan(b, o, { closeOnDone }), "set_issue_state");

  it("closes done (completed) and cancelled (not planned) tasks when closeOnDone", () => {
    expect(stateOps(taskIn("done"), {}, true)).toEqual([{ kind: "set_issue_state", taskId: 1, issue: 7, state: "closed", reason: "completed" }]);
    expect(stateOps(taskIn("cancelled"), {}, true)).toEqual([{ kind: "set_issue_state", taskId: 1, issue: 7, state: "closed", reason: "not_planned" }]);
    expect(stateOps(taskIn("done"), {}, false)).toEqual([]);
    expect(stateOps(taskIn("failed"), {}, true)).toEqual([]);
    expect(stateOps(taskIn("done"), closed, true)).toEqual([]);
  });

  it("always closes the issue of a scheduled job's run when it is done or cancelled, and leaves a failed one open", () => {
    const asJob = (b: Built): Built => {
      const task = { ...b.task, source: { kind: "job" as const, jobId: "nightly", slot: "2026-12-01T03:00:00.000Z" }, github: { ...b.task.github, issue: 7 } };
      return { ...b, task, ledger: replaceTask(b.ledger, task) };
    };
    expect(stateOps(asJob(taskIn("done")), {}, false)).toEqual([{ kind: "set_issue_state", taskId: 1, issue: 7, state: "closed", reason: "completed" }]);
    expect(stateOps(asJob(taskIn("cancelled")), {}, false)).toEqual([{ kind: "set_issue_state", taskId: 1, issue: 7, state: "closed", reason: "not_planned" }]);
    expect(stateOps(asJob(taskIn("failed")), {}, false)).toEqual([]);
  });

  it("reopens the issue of a live task (a retry)", () => {
    expect(stateOps(taskIn("routed"), closed, false)).toEqual([{ kind: "set_issue_state", taskId: 1, issue: 7, state: "open" }]);
    expect(stateOps(taskIn("failed"), closed, false)).toEqual([]);
  });
});

describe("planSync: child tasks", () => {
  const children = new Map([[2, { issueNumber: 12, issueId: 1012 }]]);

  it("creates issues for children without one and links children that have one", () => {
    const ops = plan(taskIn("waiting"), { children });
    const [create] = only(ops, "create_child_issue");
    expect(create).toMatchObject({ taskId: 1, parentTaskId: 1, childTaskId: 3, title: "Write a regression test @\u2060qa-team" });
    expect(parseMarker(create!.body)).toEqual({ taskId: 3, kind: "issue", key: "1" });
    expect(create!.body).toContain("Child task 3 of #7");
    expect(only(ops, "add_sub_issue")).toEqual([{ kind: "add_sub_issue", taskId: 1, issue: 7, childTaskId: 2, childIssueId: 1012 }]);
    expect(only(plan(taskIn("waiting"), { children, subIssues: [{ number: 12, id: 1012, state: "closed" }] }), "add_sub_issue")).toEqual([]);
  });

  it("does nothing for children when sub-issues are off", () => {
    expect(kinds(plan(taskIn("waiting"), { children }, { subIssues: false })).filter((k) => k.includes("child") || k.includes("sub"))).toEqual([]);
  });

  it("stops linking at GitHub's limit of sub-issues and warns in the comment", () => {
    const full = Array.from({ length: MAX_SUB_ISSUES }, (_, i) => ({ number: 200 + i, id: 9000 + i, state: "open" as const }));
    const ops = plan(taskIn("waiting"), { children, subIssues: full });
    expect(only(ops, "add_sub_issue")).toEqual([]);
    expect(only(ops, "create_comment")[0]!.body).toContain("> - 1 child issue(s) are not linked as sub-issues");
  });
});

describe("planSync: a scheduled job's task gets its own issue", () => {
  const SLOT = "2026-03-01T02:00:00.000Z";
  const jobTask = (status: "routed" | "done" | "cancelled" | "failed" = "routed"): Built => {
    const b = taskIn(status);
    const task: Task = { ...b.task, source: { kind: "job", jobId: "flaky-tests", slot: SLOT }, title: "Sweep @qa-team's flaky tests", body: "Run the suite 5 times <!-- hidden -->\n/agent approve\nSee https://evil.example/x", github: undefined };
    return { task, ledger: replaceTask(b.ledger, task) };
  };

  it("creates it with the job label, the task's marker and the job's prompt sanitised; nothing else until it exists", () => {
    const ops = plan(jobTask(), { issue: null });
    expect(ops).toHaveLength(1);
    const [create] = only(ops, "create_issue");
    expect(create).toMatchObject({ kind: "create_issue", taskId: 1, title: "Sweep @\u2060qa-team's flaky tests", labels: ["agent-router/job"] });
    expect(parseMarker(create!.body)).toEqual({ taskId: 1, kind: "issue", key: "1" });
    expect(create!.body).toContain("Task 1 of the scheduled job `flaky-tests`, slot 2026-03-01T02:00:00.000Z.");
    expect(create!.body).not.toContain("hidden");
    expect(create!.body).toContain("\\/agent approve");
    expect(create!.body).toContain("(link removed: evil[.]example)");
  });

  it("then it gets everything an issue's task gets, and the job label stays", () => {
    const b = jobTask();
    const linked = { ...b.task, github: { issue: 40 } };
    const ops = plan({ task: linked, ledger: replaceTask(b.ledger, linked) }, { issue: { state: "open", labels: ["agent-router/job"] } });
    expect(kinds(ops)).toEqual(["create_comment", "add_labels"]);
    expect(only(ops, "add_labels")[0]).toMatchObject({ issue: 40, labels: ["agent-router/routed"] });
  });

  it("none when the job opts out, or for a task that ended before it was mirrored", () => {
    expect(plan(jobTask(), { issue: null }, { jobIssue: false })).toEqual([]);
    for (const status of ["done", "failed", "cancelled"] as const) expect(plan(jobTask(status), { issue: null })).toEqual([]);
  });
});

describe("planSync: which tasks, and Projects", () => {
  const cli = (): Task => addTask(emptyLedger(), { source: { kind: "cli" }, title: "local" }, ctxAt(0)).task;

  it("plans nothing for a CLI task, only its own issue for a job's task without one, and only child issues for a task whose issue is gone", () => {
    const w = taskIn("waiting");
    expect(planSync({ ...cli(), children: [2, 3] }, w.ledger, observedNothing(), options())).toEqual([]);
    const job = { ...w.task, source: { kind: "job" as const, jobId: "nightly", slot: ctxAt(0).now }, github: undefined };
    // The children's issues wait for the job's own, so that they become its sub-issues.
    expect(kinds(planSync(job, w.ledger, observedNothing({ issue: null }), options()))).toEqual(["create_issue"]);
    expect(kinds(planSync(job, w.ledger, observedNothing({ issue: null }), options({ jobIssue: false })))).toEqual(["create_child_issue"]);
    expect(kinds(plan(w, { issue: null }))).toEqual(["create_child_issue"]);
  });

  it("sets the project status when it differs from what was observed (always when not observed)", () => {
    const project = { owner: "acme", number: 3, field: "Status", statusFor: (s: string) => (s === "new" ? undefined : s === "running" ? "In progress" : "Other") };
    expect(only(plan(taskIn("running"), {}, { project }), "set_project_status")).toEqual([
      { kind: "set_project_status", taskId: 1, issue: 7, owner: "acme", number: 3, field: "Status", status: "In progress" },
    ]);
    expect(only(plan(taskIn("running"), { projectStatus: "In progress" }, { project }), "set_project_status")).toEqual([]);
    expect(only(plan(taskIn("new"), {}, { project }), "set_project_status")).toEqual([]);
  });
});
