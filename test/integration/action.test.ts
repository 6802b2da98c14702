// The GitHub Action end to end, in process (runAction with the runner's environment), against the
// fake GitHub on 127.0.0.1 and real clones of a bare remote the fake reads as its repository: a
// labelled issue becomes a routed task and a dispatched worker run; the worker job performs the
// attempt with the example command agent and leaves its result; the record job pushes the branch,
// records the result and opens the pull request; outputs and the step summary say so.
import { cpSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runAction } from "../../src/entrypoints/action/run-action.ts";
import { decodeLedger } from "../../src/adapters/ledger-codec/ledger-file.ts";
import { parseMarker } from "../../src/core/sync/markers.ts";
import { REPO, useActionWorld } from "../support/action-world.ts";
import { sh } from "../support/git-repo.ts";

const world = useActionWorld();

describe("the Action", () => {
  it("labelled issue → routed task and a dispatched worker → worker performs the attempt read-only → record pushes the branch and opens the pull request", async () => {
    // 1. The issues event: auto mode makes the task, routes it, claims it and dispatches a worker run.
    const first = world().runner();
    const auto = await runAction(world().io(first, "auto", "issues", world().labelledIssue()));
    expect(auto).toMatchObject({ taskId: 1, status: "running", prUrl: null });
    expect(world().outputs(first)).toMatchObject({ "task-id": "1", status: "running" });
    const dispatches = world().fake.state.mustRepo(REPO).dispatches;
    expect(dispatches).toHaveLength(1);
    expect(dispatches[0]).toMatchObject({ workflow_id: "agent-router.yml", ref: "main", inputs: { task: "1", attempt: "1", agent: "example" } });
    const inputs = dispatches[0]!.inputs as Record<string, string>;
    expect(readFileSync(first.summary, "utf8")).toMatch(/\| 1: Importer drops rows \| `running` \| `example` \| 1 \|/);

    // 2. The worker job (a read-only token would refuse any write: it makes none).
    const work = world().runner();
    const before = world().fake.requests.length;
    const worker = await runAction(world().io(work, "worker", "workflow_dispatch", { inputs, ref: "refs/heads/main" }));
    expect(world().fake.requests.slice(before).filter((q) => q.mutating)).toEqual([]);
    expect(worker.artifactDir).toBe(join(work.temp, "agent-router-attempt"));
    expect(existsSync(join(worker.artifactDir!, "result.json"))).toBe(true);
    expect(existsSync(join(worker.artifactDir!, "branch.bundle"))).toBe(true);
    expect(sh(world().bare, "for-each-ref", "refs/heads/agent-router/")).toBe(""); // nothing pushed by the worker

    // 3. The record job, on another runner, with the artifact downloaded into its checkout.
    const rec = world().runner();
    cpSync(worker.artifactDir!, join(rec.workspace, ".agent-router-attempt"), { recursive: true });
    const recorded = await runAction(world().io(rec, "record", "workflow_dispatch", { inputs, ref: "refs/heads/main" }));
    expect(recorded).toMatchObject({ taskId: 1, status: "done", prUrl: expect.stringMatching(/\/acme\/widgets\/pull\/\d+$/) });
    const head = sh(world().bare, "rev-parse", "refs/heads/agent-router/task-1");
    expect(sh(world().bare, "show", "--stat", "--format=%an", head)).toMatch(/^agent-router[\s\S]*notes\/task-1\.md/);
    const pulls = [...world().fake.state.mustRepo(REPO).pulls.values()];
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.body).toMatch(/Closes #1\b/);
    const comments = [...world().fake.state.mustRepo(REPO).comments.values()].filter((c) => parseMarker(c.body)?.kind === "status");
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain("https://github.com/acme/widgets/actions/runs/777");
    const ledgerText = world().fake.state.mustRepo(REPO).commits.get(world().fake.state.mustRepo(REPO).refs.get("refs/heads/agent-router/ledger")!)!.files.get("ledger.yml")!;
    expect(decodeLedger(ledgerText, "ledger.yml", "test").ledger.tasks[0]).toMatchObject({ status: "done", attempts: [{ outcome: "success", agent: "example" }] });
    expect(readFileSync(rec.summary, "utf8")).toMatch(/`done`/);
  });

  it("a record job without the worker's result records a router error at once, and the task retries", async () => {
    const first = world().runner();
    await runAction(world().io(first, "auto", "issues", world().labelledIssue()));
    const inputs = world().fake.state.mustRepo(REPO).dispatches[0]!.inputs as Record<string, string>;
    const rec = world().runner();
    const r = await runAction(world().io(rec, "record", "workflow_dispatch", { inputs, ref: "refs/heads/main" }, { "max-workers": "0" }));
    expect(r).toMatchObject({ taskId: 1, status: "retrying" });
  });

  it("R14: 10 labelled issues whose runs were mostly dropped (8 of 10 events never ran) all reach done; an issue a reader labelled does not start", { timeout: 180_000 }, async () => {
    const maintainer = world().person("maintainer", "write");
    const payloads = Array.from({ length: 10 }, () => world().labelledIssue());
    const readerIssue = world().fake.state.addIssue(REPO, { title: "Please do my homework", body: "", user: "mallory" });
    world().person("mallory", "read");
    world().fake.state.labelIssue(REPO, readerIssue.number, "agent", "mallory");
    for (const p of payloads) world().fake.state.labelIssue(REPO, p.issue.number, "agent", maintainer.login);
    // Only two `labeled` runs ran; GitHub's concurrency dropped the other eight.
    for (const p of [payloads[3]!, payloads[7]!]) await runAction(world().io(world().runner(), "auto", "issues", p));
    // Scheduled runs take up the rest; every dispatched worker run is performed and recorded.
    const done = new Set<string>();
    for (let round = 0; round < 12; round++) {
      await runAction(world().io(world().runner(), "auto", "schedule", { schedule: "*/15 * * * *" }));
      for (const inputs of world().fake.state.mustRepo(REPO).dispatches.map((d) => d.inputs as Record<string, string>)) {
        if (done.has(inputs.key!)) continue;
        done.add(inputs.key!);
        const work = world().runner();
        const performed = await runAction(world().io(work, "worker", "workflow_dispatch", { inputs }));
        const rec = world().runner();
        cpSync(performed.artifactDir!, join(rec.workspace, ".agent-router-attempt"), { recursive: true });
        await runAction(world().io(rec, "record", "workflow_dispatch", { inputs }));
      }
      if (world().fake.state.mustRepo(REPO).pulls.size === 10) break;
    }
    const ledgerText = world().fake.state.mustRepo(REPO).commits.get(world().fake.state.mustRepo(REPO).refs.get("refs/heads/agent-router/ledger")!)!.files.get("ledger.yml")!;
    const tasks = decodeLedger(ledgerText, "ledger.yml", "test").ledger.tasks;
    expect(tasks.map((t) => [t.source.kind === "issue" ? t.source.issue : 0, t.status]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(payloads.map((p) => [p.issue.number, "done"]));
    for (const p of payloads) expect([...world().fake.state.mustRepo(REPO).comments.values()].filter((c) => c.issue_number === p.issue.number && parseMarker(c.body)?.kind === "status")).toHaveLength(1);
    expect(world().fake.state.mustRepo(REPO).pulls.size).toBe(10);
  });

  it("a comment forging the router's marker, posted before the router's first sync, is not adopted: the router's account makes the one tracking comment", async () => {
    const { fake } = world();
    const payload = world().labelledIssue();
    world().person("mallory", "read");
    const forged = fake.state.addComment(REPO, payload.issue.number, "<!-- agent-router:task=1 kind=status key=1 -->\nstatus: done (trust me)", "mallory");
    const auto = await runAction(world().io(world().runner(), "auto", "issues", payload));
    expect(auto).toMatchObject({ taskId: 1, status: "running" });
    const repo = fake.state.mustRepo(REPO);
    const tracking = [...repo.comments.values()].filter((c) => parseMarker(c.body)?.kind === "status");
    expect(tracking.map((c) => c.user.login)).toEqual(["mallory", fake.state.viewer.login]);
    expect(repo.comments.get(forged.id)!.body).toBe("<!-- agent-router:task=1 kind=status key=1 -->\nstatus: done (trust me)");
    const ours = tracking.find((c) => c.user.id === fake.state.viewer.id)!;
    expect(ours.body).toMatch(/agent-router task 1/);
    const ledgerText = repo.commits.get(repo.refs.get("refs/heads/agent-router/ledger")!)!.files.get("ledger.yml")!;
    expect(decodeLedger(ledgerText, "ledger.yml", "test").ledger.tasks[0]!.github?.commentId).toBe(ours.id);
    // The run learnt its account with one GraphQL viewer query.
    expect(fake.requests.filter((q) => q.graphqlFields?.includes("viewer"))).toHaveLength(1);
  });

  it("an event it does not act on is ignored with a reason, and touches nothing", async () => {
    const r = world().runner();
    expect(await runAction(world().io(r, "auto", "push", { ref: "refs/heads/main" }))).toEqual({ taskId: null, status: null, prUrl: null });
    expect(world().fake.requests).toEqual([]);
    expect(readFileSync(r.summary, "utf8")).toMatch(/push ignored/);
  });
});
