// The Action bundle: its size, and the cold start of `node dist/action.js` to its first request
// (a loopback server stands in for the GitHub API and records when the first request arrives).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ACTION = join(import.meta.dirname, "../dist/action.js");

/** Milliseconds from spawning the process to the first request it sends. */
async function coldStart(): Promise<number> {
  let first: (() => void) | undefined;
  const arrived = new Promise<void>((resolve) => (first = resolve));
  const server = createServer((_req, res) => {
    first?.();
    res.writeHead(503, { "content-type": "application/json" }).end('{"message":"bench"}');
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const dir = mkdtempSync(join(tmpdir(), "ar-bench-action-"));
  const event = join(dir, "event.json");
  const user = { login: "octocat", id: 1, type: "User" };
  writeFileSync(event, JSON.stringify({ action: "labeled", issue: { number: 1, title: "t", body: "b", labels: [{ name: "agent" }], user }, label: { name: "agent" }, sender: user }));
  const env = {
    PATH: process.env["PATH"],
    GITHUB_REPOSITORY: "acme/widgets",
    GITHUB_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    GITHUB_EVENT_NAME: "issues",
    GITHUB_EVENT_PATH: event,
    GITHUB_WORKSPACE: dir,
    GITHUB_WORKFLOW_REF: "acme/widgets/.github/workflows/agent-router.yml@refs/heads/main",
    "INPUT_GITHUB-TOKEN": "ghs_bench",
  };
  const t = performance.now();
  const child = spawn(process.execPath, [ACTION], { env, stdio: "ignore" });
  await arrived;
  const ms = performance.now() - t;
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  server.close();
  rmSync(dir, { recursive: true });
  return ms;
}

export async function actionRows(runs = 7): Promise<string[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await coldStart());
  times.sort((a, b) => a - b);
  const mb = statSync(ACTION).size / 1024 / 1024;
  return [`| cold start of node dist/action.js to its first request (median of ${runs}) | ${Math.round(times[Math.floor(runs / 2)]!)} ms | < 300 ms |`, `| dist/action.js size | ${mb.toFixed(2)} MB | < 3 MB |`];
}
