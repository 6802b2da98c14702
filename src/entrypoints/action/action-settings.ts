// The Action's inputs (INPUT_* variables, as the runner sets them from `with:`) and the runner's
// GITHUB_* variables, read once into typed settings; anything missing or malformed is an E_USAGE
// error that names the input or variable and how to fix it.
import { join } from "node:path";
import { RouterError } from "../../core/errors.ts";

export type ActionMode = "auto" | "worker" | "record";
const MODES: readonly ActionMode[] = ["auto", "worker", "record"];

export interface ActionSettings {
  mode: ActionMode;
  token: string;
  projectToken: string | null;
  /** Agent and classifier credentials by the variable name the CLIs read. */
  agentEnv: Record<string, string>;
  triggerLabel: string | null;
  configPath: string;
  dryRun: boolean;
  /** The workflow file worker runs are dispatched to. */
  workflow: string;
  maxWorkers: number;
  owner: string;
  repo: string;
  apiUrl: string;
  serverUrl: string;
  /** This run's page. */
  runUrl: string | null;
  actor: string;
  eventName: string;
  eventPath: string;
  workspace: string;
  /** Where the worker leaves its result (uploaded as an artifact: the `artifact-dir` output), outside the checkout. */
  artifactDir: string;
  /** Where the record job finds it (the workflow downloads the artifact there). */
  downloadDir: string;
  outputFile: string | null;
  summaryFile: string | null;
}

type Env = Readonly<Record<string, string | undefined>>;

/** An input as the runner passes it: `INPUT_` + the name upper-cased, spaces as underscores (hyphens stay). */
export function input(env: Env, name: string): string {
  return (env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] ?? "").trim();
}

function required(env: Env, name: string, why: string): string {
  const value = env[name];
  if (value === undefined || value === "") throw new RouterError("E_USAGE", `${name} is not set`, { name }, { fix: `agent-router runs as a GitHub Action step, where the runner sets ${name} (${why}). Run it with \`uses:\` in a workflow, not as a plain script.` });
  return value;
}

function flag(env: Env, name: string): boolean {
  const v = input(env, name).toLowerCase();
  if (v === "" || v === "false") return false;
  if (v === "true") return true;
  throw new RouterError("E_USAGE", `input ${name} is "${v}"`, { input: name }, { fix: `Set ${name} to true or false.` });
}

/** The workflow file of this run, from GITHUB_WORKFLOW_REF (`owner/repo/.github/workflows/file.yml@ref`). */
function workflowOf(env: Env): string {
  const ref = env["GITHUB_WORKFLOW_REF"] ?? "";
  const m = /\/\.github\/workflows\/([^@/]+)@/.exec(ref);
  return m?.[1] ?? "";
}

export function readSettings(env: Env): ActionSettings {
  const modeText = input(env, "mode") || "auto";
  if (!(MODES as readonly string[]).includes(modeText)) throw new RouterError("E_USAGE", `input mode is "${modeText}"`, { input: "mode" }, { fix: `Set mode to one of ${MODES.join(", ")} (init --github writes a workflow that does).` });
  const token = input(env, "github-token");
  if (token === "") throw new RouterError("E_USAGE", "input github-token is empty", { input: "github-token" }, { fix: "Pass github-token: ${{ secrets.GITHUB_TOKEN }} (its default) or a token with issues, contents and actions write." });
  const repository = required(env, "GITHUB_REPOSITORY", "owner/repo");
  const [owner = "", repo = ""] = repository.split("/");
  const maxText = input(env, "max-workers") || "4";
  const maxWorkers = Number(maxText);
  if (!Number.isInteger(maxWorkers) || maxWorkers < 0 || maxWorkers > 20) throw new RouterError("E_USAGE", `input max-workers is "${maxText}"`, { input: "max-workers" }, { fix: "Set max-workers to a whole number from 0 to 20." });
  const serverUrl = (env["GITHUB_SERVER_URL"] ?? "https://github.com").replace(/\/+$/, "");
  const runId = env["GITHUB_RUN_ID"];
  const workspace = required(env, "GITHUB_WORKSPACE", "the checked-out repository");
  const workflow = input(env, "workflow") || workflowOf(env);
  if (workflow === "") throw new RouterError("E_USAGE", "the workflow to dispatch workers to is unknown", { input: "workflow" }, { fix: "Set the workflow input to the workflow's file name (e.g. agent-router.yml)." });
  const agentEnv: Record<string, string> = {};
  const key = (name: string, variable: string): void => {
    const v = input(env, name);
    if (v !== "") agentEnv[variable] = v;
  };
  key("anthropic-api-key", "ANTHROPIC_API_KEY");
  key("claude-code-oauth-token", "CLAUDE_CODE_OAUTH_TOKEN");
  key("openai-api-key", "OPENAI_API_KEY");
  key("openai-api-key", "CODEX_API_KEY");
  return {
    mode: modeText as ActionMode,
    token,
    projectToken: input(env, "project-token") || null,
    agentEnv,
    triggerLabel: input(env, "trigger-label") || null,
    configPath: input(env, "config") || ".github/agent-router.yml",
    dryRun: flag(env, "dry-run"),
    workflow,
    maxWorkers,
    owner,
    repo,
    apiUrl: (env["GITHUB_API_URL"] ?? "https://api.github.com").replace(/\/+$/, ""),
    serverUrl,
    runUrl: runId ? `${serverUrl}/${owner}/${repo}/actions/runs/${runId}` : null,
    actor: env["GITHUB_ACTOR"] ?? "github-actions",
    eventName: required(env, "GITHUB_EVENT_NAME", "the event that started the run"),
    eventPath: required(env, "GITHUB_EVENT_PATH", "the event's payload file"),
    workspace,
    artifactDir: join(env["RUNNER_TEMP"] ?? join(workspace, ".."), "agent-router-attempt"),
    downloadDir: join(workspace, ".agent-router-attempt"),
    outputFile: env["GITHUB_OUTPUT"] ?? null,
    summaryFile: env["GITHUB_STEP_SUMMARY"] ?? null,
  };
}
