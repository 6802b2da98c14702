// The app as a library: `createNodeMiddleware` gives the webhook and health handler to mount in an
// existing node:http or Express server; `createRouterApp` gives the parts (queue, ticks) as well.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pinoLog } from "../../adapters/log-pino/pino-log.ts";
import { makeRedactor, secretValuesOf } from "../../core/secrets/redact.ts";
import type { AppSettings } from "./app-settings.ts";
import { readAppSettings } from "./app-settings.ts";
import type { RouterApp, RouterAppOptions } from "./router-app.ts";
import { createRouterApp } from "./router-app.ts";
import type { NodeHandler } from "./webhook-handler.ts";

export { createRouterApp } from "./router-app.ts";
export type { RouterApp, RouterAppOptions } from "./router-app.ts";
export { readAppSettings } from "./app-settings.ts";
export { routerProbotApp } from "./probot-app.ts";

type Env = Readonly<Record<string, string | undefined>>;

export interface AppFromEnvOptions {
  env: Env;
  /** Where JSON log lines go; default stderr. */
  destination?: { write(line: string): void };
  /** Test seams: write spacing, the tick timer. */
  overrides?: Partial<Pick<RouterAppOptions, "limits" | "tickSeconds" | "configTtlMs" | "clock">>;
}

/** The app from Probot's usual environment; `settings` says where to listen. */
export async function appFromEnv(opts: AppFromEnvOptions): Promise<{ app: RouterApp; settings: AppSettings }> {
  const settings = readAppSettings(opts.env);
  const privateKey = "pem" in settings.privateKey ? settings.privateKey.pem : await readFile(settings.privateKey.path, "utf8");
  const redact = makeRedactor([...secretValuesOf(opts.env), privateKey, ...settings.secrets]);
  const destination = opts.destination ?? process.stderr;
  const app = createRouterApp({
    credentials: { appId: settings.appId, privateKey },
    secrets: settings.secrets,
    apiUrl: settings.apiUrl,
    serverUrl: settings.serverUrl,
    env: opts.env,
    logFor: (traceId) => pinoLog({ traceId, level: settings.logLevel, destination, redact }),
    tickSeconds: settings.tickSeconds,
    concurrency: settings.concurrency,
    path: settings.webhookPath,
    ...(settings.localAgents > 0 ? { local: { workdir: resolve(settings.workdir), slots: settings.localAgents } } : {}),
    ...opts.overrides,
  });
  return { app, settings };
}

/**
 * The webhook path (`/api/github/webhooks`, or WEBHOOK_PATH) and `GET /healthz` as a
 * `(req, res, next)` handler; other paths go to `next`. Starts the tick timer.
 */
export async function createNodeMiddleware(opts: AppFromEnvOptions): Promise<NodeHandler> {
  const { app } = await appFromEnv(opts);
  app.start();
  return app.handler;
}
