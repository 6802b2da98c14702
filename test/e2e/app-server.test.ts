// The GitHub App's server as users start it (`npm run start:app`: the built dist/app.js), configured
// only by environment variables, against the fake GitHub on 127.0.0.1 (GITHUB_API_URL): /healthz
// answers, a signed delivery becomes a task in the repository's ledger, a bad signature is refused,
// and SIGTERM finishes the queued work before the process exits 0.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPairSync } from "node:crypto";
import { request } from "node:http";
import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { signBody } from "../../src/adapters/github/webhook-signature.ts";
import { decodeLedger } from "../../src/adapters/ledger-codec/ledger-file.ts";
import { built } from "../support/processes.ts";
import { EXAMPLE_CONFIG, REPO, startActionWorld } from "../support/action-world.ts";
import type { ActionWorld } from "../support/action-world.ts";
import { asAppPayload, INSTALLATION } from "../support/app-world.ts";
import { removeTempDirs, tempDir } from "../support/git-repo.ts";

let world: ActionWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
  removeTempDirs();
  nock.enableNetConnect();
});

function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("npm run start:app (dist/app.js)", () => {
  it("serves /healthz, queues a signed delivery, refuses a forged one, and drains on SIGTERM", async () => {
    nock.disableNetConnect();
    nock.enableNetConnect("127.0.0.1");
    world = await startActionWorld(EXAMPLE_CONFIG);
    world.fake.state.commit(world.fake.state.mustRepo(REPO), "main", { ".github/agent-router.yml": EXAMPLE_CONFIG });
    world.fake.state.addInstallation(INSTALLATION, [REPO]);
    const keyFile = join(tempDir("ar-app-key-"), "app.pem");
    writeFileSync(keyFile, generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } }).privateKey);
    const env = { PATH: process.env["PATH"], APP_ID: "1", PRIVATE_KEY_PATH: keyFile, WEBHOOK_SECRET: "e2e-secret", PORT: "0", HOST: "127.0.0.1", GITHUB_API_URL: world.fake.url, AGENT_ROUTER_TICK_SECONDS: "0" };
    const child = spawn(process.execPath, [built("app")], { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    const listening = new Promise<number>((resolve, reject) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        const m = /"msg":"agent-router app listening".*?"port":(\d+)/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      child.once("exit", () => reject(new Error(`the app exited: ${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const port = await listening;
      const base = `http://127.0.0.1:${port}`;
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: "ok", running: 0, pending: 0 });

      const body = JSON.stringify(asAppPayload(world.labelledIssue()));
      const headers = { "x-github-event": "issues", "x-github-delivery": "e2e-1" };
      expect(await post(`${base}/api/github/webhooks`, body, { ...headers, "x-hub-signature-256": signBody("another-secret", body) })).toBe(400);
      expect(await post(`${base}/api/github/webhooks`, body, { ...headers, "x-hub-signature-256": signBody("e2e-secret", body) })).toBe(202);
      // SIGTERM right away: the queued reconcile still runs to the end.
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      const repo = world.fake.state.mustRepo(REPO);
      const head = repo.refs.get("refs/heads/agent-router/ledger");
      expect(head).toBeDefined();
      const tasks = decodeLedger(repo.commits.get(head!)!.files.get("ledger.yml")!, "ledger.yml", "test").ledger.tasks;
      expect(tasks.map((t) => [t.id, t.source.kind, t.status])).toEqual([[1, "issue", "routed"]]);
      // JSON lines with the delivery id.
      const lines = stderr.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.some((l) => l.deliveryId === "e2e-1" && typeof l.traceId === "string")).toBe(true);
      expect(world.fake.state.schemaProblems).toEqual([]);
    } finally {
      child.kill("SIGKILL");
    }
  }, 60_000);
});
