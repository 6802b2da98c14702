// The GitHub Action's entrypoint (dist/action.js): run, and fail the step on any error, with the
// error's message and how to fix it in the log and as a workflow error annotation.
import { isRouterError } from "../../core/errors.ts";
import { runAction } from "./run-action.ts";

const controller = new AbortController();
// The runner cancels a job with SIGINT, then SIGTERM: stop the agents; their claims come back.
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => controller.abort());

runAction({ env: process.env, stderr: process.stderr, signal: controller.signal }).then(
  () => {
    process.exitCode = 0;
  },
  (err: unknown) => {
    const message = isRouterError(err) ? `${err.code}: ${err.message}${err.fix ? `\nFix: ${err.fix}` : ""}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
    // `::error::` makes the message an annotation on the run; newlines are escaped as the runner asks.
    process.stdout.write(`::error title=agent-router::${message.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A")}\n`);
    process.exitCode = 1;
  },
);
