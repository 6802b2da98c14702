// The GitHub Action's scheduled jobs, in process against the fake GitHub: the enabled jobs come from
// the checkout (like the config), a scheduled run turns a due slot into a routed task and a
// dispatched worker, a second run for the same slot adds nothing, and an invalid job file fails the
// step with E_CONFIG_INVALID naming file and line.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeLedger } from "../../src/adapters/ledger-codec/ledger-file.ts";
import { runAction } from "../../src/entrypoints/action/run-action.ts";
import { isRouterError } from "../../src/core/errors.ts";
import type { Runner } from "../support/action-world.ts";
import { REPO, useActionWorld } from "../support/action-world.ts";

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
