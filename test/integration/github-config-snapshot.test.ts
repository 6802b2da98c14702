// The app reads a repository's configuration in one GraphQL query (no checkout): the main file and
// the files under .github/agent-router/, at the default branch's head. Against the fake GitHub,
// whose GraphQL is checked against GitHub's published schema.
import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfigSnapshot, snapshotSource } from "../../src/adapters/github/config-graphql.ts";
import { createOctokit } from "../../src/adapters/github/create-octokit.ts";
import { loadConfig } from "../../src/adapters/config-fs/load-config.ts";
import { loadRouting } from "../../src/adapters/config-fs/load-routing.ts";
import { loadEnabledJobs } from "../../src/adapters/config-fs/load-jobs.ts";
import type { FakeGitHub } from "../fakes/fake-github/index.ts";
import { startFakeGitHub } from "../fakes/fake-github/index.ts";
import { memoryLog } from "../fakes/memory-log.ts";

let fake: FakeGitHub;
beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
  fake = await startFakeGitHub();
});
afterAll(async () => {
  await fake.close();
  nock.enableNetConnect();
});

const octokit = () => createOctokit({ token: "ghs_test", baseUrl: fake.url, log: memoryLog() });

describe("readConfigSnapshot", () => {
  it("reads the config, profiles, routes and jobs at the default branch's head in one request", async () => {
    fake.state.addRepository("acme/app", {
      files: {
        ".github/agent-router.yml": "github:\n  triggerLabel: robot\n",
        ".github/agent-router/profiles/docs.yml": "name: docs\ndescription: Documentation\nrole: writer\ninstructions: Write docs.\n",
        ".github/agent-router/jobs/nightly.yml": "name: nightly\nschedule: \"0 3 * * *\"\nenabled: true\ntask:\n  title: Tidy the changelog\n  profile: docs\n",
        ".github/agent-router/router/routes.yml": "rules: []\n",
        ".github/workflows/ci.yml": "on: push\n",
        "README.md": "# app\n",
      },
    });
    const before = fake.requests.length;
    const snap = await readConfigSnapshot(octokit(), { owner: "acme", repo: "app" });
    expect(fake.requests.length - before).toBe(1);
    expect(fake.state.schemaProblems).toEqual([]);
    expect(snap).not.toBeNull();
    expect([...snap!.files.keys()].sort()).toEqual([
      ".github/agent-router.yml",
      ".github/agent-router/jobs/nightly.yml",
      ".github/agent-router/profiles/docs.yml",
      ".github/agent-router/router/routes.yml",
    ]);
    expect(snap!.commit).toBe(fake.state.mustRepo("acme/app").refs.get("refs/heads/main"));
    const source = snapshotSource(snap!);
    expect(source.describe).toMatch(/^commit [0-9a-f]{8} \(main\)$/);
    expect(await source.list(".github/agent-router/profiles")).toEqual(["docs.yml"]);
    expect(await source.list(".github/agent-router")).toEqual([]);
    expect(await source.read(".github/agent-router.yml")).toContain("robot");
    // The loaders read it as they read a checkout.
    const loaded = await loadConfig(source);
    expect(loaded.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(loaded.config.github.triggerLabel).toBe("robot");
    const routing = await loadRouting(source, loaded.config);
    expect(routing.profiles.has("docs")).toBe(true);
    const jobs = await loadEnabledJobs(source, new Set(routing.profiles.keys()));
    expect(jobs.map((j) => j.name)).toEqual(["nightly"]);
  });

  it("a repository without any config reads as an empty snapshot; a missing repository as null", async () => {
    fake.state.addRepository("acme/bare", { files: { "README.md": "# bare\n" } });
    const snap = await readConfigSnapshot(octokit(), { owner: "acme", repo: "bare" });
    expect(snap?.files.size).toBe(0);
    expect(await readConfigSnapshot(octokit(), { owner: "acme", repo: "nowhere" }).catch((e: Error) => e.message)).toMatch(/Could not resolve to a Repository/);
  });
});
