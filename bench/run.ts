// npm run bench — prints tables of medians. Figures depend on the machine and its load; compare ratios.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { mutateLedger } from "../src/app/mutate-ledger.ts";
import { decodeLedgerText } from "../src/adapters/ledger-codec/ledger-text.ts";
import { renderYaml } from "../src/adapters/ledger-codec/render-yaml.ts";
import { GitLedgerStore } from "../src/adapters/ledger-git/git-ledger-store.ts";
import { systemBackoff } from "../src/adapters/system/system.ts";
import { addTask } from "../src/core/ledger/create-task.ts";
import type { Ledger } from "../src/core/ledger/ledger.ts";
import { freshLedger, realisticLedger } from "./ledger-fixture.ts";
import { parallelRun } from "./parallel.ts";
import { bundleRows, routingThroughput } from "./routing.ts";
import { githubRequestRows } from "./github.ts";
import { actionRows } from "./action.ts";
import { appRows } from "./app.ts";
import { sanitizeRows } from "./sanitize.ts";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function time(runs: number, fn: () => unknown): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return median(xs);
}

const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
const branch = "agent-router/ledger";

function addOne(store: GitLedgerStore, k: number): Promise<unknown> {
  const now = new Date().toISOString();
  return mutateLedger(
    store,
    ({ ledger }) => {
      const added = addTask(ledger, { source: { kind: "cli" }, title: `bench ${k}` }, { now, by: "bench", traceId: "00-bench-01" });
      return { ledger: added.ledger, result: null, summary: `bench ${k}` };
    },
    { backoff: systemBackoff, traceId: "00-bench-01", now },
  );
}

async function ledgerRow(kind: string, n: number, ledger: Ledger): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "ar-bench-"));
  execFileSync("git", ["init", "-q", "-b", "main"], { cwd: dir });
  const text = renderYaml(ledger);
  await new GitLedgerStore({ cwd: dir, branch, path: "ledger.yml" }).write({ ledger, message: "seed" }, null);
  const runs = n >= 10_000 ? 5 : n >= 1_000 ? 9 : 21;
  let k = 0;
  // Cold: a new store per mutate, as in a fresh CLI process: read, parse, validate, apply, write.
  const cold = await time(runs, () => addOne(new GitLedgerStore({ cwd: dir, branch, path: "ledger.yml" }), k++));
  // Warm: one long-lived store (serve loop, app): after its own write it keeps what it wrote.
  const warmStore = new GitLedgerStore({ cwd: dir, branch, path: "ledger.yml" });
  await addOne(warmStore, k++);
  const warm = await time(runs, () => addOne(warmStore, k++));
  const alone = await time(runs, () => renderYaml(decodeLedgerText(text).raw as Record<string, unknown>));
  const yamlPkg = n <= 1_000 ? fmt(await time(3, () => String(parseDocument(text)))) : "-";
  rmSync(dir, { recursive: true, force: true });
  return `| ${kind} | ${n} | ${(text.length / 1048576).toFixed(1)} | ${fmt(cold)} | ${fmt(warm)} | ${fmt(alone)} | ${(cold / alone).toFixed(2)} | ${yamlPkg} |`;
}

console.log(`\nLedger mutate (read, apply, validate, write a git commit) — ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}, node ${process.version}, load ${loadavg()[0]?.toFixed(1)}`);
console.log("| tasks | n | MB | cold mutate ms | warm mutate ms | parse+serialise ms | cold ÷ parse+serialise | yaml pkg parse+stringify ms |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const n of [100, 1_000, 10_000]) console.log(await ledgerRow("new (as `add` makes)", n, freshLedger(n)));
for (const n of [100, 1_000, 10_000]) console.log(await ledgerRow("finished (route, run, usage)", n, realisticLedger(n)));

console.log(`\nContext bundle build (git ls-files, select, read, plan, write; default 24,000-token budget; median of 5)`);
console.log("| tracked files | build ms | bundle tokens |");
console.log("|---:|---:|---:|");
for (const row of await bundleRows([1_000, 10_000, 50_000])) console.log(row);

console.log("\nSanitise 64 KB of hostile untrusted text (sanitizeUntrusted; median of 7; goal: milliseconds, no input in seconds)");
console.log("| input | KB | median ms |");
console.log("|---|---:|---:|");
for (const row of sanitizeRows()) console.log(row);

console.log("\nGitHub requests per task lifecycle (fake GitHub on 127.0.0.1, real adapter and GitHub ledger store; counted = not a 304)");
console.log("| step | requests | counted | mutating |");
console.log("|---|---:|---:|---:|");
for (const row of await githubRequestRows()) console.log(row);

console.log("\nThe GitHub Action bundle");
console.log("| what | measured | goal |");
console.log("|---|---:|---:|");
for (const row of await actionRows()) console.log(row);

console.log("\nThe GitHub App (loopback; the fake GitHub answers the queued work)");
console.log("| what | measured | goal |");
console.log("|---|---:|---:|");
for (const row of await appRows()) console.log(row);

const routing = await routingThroughput(50_000);
console.log(`\nRule routing (decideRoute, built-in rules, 50,000 tasks): ${Math.round(routing.perSecond).toLocaleString("en")} tasks/s; ${routing.byRule.toLocaleString("en")} decided by a rule`);

const par = parallelRun(8, 2000, 8);
console.log(`\nParallel children (a planner delegates 8 children of 2 s each; serve -j 8): ${par.wallMs} ms from the first child's start to the last one's end (goal < 3,000 ms); slowest child ${par.slowestChildMs} ms; all done: ${par.allDone}`);
