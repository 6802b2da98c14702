// The GitHub App under load on loopback: signed deliveries per second and the time to acknowledge
// each (from the request's first byte sent to its answer), with their work queued and run against
// the fake GitHub; and the subprocesses an idle tick of a configured repository spawns (goal: 0,
// everything goes through the API).
import cp from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { syncBuiltinESMExports } from "node:module";
import { signBody } from "../src/adapters/github/webhook-signature.ts";
import { silentLog } from "../src/app/app-deps.ts";
import { createRouterApp } from "../src/entrypoints/probot/router-app.ts";
import { startFakeGitHub } from "../test/fakes/fake-github/index.ts";

const SECRET = "bench-secret";
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
const CONFIG = "agents:\n  example: { type: command, command: [node, agent.mjs] }\nrouter:\n  fallback: { agent: example, profile: feature }\n";

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** Counts child processes started through node:child_process while `fn` runs. */
async function countSpawns(fn: () => Promise<void>): Promise<number> {
  let n = 0;
  const names = ["spawn", "execFile", "exec", "fork", "spawnSync", "execFileSync", "execSync"] as const;
  const saved = names.map((k) => [k, cp[k]] as const);
  for (const [k, f] of saved) (cp as unknown as Record<string, unknown>)[k] = (...args: unknown[]) => (n++, (f as (...a: unknown[]) => unknown)(...args));
  syncBuiltinESMExports();
  try {
    await fn();
  } finally {
    for (const [k, f] of saved) (cp as unknown as Record<string, unknown>)[k] = f;
    syncBuiltinESMExports();
  }
  return n;
}

/**
 * A GitHub that answers only what the delivered work asks, from memory: the installation token, the
 * config snapshot and the (empty) ledger. The fake GitHub checks every request against GitHub's
 * schemas, which costs more CPU than the app itself; in this process it would be measured as the
 * app's acknowledgement time.
 */
async function stubGitHub(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const config = { data: { repository: { defaultBranchRef: { name: "main", target: { oid: "a".repeat(40), main: { object: { text: CONFIG, isTruncated: false, isBinary: false } }, dir: null } } } } };
  const noLedger = { data: { repository: { ref: null } } };
  const server = createServer((req, res) => {
    requests++;
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const answer = req.url?.endsWith("/access_tokens") ? [201, { token: "ghs_bench00000000000000000000000000000", expires_at: "2099-01-01T00:00:00Z" }] : req.url === "/graphql" && body.includes("ReadRouterConfig") ? [200, config] : req.url === "/graphql" && body.includes("ReadBranchFile") ? [200, noLedger] : req.url?.includes("/git/matching-refs/") ? [200, []] : [404, { message: "Not Found" }];
      res.writeHead(answer[0] as number, { "content-type": "application/json" }).end(JSON.stringify(answer[1]));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, close: () => new Promise((r) => server.close(() => r())) };
}

export async function appRows(deliveries = 2_000, clients = 20): Promise<string[]> {
  const repos = Array.from({ length: 20 }, (_, i) => `acme/repo-${i}`);
  const stub = await stubGitHub();
  const app = createRouterApp({ credentials: { appId: 1, privateKey }, secrets: [SECRET], apiUrl: stub.url, serverUrl: "https://github.com", env: {}, logFor: () => silentLog, tickSeconds: 0, concurrency: 8, maxPendingPerRepo: 1_000, limits: { writeMinTimeMs: 0, notificationMinTimeMs: 0 } });
  const server = createServer(app.handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const user = (login: string, id: number) => ({ login, id, type: "User" });
  // Comments that are not commands: each is a real event (verified, parsed, queued, reconciled) that changes nothing.
  const bodies = Array.from({ length: deliveries }, (_, i) => {
    const full = repos[i % repos.length]!;
    const [owner, name] = full.split("/");
    return JSON.stringify({ action: "created", issue: { number: 1 }, comment: { id: 1_000 + i, body: `thanks! (${i})`, user: user("octocat", 1) }, sender: user("octocat", 1), repository: { full_name: full, name, owner: { login: owner } }, installation: { id: 1 } });
  });
  const latencies: number[] = [];
  const post = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = bodies[i]!;
      const t = performance.now();
      const req = request(url, { method: "POST", agent, headers: { "content-type": "application/json", "x-github-event": "issue_comment", "x-github-delivery": `bench-${i}`, "x-hub-signature-256": signBody(SECRET, body) } }, (res) => {
        res.resume();
        res.on("end", () => {
          latencies.push(performance.now() - t);
          if (res.statusCode !== 202) reject(new Error(`delivery ${i}: ${res.statusCode}`));
          else resolve();
        });
      });
      req.on("error", reject);
      req.end(body);
    });
  // Warm-up (JIT, the installation token, each repository's config): not counted.
  const WARM = Math.min(200, Math.floor(deliveries / 10));
  for (let i = 0; i < WARM; i++) await post(i);
  await app.queue.idle();
  latencies.length = 0;
  let next = WARM;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < deliveries) await post(next++);
  }));
  const seconds = (performance.now() - t0) / 1000;
  await app.queue.idle();
  const drained = (performance.now() - t0) / 1000;
  const stats = app.queue.stats();
  const closedLoop = { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };

  // Open loop: deliveries arrive at a steady RATE whatever the answers (as GitHub sends them), and
  // each one's time to acknowledge is measured while the queued work runs.
  const RATE = 250;
  const OPEN = Math.min(1_000, deliveries);
  const openBodies = Array.from({ length: OPEN }, (_, i) => bodies[i]!.replace('"thanks!', '"open'));
  bodies.push(...openBodies);
  latencies.length = 0;
  const start = performance.now();
  const sent: Promise<void>[] = [];
  for (let k = 0; k < OPEN; k++) {
    const due = start + (k * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sent.push(post(deliveries + k));
  }
  await Promise.all(sent);
  await app.queue.idle();
  const openLoop = { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };

  await app.stop();
  agent.destroy();
  server.close();
  await stub.close();
  const spawns = await idleTickSpawns(repos);
  return [
    `| signed deliveries acknowledged per second (${(deliveries - WARM).toLocaleString("en")} deliveries after ${WARM} to warm up, ${clients} clients, ${repos.length} repositories) | ${Math.round((deliveries - WARM) / seconds).toLocaleString("en")} | > 200 |`,
    `| time to acknowledge at that rate, p50 / p99 (ms) | ${closedLoop.p50.toFixed(1)} / ${closedLoop.p99.toFixed(1)} | |`,
    `| time to acknowledge at a steady ${RATE}/s (${OPEN.toLocaleString("en")} deliveries), p50 / p99 (ms) | ${openLoop.p50.toFixed(1)} / ${openLoop.p99.toFixed(1)} | p99 < 50 |`,
    `| their queued work drained (s from the first delivery; ${stats.done} reconciles done, ${stats.failed} failed) | ${drained.toFixed(1)} | |`,
    `| GitHub requests per delivered comment (token and config cached) | ${(stub.requests() / (deliveries + OPEN)).toFixed(2)} | |`,
    `| subprocesses spawned by an idle tick of ${repos.length} repositories | ${spawns} | 0 |`,
  ];
}

/** An idle tick of every repository on the fake GitHub: each has a config and a ledger with nothing due. */
async function idleTickSpawns(repos: string[]): Promise<number> {
  const fake = await startFakeGitHub({ repositories: [] });
  try {
    for (const full of repos) fake.state.addRepository(full, { files: { ".github/agent-router.yml": CONFIG } });
    fake.state.addInstallation(1, repos);
    const app = createRouterApp({ credentials: { appId: 1, privateKey }, secrets: [SECRET], apiUrl: fake.url, serverUrl: "https://github.com", env: {}, logFor: () => silentLog, tickSeconds: 0, limits: { writeMinTimeMs: 0, notificationMinTimeMs: 0 } });
    await app.tickAll(); // the first tick of a repository may set up its ledger
    await app.queue.idle();
    const spawns = await countSpawns(async () => {
      await app.tickAll();
      await app.queue.idle();
    });
    await app.stop();
    return spawns;
  } finally {
    await fake.close();
  }
}
