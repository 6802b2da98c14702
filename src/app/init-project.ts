import type { ProjectFiles } from "../core/ports.ts";
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
