// Context-bundle build time on large repositories, and rule-routing throughput.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildContextCommand } from "../src/app/build-context.ts";
import { loadRouting } from "../src/adapters/config-fs/load-routing.ts";
import { bundleWriter, repoFiles } from "../src/adapters/context-fs/repo-files.ts";
import { encodeLedger } from "../src/adapters/ledger-codec/ledger-file.ts";
import { MemoryLedgerStore } from "../src/adapters/ledger-memory/memory-ledger-store.ts";
import { systemBackoff, systemClock } from "../src/adapters/system/system.ts";
import { MainConfig } from "../src/core/config/main-config.ts";
import { addTask } from "../src/core/ledger/create-task.ts";
import { emptyLedger } from "../src/core/ledger/ledger.ts";
import { decideRoute, mentionedPaths } from "../src/core/routing/decide-route.ts";

/** A git repository whose index lists `n` files (one shared blob), plus a few real files on disk. */
export function generatedRepo(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), "ar-bench-repo-"));
  const git = (args: string[], input?: string): string => execFileSync("git", args, { cwd: dir, input, encoding: "utf8", maxBuffer: 1 << 28 }).trim();
  git(["init", "-q", "-b", "main"]);
  writeFileSync(join(dir, "AGENTS.md"), "Build with `npm run build`; test with `npm test`.\n".repeat(20));
  writeFileSync(join(dir, "importer.ts"), "export function parseToml(text: string) {\n  return text;\n}\n".repeat(50));
  git(["add", "AGENTS.md", "importer.ts"]);
  const blob = git(["hash-object", "-w", "--stdin"], "export const x = 1;\n");
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`100644 ${blob}\tpackages/pkg-${i % 50}/src/module-${Math.floor(i / 50) % 40}/file-${i}.ts`);
  git(["update-index", "--index-info"], `${lines.join("\n")}\n`);
  return dir;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export async function bundleRows(sizes: readonly number[]): Promise<string[]> {
  const config = MainConfig.parse({});
  const rows: string[] = [];
  for (const n of sizes) {
    const root = generatedRepo(n);
    const out = mkdtempSync(join(tmpdir(), "ar-bench-out-"));
    const routing = await loadRouting(root, config);
    const now = new Date().toISOString();
    const { ledger } = addTask(emptyLedger(), { source: { kind: "cli" }, title: "The TOML importer rejects arrays of tables", body: "Steps: import a file with [[x]]. See importer.ts.\n".repeat(40) }, { now, by: "bench", traceId: "00-bench-01" });
    const store = new MemoryLedgerStore(encodeLedger(ledger, "ledger.yml", "bench").text);
    const deps = { store, clock: systemClock, backoff: systemBackoff, config, traceId: "00-bench-01", actor: "bench" };
    const times: number[] = [];
    let tokens = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const r = await buildContextCommand(deps, 1, { profiles: routing.profiles, repo: repoFiles(root), writer: bundleWriter(out), boundary: "0123456789abcdef0123456789abcdef" });
      times.push(performance.now() - t);
      tokens = r.plan.tokens;
    }
    rows.push(`| ${n.toLocaleString("en")} | ${median(times).toFixed(0)} | ${tokens} / ${config.context.maxTokens} |`);
    rmSync(root, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
  return rows;
}

/** Tasks per second through decideRoute with the built-in rules, over a mix of titles, labels and paths. */
export async function routingThroughput(count: number): Promise<{ perSecond: number; byRule: number }> {
  const config = MainConfig.parse({});
  const routing = await loadRouting(mkdtempSync(join(tmpdir(), "ar-bench-empty-")), config);
  const setup = { config, profiles: routing.profiles, rules: routing.rules };
  const titles = ["App crashes on save", "Update docs/guide/intro.md", "Add a TOML importer", "Refactor the cache layer", "Flaky test in src/db.test.ts", "Bump dependencies", "Something else entirely"];
  const labels = [[], ["bug"], ["documentation"], ["enhancement"], ["tests"], ["agent:codex"]];
  const tasks = Array.from({ length: count }, (_, i) => {
    const title = `${titles[i % titles.length]} #${i}`;
    const body = `Details for task ${i}. It happens in src/module-${i % 13}/file.ts when the user clicks save.`;
    return { title, body, labels: labels[i % labels.length] ?? [], paths: mentionedPaths(`${title}\n${body}`) };
  });
  let byRule = 0;
  const t = performance.now();
  for (const task of tasks) if (decideRoute(task, setup).route.decidedBy === "rule") byRule++;
  const seconds = (performance.now() - t) / 1000;
  return { perSecond: count / seconds, byRule };
}
