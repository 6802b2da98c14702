// The GitHub Action end to end, in process (runAction with the runner's environment), against the
// fake GitHub on 127.0.0.1 and real clones of a bare remote the fake reads as its repository: a
// labelled issue becomes a routed task and a dispatched worker run; the worker job performs the
// attempt with the example command agent and leaves its result; the record job pushes the branch,
// records the result and opens the pull request; outputs and the step summary say so.
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ActionIo } from "../../src/entrypoints/action/run-action.ts";
import { runAction } from "../../src/entrypoints/action/run-action.ts";
import { decodeLedger } from "../../src/adapters/ledger-codec/ledger-file.ts";
import { parseMarker } from "../../src/core/sync/markers.ts";
import type { FakeGitHub } from "../fakes/fake-github/index.ts";
import { startFakeGitHub } from "../fakes/fake-github/index.ts";
import { removeTempDirs, sh, tempDir } from "../support/git-repo.ts";

const REPO = "acme/widgets";
const CONFIG = `agents:
  example: { type: command, command: ["node", "tools/agent.mjs"] }
router:
  fallback: { agent: example, profile: feature }
`;

let fake: FakeGitHub;
let bare: string;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
beforeEach(async () => {
  fake = await startFakeGitHub();
  // The repository: the example agent and the config on main, pushed to a bare remote the fake reads.
  const seed = tempDir("ar-seed-");
  sh(seed, "init", "-q", "-b", "main");
  mkdirSync(join(seed, "tools"));
  mkdirSync(join(seed, ".github"));
  copyFileSync(join(import.meta.dirname, "../../examples/example-agent.mjs"), join(seed, "tools/agent.mjs"));
  writeFileSync(join(seed, ".github/agent-router.yml"), CONFIG);
  writeFileSync(join(seed, "README.md"), "# widgets\n");
  sh(seed, "add", "-A");
  sh(seed, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "initial");
  bare = tempDir("ar-bare-");
  sh(bare, "init", "-q", "--bare", "-b", "main");
  sh(seed, "push", "-q", bare, "main");
  fake.state.linkGitRemote(REPO, bare);
});
afterEach(async () => {
  expect(fake.state.schemaProblems).toEqual([]);
  await fake.close();
  removeTempDirs();
});
afterAll(() => nock.enableNetConnect());

/** A fresh runner: a checkout of main (as actions/checkout with fetch-depth 0 makes), and its files. */
function runner(): { workspace: string; temp: string; output: string; summary: string } {
  const workspace = tempDir("ar-ws-");
  sh(workspace, "clone", "-q", bare, ".");
  const temp = tempDir("ar-runner-temp-");
  return { workspace, temp, output: join(temp, "output"), summary: join(temp, "summary.md") };
}

function actionIo(r: ReturnType<typeof runner>, mode: string, event: string, payload: unknown, inputs: Record<string, string> = {}): ActionIo {
  const eventPath = join(r.temp, "event.json");
  writeFileSync(eventPath, JSON.stringify(payload));
  const env: Record<string, string | undefined> = {
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
  const lines: string[] = [];
  return { env, stderr: { write: (t: string) => lines.push(t) }, limits: { writeMinTimeMs: 0, notificationMinTimeMs: 0 } };
}

const outputs = (r: ReturnType<typeof runner>) => Object.fromEntries(readFileSync(r.output, "utf8").trim().split("\n").map((l) => l.split("=", 2) as [string, string]));

function labelledPayload() {
  const author = fake.state.user("octocat");
  const maintainer = fake.state.user("maintainer");
  fake.state.mustRepo(REPO).permissions.set("maintainer", "write");
  const issue = fake.state.addIssue(REPO, { title: "Importer drops rows", body: "Rows after 1000 vanish.", labels: ["agent"], user: "octocat" });
  const user = (u: typeof author) => ({ login: u.login, id: u.id, type: u.type });
  return { action: "labeled", issue: { number: issue.number, title: issue.title, body: issue.body, labels: [{ name: "agent" }], user: user(author) }, label: { name: "agent" }, sender: user(maintainer), repository: { full_name: REPO } };
}

describe("the Action", () => {
  it("labelled issue → routed task and a dispatched worker → worker performs the attempt read-only → record pushes the branch and opens the pull request", async () => {
    // 1. The issues event: auto mode makes the task, routes it, claims it and dispatches a worker run.
    const first = runner();
    const auto = await runAction(actionIo(first, "auto", "issues", labelledPayload()));
    expect(auto).toMatchObject({ taskId: 1, status: "running", prUrl: null });
    expect(outputs(first)).toMatchObject({ "task-id": "1", status: "running" });
    const dispatches = fake.state.mustRepo(REPO).dispatches;
    expect(dispatches).toHaveLength(1);
    expect(dispatches[0]).toMatchObject({ workflow_id: "agent-router.yml", ref: "main", inputs: { task: "1", attempt: "1", agent: "example" } });
    const inputs = dispatches[0]!.inputs as Record<string, string>;
    expect(readFileSync(first.summary, "utf8")).toMatch(/\| 1: Importer drops rows \| `running` \| `example` \| 1 \|/);

    // 2. The worker job (a read-only token would refuse any write: it makes none).
    const work = runner();
    const before = fake.requests.length;
    const worker = await runAction(actionIo(work, "worker", "workflow_dispatch", { inputs, ref: "refs/heads/main" }));
    expect(fake.requests.slice(before).filter((q) => q.mutating && !q.graphqlFields?.every((f) => f === "repository"))).toEqual([]);
    expect(worker.artifactDir).toBe(join(work.temp, "agent-router-attempt"));
    expect(existsSync(join(worker.artifactDir!, "result.json"))).toBe(true);
    expect(existsSync(join(worker.artifactDir!, "branch.bundle"))).toBe(true);
    expect(sh(bare, "for-each-ref", "refs/heads/agent-router/")).toBe(""); // nothing pushed by the worker

    // 3. The record job, on another runner, with the artifact downloaded into its checkout.
    const rec = runner();
    cpSync(worker.artifactDir!, join(rec.workspace, ".agent-router-attempt"), { recursive: true });
    const recorded = await runAction(actionIo(rec, "record", "workflow_dispatch", { inputs, ref: "refs/heads/main" }));
    expect(recorded).toMatchObject({ taskId: 1, status: "done", prUrl: expect.stringMatching(/\/acme\/widgets\/pull\/\d+$/) });
    const head = sh(bare, "rev-parse", "refs/heads/agent-router/task-1");
    expect(sh(bare, "show", "--stat", "--format=%an", head)).toMatch(/^agent-router[\s\S]*notes\/task-1\.md/);
    const pulls = [...fake.state.mustRepo(REPO).pulls.values()];
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.body).toMatch(/Closes #1\b/);
    const comments = [...fake.state.mustRepo(REPO).comments.values()].filter((c) => parseMarker(c.body)?.kind === "status");
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain("https://github.com/acme/widgets/actions/runs/777");
    const ledgerText = fake.state.mustRepo(REPO).commits.get(fake.state.mustRepo(REPO).refs.get("refs/heads/agent-router/ledger")!)!.files.get("ledger.yml")!;
    expect(decodeLedger(ledgerText, "ledger.yml", "test").ledger.tasks[0]).toMatchObject({ status: "done", attempts: [{ outcome: "success", agent: "example" }] });
    expect(readFileSync(rec.summary, "utf8")).toMatch(/`done`/);
  });

  it("a record job without the worker's result records a router error at once, and the task retries", async () => {
    const first = runner();
    await runAction(actionIo(first, "auto", "issues", labelledPayload()));
    const inputs = fake.state.mustRepo(REPO).dispatches[0]!.inputs as Record<string, string>;
    const rec = runner();
    const r = await runAction(actionIo(rec, "record", "workflow_dispatch", { inputs, ref: "refs/heads/main" }, { "max-workers": "0" }));
    expect(r).toMatchObject({ taskId: 1, status: "retrying" });
  });

  it("an event it does not act on is ignored with a reason, and touches nothing", async () => {
    const r = runner();
    expect(await runAction(actionIo(r, "auto", "push", { ref: "refs/heads/main" }))).toEqual({ taskId: null, status: null, prUrl: null });
    expect(fake.requests).toEqual([]);
    expect(readFileSync(r.summary, "utf8")).toMatch(/push ignored/);
  });
});
