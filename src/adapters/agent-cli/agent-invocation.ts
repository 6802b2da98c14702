import { dirname } from "node:path";
import type { MainConfig } from "../../core/config/main-config.ts";
import type { Profile } from "../../core/config/profile.ts";
import type { EventParser } from "./parse-events.ts";
import { claudeParser, codexParser, opencodeParser } from "./parse-events.ts";

type AgentConfig = MainConfig["agents"][string];

export interface InvocationInput {
  agent: string;
  config: AgentConfig | undefined;
  model?: string;
  profile: Profile;
  /** What goes on stdin: the bundle, or the repair message on a resumed session. */
  input: string;
  bundlePath: string;
  outputPath: string;
  /** A fresh, empty home directory for this run. */
  home: string;
  /** The handoff repair round: continue the session when the CLI gave one, else start afresh. */
  repair?: { sessionId?: string };
  taskId: number;
}

export interface Invocation {
  argv: [string, ...string[]];
  env: Record<string, string>;
  input: string;
  /** Null for command agents: their stdout is plain text. */
  parser: EventParser | null;
}

/** The credentials each built-in may receive, first found wins; nothing else of the host's. */
const CREDENTIALS: Record<string, string[]> = {
  claude: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"],
  codex: ["CODEX_API_KEY", "OPENAI_API_KEY"],
};

const pick = (host: Readonly<Record<string, string | undefined>>, names: readonly string[]): Record<string, string> =>
  Object.fromEntries(names.flatMap((n) => (host[n] ? [[n, host[n]]] : [])));

function firstCredential(host: Readonly<Record<string, string | undefined>>, names: readonly string[]): Record<string, string> {
  const name = names.find((n) => host[n]);
  return name ? { [name]: host[name]! } : {};
}

/** Keys for the provider an OpenCode model names (`anthropic/…`, `openai/…`), plus OpenCode's own. */
function opencodeCredentials(host: Readonly<Record<string, string | undefined>>, model: string | undefined): Record<string, string> {
  const provider = model?.split("/")[0];
  const names = provider === "anthropic" ? ["ANTHROPIC_API_KEY"] : provider === "openai" ? ["OPENAI_API_KEY"] : [];
  return { ...pick(host, names), ...pick(host, ["OPENCODE_API_KEY", "OPENCODE_CONFIG_CONTENT"]) };
}

/** Codex's built-in providers: its config cannot amend them (a partial entry is ignored or refused). */
const CODEX_BUILT_IN_PROVIDERS = new Set(["openai", "ollama", "lmstudio", "oss", "amazon-bedrock"]);

/** The provider id that `-c model_provider=ID` (or `--config`) in the configured args selects, the last one winning. */
function codexProviderOf(args: readonly string[]): string | undefined {
  let id: string | undefined;
  args.forEach((a, i) => {
    const value = a === "-c" || a === "--config" ? args[i + 1] : a.startsWith("--config=") ? a.slice("--config=".length) : undefined;
    const m = value === undefined ? null : /^model_provider\s*=\s*"?([\w.-]+)"?\s*$/.exec(value);
    if (m) id = m[1];
  });
  return id;
}

/**
 * Codex's own API retries, capped like claude's so that failover is fast (agent-clis.md §2): the
 * knobs are per provider (`model_providers.ID.request_max_retries` and `stream_max_retries`, 4 and
 * 5 by default), and only a provider defined in config takes them. With the built-in `openai`
 * provider (no `model_provider` in `args`) codex keeps its default retries: only the timeout bounds
 * them. Placed before the configured args, which win when they set the same keys.
 */
function codexRetryCaps(args: readonly string[]): string[] {
  const id = codexProviderOf(args);
  if (id === undefined || CODEX_BUILT_IN_PROVIDERS.has(id)) return [];
  return ["-c", `model_providers.${id}.request_max_retries=1`, "-c", `model_providers.${id}.stream_max_retries=1`];
}

/**
 * The command line, environment and parser for one run. The environment is an allowlist: PATH, a
 * per-run HOME, locale, the router's three variables, the one credential the CLI needs, and the
 * names listed under `agents.<name>.env`. The GitHub token, app keys and other providers' keys
 * never pass. The prompt always goes on stdin.
 */
export function invocationFor(i: InvocationInput, host: Readonly<Record<string, string | undefined>>): Invocation {
  const base: Record<string, string> = {
    PATH: host["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: i.home,
    LANG: "C.UTF-8",
    TERM: "dumb",
    NO_COLOR: "1",
    AGENT_ROUTER_BUNDLE: i.bundlePath,
    AGENT_ROUTER_OUTPUT: i.outputPath,
    AGENT_ROUTER_TASK_ID: String(i.taskId),
    ...pick(host, i.config?.env ?? []),
  };
  const extra = i.config?.args ?? [];
  const budget = i.profile.budget;
  // The handoff file lies outside the worktree, where each CLI's own rules forbid writing unless
  // its folder is granted: claude's acceptEdits and codex's workspace-write sandbox only cover the
  // working directory, and opencode auto-rejects its external_directory permission in `run`.
  const outDir = dirname(i.outputPath);
  switch (i.config?.type === "command" ? "command" : i.agent) {
    case "claude":
      return {
        argv: [
          "claude",
          "-p",
          "--output-format",
          "stream-json",
          "--verbose",
          "--permission-mode",
          "acceptEdits",
          "--add-dir",
          outDir,
          ...(i.model ? ["--model", i.model] : []),
          ...(budget.maxTurns ? ["--max-turns", String(budget.maxTurns)] : []),
          ...(budget.maxCostUsd ? ["--max-budget-usd", String(budget.maxCostUsd)] : []),
          ...(i.profile.allowedTools.length > 0 ? ["--allowedTools", i.profile.allowedTools.join(" ")] : []),
          ...(i.repair?.sessionId ? ["--resume", i.repair.sessionId] : []),
          ...extra,
        ],
        env: { ...base, ...firstCredential(host, CREDENTIALS["claude"]!), ...pick(host, ["ANTHROPIC_BASE_URL"]), CLAUDE_CODE_MAX_RETRIES: "1", DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },
        input: i.input,
        parser: claudeParser(),
      };
    case "codex": {
      const key = host["CODEX_API_KEY"] ?? host["OPENAI_API_KEY"];
      const baseUrl = host["OPENAI_BASE_URL"];
      return {
        argv: [
          "codex",
          "exec",
          "--json",
          "--sandbox",
          "workspace-write",
          "--skip-git-repo-check",
          "--color",
          "never",
          "--add-dir",
          outDir,
          ...(i.model ? ["-m", i.model] : []),
          // codex 0.169 ignores OPENAI_BASE_URL; the built-in provider takes it as config.
          ...(baseUrl ? ["-c", `openai_base_url=${JSON.stringify(baseUrl)}`] : []),
          ...codexRetryCaps(extra),
          ...extra,
          // After exec's own options: `codex exec resume` refuses --sandbox, --color and --add-dir.
          ...(i.repair?.sessionId ? ["resume", i.repair.sessionId] : []),
          "-",
        ],
        env: { ...base, CODEX_HOME: `${i.home}/.codex`, ...(key ? { CODEX_API_KEY: key } : {}) },
        input: i.input,
        parser: codexParser(),
      };
    }
    case "opencode":
      return {
        argv: ["opencode", "run", "--format", "json", ...(i.model ? ["-m", i.model] : []), ...(i.repair?.sessionId ? ["--session", i.repair.sessionId] : []), ...extra],
        env: {
          ...base,
          ...opencodeCredentials(host, i.model),
          OPENCODE_PERMISSION: JSON.stringify({ external_directory: { [`${outDir}/*`]: "allow" } }),
          OPENCODE_DISABLE_AUTOUPDATE: "1",
          OPENCODE_DISABLE_MODELS_FETCH: "1",
          OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
          OPENCODE_DISABLE_SHARE: "1",
        },
        input: i.input,
        parser: opencodeParser(),
      };
    default: {
      const command = i.config?.command;
      if (!command || command.length === 0) throw new Error(`agent "${i.agent}" has no command`);
      return { argv: [command[0]!, ...command.slice(1), ...extra], env: { ...base, ...(i.repair ? { AGENT_ROUTER_REPAIR: "1" } : {}) }, input: i.input, parser: null };
    }
  }
}
