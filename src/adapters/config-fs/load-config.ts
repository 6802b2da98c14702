import type { ConfigProblem, MainConfig } from "../../core/config/main-config.ts";
import { checkConfigRules, MainConfig as MainConfigSchema } from "../../core/config/main-config.ts";
import { formatPath } from "../../core/ledger/ledger.ts";
import type { ConfigSource } from "../../core/ports.ts";
import { sourceFile, toConfigSource } from "./config-source.ts";
import { parseYamlWithSchema, type FileProblem } from "./yaml-file.ts";

/** Where a repository keeps its main config (see DESIGN.md, Configuration). */
export const CONFIG_PATH = ".github/agent-router.yml";

export interface LocatedConfigProblem extends ConfigProblem {
  file: string;
  line?: number;
}

export type { FileProblem };

export interface LoadedConfig {
  config: MainConfig;
  /** The file for messages: the path, with the source after it when that is not the working tree. */
  file: string;
  exists: boolean;
  problems: LocatedConfigProblem[];
}

/** Parses and checks config text; every problem carries the file and line. */
export function parseConfig(text: string, file: string): Omit<LoadedConfig, "exists"> {
  const parsed = parseYamlWithSchema(MainConfigSchema, text, file);
  if (!parsed.value) return { config: MainConfigSchema.parse({}), file, problems: parsed.problems };
  const problems = checkConfigRules(parsed.value).map((p) => ({ ...p, file, line: parsed.locate(p.path) }));
  return { config: parsed.value, file, problems };
}

/**
 * Reads `.github/agent-router.yml` from a source (a string is the working tree at that path); a
 * missing file means every default. Any other read error is thrown, never taken for the defaults.
 */
export async function loadConfig(root: string | ConfigSource): Promise<LoadedConfig> {
  const source = toConfigSource(root);
  const file = sourceFile(source, CONFIG_PATH);
  const text = await source.read(CONFIG_PATH);
  if (text === null) return { config: MainConfigSchema.parse({}), file, exists: false, problems: [] };
  return { ...parseConfig(text, file), exists: true };
}

export function formatConfigProblem(p: FileProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ""} ${formatPath(p.path) || "(top level)"}: ${p.message}`;
}
