import * as z from "zod";
import { TaskStatus } from "../ledger/task.ts";
import { LINK_HOST_PATTERN } from "../sync/outbound-links.ts";

export const BUILTIN_AGENTS = ["claude", "codex", "opencode"] as const;

const Models = z
  .object({ low: z.string().min(1), medium: z.string().min(1), high: z.string().min(1) })
  .partial()
  .strict()
  .describe("Model per task complexity");

/** One agent. Built-ins need nothing; any other name needs `type: command` and a `command`. */
export const AgentConfig = z
  .object({
    enabled: z.boolean().default(true),
    type: z.enum(["builtin", "command"]).optional().describe("`command` for any CLI that honours the handoff contract"),
    command: z.array(z.string().min(1)).min(1).optional().describe("argv of a command agent, e.g. [node, tools/agent.js]"),
    models: Models.optional(),
    failover: z.array(z.string().min(1)).default([]).describe("Agents to try next on rate/usage/auth/outage failures"),
    args: z.array(z.string()).default([]).describe("Extra arguments for the agent CLI"),
    env: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name"))
      .default([])
      .describe("Names of extra environment variables passed to this agent; nothing else leaks through"),
    timeoutMinutes: z.number().positive().max(24 * 60).optional(),
  })
  .strict();

export const MainConfig = z
  .object({
    agents: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, "agent names are lower-case letters, digits and dashes"), AgentConfig).default({}),
    router: z
      .object({
        classifier: z
          .object({
            provider: z.enum(["anthropic", "openai", "openai-compatible"]),
            model: z.string().min(1),
            baseURL: z.url().optional().describe("API base URL; default: the provider's, or env ANTHROPIC_BASE_URL / OPENAI_BASE_URL / AGENT_ROUTER_CLASSIFIER_BASE_URL"),
            apiKeyEnv: z
              .string()
              .regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name, e.g. OPENROUTER_API_KEY")
              .optional()
              .describe("Environment variable holding the key; default ANTHROPIC_API_KEY, OPENAI_API_KEY or AGENT_ROUTER_CLASSIFIER_API_KEY"),
            timeoutSeconds: z.number().positive().max(300).default(30).describe("After this, the fallback route is used"),
            pricePerMTok: z
              .object({ input: z.number().nonnegative(), output: z.number().nonnegative() })
              .strict()
              .optional()
              .describe("USD per million tokens, for models missing from the built-in price table"),
          })
          .strict()
          .optional(),
        fallback: z.object({ agent: z.string().min(1).default("claude"), profile: z.string().min(1).default("feature") }).strict().prefault({}),
      })
      .strict()
      .prefault({}),
    context: z
      .object({
        maxTokens: z.number().int().min(1000).max(1_000_000).default(24_000).describe("Token budget of a task's context bundle"),
        attempts: z.number().int().min(0).max(20).default(3).describe("How many past attempts a bundle shows (the last K)"),
      })
      .strict()
      .prefault({}),
    ledger: z
      .object({
        branch: z.string().min(1).default("agent-router/ledger").describe("Branch holding the ledger; never one people work on"),
        path: z.string().regex(/^[^/].*\.ya?ml$/, "a relative path ending in .yml").default("ledger.yml"),
        archiveAfterDays: z.number().int().nonnegative().default(30).describe("Terminal tasks older than this move to archive/YYYY-MM.yml"),
        remote: z.string().min(1).optional().describe("Remote that `agent-router sync` pushes to and pulls from (default: origin if it exists)"),
      })
      .strict()
      .prefault({}),
    execution: z
      .object({
        parallelism: z.number().int().min(1).max(64).default(4),
        maxAttempts: z.number().int().min(1).max(20).default(3),
        executor: z.enum(["inline", "actions"]).default("inline"),
        workflow: z
          .string()
          .regex(/^[A-Za-z0-9._-]+\.ya?ml$/, "a workflow file name in .github/workflows, e.g. agent-router.yml")
          .default("agent-router.yml")
          .describe("The workflow that runs dispatched workers (executor: actions), as written by `agent-router init --github`; the app dispatches to it"),
        retryBaseSeconds: z.number().positive().max(3600).default(30).describe("First retry delay ceiling; doubles per failure (full jitter)"),
        retryCapSeconds: z.number().positive().max(86_400).default(900).describe("Largest retry delay"),
        leaseMinutes: z.number().positive().max(24 * 60).default(5).describe("A running attempt's claim, renewed every third of it while the agent runs; a crashed worker's task moves on once it lapses"),
        keepRuns: z.number().int().min(0).max(100).default(3).describe("Run folders (agent HOME, bundle, handoff) kept per task under .git/agent-router/runs, newest first"),
      })
      .strict()
      .prefault({}),
    delegation: z
      .object({
        maxDepth: z.number().int().min(0).max(10).default(3),
        maxChildren: z.number().int().min(1).max(50).default(8),
        acl: z.record(z.string(), z.array(z.string())).default({ planner: ["feature", "bugfix", "docs", "tests", "refactor"] }),
      })
      .strict()
      .prefault({}),
    approvals: z
      .object({ allowSelf: z.boolean().default(false), expireDays: z.number().int().positive().default(7) })
      .strict()
      .prefault({}),
    github: z
      .object({
        triggerLabel: z.string().min(1).default("agent"),
        commandPrefix: z.string().regex(/^\/\S+$/, "a slash and a word, e.g. /agent").default("/agent"),
        subIssues: z.boolean().default(true),
        closeOnDone: z.boolean().default(false),
        allowedBots: z.array(z.number().int().positive()).default([]).describe("Numeric ids of bot accounts that may command (bots are refused otherwise, whatever their permission)"),
        draftPullRequests: z.boolean().default(false).describe("Open the router's pull requests as drafts"),
        allowedLinkHosts: z
          .array(z.string().regex(LINK_HOST_PATTERN, "a host name such as docs.example.com, or *.example.com for its subdomains (no scheme, port or path)"))
          .default([])
          .describe(
            "Hosts that links in agent-written text (comments, pull request and child issue bodies) may point to, besides github.com, *.github.com, *.githubusercontent.com and the GitHub server's host; *.example.com allows the subdomains of example.com, not example.com itself. Other links are replaced by a note",
          ),
        project: z
          .object({
            owner: z.string().min(1),
            number: z.number().int().positive(),
            statusField: z.string().min(1).default("Status"),
            statusMap: z
              .partialRecord(TaskStatus, z.string().min(1))
              .default({})
              .describe("Project status option per task status (e.g. needs_help: Blocked); unmapped statuses use Todo, In Progress or Done"),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type MainConfig = z.infer<typeof MainConfig>;

export interface ConfigProblem {
  path: (string | number)[];
  message: string;
  severity: "error" | "warning";
}

/** Rules across fields that a schema cannot say. */
export function checkConfigRules(config: MainConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const known = new Set<string>([...BUILTIN_AGENTS, ...Object.keys(config.agents)]);
  const enabled = (name: string): boolean => config.agents[name]?.enabled ?? (BUILTIN_AGENTS as readonly string[]).includes(name);
  for (const [name, agent] of Object.entries(config.agents)) {
    const builtin = (BUILTIN_AGENTS as readonly string[]).includes(name);
    if (!builtin && agent.type !== "command") {
      problems.push({ path: ["agents", name, "type"], severity: "error", message: `"${name}" is not a built-in agent (${BUILTIN_AGENTS.join(", ")}); add type: command and a command` });
    }
    if (agent.type === "command" && !agent.command) {
      problems.push({ path: ["agents", name, "command"], severity: "error", message: `a command agent needs command: [program, args…]` });
    }
    agent.failover.forEach((next, i) => {
      if (!known.has(next)) problems.push({ path: ["agents", name, "failover", i], severity: "error", message: `unknown agent "${next}" in failover` });
      else if (next === name) problems.push({ path: ["agents", name, "failover", i], severity: "error", message: `an agent cannot fail over to itself` });
    });
  }
  const fallback = config.router.fallback.agent;
  if (!known.has(fallback)) problems.push({ path: ["router", "fallback", "agent"], severity: "error", message: `unknown agent "${fallback}"` });
  else if (!enabled(fallback)) problems.push({ path: ["router", "fallback", "agent"], severity: "error", message: `the fallback agent "${fallback}" is disabled` });
  if (config.ledger.archiveAfterDays === 0) {
    problems.push({ path: ["ledger", "archiveAfterDays"], severity: "warning", message: "0 archives finished tasks on the next write" });
  }
  return problems;
}
