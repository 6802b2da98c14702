// The app's HTTP surface: POST /api/github/webhooks (a signed delivery, acknowledged at once and its
// work queued) and GET /healthz. A plain node:http handler `(req, res, next?)`, so it serves on its
// own or inside Express/Connect. A delivery is checked before anything else happens: its headers,
// its size, then its signature on the raw bytes; a delivery that fails any check gets a 4xx and
// changes nothing, not even the dedupe memory.
import type { IncomingMessage, ServerResponse } from "node:http";
import { verifySignature } from "../../adapters/github/webhook-signature.ts";
import type { Log } from "../../core/ports.ts";

export interface Delivery {
  id: string;
  name: string;
  payload: unknown;
}

/** What the app did with a verified delivery. */
export type Acceptance = { status: "queued" | "ignored"; why?: string } | { status: "full" } | { status: "invalid"; why: string };

export interface WebhookHandlerOptions {
  /** Default /api/github/webhooks. */
  path?: string;
  /** The current secret first, then previous ones still accepted during a rotation. */
  secrets: readonly string[];
  /** Default 25 MB, GitHub's cap. */
  maxBodyBytes?: number;
  deliveries: DeliveryMemory;
  accept(delivery: Delivery): Acceptance;
  health(): Record<string, unknown>;
  log: Log;
  now?: () => number;
}

export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;
const EVENT_NAME = /^[a-z_]{1,64}$/;

export function webhookHandler(opts: WebhookHandlerOptions): NodeHandler {
  const path = opts.path ?? "/api/github/webhooks";
  const maxBytes = opts.maxBodyBytes ?? 25 * 1024 * 1024;
  const now = opts.now ?? Date.now;
  return (req, res, next) => {
    const url = (req.url ?? "/").split("?")[0];
    if (url === "/healthz") {
      if (req.method !== "GET" && req.method !== "HEAD") return answer(res, 405, { error: "GET /healthz" }, { allow: "GET, HEAD" });
      return answer(res, 200, { status: "ok", ...opts.health() });
    }
    if (url !== path) {
      if (next) return next();
      return answer(res, 404, { error: "not found" });
    }
    if (req.method !== "POST") return answer(res, 405, { error: `POST ${path}` }, { allow: "POST" });
    const name = header(req, "x-github-event");
    const id = header(req, "x-github-delivery");
    if (name === undefined || !EVENT_NAME.test(name)) return refuse(req, res, 400, "missing or malformed X-GitHub-Event header");
    if (id === undefined || !DELIVERY_ID.test(id)) return refuse(req, res, 400, "missing or malformed X-GitHub-Delivery header");
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > maxBytes) return refuse(req, res, 413, `the body is over ${maxBytes} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) over = true;
      else chunks.push(chunk);
    });
    req.on("error", () => res.destroy());
    req.on("end", () => {
      if (over) return answer(res, 413, { error: `the body is over ${maxBytes} bytes` });
      const body = Buffer.concat(chunks, size);
      const check = verifySignature(opts.secrets, body, header(req, "x-hub-signature-256"), header(req, "x-hub-signature"));
      if (!check.ok) {
        opts.log.warn("webhook refused", { deliveryId: id, event: name, why: check.why });
        return answer(res, 400, { error: check.why });
      }
      if (check.secretIndex > 0) opts.log.warn("webhook signed with a previous secret; finish the rotation on GitHub", { deliveryId: id });
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString("utf8"));
      } catch {
        return answer(res, 400, { error: "the body is not JSON" });
      }
      if (opts.deliveries.seen(id, now())) return answer(res, 200, { status: "duplicate" });
      let accepted: Acceptance;
      try {
        accepted = opts.accept({ id, name, payload });
      } catch (err) {
        opts.deliveries.forget(id);
        opts.log.error("webhook not accepted", { deliveryId: id, event: name, error: err instanceof Error ? err.message : String(err) });
        return answer(res, 500, { error: "the delivery could not be queued; redeliver it" });
      }
      if (accepted.status === "full") {
        // Forgotten, so that a redelivery is taken once there is room.
        opts.deliveries.forget(id);
        return answer(res, 503, { error: "too much work queued for this repository; redeliver later" }, { "retry-after": "60" });
      }
      if (accepted.status === "invalid") {
        opts.deliveries.forget(id);
        return answer(res, 400, { error: accepted.why });
      }
      return answer(res, accepted.status === "queued" ? 202 : 200, accepted);
    });
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Answers before the body is read, then drains it so the connection can be reused. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string): void {
  answer(res, status, { error });
  req.resume();
}

function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Delivery ids seen by this process, kept `ttlMs` (7 days by default: GitHub redelivers for 3) and at
 * most `max` of them, oldest out first. Replicas share dedupe through the ledger, where every delivery
 * that changed something is recorded under compare-and-swap; this memory answers the common case
 * (a redelivery, or the same delivery several times at once) without touching GitHub.
 */
export class DeliveryMemory {
  private readonly at = new Map<string, number>();

  constructor(private readonly opts: { ttlMs?: number; max?: number } = {}) {}

  /** True when `id` was seen within the ttl; otherwise remembers it and returns false. */
  seen(id: string, now: number): boolean {
    const ttl = this.opts.ttlMs ?? 7 * 86_400_000;
    const when = this.at.get(id);
    if (when !== undefined && now - when < ttl) return true;
    this.at.delete(id);
    this.at.set(id, now);
    const max = this.opts.max ?? 200_000;
    while (this.at.size > max) this.at.delete(this.at.keys().next().value!);
    return false;
  }

  forget(id: string): void {
    this.at.delete(id);
  }

  get size(): number {
    return this.at.size;
  }
}
