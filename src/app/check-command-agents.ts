import type { ConfigProblem, MainConfig } from "../core/config/main-config.ts";

/** The file an argv[0] starts, looked up as the agent runner will spawn it; null when there is none. */
export type FindExecutable = (program: string) => Promise<string | null>;

/**
 * A warning for each enabled command agent whose program cannot be started: a bare name that is on
 * no PATH directory, or a path (absolute, or relative to the repository root) with no executable
 * file. A warning, not an error: `validate` may run where the agent is not installed (CI checking
 * the config) while the worker's machine has it.
 */
export async function commandAgentWarnings(config: MainConfig, find: FindExecutable): Promise<ConfigProblem[]> {
  const warnings: ConfigProblem[] = [];
  for (const [name, agent] of Object.entries(config.agents)) {
    const program = agent.command?.[0];
    if (agent.type !== "command" || !agent.enabled || program === undefined) continue;
    if ((await find(program)) !== null) continue;
    const message = program.includes("/")
      ? `"${program}" is not an executable file (a relative path starts at the repository root); the agent cannot start`
      : `"${program}" is not on PATH; the agent cannot start until it is installed, or give its path`;
    warnings.push({ path: ["agents", name, "command", 0], severity: "warning", message });
  }
  return warnings;
}
