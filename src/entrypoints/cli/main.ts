// The `agent-router` command: argv in, exit code out. Everything else lives in program.ts and src/app.
import { runCli } from "./program.ts";

runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  cwd: process.cwd(),
  env: process.env,
  stdout: { write: (text: string) => process.stdout.write(text), isTTY: process.stdout.isTTY, columns: process.stdout.columns },
  stderr: { write: (text: string) => process.stderr.write(text), isTTY: process.stderr.isTTY },
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
