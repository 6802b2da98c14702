import { addTask } from "../src/core/ledger/create-task.ts";
import type { Ledger } from "../src/core/ledger/ledger.ts";
import { emptyLedger } from "../src/core/ledger/ledger.ts";
import type { Task } from "../src/core/ledger/task.ts";
import { transition } from "../src/core/ledger/transition.ts";

const BODY = `When I open the settings page the save button does nothing.

Steps:
1. open /settings
2. change the display name
3. click Save

Expected: the name is saved. Actual: nothing happens, and the console shows a 422.`;

/** A ledger of `n` tasks that look like real ones: routed, run once, most finished, a body of ~250 chars. */
export function realisticLedger(n: number): Ledger {
  let ledger = emptyLedger();
  const base = Date.UTC(2026, 10, 1);
  const tasks: Task[] = [];
  for (let i = 0; i < n; i++) {
    const at = (m: number) => ({ now: new Date(base + i * 60_000 + m * 1000).toISOString(), by: "github:maintainer", traceId: `00-${i.toString(16).padStart(32, "0")}-${"ab".repeat(8)}-01` });
    const added = addTask(ledger, { source: { kind: "issue", issue: 1000 + i }, title: `Settings page: save button does nothing (#${1000 + i})`, body: BODY, labels: ["agent", "bug"] }, at(0));
    ledger = { ...added.ledger, tasks: [] };
    let task = added.task;
    task = transition(task, { type: "route", route: { agent: "claude", model: "sonnet", profile: "bugfix", complexity: "medium", reason: "label bug", decidedBy: "rule" } }, at(1)).task;
    if (i % 10 !== 0) {
      task = transition(task, { type: "start", key: `k${i}`.padEnd(64, "0"), agent: "claude", model: "sonnet", leaseUntil: at(1800).now }, at(2)).task;
      task = transition(task, { type: "finish", key: `k${i}`.padEnd(64, "0"), outcome: "done", summary: "Fixed the save handler and added a test.", usage: { inputTokens: 51234, outputTokens: 4321, costUsd: 0.42, turns: 12 } }, at(600)).task;
    }
    tasks.push(task);
  }
  return { ...ledger, tasks };
}

/** A ledger of `n` tasks as `agent-router add "title"` creates them. */
export function freshLedger(n: number): Ledger {
  let ledger = emptyLedger();
  const base = Date.UTC(2026, 10, 1);
  for (let i = 0; i < n; i++) {
    ledger = addTask(ledger, { source: { kind: "cli" }, title: `Investigate flaky test number ${i}`, labels: ["agent"] }, { now: new Date(base + i * 1000).toISOString(), by: "cli:maintainer", traceId: `00-${i.toString(16).padStart(32, "0")}-${"ab".repeat(8)}-01` }).ledger;
  }
  return ledger;
}
