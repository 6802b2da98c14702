import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { INSTRUCTION_FILES, selectFiles, taskTerms } from "../../../../src/core/context/select-files.ts";

describe("taskTerms", () => {
  it.each([
    ["Fix the parser crash in the tokenizer", ["crash", "parser", "tokenizer"]],
    ["PARSER parser Parser tokenizer", ["parser", "tokenizer"]],
    ["this that with from should would", []],
    ["a an it is of cat dog", []],
    ["", []],
    ["webhook_retry handles 2fa webhook_retry", ["webhook_retry", "handles"]],
  ])("taskTerms(%j) = %j", (text, terms) => {
    expect(taskTerms(text)).toEqual(terms);
  });

  it("orders by frequency, then alphabetically, and keeps at most max", () => {
    expect(taskTerms("zeta alpha beta beta gamma gamma gamma", 2)).toEqual(["gamma", "beta"]);
    expect(taskTerms("zeta alpha beta beta gamma gamma gamma")).toEqual(["gamma", "beta", "alpha", "zeta"]);
  });

  it("returns distinct lower-case words of four or more characters, never a stopword", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.integer({ min: 0, max: 20 }), (text, max) => {
        const terms = taskTerms(text, max);
        expect(terms.length).toBeLessThanOrEqual(max);
        expect(new Set(terms).size).toBe(terms.length);
        for (const t of terms) {
          expect(t).toMatch(/^[a-z][a-z0-9_]{3,40}$/);
          expect(["this", "that", "with", "should", "issue", "file", "error"]).not.toContain(t);
          expect(text.toLowerCase()).toContain(t);
        }
      }),
    );
  });
});

describe("selectFiles", () => {
  const PATHS = [
    "README.md",
    "CONTRIBUTING.md",
    "AGENTS.md",
    ".github/copilot-instructions.md",
    "src/core/parser.ts",
    "src/core/parser-utils.ts",
    "src/app/main.ts",
    "test/parser.test.ts",
    "docs/guide/intro.md",
    "lib/tokenizer/index.ts",
  ];

  it("lists the instruction files that exist, in the fixed order", () => {
    const r = selectFiles({ title: "x", body: "" }, PATHS);
    expect(r.instructions).toEqual(["AGENTS.md", ".github/copilot-instructions.md", "CONTRIBUTING.md"]);
    expect(selectFiles({ title: "x", body: "" }, ["src/a.ts"]).instructions).toEqual([]);
  });

  it("puts files the task names first, then files whose names contain its terms", () => {
    const r = selectFiles({ title: "Parser crash", body: "It fails in src/app/main.ts when parsing." }, PATHS);
    expect(r.matches[0]).toEqual({ path: "src/app/main.ts", why: "named in the task (src/app/main.ts)" });
    // named: 100; then "parser" in the name, less 0.1 per path segment: depth 2 before depth 3
    expect(r.matches.slice(0, 2).map((m) => m.path)).toEqual(["src/app/main.ts", "test/parser.test.ts"]);
    expect(r.matches.slice(2).map((m) => m.path).sort()).toEqual(["src/core/parser-utils.ts", "src/core/parser.ts"]);
    expect(r.matches[1]!.why).toBe("name contains parser");
  });

  it("matches a named bare file name to the file anywhere in the tree", () => {
    const r = selectFiles({ title: "Look at intro.md", body: "" }, PATHS);
    expect(r.matches[0]).toEqual({ path: "docs/guide/intro.md", why: "named in the task (intro.md)" });
  });

  it("prefers shallower files and files matching more terms", () => {
    const r = selectFiles({ title: "tokenizer index", body: "" }, ["a/b/c/d/tokenizer.ts", "tokenizer.ts", "lib/index_tokenizer.ts"]);
    expect(r.matches.map((m) => m.path)).toEqual(["lib/index_tokenizer.ts", "tokenizer.ts", "a/b/c/d/tokenizer.ts"]);
    expect(r.matches[0]!.why).toBe("name contains index, tokenizer");
  });

  it("never returns an instruction file as a match, and keeps at most max", () => {
    const r = selectFiles({ title: "Update AGENTS.md and the contributing guide", body: "" }, PATHS, 2);
    expect(r.matches.map((m) => m.path)).not.toContain("AGENTS.md");
    expect(r.matches.length).toBeLessThanOrEqual(2);
    expect(selectFiles({ title: "parser", body: "" }, PATHS, 0).matches).toEqual([]);
  });

  it("returns distinct tracked paths, at most max, instruction files never among them", () => {
    const segment = fc.constantFrom("src", "lib", "parser", "tokenizer", "auth", "index.ts", "AGENTS.md", "CONTRIBUTING.md", "README.md", "webhook.ts", "retry");
    const paths = fc.uniqueArray(fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join("/")), { maxLength: 80 });
    const words = fc.array(fc.constantFrom("parser", "tokenizer", "webhook", "retry", "auth", "src/parser", "index.ts", "AGENTS.md", "the", "fails", "in", "lib/retry"), { maxLength: 12 }).map((w) => w.join(" "));
    fc.assert(
      fc.property(paths, words, words, fc.integer({ min: 0, max: 8 }), (ps, title, body, max) => {
        const r = selectFiles({ title, body }, ps, max);
        expect(r.instructions).toEqual(INSTRUCTION_FILES.filter((f) => ps.includes(f)));
        expect(r.matches.length).toBeLessThanOrEqual(max);
        const got = r.matches.map((m) => m.path);
        expect(new Set(got).size).toBe(got.length);
        for (const p of got) {
          expect(ps).toContain(p);
          expect(r.instructions).not.toContain(p);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("scans 50,000 paths quickly", () => {
    const paths = Array.from({ length: 50_000 }, (_, i) => `pkg${i % 100}/src/module${i}.ts`);
    paths.push("pkg7/src/parser.ts", "AGENTS.md");
    const started = performance.now();
    const r = selectFiles({ title: "Parser crash", body: "see the parser" }, paths);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(r).toEqual({ instructions: ["AGENTS.md"], matches: [{ path: "pkg7/src/parser.ts", why: "name contains parser" }] });
  });
});
