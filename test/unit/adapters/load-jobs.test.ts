import { afterAll, describe, expect, it } from "vitest";
import { BUILTIN_JOBS } from "../../../src/adapters/config-fs/builtin-data.generated.ts";
import { loadEnabledJobs, loadJobs } from "../../../src/adapters/config-fs/load-jobs.ts";
import { isRouterError } from "../../../src/core/errors.ts";
import { dirWith, removeTempDirs, tempDir } from "../../support/git-repo.ts";

afterAll(removeTempDirs);

const PROFILES = new Set(["bugfix", "feature", "docs", "tests", "refactor", "review", "planner", "maintenance"]);

const repoWith = dirWith;

describe("loadJobs", () => {
  it("loads every built-in example job, each disabled and naming a known profile", async () => {
    const { jobs, problems } = await loadJobs(tempDir(), PROFILES);
    expect(problems).toEqual([]);
    expect([...jobs.keys()].sort()).toEqual(Object.keys(BUILTIN_JOBS).sort());
    expect(jobs.size).toBeGreaterThanOrEqual(3);
    for (const job of jobs.values()) {
      expect(job.enabled).toBe(false);
      expect(PROFILES.has(job.task.profile ?? "")).toBe(true);
    }
  });

  it("a repository's file replaces the built-in of the same name and adds new jobs", async () => {
    const root = repoWith({
      ".github/agent-router/jobs/docs-drift.yml": "name: docs-drift\nschedule: '0 9 * * MON'\nenabled: true\ntask: { title: Check the docs, profile: docs }\n",
      ".github/agent-router/jobs/triage.yml": "name: triage\nschedule: '*/30 * * * *'\nenabled: true\ntask: { title: Triage new issues }\n",
    });
    const { jobs, sources, problems } = await loadJobs(root, PROFILES);
    expect(problems).toEqual([]);
    expect(jobs.get("docs-drift")).toMatchObject({ enabled: true, schedule: "0 9 * * MON", task: { title: "Check the docs" } });
    expect(sources.get("docs-drift")).toBe(".github/agent-router/jobs/docs-drift.yml");
    expect(jobs.get("triage")?.enabled).toBe(true);
    expect(sources.get("flaky-tests")).toBe("jobs/flaky-tests.yml (built-in)");
  });

  it("reports a bad schedule, a name that does not match the file and an unknown profile, with lines", async () => {
    const root = repoWith({
      ".github/agent-router/jobs/a.yml": "name: a\nschedule: '0 25 * * *'\ntask: { title: x }\n",
      ".github/agent-router/jobs/b.yml": "name: not-b\nschedule: '0 1 * * *'\ntask:\n  title: x\n  profile: wizard\n",
      ".github/agent-router/jobs/c.yml": "name: c\ntask: { title: x }\nschedule: '5-1 * * * *'\n",
    });
    const { problems } = await loadJobs(root, PROFILES);
    const lines = problems.map((p) => `${p.file}:${p.line ?? "?"} ${p.path.join(".")}: ${p.message}`);
    expect(lines).toEqual([
      expect.stringMatching(/^\.github\/agent-router\/jobs\/a\.yml:2 schedule: job "a": the hour field "25" is not valid/),
      '.github/agent-router/jobs/b.yml:1 name: the file defines "not-b" but is named "b"; rename one of them',
      expect.stringMatching(/^\.github\/agent-router\/jobs\/b\.yml:5 task\.profile: unknown profile "wizard"; use one of bugfix, docs/),
      '.github/agent-router/jobs/c.yml:3 schedule: job "c": the minute field "5-1" has the reversed range 5-1; ranges do not wrap around, write 1-5 or 5-59,0-1',
    ]);
  });

  it("reports a time zone that is not an IANA name, naming the job and the zone, with its line", async () => {
    const root = repoWith({ ".github/agent-router/jobs/d.yml": "name: d\nschedule: '0 9 * * *'\ntimezone: local\ntask: { title: x }\n" });
    const { problems } = await loadJobs(root, PROFILES);
    expect(problems.map((p) => `${p.file}:${p.line ?? "?"} ${p.path.join(".")}: ${p.message}`)).toEqual([
      '.github/agent-router/jobs/d.yml:3 timezone: job "d": timezone "local" is not an IANA time zone name; use one such as UTC, Europe/Berlin or America/New_York',
    ]);
  });
});

describe("loadEnabledJobs", () => {
  it("gives the enabled jobs by name (built-in examples stay off unless a repository file turns them on)", async () => {
    const root = repoWith({
      ".github/agent-router/jobs/triage.yml": "name: triage\nschedule: '*/30 * * * *'\nenabled: true\ntask: { title: Triage }\n",
      ".github/agent-router/jobs/docs-drift.yml": "name: docs-drift\nschedule: '0 9 * * MON'\nenabled: true\ntimezone: Europe/Berlin\ntask: { title: Docs, profile: docs }\n",
      ".github/agent-router/jobs/off.yml": "name: off\nschedule: '0 1 * * *'\ntask: { title: Off }\n",
    });
    expect((await loadEnabledJobs(root, PROFILES)).map((j) => [j.name, j.timezone])).toEqual([
      ["docs-drift", "Europe/Berlin"],
      ["triage", undefined],
    ]);
    expect(await loadEnabledJobs(tempDir(), PROFILES)).toEqual([]);
  });

  it("an invalid job file stops the run with E_CONFIG_INVALID naming file and line", async () => {
    const root = repoWith({ ".github/agent-router/jobs/nightly.yml": "name: nightly\nenabled: true\nschedule: '0 25 * * *'\ntask: { title: x }\n" });
    const error = await loadEnabledJobs(root, PROFILES).catch((e: unknown) => e);
    expect(isRouterError(error) && error.code).toBe("E_CONFIG_INVALID");
    expect((error as Error).message).toMatch(/^scheduled jobs are invalid:\n {2}\.github\/agent-router\/jobs\/nightly\.yml:3 schedule: job "nightly": the hour field "25" is not valid/);
  });
});
