// Comments as commands and answers, decided purely: who may steer (write access, people, allow-listed
// bots; fail closed), what each command does, and that every command gets a reaction or a reply.
import { describe, expect, it } from "vitest";
import type { CommenterCheck } from "../../../src/core/commands/authorize.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import { Profile } from "../../../src/core/config/profile.ts";
import { approvedForPr, approvedToRun } from "../../../src/core/ledger/approval.ts";
import type { TaskEvent } from "../../../src/core/ledger/events.ts";
import type { Ledger } from "../../../src/core/ledger/ledger.ts";
import { emptyLedger, findTask, replaceTask } from "../../../src/core/ledger/ledger.ts";
import type { Route, Task } from "../../../src/core/ledger/task.ts";
import { transition } from "../../../src/core/ledger/transition.ts";
import { commentWantsPermission } from "../../../src/core/reconcile/apply-comment.ts";
import type { ReconcileInput } from "../../../src/core/reconcile/plan-reconcile.ts";
import { planReconcile } from "../../../src/core/reconcile/plan-reconcile.ts";
import type { CommentEvent, GitHubUser, IssueEvent } from "../../../src/core/reconcile/trigger.ts";
import { ctxAt } from "../../support/ctx.ts";

const profile = (name: string, more: Record<string, unknown> = {}): Profile => Profile.parse({ name, description: `${name} work`, role: "r", instructions: "i", ...more });
const PROFILES: ReadonlyMap<string, Profile> = new Map([
  ["feature", profile("feature")],
  ["gated", profile("gated", { approval: "before_run" })],
  ["held", profile("held", { approval: "before_pr" })],
]);
const CONFIG = MainConfig.parse({ github: { allowedBots: [4242] } });
const REQUESTER: GitHubUser = { login: "octocat", id: 583231, type: "User" };
const MAINTAINER: GitHubUser = { login: "hubot-human", id: 1001, type: "User" };
const WRITE: CommenterCheck = { permission: "write" };

function input(ledger: Ledger, over: Partial<ReconcileInput> = {}, minute = 1): ReconcileInput {
  return { ledger, trigger: { kind: "tick" }, ctx: ctxAt(minute, "router"), config: CONFIG, profiles: PROFILES, jobs: [], routes: new Map(), results: [], orphans: [], claim: { limit: 0, busy: new Set() }, reviews: { limit: 0, busy: new Set() }, keyFor: (id, n) => `k${id}.${n}`, random: () => 0.5, ...over };
}

const opened = (labels = ["agent"]): IssueEvent => ({ kind: "issue", action: "opened", deliveryId: "open-1", issue: { number: 7, title: "Fix the importer", body: "it breaks", labels, author: REQUESTER }, sender: REQUESTER });
let commentIds = 100;
const comment = (body: string, author: GitHubUser = MAINTAINER, over: Partial<CommentEvent> = {}): CommentEvent => ({ kind: "comment", deliveryId: `c-${++commentIds}`, issue: 7, comment: { id: commentIds, body, author }, ...over });

/** Issue #7 opened by the requester, as task 1, then `events`. */
function issueTask(events: TaskEvent[] = []): Ledger {
  let l = planReconcile(input(emptyLedger(), { trigger: opened(), commenter: WRITE }, 0)).ledger;
  for (const e of events) l = replaceTask(l, transition(findTask(l, 1)!, e, ctxAt(0)).task);
  return l;
}
const route = (p = "feature"): Route => ({ agent: "claude", profile: p, complexity: "medium", reason: "test", decidedBy: "rule" });
const start = (n = 1): TaskEvent => ({ type: "start", key: `k1.${n}`, agent: "claude", leaseUntil: ctxAt(30).now });
const task = (l: Ledger): Task => findTask(l, 1)!;

describe("applyComment: who may command", () => {
  const failed = (): Ledger => issueTask([{ type: "route", route: route() }, start(), { type: "fail", key: "k1.1", errorClass: "agent_error", error: "boom", retryable: false }]);

  it("a writer's /agent retry codex reopens the task on codex, as them, with a +1 reaction", () => {
    const l = failed();
    const p = planReconcile(input(l, { trigger: comment("/agent retry codex"), commenter: WRITE }));
    expect(p.outcome).toMatchObject({ kind: "moved", taskId: 1, event: "retry", from: "failed", to: "routed" });
    expect(task(p.ledger).route).toMatchObject({ agent: "codex", decidedBy: "override" });
    expect(task(p.ledger).history.at(-1)).toMatchObject({ type: "retry", by: "github:hubot-human" });
    expect(p.effects).toContainEqual({ kind: "react", class: "github", taskId: 1, issue: 7, commentId: commentIds, content: "+1" });
    expect(p.effects).toContainEqual({ kind: "reopen_issue", class: "github", taskId: 1 });
  });

  it.each<[string, GitHubUser, CommenterCheck | undefined, string | null]>([
    ["a reader", MAINTAINER, { permission: "read" }, "-1"],
    ["a non-collaborator", MAINTAINER, { permission: "none" }, "-1"],
    ["anyone, when the permission API failed", MAINTAINER, { error: "HTTP 502" }, "confused"],
    ["anyone, when the permission was not checked", MAINTAINER, undefined, "confused"],
    ["a bot with write access", { login: "helper[bot]", id: 77, type: "Bot" }, WRITE, null],
    ["an organisation account", { login: "acme", id: 78, type: "Organization" }, WRITE, null],
  ])("%s changes nothing and writes nothing", (_who, author, check, reaction) => {
    const l = failed();
    const p = planReconcile(input(l, { trigger: comment("/agent retry", author), ...(check ? { commenter: check } : {}) }));
    expect(p.outcome.kind).toBe("refused");
    expect(p.ledger).toBe(l);
    expect(p.lines).toEqual([]);
    expect(p.effects).toEqual(reaction === null ? [] : [{ kind: "react", class: "github", taskId: 1, issue: 7, commentId: commentIds, content: reaction }]);
  });

  it("a bot whose numeric id is allow-listed may command; the same login with another id may not", () => {
    const l = failed();
    expect(planReconcile(input(l, { trigger: comment("/agent retry", { login: "ci[bot]", id: 4242, type: "Bot" }), commenter: WRITE })).outcome).toMatchObject({ kind: "moved", event: "retry" });
    expect(planReconcile(input(l, { trigger: comment("/agent retry", { login: "ci[bot]", id: 4243, type: "Bot" }), commenter: WRITE })).outcome.kind).toBe("refused");
  });

  it("the router's own comments, quoted commands and plain chatter are not commands and need no permission check", () => {
    const l = failed();
    for (const body of ["<!-- agent-router:task=1 kind=status key=1 -->\n/agent retry", "> /agent retry", "```\n/agent retry\n```", "thanks, looks good"]) {
      const t = comment(body);
      expect(commentWantsPermission(l, t, "/agent"), body).toBe(false);
      const p = planReconcile(input(l, { trigger: t, commenter: WRITE }));
      expect(p.outcome.kind, body).toBe("ignored");
      expect(p.effects, body).toEqual([]);
    }
    expect(commentWantsPermission(l, comment("/agent retry"), "/agent")).toBe(true);
  });
});

describe("applyComment: what each command does", () => {
  it("a malformed command gets a reply with the grammar; help replies with it too; status replies with the task's state", () => {
    const l = issueTask([{ type: "route", route: route() }]);
    const bad = planReconcile(input(l, { trigger: comment("/agent retyr"), commenter: WRITE }));
    expect(bad.outcome.kind).toBe("refused");
    const badReply = bad.effects.find((e) => e.kind === "reply");
    expect(badReply).toMatchObject({ issue: 7, commentId: commentIds });
    expect((badReply as { text: string }).text).toMatch(/retyr[\s\S]*\/agent retry \[agent\]/);
    const help = planReconcile(input(l, { trigger: comment("/agent help"), commenter: WRITE }));
    expect((help.effects[0] as { text: string }).text).toContain("/agent route <agent> [profile]");
    expect(help.ledger.tasks).toEqual(l.tasks);
    const status = planReconcile(input(l, { trigger: comment("/agent status"), commenter: WRITE }));
    expect(status.effects).toEqual([expect.objectContaining({ kind: "reply", text: "Task 1 is **routed**, routed to claude/feature." })]);
  });

  it("route sets a person's choice as an override; an unknown agent or profile is refused with a reply", () => {
    const l = issueTask([{ type: "route", route: route() }]);
    const p = planReconcile(input(l, { trigger: comment("/agent route codex gated"), commenter: WRITE }));
    expect(task(p.ledger).route).toMatchObject({ agent: "codex", profile: "gated", decidedBy: "override", reason: "routed by hubot-human with a command" });
    for (const [body, why] of [["/agent route ghost", "Agent `ghost` is not enabled"], ["/agent route codex nope", "Profile `nope` does not exist"]] as const) {
      const r = planReconcile(input(l, { trigger: comment(body), commenter: WRITE }));
      expect(r.outcome).toMatchObject({ kind: "refused", why: expect.stringContaining(why) });
      expect(r.ledger.tasks).toEqual(l.tasks);
    }
  });

  it("cancel stops a running attempt; a command that does not fit the status is answered, not obeyed", () => {
    const running = issueTask([{ type: "route", route: route() }, start()]);
    const p = planReconcile(input(running, { trigger: comment("/agent cancel"), commenter: WRITE }));
    expect(task(p.ledger).status).toBe("cancelled");
    expect(p.effects).toContainEqual({ kind: "cancel_attempt", class: "agent", taskId: 1, key: "k1.1" });
    const approve = planReconcile(input(running, { trigger: comment("/agent approve"), commenter: WRITE }));
    expect(approve.outcome).toMatchObject({ kind: "refused", why: expect.stringContaining("Task 1 is running") });
    expect(approve.ledger.tasks).toEqual(running.tasks);
  });

  it("a command on an issue without a task says how to make one", () => {
    const p = planReconcile(input(emptyLedger(), { trigger: comment("/agent retry"), commenter: WRITE }));
    expect(p.effects).toEqual([expect.objectContaining({ kind: "reply", text: expect.stringContaining("Add the `agent` label") })]);
  });

  it("a person's plain reply to a task that asked for help answers it (and only a writer's)", () => {
    const l = issueTask([{ type: "route", route: route() }, start(), { type: "finish", key: "k1.1", outcome: "needs_help", question: "Which file format?" }]);
    expect(commentWantsPermission(l, comment("CSV, please"), "/agent")).toBe(true);
    const p = planReconcile(input(l, { trigger: comment("CSV, please"), commenter: WRITE }));
    expect(task(p.ledger)).toMatchObject({ status: "routed" });
    expect(task(p.ledger).history.at(-1)).toMatchObject({ type: "answer", note: "CSV, please", by: "github:hubot-human" });
    const stranger = planReconcile(input(l, { trigger: comment("use XML"), commenter: { permission: "read" } }));
    expect(stranger.ledger).toBe(l);
  });

  it("the same delivery twice: one change and one reaction", () => {
    const l = issueTask([{ type: "route", route: route() }, start(), { type: "fail", key: "k1.1", errorClass: "agent_error", error: "boom", retryable: false }]);
    const t = comment("/agent retry");
    const first = planReconcile(input(l, { trigger: t, commenter: WRITE }));
    const again = planReconcile(input(first.ledger, { trigger: t, commenter: WRITE }, 2));
    expect(again.outcome).toEqual({ kind: "duplicate", deliveryId: t.deliveryId });
    expect(again.effects.filter((e) => e.kind === "react" || e.kind === "reply")).toEqual([]);
  });
});

describe("approvals", () => {
  const gated = (): Ledger => planReconcile(input(issueTask([{ type: "route", route: route("gated") }]), { claim: { limit: 1, busy: new Set() } })).ledger;

  it("the requester cannot approve their own task while approvals.allowSelf is false; another writer can", () => {
    const l = gated();
    expect(task(l).status).toBe("awaiting_approval");
    const self = planReconcile(input(l, { trigger: comment("/agent approve", REQUESTER), commenter: { permission: "admin" } }));
    expect(self.outcome).toMatchObject({ kind: "refused", why: expect.stringContaining("approvals.allowSelf is false") });
    expect(self.ledger.tasks).toEqual(l.tasks);
    const allowed = planReconcile(input(l, { trigger: comment("/agent approve", REQUESTER), commenter: { permission: "admin" }, config: MainConfig.parse({ approvals: { allowSelf: true } }) }));
    expect(task(allowed.ledger).status).toBe("routed");
    const other = planReconcile(input(l, { trigger: comment("/agent approve"), commenter: WRITE, claim: { limit: 1, busy: new Set() } }));
    expect(task(other.ledger).approvals).toEqual([{ by: "github:hubot-human", at: ctxAt(1).now, attempt: 0 }]);
    expect(task(other.ledger).status).toBe("running"); // approved, then claimed in the same reconcile
  });

  it("an approval expires: a task approved longer ago than approvals.expireDays asks again before it runs", () => {
    const l = planReconcile(input(gated(), { trigger: comment("/agent approve"), commenter: WRITE })).ledger;
    const days = CONFIG.approvals.expireDays;
    // approved at minute 1: live until exactly expireDays later
    expect(approvedToRun(task(l), ctxAt(days * 1440 + 1).now, days)).toBe(false);
    expect(approvedToRun(task(l), ctxAt(days * 1440).now, days)).toBe(true);
    const late = planReconcile(input(l, { claim: { limit: 1, busy: new Set() } }, days * 1440 + 2));
    expect(task(late.ledger).status).toBe("awaiting_approval");
  });

  it("an approval covers the retries of its budget; a person's retry asks again", () => {
    let l = planReconcile(input(gated(), { trigger: comment("/agent approve"), commenter: WRITE, claim: { limit: 1, busy: new Set() } })).ledger;
    l = replaceTask(l, transition(task(l), { type: "fail", key: "k1.1", errorClass: "agent_error", error: "x", retryable: true, retryAt: ctxAt(2).now }, ctxAt(2)).task);
    expect(task(planReconcile(input(l, { claim: { limit: 1, busy: new Set() } }, 3)).ledger).status).toBe("running");
    const retried = replaceTask(l, transition(task(l), { type: "retry" }, ctxAt(3)).task);
    expect(task(planReconcile(input(retried, { claim: { limit: 1, busy: new Set() } }, 4)).ledger).status).toBe("awaiting_approval");
  });

  it("approving done work releases its held pull request, once; the task stays done", () => {
    const l = issueTask([{ type: "route", route: route("held") }, start(), { type: "finish", key: "k1.1", outcome: "done", summary: "ok" }]);
    expect(approvedForPr(task(l), ctxAt(1).now, 7)).toBe(false);
    const p = planReconcile(input(l, { trigger: comment("/agent approve"), commenter: WRITE }));
    expect(task(p.ledger).status).toBe("done");
    expect(approvedForPr(task(p.ledger), ctxAt(1).now, 7)).toBe(true);
    const twice = planReconcile(input(p.ledger, { trigger: comment("/agent approve"), commenter: WRITE }, 2));
    expect(twice.outcome).toMatchObject({ kind: "refused", why: expect.stringContaining("already approved") });
    const notHeld = issueTask([{ type: "route", route: route() }, start(), { type: "finish", key: "k1.1", outcome: "done", summary: "ok" }]);
    expect(planReconcile(input(notHeld, { trigger: comment("/agent approve"), commenter: WRITE })).outcome).toMatchObject({ kind: "refused", why: expect.stringContaining("holds no pull request") });
  });
});
