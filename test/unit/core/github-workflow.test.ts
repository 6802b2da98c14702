import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { isRouterError } from "../../../src/core/errors.ts";
import { lintWorkflow, PINNED_ACTIONS, renderWorkflow, type WorkflowOptions } from "../../../src/core/github-workflow.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const OPTS: WorkflowOptions = { action: { repository: "agent-router/agent-router", sha: SHA } };
const LEDGER_WRITER = { contents: "write", issues: "write", "pull-requests": "write", actions: "write" };
const LEDGER_GROUP = { group: "agent-router-ledger", "cancel-in-progress": false, queue: "max" };

type Doc = Record<string, unknown>;
const rendered = (): Doc => parse(renderWorkflow(OPTS)) as Doc;
/** The mapping at `path` (a test knows the shape it rendered). */
const at = (doc: Doc, ...path: string[]): Doc => path.reduce((d, k) => d[k] as Doc, doc);
const stepsOf = (doc: Doc, job: string): Doc[] => at(doc, "jobs", job)["steps"] as Doc[];
const step = (doc: Doc, job: string, name: string): Doc => stepsOf(doc, job).find((s) => s["name"] === name)!;

describe("renderWorkflow", () => {
  it("passes its own lint", () => {
    expect(lintWorkflow(rendered())).toEqual([]);
  });

  it("listens to issues, comments, the schedule and worker dispatches", () => {
    const on = at(rendered(), "on");
    expect(on["issues"]).toEqual({ types: ["opened", "labeled", "unlabeled", "edited", "closed", "reopened"] });
    expect(on["issue_comment"]).toEqual({ types: ["created"] });
    expect(on["schedule"]).toEqual([{ cron: "*/15 * * * *" }]);
    const inputs = at(on, "workflow_dispatch", "inputs");
    // An attempt's run sets task, attempt, key and agent; a review's task, review and agent.
    expect(Object.keys(inputs)).toEqual(["task", "attempt", "key", "review", "agent"]);
    for (const input of Object.values(inputs) as Doc[]) {
      expect(input).toMatchObject({ type: "string", required: false, default: "" });
      expect(input["description"]).toContain("Set by the router when it dispatches a worker");
    }
    expect(Object.keys(on)).not.toContain("pull_request_target");
  });

  it("splits reconcile, worker and record by the dispatch inputs, with least-privilege tokens", () => {
    const doc = rendered();
    expect(doc["permissions"]).toEqual({});
    const [reconcile, worker, record] = ["reconcile", "worker", "record"].map((j) => at(doc, "jobs", j));
    expect(Object.keys(at(doc, "jobs"))).toEqual(["reconcile", "worker", "record"]);
    expect(reconcile!["if"]).toBe("github.event_name != 'workflow_dispatch' || inputs.task == ''");
    expect(worker!["if"]).toBe("github.event_name == 'workflow_dispatch' && inputs.task != ''");
    expect(record!["if"]).toBe("always() && github.event_name == 'workflow_dispatch' && inputs.task != ''");
    expect(record!["needs"]).toBe("worker");

    expect(reconcile!["permissions"]).toEqual(LEDGER_WRITER);
    expect(record!["permissions"]).toEqual(LEDGER_WRITER);
    expect(worker!["permissions"]).toEqual({ contents: "read" });

    expect(reconcile!["concurrency"]).toEqual(LEDGER_GROUP);
    expect(record!["concurrency"]).toEqual(LEDGER_GROUP);
    expect(worker!["concurrency"]).toEqual({ group: "agent-router-task-${{ inputs.task }}", "cancel-in-progress": false });
    expect([reconcile!["timeout-minutes"], worker!["timeout-minutes"], record!["timeout-minutes"]]).toEqual([10, 70, 10]);
  });

  it("gives the worker only the key of the agent named by the dispatch, and hands its result to record", () => {
    const doc = rendered();
    expect(step(doc, "worker", "Run the agent")).toEqual({
      name: "Run the agent",
      id: "work",
      uses: `agent-router/agent-router@${SHA}`,
      with: {
        mode: "worker",
        "github-token": "${{ secrets.GITHUB_TOKEN }}",
        "anthropic-api-key": "${{ inputs.agent == 'claude' && secrets.ANTHROPIC_API_KEY || '' }}",
        "openai-api-key": "${{ (inputs.agent == 'codex' || inputs.agent == 'opencode') && secrets.OPENAI_API_KEY || '' }}",
      },
    });
    const name = "agent-router-attempt-${{ inputs.task }}-${{ inputs.attempt }}";
    expect(at(step(doc, "worker", "Keep the attempt's result"), "with")).toEqual({ name, path: "${{ steps.work.outputs.artifact-dir }}", "retention-days": 3, "include-hidden-files": true });
    expect(step(doc, "record", "Fetch the attempt's result")).toMatchObject({ "continue-on-error": true, with: { name, path: ".agent-router-attempt" } });
    expect(at(step(doc, "reconcile", "Reconcile"), "with")["mode"]).toBe("auto");
    expect(at(step(doc, "record", "Record"), "with")["mode"]).toBe("record");
  });

  it("pins every third-party action to its release commit", () => {
    const text = renderWorkflow(OPTS);
    for (const a of Object.values(PINNED_ACTIONS)) {
      expect(a.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(text).toContain(`uses: ${a.name}@${a.sha} # ${a.version}\n`);
    }
    const uses = [...text.matchAll(/^ +(?:- )?uses: (\S+)/gm)].map((m) => m[1]);
    expect(uses).toHaveLength(8); // checkout and the router in each of 3 jobs, upload, download
    for (const u of uses) expect(u).toMatch(/@[0-9a-f]{40}$/);
  });

  it("takes the schedule and the Action's repository as parameters", () => {
    const doc = parse(renderWorkflow({ action: { repository: "acme/router", sha: SHA }, cron: "0 */2 * * 1-5" })) as Doc;
    expect(at(doc, "on")["schedule"]).toEqual([{ cron: "0 */2 * * 1-5" }]);
    expect(step(doc, "record", "Record")["uses"]).toBe(`acme/router@${SHA}`);
  });

  it.each([
    [{ ...OPTS, action: { ...OPTS.action, sha: "v1" } }, 'the Action commit "v1" is not a full 40-character'],
    [{ ...OPTS, action: { ...OPTS.action, sha: SHA.toUpperCase() } }, "is not a full 40-character lower-case commit SHA"],
    [{ ...OPTS, action: { ...OPTS.action, repository: "router\nrun: x" } }, "is not owner/name"],
    [{ ...OPTS, cron: "* * *" }, 'the schedule "* * *": a schedule has 5 fields'],
    [{ ...OPTS, cron: '" #' }, "the schedule"],
  ])("refuses options that would make a broken or unpinned workflow (%#)", (opts, message) => {
    let error: unknown;
    try {
      renderWorkflow(opts);
    } catch (e) {
      error = e;
    }
    expect(isRouterError(error, "E_USAGE")).toBe(true);
    expect((error as Error).message).toContain(message);
  });

  it("matches the snapshot", async () => {
    await expect(renderWorkflow(OPTS)).toMatchFileSnapshot("./__snapshots__/github-workflow.yml");
  });
});

/** One mutation per S8 rule, each with the one problem it must cause. */
const mutations: [string, (doc: Doc) => void, string][] = [
  ["no top-level permissions", (d) => delete d["permissions"], `top level: no permissions; add "permissions: {}" so no job inherits the repository's default scopes`],
  ["top-level write", (d) => (d["permissions"] = { contents: "write" }), `top level: permissions grant write access (contents); keep "permissions: {}" and grant scopes per job`],
  ["top-level write-all", (d) => (d["permissions"] = "write-all"), `top level: permissions grant write access (write-all); keep "permissions: {}" and grant scopes per job`],
  ["a job without permissions", (d) => delete at(d, "jobs", "reconcile")["permissions"], 'job "reconcile": no permissions of its own; list only the scopes it needs'],
  [
    "the agent's job can write",
    (d) => (at(d, "jobs", "worker")["permissions"] = { contents: "read", "pull-requests": "write" }),
    'job "worker": runs the agent (mode: worker), so its token must be contents: read only, not contents: read, pull-requests: write',
  ],
  [
    "the agent's job reads everything",
    (d) => (at(d, "jobs", "worker")["permissions"] = "read-all"),
    'job "worker": runs the agent (mode: worker), so its token must be contents: read only, not read-all',
  ],
  [
    "github.event text in run:",
    (d) => stepsOf(d, "reconcile").push({ name: "Echo", run: 'echo "${{ github.event.issue.title }}"' }),
    'job "reconcile" step "Echo": run: expands ${{ github.event.* }} into a shell script (untrusted text becomes code); pass it through env: instead',
  ],
  [
    "github.event text in the router's inputs",
    (d) => (at(step(d, "worker", "Run the agent"), "with")["trigger-label"] = "${{github.event.comment.body}}"),
    `job "worker" step "Run the agent": the router's input trigger-label expands \${{ github.event.* }}; the router reads the event itself`,
  ],
  ["pull_request_target", (d) => (at(d, "on")["pull_request_target"] = { types: ["opened"] }), "on: pull_request_target runs with a write token and secrets on pull requests from forks; do not use it"],
  ["pull_request_target as a list", (d) => (d["on"] = ["issues", "pull_request_target"]), "on: pull_request_target runs with a write token and secrets on pull requests from forks; do not use it"],
  [
    "a tag instead of a SHA",
    (d) => (step(d, "record", "Check out")["uses"] = "actions/checkout@v5"),
    'job "record" step "Check out": uses: actions/checkout@v5 is not pinned to a 40-character commit SHA',
  ],
  [
    "an abbreviated SHA",
    (d) => (step(d, "worker", "Keep the attempt's result")["uses"] = "actions/upload-artifact@ea165f8"),
    `job "worker" step "Keep the attempt's result": uses: actions/upload-artifact@ea165f8 is not pinned to a 40-character commit SHA`,
  ],
  [
    "actions/cache",
    (d) => stepsOf(d, "reconcile").push({ uses: `actions/cache@${SHA}`, with: { path: "node_modules", key: "k" } }),
    'job "reconcile" step #3: uses actions/cache; a job that handles issue or agent text must not save a cache (cache poisoning)',
  ],
  [
    "actions/cache/save",
    (d) => stepsOf(d, "worker").push({ name: "Save", uses: `actions/cache/save@${SHA}`, with: { path: "x", key: "k" } }),
    'job "worker" step "Save": uses actions/cache/save; a job that handles issue or agent text must not save a cache (cache poisoning)',
  ],
  [
    "a setup action that caches",
    (d) => stepsOf(d, "worker").splice(1, 0, { name: "Node", uses: `actions/setup-node@${SHA}`, with: { cache: "npm" } }),
    'job "worker" step "Node": actions/setup-node with cache: saves a cache; a job that handles issue or agent text must not (cache poisoning)',
  ],
  ["a ledger writer without concurrency", (d) => delete at(d, "jobs", "reconcile")["concurrency"], 'job "reconcile": writes contents (a ledger writer) without a concurrency group'],
  [
    "a ledger writer that cancels in progress",
    (d) => (at(d, "jobs", "record", "concurrency")["cancel-in-progress"] = true),
    'job "record": cancel-in-progress: true would cancel a ledger writer in the middle of a write',
  ],
  [
    "checkout that keeps the token",
    (d) => delete at(step(d, "worker", "Check out"), "with")["persist-credentials"],
    'job "worker" step "Check out": actions/checkout leaves the token in .git/config; set persist-credentials: false',
  ],
];

describe("lintWorkflow", () => {
  it.each(mutations)("finds %s", (_name, mutate, problem) => {
    const doc = rendered();
    mutate(doc);
    expect(lintWorkflow(doc)).toEqual([problem]);
  });

  it("accepts what the rules allow", () => {
    const doc = rendered();
    stepsOf(doc, "reconcile").push(
      { name: "Local", uses: "./.github/actions/local" },
      { name: "Safe", run: 'echo "$TITLE"', env: { TITLE: "${{ github.event.issue.title }}" } },
      { name: "Checkout as text", uses: `actions/checkout@${SHA}`, with: { "persist-credentials": "false" } },
    );
    at(doc, "jobs", "worker")["permissions"] = { contents: "read", issues: "none" };
    at(doc, "jobs", "reconcile")["concurrency"] = "agent-router-ledger";
    expect(lintWorkflow(doc)).toEqual([]);
  });

  it("counts a workflow-level concurrency group for a ledger writer", () => {
    const doc = rendered();
    delete at(doc, "jobs", "reconcile")["concurrency"];
    doc["concurrency"] = { group: "ledger", "cancel-in-progress": true };
    expect(lintWorkflow(doc)).toEqual(['job "reconcile": cancel-in-progress: true would cancel a ledger writer in the middle of a write']);
  });

  it("says what is wrong with a document that is not a workflow", () => {
    expect(lintWorkflow("on: push")).toEqual(["the workflow is not a YAML mapping"]);
    expect(lintWorkflow({ permissions: {}, on: "push" })).toEqual(["no jobs"]);
  });
});
