// src/ has no import cycles (type-only imports included: a cycle of types still couples the files
// and was how run-task/record-run and the CLI program/verb files grew into each other).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** Relative imports of each file, resolved to paths. */
function graphOf(sources: Record<string, string>): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, text] of Object.entries(sources)) {
    const deps = [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+["'](\.{1,2}\/[^"']+)["']/gm)].map((m) => resolve(dirname(file), m[1]!));
    graph.set(file, deps.filter((d) => d in sources));
  }
  return graph;
}

/** Every cycle found by a depth-first search, each as the list of files around it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, "open");
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === "open") found.push(stack.slice(stack.indexOf(d)));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

describe("import cycles", () => {
  it("src/ has none", () => {
    const root = resolve(import.meta.dirname, "../../src");
    const sources = Object.fromEntries(files(root).map((f) => [f, readFileSync(f, "utf8")]));
    expect(cycles(graphOf(sources)).map((c) => c.map((f) => f.slice(root.length + 1)).join(" → "))).toEqual([]);
  });

  it("the checker can fail: it finds a two-file and a three-file cycle, type imports included", () => {
    const sources = {
      "/x/a.ts": 'import type { B } from "./b.ts";\n',
      "/x/b.ts": 'import { a } from "./a.ts";\n',
      "/x/c.ts": 'export { d } from "./d.ts";\n',
      "/x/d.ts": 'import {\n  e,\n} from "./e.ts";\n',
      "/x/e.ts": 'import { c } from "./c.ts";\n',
      "/x/f.ts": 'import { a } from "./a.ts";\n',
    };
    expect(cycles(graphOf(sources)).map((c) => c.length).sort()).toEqual([2, 3]);
  });
});
