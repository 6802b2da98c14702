import { isMap, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type * as z from "zod";

/** A problem in a YAML file a person wrote, with where it is. */
export interface FileProblem {
  file: string;
  path: (string | number)[];
  line?: number;
  severity: "error" | "warning";
  message: string;
}

/** The line of the deepest node of `path` that exists in the document. */
export function lineOf(doc: Document, lc: LineCounter, path: readonly (string | number)[]): number | undefined {
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

/** Known keys at `path` of a zod object schema, for "did you mean" hints. */
function knownKeys(root: z.ZodType, path: readonly (string | number)[]): string[] {
  let schema: unknown = root;
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

function suggest(root: z.ZodType, key: string, path: readonly (string | number)[]): string {
  const best = knownKeys(root, path)
    .map((k) => [k, distance(k, key)] as const)
    .sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= 3 ? ` (did you mean "${best[0]}"?)` : ` (known keys: ${knownKeys(root, path).join(", ")})`;
}

export interface ParsedYamlFile<T> {
  /** The parsed value, when the file is valid YAML and passes the schema. */
  value?: T;
  problems: FileProblem[];
  /** The line of a path inside the document, for problems found later. */
  locate: (path: readonly (string | number)[]) => number | undefined;
}

/** Parses YAML text against a zod schema; every problem names the file, line and path, unknown keys get a hint. */
export function parseYamlWithSchema<T>(schema: z.ZodType<T>, text: string, file: string): ParsedYamlFile<T> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true });
  const locate = (path: readonly (string | number)[]): number | undefined => lineOf(doc, lc, path);
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({ file, path: [], severity: "error", message: `YAML syntax: ${e.message.split("\n")[0] ?? ""}`, line: e.linePos?.[0]?.line })),
      locate,
    };
  }
  const parsed = schema.safeParse(doc.toJS() ?? {});
  if (parsed.success) return { value: parsed.data, problems: [], locate };
  const problems: FileProblem[] = [];
  for (const issue of parsed.error.issues) {
    const base = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        problems.push({ file, path: [...base, key], severity: "error", message: `unknown key "${key}"${suggest(schema, key, base)}`, line: locate([...base, key]) });
      }
    } else if (issue.code === "invalid_key") {
      const why = issue.issues[0]?.message ?? issue.message;
      problems.push({ file, path: base, severity: "error", message: `invalid name "${String(base.at(-1) ?? "")}": ${why}`, line: locate(base) });
    } else {
      problems.push({ file, path: base, severity: "error", message: issue.message, line: locate(base) });
    }
  }
  return { problems, locate };
}
