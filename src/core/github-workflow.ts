import { RouterError } from "./errors.ts";
import { cronProblems } from "./scheduling/cron-schedule.ts";

/**
 * The workflow `agent-router init --github` writes, and the S8 lint that every shipped workflow
 * must pass (reliability-security-targets.md, S8). Both are pure: the caller parses the YAML
 * (the core imports no YAML library) and writes the file.
 */

/** Third-party actions, each pinned to the commit of a release (checked against the actions' own repositories). */
export const PINNED_ACTIONS = {
  checkout: { name: "actions/checkout", sha: "fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09", version: "v5.1.0" },
  uploadArtifact: { name: "actions/upload-artifact", sha: "ea165f8d65b6e75b540449e92b4886f43607fa02", version: "v4.6.2" },
  downloadArtifact: { name: "actions/download-artifact", sha: "d3f86a106a0bac45b974a628896c90dbdf5c8093", version: "v4.3.0" },
} as const;

export const DEFAULT_WORKFLOW_CRON = "*/15 * * * *";

export interface WorkflowOptions {
  /** The agent-router Action: `owner/name` and the full commit it is pinned to. */
  action: { repository: string; sha: string };
  /** The reconcile schedule, 5-field cron in UTC; default every 15 minutes. */
  cron?: string;
}

const SHA = /^[0-9a-f]{40}$/;
const REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/;

/** Problems with the options, as a person would fix them, or []. */
export function workflowOptionProblems(opts: WorkflowOptions): string[] {
  const problems: string[] = [];
  if (!REPOSITORY.test(opts.action.repository)) problems.push(`the Action repository "${opts.action.repository}" is not owner/name`);
  if (!SHA.test(opts.action.sha)) problems.push(`the Action commit "${opts.action.sha}" is not a full 40-character lower-case commit SHA`);
  const cron = cronProblems(opts.cron ?? DEFAULT_WORKFLOW_CRON);
  if (cron.length > 0) problems.push(`the schedule "${opts.cron}": ${cron.join("; ")}`);
  return problems;
}

const pinned = (a: { name: string; sha: string; version: string }): string => `${a.name}@${a.sha} # ${a.version}`;

/** The workflow text. Throws E_USAGE for options that would make a broken or unpinned workflow. */
export function renderWorkflow(opts: WorkflowOptions): string {
  const problems = workflowOptionProblems(opts);
  if (problems.length > 0) throw new RouterError("E_USAGE", problems.join("; "), { problems });
  const cron = (opts.cron ?? DEFAULT_WORKFLOW_CRON).trim();
  const router = `${opts.action.repository}@${opts.action.sha}`;
  const checkout = pinned(PINNED_ACTIONS.checkout);
  const artifact = "agent-router-attempt-${{ inputs.task }}-${{ inputs.attempt }}";
  const ledgerWriter = `    permissions:
      contents: write       # commit the ledger branch and push the task branch
      issues: write         # tracking comments, labels, sub-issues
      pull-requests: write  # open and update the task's pull request
      actions: write        # dispatch worker runs (workflow_dispatch)
    # One ledger writer at a time. queue: max keeps every pending run (by default a newer pending
    # run cancels the older one); the ledger is written by compare-and-swap either way.
    concurrency:
      group: agent-router-ledger
      cancel-in-progress: false
      queue: max`;
  const input = (what: string): string => `        description: ${what} Set by the router when it dispatches a worker; leave empty.
        type: string
        required: false
        default: ""`;
  return `# agent-router: labelled issues, /agent comments and the schedule become tasks in a ledger on a
# branch; worker runs (dispatched by the router) run the coding agents. Written by
# \`agent-router init --github\`. Every \`uses:\` is pinned to a full commit SHA; update them together.
name: agent-router

on:
  issues:
    types: [opened, labeled, unlabeled, edited, closed, reopened]
  issue_comment:
    types: [created]
  schedule:
    - cron: "${cron}" # UTC: due jobs, retries, expired leases, sync repair
  workflow_dispatch:
    inputs:
      task:
        description: The task the worker runs. Set by the router when it dispatches a worker; leave empty to run a reconcile by hand.
        type: string
        required: false
        default: ""
      attempt:
${input("The attempt number.")}
      key:
${input("The attempt's claim key.")}
      review:
${input("The review claim's key, for a worker that reviews the task instead of an attempt.")}
      agent:
${input("The agent that runs or reviews (chooses the one API key the worker gets).")}

# No job inherits the repository's default token scopes; each job lists what it needs.
permissions: {}

jobs:
  # Every event except a worker dispatch: make and steer tasks, claim attempts, dispatch workers.
  reconcile:
    if: github.event_name != 'workflow_dispatch' || inputs.task == ''
    runs-on: ubuntu-latest
    timeout-minutes: 10
${ledgerWriter}
    steps:
      - name: Check out
        uses: ${checkout}
        with:
          persist-credentials: false
      - name: Reconcile
        uses: ${router}
        with:
          mode: auto
          github-token: \${{ secrets.GITHUB_TOKEN }}
          anthropic-api-key: \${{ secrets.ANTHROPIC_API_KEY }} # the classifier
          # project-token: \${{ secrets.AGENT_ROUTER_PROJECT_TOKEN }} # only for a GitHub Project (Projects v2)

  # A run the router dispatched for one claimed attempt (or review): the coding agent runs here.
  worker:
    if: github.event_name == 'workflow_dispatch' && inputs.task != ''
    runs-on: ubuntu-latest
    timeout-minutes: 70
    # Read only: the agent could read this job's token, so it must not be able to push or write the
    # ledger. The record job writes the result.
    permissions:
      contents: read
    concurrency:
      group: agent-router-task-\${{ inputs.task }}
      cancel-in-progress: false
    steps:
      - name: Check out
        uses: ${checkout}
        with:
          persist-credentials: false
          fetch-depth: 0
      - name: Run the agent
        id: work
        uses: ${router}
        with:
          mode: worker
          github-token: \${{ secrets.GITHUB_TOKEN }}
          # Only the key of the agent this attempt runs.
          anthropic-api-key: \${{ inputs.agent == 'claude' && secrets.ANTHROPIC_API_KEY || '' }}
          openai-api-key: \${{ (inputs.agent == 'codex' || inputs.agent == 'opencode') && secrets.OPENAI_API_KEY || '' }}
      - name: Keep the attempt's result
        if: always() && steps.work.outputs.artifact-dir != ''
        uses: ${pinned(PINNED_ACTIONS.uploadArtifact)}
        with:
          name: ${artifact}
          path: \${{ steps.work.outputs.artifact-dir }}
          retention-days: 3
          include-hidden-files: true

  # After the worker, whatever its outcome: record the result in the ledger and on GitHub.
  record:
    needs: worker
    if: always() && github.event_name == 'workflow_dispatch' && inputs.task != ''
    runs-on: ubuntu-latest
    timeout-minutes: 10
${ledgerWriter}
    steps:
      - name: Check out
        uses: ${checkout}
        with:
          persist-credentials: false
          fetch-depth: 0
      - name: Fetch the attempt's result
        uses: ${pinned(PINNED_ACTIONS.downloadArtifact)}
        continue-on-error: true # a worker that died early uploaded nothing; record says so
        with:
          name: ${artifact}
          path: .agent-router-attempt
      - name: Record
        uses: ${router}
        with:
          mode: record
          github-token: \${{ secrets.GITHUB_TOKEN }}
          # project-token: \${{ secrets.AGENT_ROUTER_PROJECT_TOKEN }} # only for a GitHub Project (Projects v2)
`;
}

// ---- lint (S8) ----

type Map = Record<string, unknown>;
const isMap = (v: unknown): v is Map => typeof v === "object" && v !== null && !Array.isArray(v);
const UNTRUSTED = /\$\{\{[^}]*\bgithub\.event\./;
const ROUTER_MODES = new Set(["auto", "worker", "record"]);

/** Scopes a `permissions:` value grants write to (`write-all` counts as one). */
function writes(permissions: unknown): string[] {
  if (permissions === "write-all") return ["write-all"];
  if (!isMap(permissions)) return [];
  return Object.entries(permissions)
    .filter(([, v]) => v === "write")
    .map(([k]) => k);
}

function describePermissions(permissions: unknown): string {
  if (!isMap(permissions)) return String(permissions);
  return Object.entries(permissions).map(([k, v]) => `${k}: ${String(v)}`).join(", ") || "{}";
}

function triggerNames(on: unknown): string[] {
  if (typeof on === "string") return [on];
  if (Array.isArray(on)) return on.filter((t): t is string => typeof t === "string");
  return isMap(on) ? Object.keys(on) : [];
}

function stepProblems(where: string, step: Map): string[] {
  const problems: string[] = [];
  const uses = typeof step["uses"] === "string" ? step["uses"] : undefined;
  const withs = isMap(step["with"]) ? step["with"] : {};
  if (typeof step["run"] === "string" && UNTRUSTED.test(step["run"])) {
    problems.push(`${where}: run: expands \${{ github.event.* }} into a shell script (untrusted text becomes code); pass it through env: instead`);
  }
  if (typeof withs["mode"] === "string" && ROUTER_MODES.has(withs["mode"])) {
    for (const [name, value] of Object.entries(withs)) {
      if (typeof value === "string" && UNTRUSTED.test(value)) problems.push(`${where}: the router's input ${name} expands \${{ github.event.* }}; the router reads the event itself`);
    }
  }
  if (uses === undefined) return problems;
  if (!uses.startsWith("./") && !/@[0-9a-f]{40}$/.test(uses)) problems.push(`${where}: uses: ${uses} is not pinned to a 40-character commit SHA`);
  if (/^actions\/cache(\/[a-z]+)?@/.test(uses)) problems.push(`${where}: uses ${uses.split("@")[0]}; a job that handles issue or agent text must not save a cache (cache poisoning)`);
  else if (/^actions\/setup-[a-z]+@/.test(uses) && withs["cache"] !== undefined && withs["cache"] !== "" && withs["cache"] !== false) {
    problems.push(`${where}: ${uses.split("@")[0]} with cache: saves a cache; a job that handles issue or agent text must not (cache poisoning)`);
  }
  if (uses.startsWith("actions/checkout@") && withs["persist-credentials"] !== false && withs["persist-credentials"] !== "false") {
    problems.push(`${where}: actions/checkout leaves the token in .git/config; set persist-credentials: false`);
  }
  return problems;
}

function jobProblems(name: string, job: Map, workflowConcurrency: unknown): string[] {
  const where = `job "${name}"`;
  const problems: string[] = [];
  const permissions = job["permissions"];
  const steps = Array.isArray(job["steps"]) ? job["steps"].filter(isMap) : [];
  if (permissions === undefined) problems.push(`${where}: no permissions of its own; list only the scopes it needs`);
  const runsAgent = steps.some((s) => isMap(s["with"]) && s["with"]["mode"] === "worker");
  const onlyContentsRead = isMap(permissions) && Object.entries(permissions).every(([k, v]) => (k === "contents" && v === "read") || v === "none");
  if (runsAgent && permissions !== undefined && !onlyContentsRead) {
    problems.push(`${where}: runs the agent (mode: worker), so its token must be contents: read only, not ${describePermissions(permissions)}`);
  }
  const grants = writes(permissions);
  if (grants.includes("contents") || grants.includes("write-all")) {
    const concurrency = job["concurrency"] ?? workflowConcurrency;
    const group = typeof concurrency === "string" ? concurrency : isMap(concurrency) ? concurrency["group"] : undefined;
    if (typeof group !== "string" || group.trim() === "") problems.push(`${where}: writes contents (a ledger writer) without a concurrency group`);
    const cancel = isMap(concurrency) ? concurrency["cancel-in-progress"] : undefined;
    if (cancel === true || cancel === "true") problems.push(`${where}: cancel-in-progress: true would cancel a ledger writer in the middle of a write`);
  }
  if (typeof job["uses"] === "string" && !job["uses"].startsWith("./") && !/@[0-9a-f]{40}$/.test(job["uses"])) {
    problems.push(`${where}: uses: ${job["uses"]} is not pinned to a 40-character commit SHA`);
  }
  steps.forEach((step, i) => {
    const label = typeof step["name"] === "string" ? `"${step["name"]}"` : `#${i + 1}`;
    problems.push(...stepProblems(`${where} step ${label}`, step));
  });
  return problems;
}

/**
 * S8 problems of a parsed workflow (the object `yaml.parse` returns), one readable line each; []
 * when it passes. Checks least-privilege permissions, untrusted expressions in `run:` and the
 * router's inputs, `pull_request_target`, SHA pins, caches, checkout credentials and the
 * concurrency of ledger writers.
 */
export function lintWorkflow(workflow: unknown): string[] {
  if (!isMap(workflow)) return ["the workflow is not a YAML mapping"];
  const problems: string[] = [];
  const top = workflow["permissions"];
  if (top === undefined) problems.push(`top level: no permissions; add "permissions: {}" so no job inherits the repository's default scopes`);
  else if (writes(top).length > 0) problems.push(`top level: permissions grant write access (${writes(top).join(", ")}); keep "permissions: {}" and grant scopes per job`);
  if (triggerNames(workflow["on"]).includes("pull_request_target")) {
    problems.push("on: pull_request_target runs with a write token and secrets on pull requests from forks; do not use it");
  }
  const jobs = isMap(workflow["jobs"]) ? workflow["jobs"] : {};
  if (Object.keys(jobs).length === 0) problems.push("no jobs");
  for (const [name, job] of Object.entries(jobs)) {
    problems.push(...(isMap(job) ? jobProblems(name, job, workflow["concurrency"]) : [`job "${name}": not a mapping`]));
  }
  return problems;
}
