// The GitHub App against the fake GitHub: a freshly made private key (the app's JWTs are read by the
// fake's app routes), the router app served on 127.0.0.1, and signed deliveries. Built on the
// Action's world (a repository whose main branch holds .github/agent-router.yml, people with
// permissions), so the Action's worker and record modes can finish what the app dispatches.
import { generateKeyPairSync } from "node:crypto";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { signBody } from "../../src/adapters/github/webhook-signature.ts";
import type { RouterApp } from "../../src/entrypoints/probot/router-app.ts";
import { createRouterApp } from "../../src/entrypoints/probot/router-app.ts";
import type { Clock } from "../../src/core/ports.ts";
import { memoryLog } from "../fakes/memory-log.ts";
import type { ActionWorld } from "./action-world.ts";

export const SECRET = "app-webhook-secret-0c1d";
export const INSTALLATION = 4242;

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });

export interface AppInstance {
  app: RouterApp;
  url: string;
  log: ReturnType<typeof memoryLog>;
  /** POSTs `payload` as GitHub would: signed, with event name and delivery id. */
  deliver(event: string, payload: unknown, deliveryId: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export async function startApp(world: ActionWorld, opts: { clock?: Clock; local?: { workdir: string; slots: number } } = {}): Promise<AppInstance> {
  const log = memoryLog();
  const app = createRouterApp({
    credentials: { appId: 1, privateKey },
    secrets: [SECRET],
    apiUrl: world.fake.url,
    serverUrl: "https://github.com",
    env: {},
    logFor: (traceId) => log.child({ traceId }),
    tickSeconds: 0,
    configTtlMs: 0,
    limits: { writeMinTimeMs: 0, notificationMinTimeMs: 0 },
    ...(opts.clock ? { clock: opts.clock } : {}),
    // Agents on this machine clone the world's bare repository (the fake GitHub reads its pushes).
    ...(opts.local ? { local: { ...opts.local, cloneUrl: () => world.bare } } : {}),
  });
  const server = createServer(app.handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    url,
    log,
    deliver(event, payload, deliveryId) {
      const body = JSON.stringify(payload);
      return new Promise((resolve, reject) => {
        const req = request(`${url}/api/github/webhooks`, { method: "POST", headers: { "content-type": "application/json", "x-github-event": event, "x-github-delivery": deliveryId, "x-hub-signature-256": signBody(SECRET, body) } }, (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on("error", reject);
        req.end(body);
      });
    },
    async close() {
      await app.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A payload as an app receives it: the Action world's payload, plus the installation and the repository's owner and name. */
export function asAppPayload(payload: Record<string, unknown>, repo = "acme/widgets"): Record<string, unknown> {
  const [owner, name] = repo.split("/");
  return { ...payload, installation: { id: INSTALLATION, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg==" }, repository: { full_name: repo, name, owner: { login: owner } } };
}
