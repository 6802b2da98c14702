// `npm run start:app`: the GitHub App as a server. Listens on HOST:PORT, ticks every installed
// repository, and on SIGTERM/SIGINT stops taking deliveries and finishes the queued work.
import { createServer } from "node:http";
import { isRouterError } from "../../core/errors.ts";
import { appFromEnv } from "./index.ts";

async function main(): Promise<void> {
  const { app, settings } = await appFromEnv({ env: process.env });
  const server = createServer(app.handler);
  server.listen(settings.port, settings.host, () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : settings.port;
    process.stderr.write(`${JSON.stringify({ level: "info", msg: "agent-router app listening", host: settings.host, port, webhookPath: settings.webhookPath })}\n`);
  });
  app.start();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`${JSON.stringify({ level: "info", msg: "stopping: finishing queued work", signal })}\n`);
    server.close();
    void app.stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  const message = isRouterError(err) ? `${err.code}: ${err.message}${err.fix ? `\nFix: ${err.fix}` : ""}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`${JSON.stringify({ level: "error", msg: "agent-router app could not start", error: message })}\n`);
  process.exit(1);
});
