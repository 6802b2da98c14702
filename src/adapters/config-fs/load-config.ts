import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ConfigProblem, MainConfig } from "../../core/config/main-config.ts";
import { checkConfigRules, MainConfig as MainConfigSchema } from "../../core/config/main-config.ts";
import { formatPath } from "../../core/ledger/ledger.ts";
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

/** Reads `.github/agent-router.yml` under `root`; a missing file means every default. */
export async function loadConfig(root: string): Promise<LoadedConfig> {
  const file = CONFIG_PATH;
  let text: string;
  try {
    text = await readFile(join(root, file), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { config: MainConfigSchema.parse({}), file, exists: false, problems: [] };
    throw err;
  }
  return { ...parseConfig(text, file), exists: true };
}

export function formatConfigProblem(p: FileProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ""} ${formatPath(p.path) || "(top level)"}: ${p.message}`;
}
