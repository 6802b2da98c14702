// Context bundles built from real git repositories of 0 to 50,000 tracked files stay within their
// token budget, and the manifest's checksum matches the bundle file. Large repositories are made
// fast: a few real files, and the rest registered in the index against one blob, then committed.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRouting } from "../../src/adapters/config-fs/load-routing.ts";
import { bundleWriter, repoFiles } from "../../src/adapters/context-fs/repo-files.ts";
import { MemoryLedgerStore } from "../../src/adapters/ledger-memory/memory-ledger-store.ts";
import type { AppDeps } from "../../src/app/app-deps.ts";
import { buildContextCommand } from "../../src/app/build-context.ts";
import { MainConfig } from "../../src/core/config/main-config.ts";
import type { Profile } from "../../src/core/config/profile.ts";
import { estimateTokens } from "../../src/core/context/tokens.ts";
import { trustedPart } from "../../src/core/context/untrusted-block.ts";
import { addTask } from "../../src/core/ledger/create-task.ts";
import { emptyLedger } from "../../src/core/ledger/ledger.ts";
import { ctxAt } from "../support/ctx.ts";
import { removeTempDirs, sh, tempDir } from "../support/git-repo.ts";

const BOUNDARY = "c0ffee00112233445566778899aabbccddeeff00";
const SIZES = [0, 10, 1_000, 10_000, 50_000];
const BUDGETS = [2_000, 24_000, 100_000];
const AGENTS = "# Agent notes\nRun `npm test` before you finish. Never commit secrets.\n";
const PARSER = "export function parse(input: string) {\n  if (input === '') throw new Error('empty');\n  return input.split(',');\n}\n";

let profiles: ReadonlyMap<string, Profile>;
beforeAll(async () => {
  profiles = (await loadRouting(tempDir(), MainConfig.parse({}))).profiles;
});
afterAll(removeTempDirs);

function gitWithInput(cwd: string, input: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }).trim();
}

/** A committed repository with `n` tracked files: AGENTS.md and src/parser.ts on disk, the rest in the index only. */
function repoWith(n: number): string {
  const root = tempDir("ar-ctx-");
  sh(root, "init", "-q", "-b", "main");
  sh(root, "config", "user.name", "Test User");
  sh(root, "config", "user.email", "test@example.invalid");
  if (n === 0) return root;
  mkdirSync(join(root, "src"));
  writeFileSync(join(root, "AGENTS.md"), AGENTS);
  writeFileSync(join(root, "src/parser.ts"), PARSER);
  sh(root, "add", "AGENTS.md", "src/parser.ts");
  const blob = gitWithInput(root, "export {};\n", "hash-object", "-w", "--stdin");
  const lines: string[] = [];
  for (let i = 0; i < n - 2; i++) lines.push(`100644 ${blob}\tpackages/pkg${i % 40}/src/mod${i % 11}/file-${i}.ts\n`);
  if (lines.length > 0) gitWithInput(root, lines.join(""), "update-index", "--index-info");
  sh(root, "commit", "-q", "-m", `${n} files`);
  expect(gitWithInput(root, "", "ls-files", "-z").split("\0").filter(Boolean)).toHaveLength(n);
  return root;
}

async function depsFor(maxTokens: number): Promise<AppDeps> {
  const store = new MemoryLedgerStore();
  const ledger = addTask(emptyLedger(), { source: { kind: "cli" }, title: "Fix the parser crash", body: "The parser crashes on empty input, see src/parser.ts.\n".repeat(40) }, ctxAt(0)).ledger;
  await store.write({ ledger, message: "seed" }, null);
  return { store, clock: { now: () => new Date("2026-11-01T10:00:00.000Z") }, backoff: { sleep: async () => undefined, random: () => 0.5 }, config: MainConfig.parse({ context: { maxTokens } }), traceId: "00-t-01", actor: "cli:tester" };
}

/** The outline printed under "## Files in the repository": its file lines (directories end in a count). */
function outlineFileLines(text: string): string[] {
  const start = text.indexOf("## Files in the repository\n");
  expect(start).toBeGreaterThanOrEqual(0);
  const rest = text.slice(start + "## Files in the repository\n".length);
  const end = rest.search(/\n(## |\[… cut|\n)/);
  const lines = (end < 0 ? rest : rest.slice(0, end)).split("\n").filter(Boolean);
  return lines.filter((l) => !/\/ \(\d+ files?\)$/.test(l) && l !== "(no files)");
}

describe("context bundles from real repositories", () => {
  for (const size of SIZES) {
    it(`a repository with ${size} tracked files gets bundles within 2,000 / 24,000 / 100,000 tokens`, async () => {
      const root = repoWith(size);
      const out = tempDir("ar-bundles-");
      for (const budget of BUDGETS) {
        const r = await buildContextCommand(await depsFor(budget), 1, { profiles, repo: repoFiles(root), writer: bundleWriter(join(out, String(budget))), boundary: BOUNDARY });
        const file = readFileSync(r.bundlePath);
        const text = file.toString("utf8");
        expect(text).toBe(r.plan.text);
        expect(estimateTokens(text)).toBeLessThanOrEqual(budget);
        const manifest = JSON.parse(readFileSync(r.manifestPath, "utf8")) as Record<string, unknown> & { sections: { name: string; notes: string[] }[] };
        expect(manifest.sha256).toBe(createHash("sha256").update(file).digest("hex"));
        expect(r.sha256).toBe(manifest.sha256);
        expect(manifest).toMatchObject({ taskId: 1, tokens: estimateTokens(text), maxTokens: budget, boundary: BOUNDARY, profile: "feature" });
        expect(() => trustedPart(text, BOUNDARY)).not.toThrow();

        const notes = manifest.sections.find((s) => s.name === "repository")!.notes;
        const shownFiles = outlineFileLines(text);
        const note = notes.map((n) => /^outline shows (\d+) of (\d+) files$/.exec(n)).find(Boolean);
        if (note) {
          expect(Number(note[2])).toBe(size);
          expect(Number(note[1])).toBeLessThan(size);
          expect(shownFiles).toHaveLength(Number(note[1]));
          expect(manifest.cuts).toContain(`repository: outline shows ${note[1]} of ${size} files`);
        } else {
          expect(shownFiles).toHaveLength(size);
        }
        if (size === 0) expect(text).toContain("## Files in the repository\n(no files)");
        if (size >= 10_000) expect(note, `a ${size}-file outline cannot fit ${budget} tokens`).toBeTruthy();
        if (size > 0 && budget >= 24_000) {
          expect(text).toContain(`## AGENTS.md\n${AGENTS}`);
          expect(text).toContain(`## src/parser.ts (named in the task (src/parser.ts))\n${PARSER}`);
          expect(shownFiles.length).toBeGreaterThan(0);
        }
      }
    });
  }
});

describe("bundleWriter", () => {
  it("writes task-ID.md and task-ID.manifest.json, private, with the text's SHA-256", async () => {
    const dir = join(tempDir("ar-bundles-"), "nested", "dir");
    const text = "# bundle\nünïcode 😀\n";
    const r = await bundleWriter(dir).write(12, text, { taskId: 12, tokens: 5 });
    expect(r.bundlePath).toBe(join(dir, "task-12.md"));
    expect(r.manifestPath).toBe(join(dir, "task-12.manifest.json"));
    expect(readFileSync(r.bundlePath, "utf8")).toBe(text);
    const sha = createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex");
    expect(r.sha256).toBe(sha);
    expect(JSON.parse(readFileSync(r.manifestPath, "utf8"))).toEqual({ taskId: 12, tokens: 5, sha256: sha });
    expect(statSync(r.bundlePath).mode & 0o777).toBe(0o600);
    expect(statSync(r.manifestPath).mode & 0o777).toBe(0o600);
  });
});
