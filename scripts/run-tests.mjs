// Runs vitest with its JSON reporter and prints the plain closing line CI reads:
// "N passed, N failed". A test file that fails to import counts as at least one failure,
// and a missing report is a failure too.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";

const report = ".vitest-report.json";
const args = ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`];
const extra = process.argv.slice(2);
if (extra.includes("--exclude-slow")) args.push("--exclude", "**/*.slow.test.ts");
args.push(...extra.filter((a) => a !== "--exclude-slow"));

rmSync(report, { force: true });
const run = spawnSync("npx", args, { stdio: "inherit" });

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const data = JSON.parse(readFileSync(report, "utf8"));
  passed = data.numPassedTests ?? 0;
  failed = data.numFailedTests ?? 0;
  skipped = (data.numPendingTests ?? 0) + (data.numTodoTests ?? 0);
  for (const file of data.testResults ?? []) {
    if (file.status === "failed" && (file.assertionResults ?? []).length === 0) {
      console.error(`test file failed to load: ${file.name}\n${file.message ?? ""}`);
      failed += 1;
    }
  }
} else {
  console.error(`no test report at ${report}: vitest did not finish`);
  failed += 1;
}
if (passed + failed === 0) {
  console.error("no test ran");
  failed += 1;
}
const exitCode = failed > 0 || run.status !== 0 ? 1 : 0;
if (exitCode !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(exitCode);
