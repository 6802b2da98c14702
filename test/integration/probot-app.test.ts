// The GitHub App end to end against the fake GitHub on 127.0.0.1: signed deliveries become tasks in
// the repository's ledger through an installation token, workers are dispatched to the repository's
// Actions, redeliveries and bursts to two replicas change the ledger once, and ticks from two
// replicas make one task per job slot.
import { afterEach, describe, expect, it } from "vitest";
import { parseMarker } from "../../src/core/sync/markers.ts";
import { decodeLedger } from "../../src/adapters/ledger-codec/ledger-file.ts";
import type { AppInstance } from "../support/app-world.ts";
import { asAppPayload, INSTALLATION, startApp } from "../support/app-world.ts";
import { EXAMPLE_CONFIG, REPO, startActionWorld } from "../support/action-world.ts";
import type { ActionWorld } from "../support/action-world.ts";
import nock from "nock";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { runAction } from "../../src/entrypoints/action/run-action.ts";
import { removeTempDirs, tempDir } from "../support/git-repo.ts";

const CONFIG = `${EXAMPLE_CONFIG}execution:
  executor: actions
`;

let world: ActionWorld | undefined;
const apps: AppInstance[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
  if (world) {
    expect(world.fake.state.schemaProblems).toEqual([]);
    await world.close();
    world = undefined;
  }
  removeTempDirs();
  nock.enableNetConnect();
});

async function setUp(config = CONFIG, agent?: string): Promise<ActionWorld> {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
  world = await startActionWorld(config, agent ? { exampleAgent: agent } : {});
  // The app reads its config from the default branch through the API (the fake's own tree).
  world.fake.state.commit(world.fake.state.mustRepo(REPO), "main", { ".github/agent-router.yml": config });
  world.fake.state.addInstallation(INSTALLATION, [REPO]);
  return world;
}

async function app(clock?: { now(): Date }, local?: { workdir: string; slots: number }): Promise<AppInstance> {
  const a = await startApp(world!, { ...(clock ? { clock } : {}), ...(local ? { local } : {}) });
  apps.push(a);
  return a;
}

function ledgerTasks(w: ActionWorld) {
  const repo = w.fake.state.mustRepo(REPO);
  const head = repo.refs.get("refs/heads/agent-router/ledger");
  if (!head) return [];
  // The branch exists a moment before its first ledger commit.
  const text = repo.commits.get(head)!.files.get("ledger.yml");
  return text === undefined ? [] : decodeLedger(text, "ledger.yml", "test").ledger.tasks;
}

const statusComments = (w: ActionWorld) => [...w.fake.state.mustRepo(REPO).comments.values()].filter((c) => parseMarker(c.body)?.kind === "status");

describe("the GitHub App", () => {
  it("a labelled issue becomes a routed task whose worker is dispatched, all through an installation token", async () => {
    const w = await setUp();
    const a = await app();
    const payload = asAppPayload(w.labelledIssue());
    const r = await a.deliver("issues", payload, "d-app-1");
    expect(r.status).toBe(202);
    await a.app.queue.idle();
    const tasks = ledgerTasks(w);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ id: 1, source: { kind: "issue", issue: payload.issue && (payload.issue as { number: number }).number }, status: "running", route: { agent: "example" } });
    const dispatches = w.fake.state.mustRepo(REPO).dispatches;
    expect(dispatches).toHaveLength(1);
    expect(dispatches[0]).toMatchObject({ workflow_id: "agent-router.yml", ref: "main", inputs: { task: "1", attempt: "1", agent: "example" } });
    expect(statusComments(w)).toHaveLength(1);
    // Credentials: the app's JWT only for its token; every repository request carries that token.
    const tokens = w.fake.state.installations.get(INSTALLATION)!.tokens;
    expect(tokens).toHaveLength(1);
    const repoRequests = w.fake.requests.filter((q) => !q.path.startsWith("/app/"));
    expect(repoRequests.length).toBeGreaterThan(3);
    expect(repoRequests.every((q) => q.authorization === `token ${tokens[0]}`)).toBe(true);
    expect(w.fake.requests.filter((q) => q.path.startsWith("/app/")).every((q) => /^bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(q.authorization ?? ""))).toBe(true);
    // Every log line of the delivery's work carries the trace id and the delivery id.
    const lines = a.log.lines.filter((l) => l.deliveryId === "d-app-1");
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => typeof l.traceId === "string")).toBe(true);
  });

  it("the same delivery five times in a row and five at once: one task, one comment, one dispatch", async () => {
    const w = await setUp();
    const a = await app();
    const payload = asAppPayload(w.labelledIssue());
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await a.deliver("issues", payload, "d-same-1")).status);
    statuses.push(...(await Promise.all(Array.from({ length: 5 }, () => a.deliver("issues", payload, "d-same-2")))).map((r) => r.status));
    await a.app.queue.idle();
    expect(statuses.filter((s) => s === 202)).toHaveLength(2);
    expect(ledgerTasks(w)).toHaveLength(1);
    expect(statusComments(w)).toHaveLength(1);
    expect(w.fake.state.mustRepo(REPO).dispatches).toHaveLength(1);
  });

  it("two replicas receiving the same burst of deliveries change the ledger once per issue", async () => {
    const w = await setUp();
    const [a, b] = [await app(), await app()];
    const payloads = Array.from({ length: 4 }, () => asAppPayload(w.labelledIssue()));
    const sends = payloads.flatMap((p, i) => [a.deliver("issues", p, `burst-${i}`), b.deliver("issues", p, `burst-${i}`)]);
    expect((await Promise.all(sends)).every((r) => r.status === 202)).toBe(true);
    await Promise.all([a.app.queue.idle(), b.app.queue.idle()]);
    const tasks = ledgerTasks(w);
    expect(tasks.map((t) => t.source).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))).toEqual(
      payloads.map((p) => ({ kind: "issue", issue: (p.issue as { number: number }).number })).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    );
    for (const p of payloads) expect(statusComments(w).filter((c) => c.issue_number === (p.issue as { number: number }).number)).toHaveLength(1);
    const keys = w.fake.state.mustRepo(REPO).dispatches.map((d) => `${String(d.inputs.task)}/${String(d.inputs.attempt)}`);
    expect(new Set(keys).size).toBe(keys.length);
    // Each replica asks for its bot account once, not per delivery.
    const viewerQueries = w.fake.requests.filter((q) => q.graphqlFields?.includes("viewer"));
    expect(viewerQueries.length).toBeLessThanOrEqual(2);
  });

  it("refuses a payload without an installation, and ignores events it does not act on", async () => {
    const w = await setUp();
    const a = await app();
    const payload = { ...w.labelledIssue(), installation: undefined };
    expect((await a.deliver("issues", payload, "d-noinst")).status).toBe(400);
    expect((await a.deliver("push", asAppPayload({ ref: "refs/heads/main" }), "d-push")).status).toBe(200);
    await a.app.queue.idle();
    expect(ledgerTasks(w)).toEqual([]);
  });

  it("a repository without .github/agent-router.yml is left alone", async () => {
    const w = await setUp();
    w.fake.state.addInstallation(INSTALLATION, [REPO, "acme/other"]);
    const a = await app();
    const other = w.fake.state.addIssue("acme/other", { title: "x", labels: ["agent"], user: "octocat" });
    const payload = asAppPayload({ action: "labeled", issue: { number: other.number, title: "x", body: null, labels: [{ name: "agent" }], user: w.person("octocat") }, label: { name: "agent" }, sender: w.person("maintainer", "write") }, "acme/other");
    expect((await a.deliver("issues", payload, "d-other")).status).toBe(202);
    await a.app.queue.idle();
    expect(w.fake.state.mustRepo("acme/other").refs.has("refs/heads/agent-router/ledger")).toBe(false);
    expect(w.fake.requests.filter((q) => q.mutating && !q.path.startsWith("/app/"))).toEqual([]);
  });

  it("ticks from two replicas at once make one task per job slot, and an idle tick writes nothing", async () => {
    const w = await setUp();
    const job = "name: sweep\nschedule: '* * * * *'\nenabled: true\ntask:\n  title: Sweep the flaky tests\n  agent: example\n";
    const repo = w.fake.state.mustRepo(REPO);
    const [a, b] = [await app(), await app()];
    // First an idle tick: the repository has no job yet and no work.
    await Promise.all([a.app.tickAll(), b.app.tickAll()]);
    await Promise.all([a.app.queue.idle(), b.app.queue.idle()]);
    expect(w.fake.requests.filter((q) => q.mutating && !q.path.startsWith("/app/"))).toEqual([]);
    w.fake.state.commit(repo, "main", { ".github/agent-router/jobs/sweep.yml": job });
    expect(await Promise.all([a.app.tickAll(), b.app.tickAll()])).toEqual([1, 1]);
    await Promise.all([a.app.queue.idle(), b.app.queue.idle()]);
    const tasks = ledgerTasks(w);
    expect(tasks.map((t) => [t.source.kind, t.title])).toEqual([["job", "Sweep the flaky tests"]]);
    expect(repo.dispatches).toHaveLength(1);
  });

  it("the dispatched worker (the Action's worker and record modes) finishes the task: a pull request and done", async () => {
    const w = await setUp();
    const a = await app();
    const payload = asAppPayload(w.labelledIssue());
    await a.deliver("issues", payload, "d-loop-1");
    await a.app.queue.idle();
    const inputs = w.fake.state.mustRepo(REPO).dispatches[0]!.inputs as Record<string, string>;
    const performed = await runAction(w.io(w.runner(), "worker", "workflow_dispatch", { inputs }));
    const record = w.runner();
    cpSync(performed.artifactDir!, join(record.workspace, ".agent-router-attempt"), { recursive: true });
    await runAction(w.io(record, "record", "workflow_dispatch", { inputs }));
    expect(ledgerTasks(w)[0]).toMatchObject({ status: "done" });
    expect([...w.fake.state.mustRepo(REPO).pulls.values()]).toHaveLength(1);
    expect(statusComments(w)).toHaveLength(1);
  });

  it("a worker run that never reports is finalised by a later tick once its lease ends: the attempt ends, the comment stops saying running", async () => {
    const w = await setUp();
    let now = Date.now();
    const a = await app({ now: () => new Date(now) });
    await a.deliver("issues", asAppPayload(w.labelledIssue()), "d-lost-1");
    await a.app.queue.idle();
    expect(ledgerTasks(w)[0]).toMatchObject({ status: "running" });
    const before = statusComments(w)[0]!.body;
    // The worker run was cancelled: nothing is recorded. A day later, a tick.
    now += 24 * 3_600_000;
    await a.app.tickAll();
    await a.app.queue.idle();
    const task = ledgerTasks(w)[0]!;
    expect(task.attempts[0]).toMatchObject({ outcome: "lease_expired" });
    expect(w.fake.state.mustRepo(REPO).dispatches.map((d) => (d.inputs as Record<string, string>)["attempt"])).toEqual(["1", "2"]);
    const after = statusComments(w);
    expect(after).toHaveLength(1);
    expect(after[0]!.body).not.toBe(before);
    expect(after[0]!.body).toMatch(/lease/i);
  });

  it("with executor inline and local agents, the app runs the agent on its own machine: branch pushed, pull request, done; at most `slots` at once", async () => {
    const w = await setUp(EXAMPLE_CONFIG, join(import.meta.dirname, "../fixtures/agents/slow-good-agent.mjs"));
    // The work folder sits inside another repository, with an empty folder where the clone goes
    // (a clone that failed half-way): the app clones there, never using the enclosing repository.
    const workdir = tempDir("ar-app-work-");
    execFileSync("git", ["init", "-q"], { cwd: workdir });
    mkdirSync(join(workdir, "acme", "widgets"), { recursive: true });
    const a = await app(undefined, { workdir, slots: 1 });
    const payloads = [asAppPayload(w.labelledIssue()), asAppPayload(w.labelledIssue())];
    for (const [i, p] of payloads.entries()) expect((await a.deliver("issues", p, `d-local-${i}`)).status).toBe(202);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(ledgerTasks(w).length === 2 && ledgerTasks(w).every((t) => t.status === "done"))) await new Promise((r) => setTimeout(r, 50));
    await a.app.queue.idle();
    const tasks = ledgerTasks(w);
    expect(tasks.map((t) => [t.status, t.attempts.length, t.attempts[0]?.outcome])).toEqual([["done", 1, "success"], ["done", 1, "success"]]);
    // One slot: the second attempt started only after the first ended.
    const [first, second] = tasks.map((t) => t.attempts[0]!).sort((x, y) => x.startedAt.localeCompare(y.startedAt));
    expect(second!.startedAt >= first!.endedAt!).toBe(true);
    expect([...w.fake.state.mustRepo(REPO).pulls.values()].map((p) => p.head).sort()).toEqual(["agent-router/task-1", "agent-router/task-2"]);
    expect(w.fake.state.mustRepo(REPO).dispatches).toEqual([]);
  }, 90_000);

  it("stopping the app (SIGTERM) stops its local agents and records their claims as given back", async () => {
    const w = await setUp(EXAMPLE_CONFIG, join(import.meta.dirname, "../fixtures/agents/slow-good-agent.mjs"));
    const a = await app(undefined, { workdir: tempDir("ar-app-work-"), slots: 2 });
    await a.deliver("issues", asAppPayload(w.labelledIssue()), "d-stop-1");
    await a.app.queue.idle();
    expect(ledgerTasks(w)[0]).toMatchObject({ status: "running" });
    await a.app.stop();
    const task = ledgerTasks(w)[0]!;
    expect(task.status).toBe("routed");
    expect(task.attempts[0]).toMatchObject({ outcome: "released" });
  }, 60_000);
});
