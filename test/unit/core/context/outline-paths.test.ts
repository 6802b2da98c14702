import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { outlinePaths } from "../../../../src/core/context/outline-paths.ts";
import { estimateTokens } from "../../../../src/core/context/tokens.ts";

interface Entry {
  path: string;
  depth: number;
  dir: boolean;
  count?: number;
}

const DIR_LINE = /^(\s*)(.+)\/ \((\d+) files?\)$/;

/** Reads an outline back into full paths, checking the indentation is a proper tree. */
function parseOutline(text: string): Entry[] {
  if (text === "") return [];
  const stack: string[] = [];
  return text.split("\n").map((line) => {
    const indent = /^ */.exec(line)![0].length;
    expect(indent % 2).toBe(0);
    const depth = indent / 2;
    expect(depth).toBeLessThanOrEqual(stack.length); // a child comes right under its shown parent
    stack.length = depth;
    const dir = DIR_LINE.exec(line);
    if (dir) {
      stack.push(dir[2]!);
      return { path: stack.join("/"), depth, dir: true, count: Number(dir[3]) };
    }
    return { path: [...stack, line.slice(indent)].join("/"), depth, dir: false };
  });
}

/** Every entry (directory or file) of the tree, with its depth. */
function allEntries(paths: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of paths) {
    const parts = p.split("/");
    for (let i = 1; i <= parts.length; i++) out.set(parts.slice(0, i).join("/") + (i < parts.length ? "/" : ""), i - 1);
  }
  return out;
}

const dirName = fc.constantFrom("src", "lib", "docs", "a", "b", "test", "ünï", "日本", "very-long-directory-name-for-packages");
const fileName = fc.tuple(fc.constantFrom("index", "main", "a", "README", "x", "é"), fc.nat(30), fc.constantFrom("ts", "md", "json")).map(([n, i, e]) => `${n}${i}.${e}`);
const pathList = fc.uniqueArray(fc.tuple(fc.array(dirName, { maxLength: 4 }), fileName).map(([d, f]) => [...d, f].join("/")), { maxLength: 300 });

describe("outlinePaths", () => {
  const PATHS = ["README.md", "src/a.ts", "src/lib/b.ts", "docs/x.md", "src/lib/c.ts"];

  it("prints the whole tree, directories first, with file counts, when it fits", () => {
    const r = outlinePaths(PATHS, 1000);
    expect(r.text).toBe(["docs/ (1 file)", "  x.md", "src/ (3 files)", "  lib/ (2 files)", "    b.ts", "    c.ts", "  a.ts", "README.md"].join("\n"));
    expect(r).toMatchObject({ shown: 5, total: 5 });
  });

  it("shows only the top level when the budget allows no more", () => {
    // "docs/ (1 file)" 4+1, "src/ (3 files)" 4+1, "README.md" 3+1 tokens; "  x.md" would need 3 more
    expect(outlinePaths(PATHS, 13).text).toBe(["docs/ (1 file)", "src/ (3 files)"].join("\n"));
    const r = outlinePaths(PATHS, 16);
    expect(r.text).toBe(["docs/ (1 file)", "src/ (3 files)", "README.md"].join("\n"));
    expect(r).toMatchObject({ shown: 1, total: 5 });
  });

  it("goes breadth-first: the second level before anything deeper", () => {
    const r = outlinePaths(PATHS, 25); // 14 + x.md 3 + lib/ 5 + a.ts 3; b.ts would need 3 more
    expect(r.text).toBe(["docs/ (1 file)", "  x.md", "src/ (3 files)", "  lib/ (2 files)", "  a.ts", "README.md"].join("\n"));
    expect(r.shown).toBe(3);
  });

  it("is empty with no paths or no budget", () => {
    expect(outlinePaths([], 100)).toEqual({ text: "", shown: 0, total: 0 });
    expect(outlinePaths(PATHS, 0)).toEqual({ text: "", shown: 0, total: 5 });
    expect(outlinePaths(PATHS, 3)).toEqual({ text: "", shown: 0, total: 5 });
  });

  it("fits the budget, counts files right and shows a level-order prefix of the tree", () => {
    fc.assert(
      fc.property(pathList, fc.integer({ min: 0, max: 1500 }), (paths, budget) => {
        const r = outlinePaths(paths, budget);
        expect(estimateTokens(r.text)).toBeLessThanOrEqual(budget);
        expect(r.total).toBe(paths.length);
        const entries = parseOutline(r.text);
        const files = entries.filter((e) => !e.dir);
        expect(r.shown).toBe(files.length);
        expect(new Set(entries.map((e) => e.path + (e.dir ? "/" : ""))).size).toBe(entries.length);
        for (const f of files) expect(paths).toContain(f.path);
        for (const d of entries.filter((e) => e.dir)) expect(d.count).toBe(paths.filter((p) => p.startsWith(`${d.path}/`)).length);
        // Breadth-first: when anything at depth d+1 shows, every entry at depth d shows.
        const tree = allEntries(paths);
        const maxShown = Math.max(-1, ...entries.map((e) => e.depth));
        for (let d = 0; d < maxShown; d++) {
          expect(entries.filter((e) => e.depth === d).length).toBe([...tree.values()].filter((v) => v === d).length);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("always shows every top-level entry when the budget allows them", () => {
    fc.assert(
      fc.property(pathList, fc.nat(200), (paths, extra) => {
        const top = outlinePaths(paths, 1_000_000).text.split("\n").filter((l) => l !== "" && !l.startsWith(" "));
        const cost = top.reduce((sum, l) => sum + estimateTokens(l) + 1, 0);
        const r = outlinePaths(paths, cost + extra);
        expect(r.text.split("\n").filter((l) => l !== "" && !l.startsWith(" "))).toEqual(top);
      }),
      { numRuns: 300 },
    );
  });

  it("shows every file with a budget large enough, and never fewer with a larger budget", () => {
    fc.assert(
      fc.property(pathList, fc.nat(800), fc.nat(800), (paths, a, b) => {
        const full = outlinePaths(paths, 1_000_000);
        expect(full.shown).toBe(paths.length);
        expect(parseOutline(full.text).filter((e) => !e.dir).map((e) => e.path).sort()).toEqual([...paths].sort());
        const [small, large] = a <= b ? [a, b] : [b, a];
        expect(outlinePaths(paths, small).shown).toBeLessThanOrEqual(outlinePaths(paths, large).shown);
      }),
      { numRuns: 300 },
    );
  });

  it("handles 50,000 paths within the budget and reports how many it shows", () => {
    const paths = Array.from({ length: 50_000 }, (_, i) => `packages/p${i % 40}/src/deep/m${i % 7}/file${i}.ts`);
    paths.push("package.json", "README.md");
    const started = performance.now();
    const r = outlinePaths(paths, 2000);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(estimateTokens(r.text)).toBeLessThanOrEqual(2000);
    expect(r.total).toBe(50_002);
    expect(r.shown).toBeLessThan(50_002);
    expect(r.text.split("\n").slice(0, 1)).toEqual(["packages/ (50000 files)"]);
    expect(r.text).toContain("\nREADME.md");
    expect(r.text).toContain("\npackage.json");
    expect(r.text).toContain("  p0/ (1250 files)");
  });
});
