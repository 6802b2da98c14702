import type { MainConfig } from "../core/config/main-config.ts";
import { renderWorkflow, type WorkflowOptions } from "../core/github-workflow.ts";
import type { ProjectFiles } from "../core/ports.ts";
import { isAgentEnabled } from "../core/routing/decide-route.ts";
import type { AppDeps } from "./app-deps.ts";
import { initLedger } from "./task-commands.ts";

export const CONFIG_FILE = ".github/agent-router.yml";

/** The starting config: every key optional, shown with its default. */
export const CONFIG_TEMPLATE = `# agent-router configuration. Every key is optional; the values shown are the defaults.
# Check it with: npx agent-router validate

# agents:
#   claude:   { enabled: true, models: { low: haiku, medium: sonnet, high: opus }, failover: [codex] }
#   codex:    { enabled: true, failover: [claude] }
#   opencode: { enabled: false }
#   my-agent: { type: command, command: ["node", "tools/agent.js"] }

ledger:
  branch: agent-router/ledger   # tasks live in ledger.yml on this branch, never in your working tree
  path: ledger.yml
  archiveAfterDays: 30          # finished tasks older than this move to archive/YYYY-MM.yml

execution:
  parallelism: 4
  maxAttempts: 3

github:
  triggerLabel: agent
  commandPrefix: /agent
`;

export interface InitResult {
  configCreated: boolean;
  ledgerCreated: boolean;
}

/** Creates the config file and the ledger branch if they do not exist. Safe to run again. */
export async function initProject(deps: AppDeps, files: ProjectFiles): Promise<InitResult> {
  const configCreated = !(await files.exists(CONFIG_FILE));
  if (configCreated) await files.create(CONFIG_FILE, CONFIG_TEMPLATE);
  const ledgerCreated = await initLedger(deps);
  return { configCreated, ledgerCreated };
}

export const WORKFLOW_FILE = ".github/workflows/agent-router.yml";

/** Writes the Actions workflow if there is none; an existing one is never overwritten. */
export async function initGitHubWorkflow(files: ProjectFiles, opts: WorkflowOptions): Promise<{ workflowCreated: boolean; path: string }> {
  const text = renderWorkflow(opts);
  const workflowCreated = !(await files.exists(WORKFLOW_FILE));
  if (workflowCreated) await files.create(WORKFLOW_FILE, text);
  return { workflowCreated, path: WORKFLOW_FILE };
}

/** What a person does after `init --github`: the secrets the workflow reads, the label, Projects v2. */
export function gitHubNextSteps(config: MainConfig): string[] {
  const on = (agent: string): boolean => isAgentEnabled(config, agent);
  const classifier = config.router.classifier?.provider;
  const anthropic = [...(on("claude") ? ["Claude Code"] : []), ...(classifier === "anthropic" ? ["the classifier"] : [])];
  const openai = [...(on("codex") ? ["Codex"] : []), ...(on("opencode") ? ["OpenCode"] : [])];
  const secrets = [...(anthropic.length > 0 ? [`ANTHROPIC_API_KEY (${anthropic.join(", ")})`] : []), ...(openai.length > 0 ? [`OPENAI_API_KEY (${openai.join(", ")})`] : [])];
  return [
    "next steps:",
    `  1. commit ${CONFIG_FILE} and ${WORKFLOW_FILE} to the default branch`,
    `  2. add repository secrets (Settings > Secrets and variables > Actions): ${secrets.length > 0 ? secrets.join(", ") : "the API keys your enabled agents use"}; GITHUB_TOKEN needs nothing`,
    `  3. put the label "${config.github.triggerLabel}" on an issue to make it a task, or comment ${config.github.commandPrefix} on one`,
    "  4. a GitHub Project (Projects v2) needs a project-token (an App token or PAT): GITHUB_TOKEN cannot reach Projects; uncomment project-token in the workflow",
    ...(classifier !== undefined && classifier !== "anthropic"
      ? [`  5. the classifier uses ${classifier}: the workflow's Reconcile step passes only anthropic-api-key; add openai-api-key: \${{ secrets.OPENAI_API_KEY }} there`]
      : []),
  ];
}
