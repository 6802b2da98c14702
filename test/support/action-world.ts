// A world for the GitHub Action's tests: the fake GitHub on 127.0.0.1 and a bare remote it reads as
// acme/widgets (main holds the example command agent and a config), fresh runners (checkouts with
// their RUNNER_TEMP, output and summary files), the runner's environment for a step, and event
// payloads shaped like GitHub's.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import type { ActionIo } from "../../src/entrypoints/action/run-action.ts";
import type { FakeGitHub } from "../fakes/fake-github/index.ts";
import { startFakeGitHub } from "../fakes/fake-github/index.ts";
import { removeTempDirs, sh, tempDir } from "./git-repo.ts";

export const REPO = "acme/widgets";
export const EXAMPLE_CONFIG = `agents:
  example: { type: command, command: ["node", "tools/agent.mjs"] }
router:
  fallback: { agent: example, profile: feature }
`;

export interface Runner {
  workspace: string;
  temp: string;
  output: string;
  summary: string;
}

export interface ActionWorld {
  fake: FakeGitHub;
  bare: string;
  /** A fresh runner: a checkout of main (as actions/checkout with fetch-depth 0 makes). */
  runner(): Runner;
  /** The environment the runner gives a step of the Action: GITHUB_*, RUNNER_TEMP and INPUT_*. */
  env(r: Runner, mode: string, event: string, payload: unknown, inputs?: Record<string, string>): Record<string, string | undefined>;
  /** A step's io for `runAction` in process; GitHub writes unspaced (the spacing is the adapter's, tested there). */
  io(r: Runner, mode: string, event: string, payload: unknown, inputs?: Record<string, string>): ActionIo;
  /** The step's outputs as the runner would read them from GITHUB_OUTPUT. */
  outputs(r: Runner): Record<string, string>;
  /** A person (a User account), with this permission on the repository. */
  person(login: string, permission?: "admin" | "write" | "read"): { login: string; id: number; type: string };
  /** The `issues.labeled` payload of a new issue opened by octocat and labelled `agent` by a maintainer. */
  labelledIssue(): { action: string; issue: { number: number } } & Record<string, unknown>;
  /** The `issue_comment.created` payload of a comment `body` by `author` on issue `issue` (made on the fake). */
  comment(issue: number, body: string, author: { login: string; id: number; type: string }): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startActionWorld(config = EXAMPLE_CONFIG, opts: { exampleAgent?: string } = {}): Promise<ActionWorld> {
  const fake = await startFakeGitHub();
  const seed = tempDir("ar-seed-");
  sh(seed, "init", "-q", "-b", "main");
  mkdirSync(join(seed, "tools"));
  mkdirSync(join(seed, ".github"));
  copyFileSync(opts.exampleAgent ?? join(import.meta.dirname, "../../examples/example-agent.mjs"), join(seed, "tools/agent.mjs"));
  writeFileSync(join(seed, ".github/agent-router.yml"), config);
  writeFileSync(join(seed, "README.md"), "# widgets\n");
  sh(seed, "add", "-A");
  sh(seed, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "initial");
  const bare = tempDir("ar-bare-");
  sh(bare, "init", "-q", "--bare", "-b", "main");
  sh(seed, "push", "-q", bare, "main");
  fake.state.linkGitRemote(REPO, bare);

  const person: ActionWorld["person"] = (login, permission) => {
    const u = fake.state.user(login);
    if (permission) fake.state.mustRepo(REPO).permissions.set(login.toLowerCase(), permission);
    return { login: u.login, id: u.id, type: u.type };
  };
  const env: ActionWorld["env"] = (r, mode, event, payload, inputs = {}) => {
    const eventPath = join(r.temp, "event.json");
    writeFileSync(eventPath, JSON.stringify(payload));
    return {
      PATH: process.env["PATH"],
      GITHUB_REPOSITORY: REPO,
      GITHUB_API_URL: fake.url,
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_RUN_ID: "777",
      GITHUB_ACTOR: "maintainer",
      GITHUB_EVENT_NAME: event,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_WORKFLOW_REF: `${REPO}/.github/workflows/agent-router.yml@refs/heads/main`,
      GITHUB_WORKSPACE: r.workspace,
      GITHUB_OUTPUT: r.output,
      GITHUB_STEP_SUMMARY: r.summary,
      RUNNER_TEMP: r.temp,
      "INPUT_GITHUB-TOKEN": "ghs_actiontoken000000000000000000000000",
      INPUT_MODE: mode,
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    };
  };
  return {
    fake,
    bare,
    runner() {
      const workspace = tempDir("ar-ws-");
      sh(workspace, "clone", "-q", bare, ".");
      const temp = tempDir("ar-runner-temp-");
      return { workspace, temp, output: join(temp, "output"), summary: join(temp, "summary.md") };
    },
    env,
    io(r, mode, event, payload, inputs = {}) {
      return { env: env(r, mode, event, payload, inputs), stderr: { write: () => true }, limits: { writeMinTimeMs: 0, notificationMinTimeMs: 0 } };
    },
    outputs(r) {
      return Object.fromEntries(
        readFileSync(r.output, "utf8")
          .trim()
          .split("\n")
          .map((l) => l.split("=", 2) as [string, string]),
      );
    },
    person,
    labelledIssue() {
      const author = person("octocat");
      const maintainer = person("maintainer", "write");
      const issue = fake.state.addIssue(REPO, { title: "Importer drops rows", body: "Rows after 1000 vanish.", labels: ["agent"], user: "octocat" });
      return { action: "labeled", issue: { number: issue.number, title: issue.title, body: issue.body, labels: [{ name: "agent" }], user: author }, label: { name: "agent" }, sender: maintainer, repository: { full_name: REPO } };
    },
    comment(issue, body, author) {
      const c = fake.state.addComment(REPO, issue, body, author.login);
      const i = fake.state.mustRepo(REPO).issues.get(issue)!;
      return { action: "created", issue: { number: issue, title: i.title, body: i.body, labels: i.labels.map((name) => ({ name })), user: person(i.user.login) }, comment: { id: c.id, body, user: author }, sender: author, repository: { full_name: REPO } };
    },
    close: () => fake.close(),
  };
}

/**
 * Registers the hooks of a test file whose every test gets a fresh world: loopback only, the fake's
 * schema checks asserted after each test, temp folders removed. Returns the current world.
 */
export function useActionWorld(): () => ActionWorld {
  let world: ActionWorld | undefined;
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect("127.0.0.1");
  });
  beforeEach(async () => {
    world = await startActionWorld();
  });
  afterEach(async () => {
    expect(world!.fake.state.schemaProblems).toEqual([]);
    await world!.close();
    removeTempDirs();
  });
  afterAll(() => nock.enableNetConnect());
  return () => world!;
}
