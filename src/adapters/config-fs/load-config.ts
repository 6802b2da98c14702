import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isMap, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { ConfigProblem, MainConfig } from "../../core/config/main-config.ts";
import { checkConfigRules, MainConfig as MainConfigSchema } from "../../core/config/main-config.ts";
import { formatPath } from "../../core/ledger/ledger.ts";

/** Where a repository keeps its main config (see DESIGN.md, Configuration). */
export const CONFIG_PATH = ".github/agent-router.yml";

export interface LocatedConfigProblem extends ConfigProblem {
  file: string;
  line?: number;
}

export interface LoadedConfig {
  config: MainConfig;
  file: string;
  exists: boolean;
  problems: LocatedConfigProblem[];
}

/** The line of the deepest node of `path` that exists in the document. */
function lineOf(doc: Document, lc: LineCounter, path: readonly (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (doc.contents as { range?: [number] } | null)?.range?.[0];
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === String(part));
      if (!pair) break;
      offset = (pair.key as { range?: [number] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof part === "number") {
      node = node.items[part];
      offset = (node as { range?: [number] } | undefined)?.range?.[0] ?? offset;
    } else break;
  }
  return offset === undefined ? undefined : lc.linePos(offset).line;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      row[j] = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** Known keys at `path` of the config schema, for "did you mean" hints. */
function knownKeys(path: readonly (string | number)[]): string[] {
  let schema: unknown = MainConfigSchema;
  for (const part of path) {
    let s = schema as { def?: { innerType?: unknown; shape?: Record<string, unknown>; valueType?: unknown; type?: string } };
    while (s.def?.innerType) s = s.def.innerType;
    if (s.def?.shape) schema = s.def.shape[String(part)];
    else if (s.def?.valueType) schema = s.def.valueType;
    else return [];
  }
  let s = schema as { def?: { innerType?: unknown; shape?: Record<string, unknown> } } | undefined;
  while (s?.def?.innerType) s = s.def.innerType;
  return Object.keys(s?.def?.shape ?? {});
}

function suggest(key: string, path: readonly (string | number)[]): string {
  const best = knownKeys(path)
    .map((k) => [k, distance(k, key)] as const)
    .sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= 3 ? ` (did you mean "${best[0]}"?)` : ` (known keys: ${knownKeys(path).join(", ")})`;
}

/** Parses and checks config text; every problem carries the file and line. */
export function parseConfig(text: string, file: string): Omit<LoadedConfig, "exists"> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true });
  const defaults = MainConfigSchema.parse({});
  if (doc.errors.length > 0) {
    return {
      config: defaults,
      file,
      problems: doc.errors.map((e) => ({ file, path: [], severity: "error", message: `YAML syntax: ${e.message.split("\n")[0] ?? ""}`, line: e.linePos?.[0]?.line })),
    };
  }
  const parsed = MainConfigSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const problems: LocatedConfigProblem[] = [];
    for (const issue of parsed.error.issues) {
      const base = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          problems.push({ file, path: [...base, key], severity: "error", message: `unknown key "${key}"${suggest(key, base)}`, line: lineOf(doc, lc, [...base, key]) });
        }
      } else if (issue.code === "invalid_key") {
        const why = issue.issues[0]?.message ?? issue.message;
        problems.push({ file, path: base, severity: "error", message: `invalid name "${String(base.at(-1) ?? "")}": ${why}`, line: lineOf(doc, lc, base) });
      } else {
        problems.push({ file, path: base, severity: "error", message: issue.message, line: lineOf(doc, lc, base) });
      }
    }
    return { config: defaults, file, problems };
  }
  const problems = checkConfigRules(parsed.data).map((p) => ({ ...p, file, line: lineOf(doc, lc, p.path) }));
  return { config: parsed.data, file, problems };
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

export function formatConfigProblem(p: LocatedConfigProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ""} ${formatPath(p.path) || "(top level)"}: ${p.message}`;
}
