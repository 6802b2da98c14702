// The bundled CLI's scheduled jobs: the enabled jobs come from the working tree like the config, and
// every reconcile verb creates a due slot's task (level-triggered); an invalid job file stops the
// verb with E_CONFIG_INVALID naming file and line, and `validate` lists it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Task } from "../../src/core/ledger/task.ts";
import { cli, ok } from "../support/cli.ts";
import { makeRepo, removeTempDirs } from "../support/git-repo.ts";

afterAll(removeTempDirs);

function repoWithJob(text: string): string {
  const repo = makeRepo();
  mkdirSync(join(repo, ".github/agent-router/jobs"), { recursive: true });
  writeFileSync(join(repo, ".github/agent-router/jobs/sweep.yml"), text);
  return repo;
}

// Every minute: whatever the wall clock says, a slot is due at the first reconcile.
const SWEEP = "name: sweep\nschedule: '* * * * *'\nenabled: true\ntask:\n  title: Sweep the flaky tests\n  profile: tests\n";

describe("agent-router with scheduled jobs", () => {
  it("add also creates the due job task, once; a later verb adds none while it is live", async () => {
    const repo = repoWithJob(SWEEP);
    await ok(repo, "add", "by hand");
    await ok(repo, "add", "by hand too");
    const tasks = JSON.parse((await ok(repo, "list", "--json")).stdout) as Task[];
    expect(tasks.map((t) => [t.id, t.source.kind, t.title, t.hint])).toEqual([
      [1, "cli", "by hand", undefined],
      [2, "job", "Sweep the flaky tests", { profile: "tests" }],
      [3, "cli", "by hand too", undefined],
    ]);
  });

  it("an invalid job file stops a reconcile verb with E_CONFIG_INVALID naming file and line, and validate lists it", async () => {
    const repo = repoWithJob(SWEEP.replace("'* * * * *'", "'0 25 * * *'"));
    const add = await cli(repo, "add", "by hand");
    expect(add.code).toBe(1);
    expect(add.stderr).toMatch(/error \[E_CONFIG_INVALID\]: scheduled jobs are invalid:\n {2}\.github\/agent-router\/jobs\/sweep\.yml:2 schedule: job "sweep": the hour field "25" is not valid/);
    const validate = await cli(repo, "validate");
    expect(validate.code).toBe(1);
    expect(validate.stderr).toMatch(/error: \.github\/agent-router\/jobs\/sweep\.yml:2 schedule: job "sweep": the hour field "25"/);
  });
});
