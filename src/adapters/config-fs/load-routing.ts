import { readFile } from "node:fs/promises";
import type { MainConfig } from "../../core/config/main-config.ts";
import { BUILTIN_AGENTS } from "../../core/config/main-config.ts";
import { checkProfiles, Profile } from "../../core/config/profile.ts";
import { checkRules, RoutesFile, type RouteRule } from "../../core/config/route-rules.ts";
import type { ConfigSource } from "../../core/ports.ts";
import { checkClassifierTemplate } from "../../core/routing/classifier-prompt.ts";
import { BUILTIN_CLASSIFIER_TEMPLATE, BUILTIN_PROFILES, BUILTIN_ROUTES } from "./builtin-data.generated.ts";
import { sourceFile, toConfigSource } from "./config-source.ts";
import { parseYamlWithSchema, type FileProblem } from "./yaml-file.ts";

export const USER_DIR = ".github/agent-router";

export interface LoadedRouting {
  profiles: Map<string, Profile>;
  rules: RouteRule[];
  /** The classifier's prompt template (router/classifier.md, or the repository's own). */
  classifierTemplate: string;
  /** Which file each profile, the rules and the template came from, for messages. */
  sources: Map<string, string>;
  problems: FileProblem[];
}

/**
 * A file's text from a source (repository-relative path), or null when it is missing. The older
 * one-argument form reads a local path as given.
 */
export async function readOptional(source: ConfigSource, path: string): Promise<string | null>;
export async function readOptional(path: string): Promise<string | null>;
export async function readOptional(sourceOrPath: ConfigSource | string, path?: string): Promise<string | null> {
  if (typeof sourceOrPath !== "string") return sourceOrPath.read(path ?? "");
  try {
    return await readFile(sourceOrPath, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** The YAML files in `.github/agent-router/<folder>/`, sorted; none when the folder is missing. */
export async function userYamlFiles(root: string | ConfigSource, folder: string): Promise<string[]> {
  return (await toConfigSource(root).list(`${USER_DIR}/${folder}`)).filter((f) => /\.ya?ml$/.test(f));
}

/**
 * Each YAML file of `.github/agent-router/<folder>/` as name (file name without extension), label
 * for messages and text. A listed file that cannot be read (a symbolic link leading outside the
 * repository) is reported, not taken for an empty file.
 */
export async function readUserYamlFiles(
  source: ConfigSource,
  folder: string,
  problems: FileProblem[],
): Promise<Array<{ name: string; file: string; text: string }>> {
  const out: Array<{ name: string; file: string; text: string }> = [];
  for (const f of await userYamlFiles(source, folder)) {
    const path = `${USER_DIR}/${folder}/${f}`;
    const file = sourceFile(source, path);
    const text = await source.read(path);
    if (text === null) {
      problems.push({ file, path: [], severity: "error", message: "cannot be read: a symbolic link leading outside the repository is not followed" });
      continue;
    }
    out.push({ name: f.replace(/\.ya?ml$/, ""), file, text });
  }
  return out;
}

/**
 * The profiles and routing rules in force: the built-ins, with a repository's own files in
 * `.github/agent-router/profiles/<name>.yml` replacing a built-in of the same name (or adding one),
 * and `.github/agent-router/router/routes.yml` replacing the built-in rules. `root` is a source, or
 * the path of a working tree.
 */
export async function loadRouting(root: string | ConfigSource, config: MainConfig): Promise<LoadedRouting> {
  const source = toConfigSource(root);
  const profiles = new Map<string, Profile>();
  const sources = new Map<string, string>();
  const locators = new Map<string, (path: readonly (string | number)[]) => number | undefined>();
  const problems: FileProblem[] = [];
  const add = (name: string, text: string, file: string): void => {
    const parsed = parseYamlWithSchema(Profile, text, file);
    problems.push(...parsed.problems);
    if (!parsed.value) return;
    profiles.set(name, parsed.value);
    sources.set(name, file);
    locators.set(name, parsed.locate);
  };
  for (const [name, text] of Object.entries(BUILTIN_PROFILES)) add(name, text, `profiles/${name}.yml (built-in)`);
  for (const { name, file, text } of await readUserYamlFiles(source, "profiles", problems)) add(name, text, file);
  for (const p of checkProfiles(profiles)) {
    const file = sources.get(p.profile) ?? p.profile;
    problems.push({ file, path: p.path, severity: "error", message: p.message, line: locators.get(p.profile)?.(p.path) });
  }

  const userRoutesPath = `${USER_DIR}/router/routes.yml`;
  const userRoutesFile = sourceFile(source, userRoutesPath);
  const userRoutes = await source.read(userRoutesPath);
  const routesFile = userRoutes === null ? "router/routes.yml (built-in)" : userRoutesFile;
  const routes = parseYamlWithSchema(RoutesFile, userRoutes ?? BUILTIN_ROUTES, routesFile);
  problems.push(...routes.problems);
  const rules = routes.value?.rules ?? [];
  sources.set("routes", routesFile);
  const agentState = (agent: string): "enabled" | "disabled" | "unknown" => {
    const own = config.agents[agent];
    if (own) return own.enabled ? "enabled" : "disabled";
    return (BUILTIN_AGENTS as readonly string[]).includes(agent) ? "enabled" : "unknown";
  };
  for (const p of checkRules(rules, new Set(profiles.keys()), agentState)) {
    problems.push({ file: routesFile, path: p.path, severity: p.severity, message: p.message, line: routes.locate(p.path) });
  }

  const userTemplatePath = `${USER_DIR}/router/classifier.md`;
  const userTemplateFile = sourceFile(source, userTemplatePath);
  const userTemplate = await source.read(userTemplatePath);
  const templateFile = userTemplate === null ? "router/classifier.md (built-in)" : userTemplateFile;
  const classifierTemplate = userTemplate ?? BUILTIN_CLASSIFIER_TEMPLATE;
  for (const message of checkClassifierTemplate(classifierTemplate)) problems.push({ file: templateFile, path: [], severity: "error", message });
  sources.set("classifier", templateFile);
  return { profiles, rules, classifierTemplate, sources, problems };
}
